"""Analytics aggregated in SQL give what reading every call into Python gave (issue 16).

`reference` is the report as it was computed before: every call of the period read and counted in
Python, wrap-ups paired in Python, sentiment JSON decoded in Python. Random call centers (missed
calls with and without a reason, unknown directions, agents with several wrap-ups, sentiment results
of mixed case, unknown or absent values) must give identical charts on both engines.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from hookline.assembly import migration_sources
from hookline.pipeline.handlers import StoredEvent, Unprocessable
from hookline.providers.aircall import projections as proj
from hookline.providers.aircall import rollup_batches, wrap_ups
from hookline.providers.aircall.dashboard import analytics
from hookline.providers.aircall.wrap_ups import WrapUp
from hookline.providers.registry import providers
from hookline.store import events as event_log
from hookline.store import migrations
from hookline.store.engine import Connection, Database
from hookline.store.queries import Query
from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user
from hookline.types import IncomingEvent
from tests.support import on_engine

DAY = 86_400
FIRST = date(2026, 3, 1)
SINCE = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
WRAP = ("user.wut_start", "user.wut_end", "user.wut_start.v2", "user.wut_end.v2")


def fill(db: Database, seed: int, span: int = 14) -> None:
    """A call center over `span` days from two days before FIRST (calls) and half a day before it
    (wrap-ups)."""
    rng = random.Random(seed)
    agents = [make_user(rng, 100 + i, v2=True) for i in range(6)]
    agents[5]["name"] = None  # shown as "agent 105"
    numbers = [make_number(rng, 500 + i) for i in range(2)]
    contacts = [make_contact(rng, 900 + i) for i in range(5)]
    batches: list[proj.Rows] = [proj.Rows() for _ in range(4)]
    incoming: list[IncomingEvent] = []
    n = 0

    def project(event: str, resource: str, data: dict[str, Any], ts: float, batch: int = 0) -> None:
        nonlocal n
        n += 1
        body = msgspec.json.encode({"resource": resource, "event": event, "timestamp": int(ts), "data": data})
        proj.project(StoredEvent(n, "aircall", "acme", event, "webhook", ts, ts, body), batches[batch])

    def log(event: str, user: dict[str, Any], ts: float) -> None:
        body = json.dumps({"event": event, "data": {k: v for k, v in user.items() if v is not None}}).encode()
        incoming.append(IncomingEvent("aircall", "acme", event, f"k{len(incoming)}", body, ts + 1,
                                      resource="user", resource_id=str(user["id"]), occurred_at=ts))

    for a in agents:
        project("user.created", "user", {k: v for k, v in a.items() if v is not None}, SINCE - DAY)
    for i in range(300):
        started = SINCE - 2 * DAY + rng.random() * span * DAY  # some before the period, some after
        agent = rng.choice(agents)
        direction = rng.choice(("inbound", "inbound", "outbound", None))
        answered = rng.random() < 0.7
        status = rng.choice(("done", "done", "done", "answered", "initial"))
        call = make_call(rng, 7000 + i, user=agent if answered else None, number=rng.choice(numbers),
                         contact=rng.choice(contacts), started_at=int(started), status=status,
                         direction=direction or "inbound", answered=answered,
                         missed_call_reason=rng.choice((None, "out_of_opening_hours", "abandoned_in_ivr")))
        if direction is None:
            call["direction"] = None
        if rng.random() < 0.1:
            call["missed_call_reason"] = "short_abandoned"  # a reason on an answered call: missed anyway
        # Its lifecycle in separate batches, in an order of its own, so the rollups' triggers see
        # inserts and updates (status, answer, reason, and the start itself changing) and stale repeats.
        early = {**call, "status": "initial", "answered_at": None, "ended_at": None, "duration": 0,
                 "missed_call_reason": None, "user": None}
        if rng.random() < 0.15:
            early["started_at"] = int(started) - rng.choice((1800, 7200, DAY))
        order = rng.sample(range(4), 4)
        project("call.created", "call", early, started, order[0])
        if call["answered_at"]:
            project("call.answered", "call", {**call, "status": "answered", "ended_at": None, "duration": 0},
                    started + 10, order[1])
        project("call.ended" if status == "done" else "call.updated", "call", call, started + 600, order[2])
        project("call.created", "call", early, started, order[3])  # a duplicate delivery
        if rng.random() < 0.4:
            mood = rng.choice(("POSITIVE", "negative", "Neutral", "unknown", None))
            parts = [{"participant_type": "external", "value": mood}, {"participant_type": "external"}]
            project("sentiment.created", "sentiment",
                    {"id": 7000 + i, "call_id": 7000 + i, "participants": parts}, started + 700)
    for a in agents:  # wrap-ups: pairs, a start without end, an end without start, two starts in a row
        t = SINCE - DAY / 2
        while t < SINCE + (span - 1) * DAY:
            t += rng.random() * DAY
            kind = rng.choice(("pair", "pair", "pair", "start", "end"))
            v2 = ".v2" if rng.random() < 0.5 else ""
            if kind in ("pair", "start"):
                log("user.wut_start" + v2, a, t)
            if kind in ("pair", "end"):
                # Ends at the same second as the next start, or across midnight, now and then.
                log("user.wut_end" + v2, a, t + rng.choice((rng.randint(1, 120), rng.randint(1, 120), DAY / 3)))
    edge_pairs(log)
    log("user.wut_start", {"id": "not-a-number"}, SINCE + DAY)
    log("user.wut_end", {"id": "not-a-number"}, SINCE + DAY + 5)
    conn = db.connect()
    try:
        for rows in batches:
            with conn.transaction():
                rows.write(conn)
        event_log.append_batch(conn, incoming)
        project_log(conn, rng)
    finally:
        conn.close()


EDGE_PAIRS = (  # three more agents' wrap-ups across month edges and whole months (the month rollups, 0010)
    (200, (("2026-03-20T12:00", "2026-04-10T12:00"), ("2026-04-20T12:00", "2026-05-03T12:00"),
           ("2026-05-05T08:00", "2026-05-06T09:00"), ("2026-05-31T23:00", "2026-06-01T00:30"))),
    (201, (("2026-02-28T23:00", "2026-03-01T00:30"), ("2026-03-31T23:00", "2026-04-01T00:30"),
           ("2026-04-30T23:50", "2026-05-01T00:10"), ("2026-05-08T10:00", "2026-05-09T23:59"))),
    (202, (("2026-03-25T10:00", "2026-05-07T10:00"), ("2026-05-08T10:00", "2026-05-08T11:00"))),
)


def edge_pairs(log: Callable[[str, dict[str, Any], float], None]) -> None:
    for user, pairs in EDGE_PAIRS:
        for start, end in pairs:
            for event, at in (("user.wut_start", start), ("user.wut_end", end)):
                log(event, {"id": user}, datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp())


def project_log(conn: Connection, rng: random.Random) -> None:
    """The log's wrap-up events through the projection as workers would meet them: out of order, in
    batches of any size, a third of them delivered twice (the pairing rollups, migration 0008)."""
    marks = ", ".join("?" for _ in WRAP)
    stored = [StoredEvent(int(i), "aircall", a, e, "webhook", at, got, bytes(body)) for i, a, e, at, got, body in
              conn.fetchall(f"SELECT id, account, event, occurred_at, received_at, body FROM events"
                            f" WHERE event IN ({marks})", list(WRAP))]
    stored += rng.sample(stored, len(stored) // 3)
    rng.shuffle(stored)
    while stored:
        size = rng.randint(1, 40)
        batch, stored = stored[:size], stored[size:]
        rows = proj.Rows()
        for ev in batch:
            with contextlib.suppress(Unprocessable):  # "not-a-number": parked by the worker, never an agent
                proj.project(ev, rows)
        with conn.transaction():
            rows.write(conn)


def reference(conn: Connection, p: analytics.Period) -> dict[str, Any]:
    """The report as computed before issue 16, reduced to comparable values."""
    def q(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    calls = q("SELECT account, id, direction, status, started_at, answered_at, duration, missed_call_reason, user_id"
              " FROM aircall_calls WHERE started_at >= ? AND started_at < ?", [p.since, p.until])
    days = p.days()
    index = {d: i for i, d in enumerate(days)}
    per_day = {k: [0.0] * len(days) for k in ("inbound", "outbound", "missed")}
    per_hour = {k: [0.0] * 24 for k in ("inbound", "outbound", "missed")}
    inbound_day, answered_day = [0] * len(days), [0] * len(days)
    reasons: Counter[str] = Counter()
    handle: dict[tuple[str, int], list[float]] = defaultdict(list)
    for c in calls:
        at = datetime.fromtimestamp(c["started_at"], UTC)
        d = index[at.date()]
        direction = "outbound" if c["direction"] == "outbound" else "inbound"
        per_day[direction][d] += 1
        per_hour[direction][at.hour] += 1
        if direction == "inbound":
            inbound_day[d] += 1
            answered_day[d] += c["answered_at"] is not None
        missed = c["missed_call_reason"] is not None or (
            c["status"] == "done" and c["answered_at"] is None and c["direction"] == "inbound")
        if missed:
            per_day["missed"][d] += 1
            per_hour["missed"][at.hour] += 1
            reasons[c["missed_call_reason"] or "no_answer"] += 1
        if c["status"] == "done" and c["answered_at"] is not None and c["user_id"] is not None:
            handle[(c["account"], c["user_id"])].append(float(c["duration"] or 0))
    wrap: dict[tuple[str, int], list[float]] = defaultdict(list)
    started: dict[tuple[str, int], float] = {}
    marks = ", ".join("?" for _ in WRAP)
    for e in q(f"SELECT account, resource_id, event, occurred_at FROM events WHERE provider = ? AND event IN ({marks})"
               " AND occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id",
               ["aircall", *WRAP, p.since, p.until]):
        if not str(e["resource_id"]).isdigit():
            continue
        key = (e["account"], int(e["resource_id"]))
        if e["event"].startswith("user.wut_start"):
            started[key] = float(e["occurred_at"])
        elif key in started:
            wrap[key].append(float(e["occurred_at"]) - started.pop(key))
    moods: Counter[str] = Counter()
    for r in q("SELECT data FROM aircall_call_intelligence WHERE kind = 'sentiment'"
               ' AND "timestamp" >= ? AND "timestamp" < ?', [p.since, p.until]):
        value = json.loads(r["data"]) if isinstance(r["data"], str) else r["data"]
        parts = value.get("participants")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and str(part.get("value") or "").upper() in analytics.SENTIMENTS:
                moods[str(part["value"]).upper()] += 1

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 1) if values else 0.0

    names = {(a, int(i)): n
             for a, i, n in conn.fetchall("SELECT account, id, COALESCE(name, seen_name) FROM aircall_users")}
    agents = sorted(set(handle) | set(wrap), key=lambda k: (names.get(k) or "", k))
    return {
        "calls": len(calls), "inbound": sum(inbound_day), "answered_inbound": sum(answered_day),
        "calls_per_day": [per_day[k] for k in ("inbound", "outbound", "missed")],
        "calls_per_hour": [per_hour[k] for k in ("inbound", "outbound", "missed")],
        "missed_reasons": sorted(reasons.items()),
        "agents": ([names.get(k) or f"agent {k[1]}" for k in agents],
                   [mean(handle.get(k, [])) for k in agents], [mean(wrap.get(k, [])) for k in agents]),
        "sentiment": dict(moods),
    }


def comparable(rep: analytics.Report) -> dict[str, Any]:
    def values(name: str) -> list[list[float]]:
        chart = rep.chart(name)
        assert chart is not None
        return [list(v) for _, v in chart.series]

    reasons = rep.chart("missed_reasons")
    agents = rep.chart("agents")
    sentiment = rep.chart("sentiment")
    assert reasons is not None and agents is not None and sentiment is not None
    counts = reasons.series[0][1]
    assert list(counts) == sorted(counts, reverse=True)  # most frequent first
    handle, wrap = (list(v) for _, v in agents.series)
    return {
        "calls": rep.calls, "inbound": rep.inbound, "answered_inbound": rep.answered_inbound,
        "calls_per_day": values("calls_per_day"), "calls_per_hour": values("calls_per_hour"),
        "missed_reasons": sorted(zip(reasons.categories, (int(n) for n in counts), strict=True)),
        "agents": (list(agents.categories), handle, wrap),
        "shares": list(sentiment.series[0][1]),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_report_equals_the_python_reference(db: Database, seed: int) -> None:
    fill(db, seed)
    with db.connection() as conn:
        for first, last in ((FIRST, FIRST + timedelta(days=6)), (FIRST + timedelta(days=3), FIRST + timedelta(days=3)),
                            (FIRST - timedelta(days=5), FIRST + timedelta(days=20))):
            p = analytics.Period(first, last)
            want = reference(conn, p)
            got = comparable(analytics.report(conn, p))
            moods = want.pop("sentiment")
            total = sum(moods.values())
            want["shares"] = [100.0 * moods.get(s, 0) / total if total else 0.0 for s in analytics.SENTIMENTS]
            assert got == want
            assert got["calls"] > 0 and any(got["agents"][2]) and total > 0  # the data exercised every part


@pytest.mark.parametrize("seed", [7, 8])
def test_months_and_their_edges_equal_the_days(db: Database, seed: int) -> None:
    """A long period reads whole months from the month rollups (0010) and only its partial months
    from the day rollups: periods over several months, edges mid-month, at month starts and ends,
    give what reading every call and pairing every wrap-up gives (pairs across month edges included)."""
    fill(db, seed, span=100)
    d = date.fromisoformat
    periods = (("2026-02-27", "2026-05-31"), ("2026-03-01", "2026-04-30"), ("2026-03-17", "2026-05-09"),
               ("2026-02-20", "2026-06-08"), ("2026-04-01", "2026-04-01"), ("2026-03-31", "2026-04-01"),
               ("2026-03-02", "2026-04-30"), ("2026-04-01", "2026-05-30"), ("2026-03-20", "2026-04-10"))
    wrapped: set[int] = set()
    with db.connection() as conn:
        assert int(conn.scalar("SELECT count(*) FROM aircall_wrap_up_months WHERE start_month <> end_month")) > 0
        for first, last in periods:
            p = analytics.Period(d(first), d(last))
            want = reference(conn, p)
            got = comparable(analytics.report(conn, p))
            moods = want.pop("sentiment")
            total = sum(moods.values())
            want["shares"] = [100.0 * moods.get(s, 0) / total if total else 0.0 for s in analytics.SENTIMENTS]
            assert got == want, (first, last)
            assert got["calls"] > 0, (first, last)
            wrapped |= {i for i, name in enumerate(got["agents"][0]) if name in ("agent 200", "agent 201", "agent 202")
                        and got["agents"][2][i]}
        assert wrapped  # the pairs across month edges were counted somewhere
        split = analytics.Split.of(analytics.Period(d("2026-03-17"), d("2026-05-09")))
        assert (split.first_month, split.end_month) == (analytics.month_index(d("2026-04-01")),
                                                        analytics.month_index(d("2026-05-01")))


def test_month_rollups_sum_the_day_rollups(db: Database) -> None:
    """The month rows are the day rows summed by month, after out-of-order writes and after the
    calls and wrap-ups are deleted again (rebuild's reset)."""
    fill(db, 9, span=100)

    def sums(conn: Connection) -> list[list[tuple[Any, ...]]]:
        m = {"sqlite": "(CAST(strftime('%Y', {d} * 86400, 'unixepoch') AS INTEGER) - 1970) * 12"
                       " + CAST(strftime('%m', {d} * 86400, 'unixepoch') AS INTEGER) - 1",
             "postgresql": "(extract(year FROM date '1970-01-01' + ({d})::integer)::bigint - 1970) * 12"
                           " + extract(month FROM date '1970-01-01' + ({d})::integer)::bigint - 1"}[db.dialect]
        pairs = [
            (f"SELECT {m.format(d='hour / 24')}, hour % 24, account, outbound, missed, sum(calls)"
             " FROM aircall_call_hours GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
             "SELECT month, hour, account, outbound, missed, calls FROM aircall_call_hour_months"
             " ORDER BY 1, 2, 3, 4, 5"),
            ("SELECT hour / 24, account, outbound, missed, answered, reason, sum(calls) FROM aircall_call_hours"
             " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6",
             "SELECT day, account, outbound, missed, answered, reason, calls FROM aircall_call_days"
             " ORDER BY 1, 2, 3, 4, 5, 6"),
            (f"SELECT {m.format(d='day')}, account, user_id, sum(seconds), sum(calls) FROM aircall_call_agent_days"
             " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
             "SELECT month, account, user_id, seconds, calls FROM aircall_call_agent_months ORDER BY 1, 2, 3"),
            (f"SELECT {m.format(d='start_day')}, {m.format(d='end_day')}, account, user_id, sum(seconds), sum(pairs)"
             " FROM aircall_wrap_up_days GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
             "SELECT start_month, end_month, account, user_id, seconds, pairs FROM aircall_wrap_up_months"
             " ORDER BY 1, 2, 3, 4"),
        ]
        out = []
        for from_days, months in pairs:
            a, b = ([tuple(round(float(v), 6) if isinstance(v, float) else v for v in r) for r in conn.fetchall(q)]
                    for q in (from_days, months))
            assert [tuple(int(v) if not isinstance(v, str) else v for v in r) for r in a] == [
                tuple(int(v) if not isinstance(v, str) else v for v in r) for r in b]
            out.append(b)
        return out

    with db.connection() as conn:
        kept = sums(conn)
        assert all(kept) and len({r[0] for r in kept[0]}) >= 3  # several months
        with conn.transaction():
            proj.AircallProjections().reset(conn)
        assert sums(conn) == [[], [], [], []]


def test_rollups_follow_the_calls_table(db: Database) -> None:
    """Emptying the calls (what `rebuild` does first) empties the rollups: they are derived from the
    rows, never from the events' order."""
    fill(db, 4)
    with db.connection() as conn:
        hours, handled = (int(conn.scalar(f"SELECT sum(calls) FROM {t}"))
                          for t in ("aircall_call_hours", "aircall_call_agent_days"))
        assert hours == int(conn.scalar("SELECT count(*) FROM aircall_calls WHERE started_at IS NOT NULL"))
        assert handled == int(conn.scalar("SELECT count(*) FROM aircall_calls WHERE status = 'done'"
                                          " AND answered_at IS NOT NULL AND user_id IS NOT NULL")) > 0
        assert int(conn.scalar("SELECT count(*) FROM aircall_call_hours WHERE calls <= 0")) == 0
        with conn.transaction():
            conn.execute("DELETE FROM aircall_calls")
        assert [int(conn.scalar(f"SELECT count(*) FROM {t}"))
                for t in ("aircall_call_hours", "aircall_call_agent_days")] == [0, 0]


def rollups(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The per-event rollups (migration 0008), seconds rounded past float summation order."""
    wraps = conn.fetchall("SELECT start_day, end_day, account, user_id, seconds, pairs FROM aircall_wrap_up_days"
                          " ORDER BY 1, 2, 3, 4")
    moods = conn.fetchall("SELECT day, account, sentiment, participants FROM aircall_sentiment_days ORDER BY 1, 2, 3")
    return {"wrap_ups": [(int(a), int(b), c, int(d), round(float(e), 6), int(f)) for a, b, c, d, e, f in wraps],
            "sentiment": [(int(a), b, c, int(d)) for a, b, c, d in moods]}


def test_rebuild_in_another_order_gives_the_same_rollups(db: Database) -> None:
    """What `hookline rebuild` does (the handler's reset, then the log again, here in another order)
    gives the rows kept so far."""
    fill(db, 5)
    with db.connection() as conn:
        kept = rollups(conn)
        assert kept["wrap_ups"] and kept["sentiment"]
        assert all(r[5] > 0 for r in kept["wrap_ups"]) and all(r[3] > 0 for r in kept["sentiment"])
        assert any(r[0] != r[1] for r in kept["wrap_ups"])  # pairs across midnight exercised
        with conn.transaction():
            proj.AircallProjections().reset(conn)
        assert rollups(conn) == {"wrap_ups": [], "sentiment": []}  # the triggers followed the deletes
        project_log(conn, random.Random(99))
        assert rollups(conn)["wrap_ups"] == kept["wrap_ups"]


def test_migration_0008_counts_what_was_stored(db: Database) -> None:
    """Migration 0008 on a database at 0007 (its objects dropped again) computes from the log's
    wrap-up events and the stored results the rows the writes keep."""
    fill(db, 6)
    with db.connection() as conn, conn.transaction():
        kept = rollups(conn)
        assert kept["wrap_ups"] and kept["sentiment"]
        for statement in UNDO_0008[db.dialect]:
            conn.execute(statement)
    migrations.upgrade(db, migration_sources(providers()))
    with db.connection() as conn:
        assert rollups(conn) == kept


UNDO_0008 = {
    "sqlite": ["DROP TABLE aircall_wrap_up_days", "DROP TABLE aircall_wrap_up_events",
               "DROP TABLE aircall_sentiment_days", "DROP TRIGGER aircall_intelligence_sentiment_insert",
               "DROP TRIGGER aircall_intelligence_sentiment_update",
               "DROP TRIGGER aircall_intelligence_sentiment_delete"],
    "postgresql": ["DROP TABLE aircall_wrap_up_days", "DROP TABLE aircall_wrap_up_events",
                   "DROP TABLE aircall_sentiment_days",
                   "DROP FUNCTION aircall_intelligence_sentiment() CASCADE",
                   "DROP FUNCTION aircall_wrap_up_pair()"],
}
for _undo in UNDO_0008.values():
    _undo += [
        "DELETE FROM schema_migrations WHERE component = 'aircall' AND version = 8",
        "DROP INDEX aircall_call_hours_values",
        "DROP INDEX aircall_call_agent_days_values",
        "CREATE INDEX aircall_events_wrap_up ON events (occurred_at, id, account, resource_id, event, provider)"
        " WHERE provider = 'aircall' AND event IN"
        " ('user.wut_start', 'user.wut_end', 'user.wut_start.v2', 'user.wut_end.v2')",
    ]


def test_an_updated_sentiment_replaces_its_count(db: Database) -> None:
    """A result delivered again changes nothing; a newer version of it moves its participants from
    the old value (and day) to the new one; a deleted one takes them back."""
    def deliver(event: str, value: str, ts: float, event_id: int) -> None:
        body = msgspec.json.encode({"resource": "sentiment", "event": event, "timestamp": int(ts), "data": {
            "id": 1, "call_id": 1, "participants": [{"participant_type": "external", "value": value},
                                                     {"participant_type": "internal", "value": value}]}})
        rows = proj.Rows()
        proj.project(StoredEvent(event_id, "aircall", "acme", event, "webhook", ts, ts, body), rows)
        with conn.transaction():
            rows.write(conn)

    with db.connection() as conn:
        deliver("sentiment.created", "positive", SINCE + 10, 1)
        deliver("sentiment.created", "positive", SINCE + 10, 2)
        day = int(SINCE) // DAY
        assert rollups(conn)["sentiment"] == [(day, "acme", "POSITIVE", 2)]
        deliver("sentiment.created", "Negative", SINCE + DAY + 10, 3)  # recomputed the next day
        deliver("sentiment.created", "positive", SINCE + 10, 4)  # older: loses, counts nothing
        assert rollups(conn)["sentiment"] == [(day + 1, "acme", "NEGATIVE", 2)]
        with conn.transaction():
            conn.execute("DELETE FROM aircall_call_intelligence")
        assert rollups(conn)["sentiment"] == []


@on_engine("sqlite")
def test_the_report_reads_indexes_not_the_tables(db: Database) -> None:
    """The plans that keep a year fast: every part of the report reads a rollup.
    (PostgreSQL chooses by cost and reads tables this small whole; its plans on a year of calls are
    in bench/README.md.)"""
    fill(db, 3, span=100)
    p = analytics.Period(date(2026, 3, 17), date(2026, 5, 9))  # April whole, edges in March and May
    seen: list[str] = []
    with db.connection() as conn:
        # PostgreSQL reads tables this small whole: ask it what it would do with a year of them.
        conn.execute("ANALYZE")
        raw = conn.execute

        def explained(sql: str | Query, params: Any = None) -> Any:
            text = sql.text(db.dialect) if isinstance(sql, Query) else sql  # the report's statements are named
            seen.append("\n".join(str(r[-1]) for r in raw("EXPLAIN QUERY PLAN " + text, params).fetchall()))
            return raw(sql, params)

        conn.execute = explained  # type: ignore[method-assign]
        analytics.report(conn, p)
    plans = "\n".join(seen)
    assert "SEARCH aircall_call_hours" in plans and "SEARCH aircall_call_agent_days" in plans, plans
    assert "SEARCH aircall_wrap_up_days USING PRIMARY KEY" in plans, plans  # WITHOUT ROWID: the key holds the values
    assert "SEARCH aircall_wrap_up_days USING COVERING INDEX aircall_wrap_up_days_end" in plans, plans
    assert "SEARCH aircall_sentiment_days USING PRIMARY KEY" in plans, plans
    for month_rollup in ("aircall_call_days", "aircall_call_hour_months", "aircall_call_agent_months",
                         "aircall_wrap_up_months"):
        assert f"SEARCH {month_rollup} USING PRIMARY KEY" in plans, plans
    assert "COVERING INDEX aircall_call_hours_values" in plans, plans
    assert "COVERING INDEX aircall_call_agent_days_values" in plans, plans
    assert "aircall_calls " not in plans and "events" not in plans, plans


@on_engine("postgresql")
def test_concurrent_workers_pair_an_agents_wrap_ups_once(db: Database) -> None:
    """Two workers writing the same agent's wrap-ups at once: the second waits for the first's
    per-agent lock and then sees its rows, so the pairs are those of one worker doing it all."""
    t = SINCE + 3600
    marks = [WrapUp("acme", "7", t + 10 * i, i, i % 2 == 0) for i in range(1, 21)]  # end, start, end, ...
    with db.connection() as conn, conn.transaction():
        wrap_ups.write(conn, marks)
        alone = rollups(conn)["wrap_ups"]
        conn.execute("DELETE FROM aircall_wrap_up_days")
        conn.execute("DELETE FROM aircall_wrap_up_events")
    assert alone and sum(r[5] for r in alone) == 9
    first, second = db.connect(), db.connect()
    try:
        with first.transaction():
            wrap_ups.write(first, marks[::2])
            waiting = threading.Thread(target=lambda: _write_in_transaction(second, marks[1::2]))
            waiting.start()
            waiting.join(0.5)
            assert waiting.is_alive()  # held by the first worker's lock on agent 7
        waiting.join(10)
        assert not waiting.is_alive()
    finally:
        first.close()
        second.close()
    with db.connection() as conn:
        assert rollups(conn)["wrap_ups"] == alone


def _write_in_transaction(conn: Connection, marks: list[WrapUp]) -> None:
    with conn.transaction():
        wrap_ups.write(conn, marks)


def call_rollups(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The hour and agent-day rollups as stored, and as counting every stored call gives them."""
    hour, day = {"sqlite": ("CAST(started_at / 3600 AS INTEGER)", "CAST(started_at / 86400 AS INTEGER)"),
                 "postgresql": ("floor(started_at / 3600)::bigint", "floor(started_at / 86400)::bigint")}[conn.dialect]
    missed = ("(missed_call_reason IS NOT NULL OR (status = 'done' AND answered_at IS NULL"
              " AND direction = 'inbound'))")

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(int(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in r)
                for r in conn.fetchall(sql)]

    return {
        "hours": rows("SELECT hour, account, outbound, missed, answered, reason, calls FROM aircall_call_hours"
                      " ORDER BY 1, 2, 3, 4, 5, 6"),
        "hours from calls": rows(
            f"SELECT {hour}, account, CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END,"
            f" CASE WHEN {missed} THEN 1 ELSE 0 END, CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END,"
            f" CASE WHEN {missed} THEN COALESCE(missed_call_reason, 'no_answer') ELSE '' END, count(*)"
            " FROM aircall_calls WHERE started_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"),
        "agent days": rows("SELECT day, account, user_id, seconds, calls FROM aircall_call_agent_days"
                           " ORDER BY 1, 2, 3"),
        "agent days from calls": rows(
            f"SELECT {day}, account, user_id, sum(COALESCE(duration, 0)), count(*) FROM aircall_calls"
            " WHERE started_at IS NOT NULL AND status = 'done' AND answered_at IS NOT NULL AND user_id IS NOT NULL"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"),
        "journal": rows("SELECT * FROM aircall_call_rollup_changes"),
    }


def assert_rollups_follow_calls(conn: Connection) -> None:
    got = call_rollups(conn)
    assert got["hours"] == got["hours from calls"]
    assert got["agent days"] == got["agent days from calls"]
    assert got["journal"] == []  # each batch summed and emptied its journal


def test_batched_rollups_equal_counting_the_calls(db: Database) -> None:
    """The projection writes a batch's calls in batched mode (migration 0012): their rollup changes are
    journaled and summed once per batch. After batches of inserts, updates that move a call to another
    hour, status or agent, stale repeats and duplicates, the rollups are what counting the calls gives,
    and rows that fell to zero are gone. Writes outside a batch (an operator's UPDATE, deletes) still
    go through the row triggers: batched mode ended with its transaction."""
    fill(db, 11, span=20)
    with db.connection() as conn:
        assert_rollups_follow_calls(conn)
        assert int(conn.scalar("SELECT count(*) FROM aircall_call_hours WHERE calls <= 0")) == 0
        assert int(conn.scalar("SELECT count(*) FROM aircall_call_agent_days WHERE calls <= 0")) == 0
        with conn.transaction():  # row by row: each call moves an hour, some change direction and duration
            conn.execute("UPDATE aircall_calls SET started_at = started_at + 3600, duration = duration + 7")
            conn.execute("UPDATE aircall_calls SET direction = 'outbound' WHERE id % 3 = 0")
            conn.execute("DELETE FROM aircall_calls WHERE id % 5 = 0")
        assert_rollups_follow_calls(conn)
        assert len(call_rollups(conn)["hours"]) > 20


def test_a_failed_batch_leaves_no_journal(db: Database) -> None:
    """A batch that fails after writing calls rolls back with its journal: nothing is summed twice, and
    the next writes (batched or not) keep the rollups exact."""
    fill(db, 12)
    rng = random.Random(3)
    with db.connection() as conn:
        before = call_rollups(conn)
        rows = proj.Rows()
        call = make_call(rng, 99_001, started_at=int(SINCE), status="done", answered=True,
                         user=make_user(rng, 100, v2=True), number=make_number(rng, 500),
                         contact=make_contact(rng, 900))
        body = msgspec.json.encode({"resource": "call", "event": "call.ended", "timestamp": int(SINCE), "data": call})
        proj.project(StoredEvent(1, "aircall", "acme", "call.ended", "webhook", SINCE, SINCE, body), rows)
        with pytest.raises(RuntimeError), conn.transaction():
            with rollup_batches.batched(conn):
                proj.CALLS.write(conn, rows.groups[proj.CALLS])
                assert call_rollups(conn)["journal"]  # journaled, not applied yet
            rows.write(conn)
            raise RuntimeError("the batch fails after its calls")
        assert call_rollups(conn) == before
        with conn.transaction():
            conn.execute("UPDATE aircall_calls SET status = 'done' WHERE id % 4 = 1")  # row by row again
        with conn.transaction():
            rows.write(conn)  # and batched again
        after = call_rollups(conn)
        assert after != before
        assert_rollups_follow_calls(conn)


def test_two_workers_batching_the_same_calls_keep_exact_rollups(db: Database) -> None:
    """Two workers writing batches of the same calls at once (their lifecycles split between them, in
    random order): each sums only its own journal (a transaction sees only its own uncommitted rows on
    PostgreSQL; SQLite has one writer), so the rollups are exactly what counting the calls gives."""
    rng = random.Random(21)
    agents = [make_user(rng, 100 + i, v2=True) for i in range(3)]
    events: list[tuple[str, dict[str, Any], float]] = []
    for i in range(80):
        started = SINCE + rng.random() * 3 * DAY
        call = make_call(rng, 8000 + i, user=rng.choice(agents), number=make_number(rng, 500),
                         contact=make_contact(rng, 900), started_at=int(started), status="done",
                         direction=rng.choice(("inbound", "outbound")), answered=rng.random() < 0.6)
        early = {**call, "status": "initial", "answered_at": None, "ended_at": None, "duration": 0, "user": None}
        events += [("call.created", early, started), ("call.ended", call, started + 300)]
        if rng.random() < 0.5:
            events.append(("call.updated", {**call, "started_at": int(started) - 3600}, started + 400))
    rng.shuffle(events)

    def batches(share: list[tuple[str, dict[str, Any], float]]) -> list[proj.Rows]:
        out = []
        for start in range(0, len(share), 12):
            rows = proj.Rows()
            for n, (event, data, ts) in enumerate(share[start:start + 12]):
                body = msgspec.json.encode({"resource": "call", "event": event, "timestamp": int(ts), "data": data})
                proj.project(StoredEvent(start + n + 1, "aircall", "acme", event, "webhook", ts, ts, body), rows)
            out.append(rows)
        return out

    failures: list[BaseException] = []

    def work(share: list[tuple[str, dict[str, Any], float]]) -> None:
        conn = db.connect()
        try:
            for rows in batches(share):
                for _attempt in range(20):  # as the worker does: a batch that lost a deadlock is tried again
                    try:
                        with conn.transaction():
                            rows.write(conn)
                        break
                    except Exception as exc:
                        if "deadlock" not in str(exc).lower() and "locked" not in str(exc).lower():
                            raise
        except BaseException as exc:
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(events[k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    with db.connection() as conn:
        assert int(conn.scalar("SELECT count(*) FROM aircall_calls")) == 80
        assert_rollups_follow_calls(conn)
        assert sum(r[-1] for r in call_rollups(conn)["agent days"]) > 10
