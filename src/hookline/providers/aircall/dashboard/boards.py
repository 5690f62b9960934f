"""What the live pages show: calls in progress and agents' states, read from the projections.

A call is live while its projected status is not `done`; call.hungup already carries status
`done`, so a hang-up takes the call off the board at once, without waiting for call.ended. The
state shown (ringing, answered, on hold, transferring) comes from the event of the winning snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hookline.providers.aircall.projections_api import query
from hookline.providers.aircall.shapes import Agent as AgentRow
from hookline.providers.aircall.shapes import Call
from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)

# A call that never got its hang-up (lost events) leaves the board after this long.
LIVE_WINDOW_SECONDS = 6 * 3600

_BY_EVENT = {
    "call.hold": "on_hold",
    "call.transferred": "transferring",
    "call.external_transferred": "transferring",
}
STATE_LABELS = {
    "ringing": "ringing", "answered": "answered", "on_hold": "on hold", "transferring": "transferring",
    "available": "available", "on_call": "on a call", "wrap_up": "in wrap-up", "offline": "offline",
}


def call_state(call: dict[str, Any]) -> str:
    by_event = _BY_EVENT.get(str(call.get("last_event", "")).removesuffix(".v2"))
    if by_event is not None:
        return by_event
    return "answered" if call.get("status") == "answered" or call.get("answered_at") else "ringing"


def person(obj: dict[str, Any] | None) -> str:
    """A contact's or user's display name ('' when unknown)."""
    if not obj:
        return ""
    name = " ".join(str(obj[k]) for k in ("first_name", "last_name") if obj.get(k))
    return name or str(obj.get("name") or obj.get("company_name") or "")


def live_calls(conn: Connection, account: str | None = None, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    calls = query(conn, Q.boards_live_calls, (now - LIVE_WINDOW_SECONDS, account or None, account or None), Call)
    for c in calls:
        c["state"] = call_state(c)
        c["agent"] = person(c["user"])
        c["contact_name"] = person(c["contact"])
        c["number_name"] = (c["number"] or {}).get("name") or (c["number"] or {}).get("digits") or ""
    return calls


@dataclass(frozen=True)
class Agent:
    account: str
    id: int
    name: str
    email: str
    state: str
    since: float | None
    availability: str
    call_id: int | None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class AgentName:
    id: int
    name: str


def agent_names(conn: Connection) -> list[AgentName]:
    """Agents not deleted, by name: for a filter's dropdown (no state, so no look at their calls)."""
    rows = conn.fetchall(Q.boards_agent_names, (False,))
    named = [AgentName(int(i), n or f"agent {i}") for i, n in rows]
    return sorted(named, key=lambda a: (a.name.lower(), a.id))


def agents(conn: Connection, calls: list[dict[str, Any]], account: str | None = None) -> list[Agent]:
    """Every agent not deleted, with their state now: on a call, in wrap-up, available, or offline."""
    on_call = {(c["account"], (c["user"] or {}).get("id")): c for c in calls if c["user"]}
    out = []
    for u in query(conn, Q.boards_agents, (False, account or None, account or None), AgentRow):
        call = on_call.get((u["account"], u["id"]))
        presence = u["presence_at"] if u["presence_at"] and u["presence_at"] > 0 else None
        wrap = u["wrap_up_at"] if u["wrap_up_at"] and u["wrap_up_at"] > 0 else None
        if call is not None:
            state, since = "on_call", call["answered_at"] or call["started_at"]
        elif u["in_wrap_up"]:
            state, since = "wrap_up", wrap
        elif u["connected"]:
            state, since = "available", max((t for t in (presence, wrap) if t is not None), default=None)
        else:
            state, since = "offline", presence
        out.append(Agent(
            u["account"], u["id"], u["name"] or f"agent {u['id']}", u["email"] or "", state, since,
            u["availability_status"] or "", call["id"] if call else u["current_call_id"],
        ))
    order = {"on_call": 0, "wrap_up": 1, "available": 2, "offline": 3}
    return sorted(out, key=lambda a: (order[a.state], a.name.lower()))
