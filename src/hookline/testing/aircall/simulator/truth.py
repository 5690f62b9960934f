"""The simulator's truth against hookline's tables: which calls are missing, which are wrong.

The truth of a call is its latest snapshot in the simulator's state (what its last webhook said and
what its API returns). A stored call is wrong when its status, times, agent or missed reason differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hookline.store.engine import Database
from hookline.store.queries import load_queries
from hookline.testing.aircall.fake_api import FakeAircallState

Q = load_queries(__package__)

FIELDS = ("status", "started_at", "answered_at", "ended_at", "user_id", "missed_call_reason")


def _time(value: Any) -> float | None:
    return None if value is None else float(value)


def truth_row(call: dict[str, Any]) -> tuple[Any, ...]:
    """A simulator call as the compared fields."""
    user = call.get("user")
    return (
        call.get("status"),
        _time(call.get("started_at")),
        _time(call.get("answered_at")),
        _time(call.get("ended_at")),
        user.get("id") if isinstance(user, dict) else None,
        call.get("missed_call_reason"),
    )


@dataclass
class Comparison:
    made: int
    stored: int
    missing: list[int] = field(default_factory=list)
    wrong: list[dict[str, Any]] = field(default_factory=list)  # {id, field: [stored, truth]...}

    @property
    def clean(self) -> bool:
        return not self.missing and not self.wrong


def stored_rows(db: Database, account: str) -> dict[int, tuple[Any, ...]]:
    with db.connection() as conn:
        rows = conn.fetchall(Q.stored_call_rows, (account,))
    return {int(r[0]): (r[1], _time(r[2]), _time(r[3]), _time(r[4]), r[5], r[6]) for r in rows}


def compare(state: FakeAircallState, call_ids: Sequence[int], db: Database, account: str) -> Comparison:
    stored = stored_rows(db, account)
    out = Comparison(made=len(call_ids), stored=sum(1 for i in call_ids if i in stored))
    for call_id in call_ids:
        call = state.get_call(call_id)
        if call is None:
            continue
        have = stored.get(call_id)
        if have is None:
            out.missing.append(call_id)
            continue
        want = truth_row(call)
        if have != want:
            diff = {name: [h, w] for name, h, w in zip(FIELDS, have, want, strict=True) if h != w}
            out.wrong.append({"id": call_id, **diff})
    return out
