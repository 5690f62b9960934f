"""A small client of monday.com's GraphQL API (aiohttp): who am I, and board webhooks.

Errors become MondayAPIError with monday's own messages, never the token.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from hookline.providers.api_json import decode_json
from hookline.providers.api_retry import DEFAULT_RULES, RetryableAnswer, RetryRules, with_retries
from hookline.providers.api_session import SessionOwner

ME = "query { me { id name email account { id name } } }"
CREATE_WEBHOOK = (
    "mutation ($board: ID!, $url: String!, $event: WebhookEventType!, $config: JSON) {"
    " create_webhook(board_id: $board, url: $url, event: $event, config: $config) { id board_id event config } }"
)
DELETE_WEBHOOK = "mutation ($id: ID!) { delete_webhook(id: $id) { id board_id } }"
LIST_WEBHOOKS = "query ($board: ID!) { webhooks(board_id: $board) { id event board_id config } }"


class MondayAPIError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds monday.com asked us to wait (a 429's Retry-After)


def _errors(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    found = [str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict) and e.get("message")]
    if body.get("error_message"):  # the older error shape
        found.append(str(body["error_message"]))
    return found


class MondayClient(SessionOwner):
    retry_rules: RetryRules = DEFAULT_RULES  # 429, 5xx and dropped connections (tests shorten the waits)

    def __init__(self, api_url: str, token: str, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(session)
        self.api_url = api_url
        self._token = token

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("use `async with MondayClient(...)`")
        headers = {"authorization": self._token, "content-type": "application/json"}
        payload = {"query": query, "variables": variables or {}}
        session = self._session

        async def attempt() -> tuple[int, Any]:
            async with session.post(self.api_url, json=payload, headers=headers) as resp:
                try:
                    body = decode_json(await resp.read())
                except ValueError:
                    body = None
                RetryableAnswer.check(resp, body)
                return resp.status, body

        # Reads are safe to repeat; a mutation after a 5xx or a dropped connection may have been done.
        idempotent = not query.lstrip().startswith("mutation")
        try:
            status, body = await with_retries(attempt, idempotent=idempotent, rules=self.retry_rules)
        except RetryableAnswer as exc:
            if exc.status == 429:
                wait = f" (retry in {exc.retry_after:.0f} s)" if exc.retry_after is not None else ""
                raise MondayAPIError(429, f"monday.com kept answering 429 (rate limited){wait}",
                                     retry_after=exc.retry_after) from None
            status, body = exc.status, exc.body
        except aiohttp.ClientError as exc:
            raise MondayAPIError(0, f"cannot reach monday.com at {self.api_url}: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise MondayAPIError(0, f"monday.com at {self.api_url} did not answer in time") from exc
        messages = _errors(body)
        if status == 401:
            raise MondayAPIError(401, "monday.com refused the API token (401)")
        if status >= 400 or messages:
            detail = "; ".join(messages) if messages else "no details"
            raise MondayAPIError(status, f"monday.com answered {status}: {detail}")
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise MondayAPIError(status, "monday.com answered without data")
        return dict(body["data"])

    async def me(self) -> dict[str, Any]:
        return dict((await self.graphql(ME))["me"])

    async def create_webhook(self, board_id: str, url: str, event: str, config: str | None = None) -> dict[str, Any]:
        variables: dict[str, Any] = {"board": board_id, "url": url, "event": event}
        if config is not None:
            variables["config"] = config
        created = (await self.graphql(CREATE_WEBHOOK, variables))["create_webhook"]
        if not created:
            raise MondayAPIError(200, "monday.com did not create the webhook")
        return dict(created)

    async def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        deleted = (await self.graphql(DELETE_WEBHOOK, {"id": webhook_id}))["delete_webhook"]
        if not deleted:
            raise MondayAPIError(200, f"monday.com did not delete webhook {webhook_id}")
        return dict(deleted)

    async def webhooks(self, board_id: str) -> list[dict[str, Any]]:
        return [dict(w) for w in (await self.graphql(LIST_WEBHOOKS, {"board": board_id}))["webhooks"] or []]
