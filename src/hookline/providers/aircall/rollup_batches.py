"""A batch's calls with their rollups summed (migration 0012).

Migration 0006's triggers keep the hour and agent-day rollups call by call, and 0010's keep the day
and month rollups from those: two to six upserts for every call written, with their own triggers'
upserts after each, which made them most of the worker's time. Inside `batched(conn)` the same
triggers journal each call's old and new contribution instead, and on the way out the journal is
summed into the rollups, one upsert per rollup for the whole batch. Outside it (retention, an
operator's UPDATE, any other writer) the triggers apply each change as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hookline.store.engine import Connection
from hookline.store.queries import load_queries

Q = load_queries(__package__)

_FLUSH = (Q.rollups_batch_hours, Q.rollups_batch_agent_days, Q.rollups_batch_hours_zeros,
          Q.rollups_batch_agent_days_zeros, Q.rollups_batch_clear, Q.rollups_batch_end)


@contextmanager
def batched(conn: Connection) -> Iterator[None]:
    """Write calls inside this block (in the caller's transaction). On an error nothing is summed: the
    caller's rollback takes the journal and the mode with the calls."""
    conn.execute(Q.rollups_batch_start)
    yield
    for query in _FLUSH:
        conn.execute(query)
