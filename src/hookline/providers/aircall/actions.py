"""Aircall's actions for rules' steps (Provider.actions): insight cards and comments on a call.

They use the account's credentials (accounts.py, the account the event came from) and one rate
limiter per account shared by every run of the process (`runtime.state`), so a burst of runs waits
for Aircall's per-company limit instead of being refused by it.

- `aircall.insight_card`: POST /v1/calls/{id}/insight_cards with `contents`: a `title` block, then a
  `shortText` block per line (`label`, `text`, optional `link`). Shown in the agent's phone app
  while the call is ongoing.
- `aircall.comment`: POST /v1/calls/{id}/comments with `content`.
- `aircall.tag`: POST /v1/calls/{id}/tags with `tags`, a list of tag ids: the tag is named in the
  rule, resolved through GET /v1/tags (cached per account) and created (POST /v1/tags) when missing.
- `aircall.transfer`: POST /v1/calls/{id}/transfers with one of `user_id`, `team_id` (and an optional
  `dispatching_strategy`) or `number`; Aircall transfers only a call that is still going on.
- `aircall.send_message`: POST /v1/numbers/{id}/messages/native/send with `to` (E.164) and `body`:
  an SMS from an Aircall number, shown in the agents' conversation in the Aircall app.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
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

    @abstractmethod
    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of the POST to `path`."""

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        call_id = str(params.get("call_id", "")).strip()
        return {"method": "POST", "path": self.path.format(id=call_id), "json": self.body(params)}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        call_id = _call_id(params)
        client = await _client(ctx, request)
        answer = await _send(client, "POST", self.path.format(id=call_id), self.body(params), request)
        return StepResult(status=200, json=answer, text="", request=request)


async def _client(ctx: ActionContext, request: dict[str, Any]) -> AircallClient:
    """A client with the credentials of the account the event came from, and its shared rate limiter."""
    from hookline.providers.aircall.settings import load_aircall_settings
    from hookline.providers.kit.credentials import box_for

    store = AccountStore(ctx.runtime.db, box_for(ctx.runtime.settings))
    try:
        credentials = await asyncio.to_thread(store.credentials, ctx.run.account)
    except AccountError as exc:
        raise ActionFailed(str(exc), retryable=False, request=request) from None
    limiters: dict[str, RateLimiter] = ctx.runtime.state.setdefault(LIMITERS_KEY, {})
    return AircallClient(
        load_aircall_settings().api_url, credentials, session=ctx.session, max_retries=0,
        limiter=limiters.setdefault(ctx.run.account, RateLimiter()),
    )


async def _send(client: AircallClient, method: str, path: str, body: Any, request: dict[str, Any]) -> Any:
    """One request; Aircall's refusals as ActionFailed (429 and 5xx retryable, other 4xx final)."""
    try:
        return await client.request(method, path.removeprefix("/v1/"), json=body)
    except RateLimited as exc:
        raise ActionFailed(str(exc), retryable=True, status=429, retry_after=exc.retry_after,
                           request=request) from None
    except Unavailable as exc:
        raise ActionFailed(str(exc), retryable=True, status=exc.status, request=request) from None
    except AircallError as exc:
        raise ActionFailed(str(exc), retryable=False, status=exc.status, response=str(exc),
                           request=request) from None


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


TAGS_KEY = "aircall.tag_ids"


class Tag(_AircallAction):
    name = "aircall.tag"
    required = ("tag",)
    optional = ("color", "call_id")
    path = "/v1/calls/{id}/tags"

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"tags": [str(params.get("tag", ""))]}  # the name; run() sends its id

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        call_id = _call_id(params)
        name = str(params.get("tag", "")).strip()
        if not name:
            raise ActionFailed("tag: the name rendered empty", retryable=False, request=request)
        client = await _client(ctx, request)
        tag_id, cached = await self._resolve(client, ctx, name, str(params.get("color") or ""), request)
        request["json"] = {"tags": [tag_id]}
        try:
            answer = await _send(client, "POST", self.path.format(id=call_id), request["json"], request)
        except ActionFailed as exc:
            if exc.status == 404 and cached:
                # The tag may have been deleted at Aircall since it was cached: forget it, and let the
                # retry look it up (and create it) again.
                ctx.runtime.state[TAGS_KEY][ctx.run.account][1].pop(name, None)
                exc.retryable = True
            raise
        return StepResult(status=200, json={"tag_id": tag_id, "answer": answer}, request=request)

    async def _resolve(self, client: AircallClient, ctx: ActionContext, name: str, color: str,
                       request: dict[str, Any]) -> tuple[int, bool]:
        """The tag's id and whether it came from the per-account cache (else GET /v1/tags, else created).
        One lookup at a time per account, so concurrent runs do not create the same tag twice."""
        cache: dict[str, tuple[asyncio.Lock, dict[str, int]]] = ctx.runtime.state.setdefault(TAGS_KEY, {})
        lock, ids = cache.setdefault(ctx.run.account, (asyncio.Lock(), {}))
        async with lock:
            if name in ids:
                return ids[name], True
            try:
                async for tag in client.list_tags():
                    if isinstance(tag.get("name"), str) and isinstance(tag.get("id"), int):
                        ids[tag["name"]] = tag["id"]
            except AircallError as exc:
                raise ActionFailed(f"listing tags: {exc}", retryable=exc.status is None or exc.status == 429
                                   or exc.status >= 500, status=exc.status, request=request) from None
            if name not in ids:
                body: dict[str, Any] = {"name": name}
                if color:
                    body["color"] = color
                created = await _send(client, "POST", "/v1/tags", body, request)
                tag = created.get("tag", created) if isinstance(created, dict) else {}
                if not isinstance(tag.get("id"), int):
                    raise ActionFailed("Aircall created the tag but gave no id", retryable=False, request=request)
                ids[name] = tag["id"]
            return ids[name], False


TRANSFER_TARGETS = ("user_id", "team_id", "number")
DISPATCHING = ("simultaneous", "random", "longest_idle")


def _digits(value: Any) -> str:
    """A phone number as E.164: Aircall's formatted digits ('+33 1 23 45 67 89') without the spacing."""
    return "".join(ch for ch in str(value) if ch == "+" or ch.isdigit())


class Transfer(_AircallAction):
    name = "aircall.transfer"
    optional = (*TRANSFER_TARGETS, "dispatching_strategy", "call_id")
    path = "/v1/calls/{id}/transfers"

    def check(self, params: Mapping[str, Any]) -> None:
        given = [k for k in TRANSFER_TARGETS if k in params]
        if len(given) != 1:
            raise ValueError("user_id: exactly one of user_id, team_id or number")
        strategy = params.get("dispatching_strategy")
        if strategy is not None and "team_id" not in params:
            raise ValueError("dispatching_strategy: only with team_id")
        if isinstance(strategy, str) and "{" not in strategy and strategy not in DISPATCHING:
            raise ValueError(f"dispatching_strategy: one of {', '.join(DISPATCHING)}")

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("user_id", "team_id"):
            if key in params:
                value = str(params[key]).strip()
                out[key] = int(value) if value.isdigit() else value
        if "number" in params:
            out["number"] = _digits(params["number"])
        if params.get("dispatching_strategy"):
            out["dispatching_strategy"] = str(params["dispatching_strategy"])
        return out

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        body = self.body(params)
        bad: list[str] = [k for k in ("user_id", "team_id") if k in body and not isinstance(body[k], int)]
        if "number" in body and len(body["number"]) < 4:
            bad.append("number")
        if bad:
            raise ActionFailed(f"{bad[0]}: not a valid transfer target", retryable=False,
                               request=self.preview(params))
        return await super().run(params, ctx)


class SendMessage(Action):
    name = "aircall.send_message"
    required = ("text",)
    optional = ("to", "number_id")
    # The caller, from the number the call came in on (call events).
    defaults = {"to": "{{ data.raw_digits }}", "number_id": "{{ data.number.id }}"}
    path = "/v1/numbers/{id}/messages/native/send"

    def body(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"to": _digits(params.get("to", "")), "body": str(params.get("text", ""))}

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        number_id = str(params.get("number_id", "")).strip()
        return {"method": "POST", "path": self.path.format(id=number_id), "json": self.body(params)}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        number_id = str(params.get("number_id", "")).strip()
        body = self.body(params)
        if not number_id.isdigit():
            raise ActionFailed(f"number_id: {number_id[:40]!r} is not a number id", retryable=False, request=request)
        if len(body["to"]) < 4 or not body["to"].startswith("+"):
            raise ActionFailed(f"to: {body['to'][:40]!r} is not a phone number in E.164", retryable=False,
                               request=request)
        if not body["body"]:
            raise ActionFailed("text: rendered empty", retryable=False, request=request)
        client = await _client(ctx, request)
        answer = await _send(client, "POST", self.path.format(id=int(number_id)), body, request)
        return StepResult(status=200, json=answer, request=request)


ACTIONS: tuple[Action, ...] = (InsightCard(), Comment(), Tag(), Transfer(), SendMessage())
