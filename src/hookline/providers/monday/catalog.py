"""monday.com board webhooks: the events one subscribes to, and the `event.type` values they deliver.

A webhook is created for one board and one subscription event (`create_webhook(event: ...)`), but
the delivered body says `{"event": {"type": ...}}` with monday's internal action name, which is what
hookline stores as the event: `create_item` delivers `create_pulse`, every column change delivers
`update_column_value`, and so on.
"""

from __future__ import annotations

# Subscription events (GraphQL enum WebhookEventType) -> the payload type they deliver.
SUBSCRIPTIONS: dict[str, str] = {
    "create_item": "create_pulse",
    "create_subitem": "create_pulse",
    "change_column_value": "update_column_value",
    "change_status_column_value": "update_column_value",
    "change_specific_column_value": "update_column_value",
    "change_subitem_column_value": "update_column_value",
    "change_name": "update_name",
    "change_subitem_name": "update_name",
    "create_update": "create_update",
    "edit_update": "edit_update",
    "delete_update": "delete_update",
    "create_subitem_update": "create_update",
    "item_archived": "archive_pulse",
    "item_deleted": "delete_pulse",
    "item_restored": "restore_pulse",
    "subitem_archived": "archive_pulse",
    "subitem_deleted": "delete_pulse",
    "item_moved_to_any_group": "move_pulse_into_group",
    "item_moved_to_specific_group": "move_pulse_into_group",
    "move_subitem": "move_subitem",
    "move_item_to_board": "move_pulse_into_board",
    "create_column": "create_column",
}

# Payload types -> what the resource is and a description.
PAYLOAD_TYPES: dict[str, tuple[str, str]] = {
    "create_pulse": ("item", "an item (or subitem) was created"),
    "update_column_value": ("item", "a column value of an item (or subitem) changed"),
    "update_name": ("item", "an item (or subitem) was renamed"),
    "archive_pulse": ("item", "an item (or subitem) was archived"),
    "delete_pulse": ("item", "an item (or subitem) was deleted"),
    "restore_pulse": ("item", "an archived or deleted item was restored"),
    "move_pulse_into_group": ("item", "an item was moved to another group"),
    "move_pulse_into_board": ("item", "an item was moved to another board"),
    # {sourcePulseId, destPulseId, sourceBoardId, destBoardId, subitem}: the subitem has a new parent item
    "move_subitem": ("item", "a subitem was moved to another parent item"),
    "create_update": ("update", "an update (comment) was posted on an item"),
    "edit_update": ("update", "an update was edited"),
    "delete_update": ("update", "an update was deleted"),
    "create_column": ("column", "a column was added to the board"),
}


def is_known(payload_type: str) -> bool:
    return payload_type in PAYLOAD_TYPES


def resource_of(payload_type: str) -> str | None:
    entry = PAYLOAD_TYPES.get(payload_type)
    return entry[0] if entry else None
