"""`?account=NAME` on /api/deliveries, /api/jobs and /api/stats (issue 15: per-account isolation):
only that account's rows, whatever its provider, combined with the other filters; through a real
server on both engines. And the filter runs through events_account, not over the whole log."""

from __future__ import annotations

from typing import Any

from hookline.forwarding.destinations import DestinationStore
from hookline.pipeline import jobs
from hookline.store.engine import Database
from hookline.store.events import AccountScope
from hookline.store.queries import compose
from tests.support import Server

# (provider, account, duplicates, delivery state, job state): beta's events are under two providers.
ROWS = [
    ("aircall", "acme", 0, "dead", "parked"),
    ("aircall", "beta", 2, "succeeded", "parked"),
    ("calendly", "beta", 1, "dead", None),
    ("aircall", "acme", 5, "succeeded", "parked"),
]


def seed(db: Database) -> dict[str, list[int]]:
    """Event ids by account; a delivery for each event, a parked job for some (nothing sends or runs)."""
    store = DestinationStore(db)
    store.add("crm", "http://127.0.0.1:9/hook")
    store.set_paused("crm", True)
    ids: dict[str, list[int]] = {}
    with db.connection() as conn:
        for i, (provider, account, dups, delivery, job) in enumerate(ROWS):
            conn.execute(
                "INSERT INTO events (provider, account, event, received_at, dedup_key, duplicate_count,"
                " last_seen_at, known, body) VALUES (?, ?, 'x.y', ?, ?, ?, 1, TRUE, ?)",
                (provider, account, 100 + i, f"k{i}", dups, b"{}"),
            )
            event_id = int(conn.scalar("SELECT max(id) FROM events"))
            ids.setdefault(account, []).append(event_id)
            conn.execute(
                "INSERT INTO deliveries (destination_id, event_id, webhook_id, state, occurred_at,"
                " created_at, started_at, next_attempt_at)"
                " VALUES ((SELECT id FROM destinations WHERE name = 'crm'), ?, ?, ?, 1, 1, 1, 1)",
                (event_id, f"msg_{i}", delivery),
            )
            if job is not None:
                conn.execute(
                    "INSERT INTO jobs (event_id, provider, state, run_at, received_at, updated_at)"
                    " VALUES (?, ?, ?, 1, ?, 1)",
                    (event_id, provider, job, 100 + i),
                )
    return ids


def _event_ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(r["event_id"]) for r in rows]


def test_deliveries_jobs_and_stats_of_one_account(db: Database, server: Server) -> None:
    ids = seed(db)
    acme, beta = ids["acme"], ids["beta"]
    with server.admin() as c:
        got = c.get("/api/deliveries", params={"account": "beta"}).json()["deliveries"]
        assert _event_ids(got) == beta[::-1] and {d["account"] for d in got} == {"beta"}
        got = c.get("/api/deliveries", params={"account": "acme", "state": "dead"}).json()["deliveries"]
        assert _event_ids(got) == [acme[0]]
        page = c.get("/api/deliveries", params={"account": "acme", "limit": 1}).json()
        assert _event_ids(page["deliveries"]) == [acme[1]] and page["next_cursor"] is not None
        rest = c.get("/api/deliveries", params={"account": "acme", "cursor": page["next_cursor"]}).json()
        assert _event_ids(rest["deliveries"]) == [acme[0]] and rest["next_cursor"] is None
        assert c.get("/api/deliveries", params={"account": "nobody"}).json()["deliveries"] == []
        assert len(c.get("/api/deliveries", params={"account": ""}).json()["deliveries"]) == 4  # empty: no filter

        got = c.get("/api/jobs", params={"account": "acme"}).json()["jobs"]
        assert _event_ids(got) == acme[::-1]
        assert _event_ids(c.get("/api/jobs", params={"account": "beta", "state": "parked"}).json()["jobs"]) == [beta[0]]
        assert c.get("/api/jobs", params={"account": "beta", "state": "queued"}).json()["jobs"] == []

        beta_stats = c.get("/api/stats", params={"account": "beta"}).json()
        assert beta_stats["events"] == {"received": 2, "duplicates": 3}
        assert beta_stats["jobs"] == {"processed": 1, "pending": 0, "running": 0, "parked": 1}
        acme_stats = c.get("/api/stats", params={"account": "acme"}).json()
        assert acme_stats["events"] == {"received": 2, "duplicates": 5} and acme_stats["jobs"]["parked"] == 2
        assert c.get("/api/stats", params={"account": "nobody"}).json()["events"] == {"received": 0, "duplicates": 0}


def test_a_queued_job_of_the_account_gives_its_lag(db: Database) -> None:
    ids = seed(db)
    with db.connection() as conn:
        conn.execute("UPDATE jobs SET state = 'queued' WHERE event_id = ?", (ids["acme"][1],))
        scope = AccountScope(("aircall", "calendly"), "acme")
        assert jobs.stats(conn, scope).oldest_pending_received_at == 103
        assert jobs.stats(conn, AccountScope(("aircall", "calendly"), "beta")).oldest_pending_received_at is None
        # Only the providers named: an account of an unregistered provider is not looked for.
        assert jobs.stats(conn, AccountScope(("calendly",), "acme")).received == 0


def test_the_account_filter_goes_through_the_account_index(db: Database) -> None:
    """Not a walk over every event: the planner can reach one account's events by events_account
    (provider, account, id) with the providers listed (on PostgreSQL with sequential scans made
    expensive, as the tiny test tables would otherwise be read whole)."""
    seed(db)
    scope = AccountScope(("aircall", "calendly"), "beta")
    with db.connection() as conn:
        more, params = scope.clause(conn, jobs.Q.job_event_clause)
        query = compose(jobs.Q.jobs_by_state_fragment, *more, jobs.Q.group_by_state_clause)
        text = query.text(conn.dialect)
        if conn.dialect == "postgresql":
            conn.execute("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.fetchall("EXPLAIN " + text, params))
            assert "provider_account_id_idx" in plan or "events_account" in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in conn.fetchall("EXPLAIN QUERY PLAN " + text, params))
            assert "events_account" in plan, plan
            assert "SCAN events" not in plan.replace("SCAN events USING", ""), plan
