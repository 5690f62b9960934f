"""monday.com's actions for rules' steps (Provider.actions): an item created or updated on a board.

- `monday.create_item`: the GraphQL mutation `create_item(board_id, group_id, item_name, column_values)`.
- `monday.update_item`: `change_multiple_column_values(board_id, item_id, column_values)`.

`columns` is a table of column id -> value as monday.com takes it (a string, or a table such as
`{ label = "Missed" }` for a status column); it is sent as the JSON text monday's `column_values`
expects. The token is that of a monday.com account stored in hookline (`hookline monday account
add`): `account` names it, and may be left out when there is exactly one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec

from hookline.automations.actions import Action, ActionContext, ActionFailed, StepResult
from hookline.providers.monday.accounts import AccountStore, box_for
from hookline.providers.monday.api import MondayAPIError, MondayClient
from hookline.secretbox import SecretBoxError

CREATE_ITEM = (
    "mutation ($board: ID!, $group: String, $name: String!, $values: JSON) {"
    " create_item(board_id: $board, group_id: $group, item_name: $name, column_values: $values) { id name } }"
)
UPDATE_ITEM = (
    "mutation ($board: ID!, $item: ID!, $values: JSON!) {"
    " change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values) { id name } }"
)


def _id(params: Mapping[str, Any], field: str, request: dict[str, Any]) -> str:
    value = str(params.get(field, "")).strip()
    if not value.isdigit():
        raise ActionFailed(f"{field}: {value[:40]!r} is not a monday.com id", retryable=False, request=request)
    return value


def _check_columns(params: Mapping[str, Any]) -> None:
    if "columns" in params and not isinstance(params["columns"], dict):
        raise ValueError("columns: a table of column id = value (e.g. { status = { label = \"Missed\" } })")


async def _token(ctx: ActionContext, account: str, request: dict[str, Any]) -> str:
    store = AccountStore(ctx.runtime.db, box_for(ctx.runtime.settings))
    if account:
        found = await asyncio.to_thread(store.get, account)
        if found is None:
            raise ActionFailed(f"account: no monday.com account named {account!r}", retryable=False, request=request)
    else:
        accounts = await asyncio.to_thread(store.all)
        if len(accounts) != 1:
            raise ActionFailed(f"account: {len(accounts)} monday.com accounts are stored; name one with `account`",
                               retryable=False, request=request)
        found = accounts[0]
    try:
        return found.token
    except SecretBoxError as exc:
        raise ActionFailed(f"the monday.com token cannot be opened: {exc}", retryable=False, request=request) from None


async def _mutate(ctx: ActionContext, account: str, query: str, variables: dict[str, Any],
                  request: dict[str, Any]) -> dict[str, Any]:
    from hookline.providers.monday.settings import load

    token = await _token(ctx, account, request)
    client = MondayClient(load().api_url, token, session=ctx.session)
    try:
        return await client.graphql(query, variables)
    except MondayAPIError as exc:
        retryable = exc.status in (0, 429) or exc.status >= 500
        raise ActionFailed(exc.message, retryable=retryable, status=exc.status or None, response=exc.message,
                           retry_after=exc.retry_after, request=request) from None


class CreateItem(Action):
    name = "monday.create_item"
    required = ("board", "item")
    optional = ("group", "columns", "account")

    def check(self, params: Mapping[str, Any]) -> None:
        _check_columns(params)

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        variables: dict[str, Any] = {"board": str(params.get("board", "")).strip(), "name": str(params.get("item", ""))}
        if params.get("group"):
            variables["group"] = str(params["group"])
        if params.get("columns"):
            variables["values"] = msgspec.json.encode(params["columns"]).decode()
        return {"mutation": "create_item", "variables": variables}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        _id(params, "board", request)
        if not request["variables"]["name"].strip():
            raise ActionFailed("item: the item's name rendered empty", retryable=False, request=request)
        data = await _mutate(ctx, str(params.get("account") or ""), CREATE_ITEM, request["variables"], request)
        return StepResult(status=200, json=data.get("create_item"), request=request)


class UpdateItem(Action):
    name = "monday.update_item"
    required = ("board", "item_id", "columns")
    optional = ("account",)

    def check(self, params: Mapping[str, Any]) -> None:
        _check_columns(params)

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"mutation": "change_multiple_column_values", "variables": {
            "board": str(params.get("board", "")).strip(), "item": str(params.get("item_id", "")).strip(),
            "values": msgspec.json.encode(params.get("columns") or {}).decode()}}

    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        request = self.preview(params)
        _id(params, "board", request)
        _id(params, "item_id", request)
        data = await _mutate(ctx, str(params.get("account") or ""), UPDATE_ITEM, request["variables"], request)
        return StepResult(status=200, json=data.get("change_multiple_column_values"), request=request)


ACTIONS: tuple[Action, ...] = (CreateItem(), UpdateItem())
