"""Aircall's actions for rules' steps (Provider.actions): insight cards and comments on a call.

They use the account's credentials (accounts.py, the account the event came from) and one rate
limiter per account shared by every run of the process (`runtime.state`), so a burst of runs waits
for Aircall's per-company limit instead of being refused by it.

- `aircall.insight_card`: POST /v1/calls/{id}/insight_cards with `contents`: a `title` block, then a
  `shortText` block per line (`label`, `text`, optional `link`). Shown in the agent's phone app
  while the call is ongoing.
- `aircall.comment`: POST /v1/calls/{id}/comments with `content`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from hookline.automations.actions import Action, ActionContext, ActionFailed, StepResult
from hookline.providers.aircall.accounts import AccountError, AccountStore
from hookline.providers.aircall.api import AircallClient, AircallError, RateLimited, RateLimiter, Unavailable

LIMITERS_KEY = "aircall.rate_limiters"
_CALL_ID = "{{ data.id }}"


def _call_id(params: Mapping[str, Any]) -> int:
    value = str(params.get("call_id", "")).strip()
    if not value.isdigit():
        raise ActionFailed(f"call_id: {value[:40]!r} is not a call id", retryable=False)
    return int(value)


class _AircallAction(Action):
    path = ""
    defaults = {"call_id": _CALL_ID}  # the call the event is about

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        call_id = str(params.get("call_id", "")).strip()
        return {"method": "POST", "path": self.path.format(id=call_id), "json": self.body(params)}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        from hookline.providers.aircall.settings import load_aircall_settings
        from hookline.secretbox import SecretBox

        request = self.preview(params)
        call_id = _call_id(params)
        key = ctx.runtime.settings.secret_key
        store = AccountStore(ctx.runtime.db, SecretBox(key.get_secret_value() if key is not None else None))
        try:
            credentials = await asyncio.to_thread(store.credentials, ctx.run.account)
        except AccountError as exc:
            raise ActionFailed(str(exc), retryable=False, request=request) from None
        limiters: dict[str, RateLimiter] = ctx.runtime.state.setdefault(LIMITERS_KEY, {})
        client = AircallClient(
            load_aircall_settings().api_url, credentials, session=ctx.session, max_retries=0,
            limiter=limiters.setdefault(ctx.run.account, RateLimiter()),
        )
        try:
            answer = await client.request("POST", self.path.format(id=call_id).removeprefix("/v1/"),
                                          json=self.body(params))
        except RateLimited as exc:
            raise ActionFailed(str(exc), retryable=True, status=429, retry_after=exc.retry_after,
                               request=request) from None
        except Unavailable as exc:
            raise ActionFailed(str(exc), retryable=True, status=exc.status, request=request) from None
        except AircallError as exc:
            raise ActionFailed(str(exc), retryable=False, status=exc.status, response=str(exc),
                               request=request) from None
        return StepResult(status=200, json=answer, text="", request=request)


class InsightCard(_AircallAction):
    name = "aircall.insight_card"
    required = ("title",)
    optional = ("lines", "link", "call_id")
    path = "/v1/calls/{id}/insight_cards"

    def check(self, params: Mapping[str, Any]) -> None:
        lines = params.get("lines", [])
        if not isinstance(lines, list):
            raise ValueError("lines: a list of { label, text, link } tables")
        for i, line in enumerate(lines):
            if not isinstance(line, dict) or "text" not in line:
                raise ValueError(f"lines[{i + 1}]: a table with text (and optionally label, link)")
            extra = set(line) - {"label", "text", "link"}
            if extra:
                raise ValueError(f"lines[{i + 1}].{sorted(extra)[0]}: unknown (label, text, link)")

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        title: dict[str, Any] = {"type": "title", "text": str(params.get("title", ""))}
        if params.get("link"):
            title["link"] = str(params["link"])
        contents = [title]
        for line in params.get("lines") or []:
            block = {"type": "shortText", "text": str(line.get("text", ""))}
            for key in ("label", "link"):
                if line.get(key):
                    block[key] = str(line[key])
            contents.append(block)
        return {"contents": contents}


class Comment(_AircallAction):
    name = "aircall.comment"
    required = ("text",)
    optional = ("call_id",)
    path = "/v1/calls/{id}/comments"

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": str(params.get("text", ""))}


ACTIONS: tuple[Action, ...] = (InsightCard(), Comment())
