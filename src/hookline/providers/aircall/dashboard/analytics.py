"""Analytics over a period (UTC days): calls per day and per hour (inbound, outbound, missed), answer
rate, missed-call reasons, handle time and wrap-up per agent, sentiment shares.

Read from the projections (calls, users, intelligence) and, for wrap-up durations, from the event
log's user.wut_start / user.wut_end pairs (the projection keeps only an agent's current state).
Aggregation is done here rather than in SQL so one code path serves both engines.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hookline.providers.aircall.projections_api import is_missed, query
from hookline.store.engine import Connection
from hookline.timeparse import EARLIEST, LATEST, RANGE_TEXT
from hookline.web.dashboard.charts import Chart

MAX_DAYS = 366
SENTIMENTS = ("POSITIVE", "NEUTRAL", "NEGATIVE")
_WRAP_EVENTS = ("user.wut_start", "user.wut_end", "user.wut_start.v2", "user.wut_end.v2")


class BadPeriod(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @property
    def since(self) -> float:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC).timestamp()

    @property
    def until(self) -> float:
        end = self.last + timedelta(days=1)
        return datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


FIRST_DAY = datetime.fromtimestamp(EARLIEST, UTC).date()
LAST_DAY = datetime.fromtimestamp(LATEST, UTC).date() - timedelta(days=1)


def period(raw_from: str | None, raw_to: str | None, today: date | None = None) -> Period:
    """From `from` and `to` (YYYY-MM-DD, UTC); default the last seven days."""
    today = today or datetime.now(UTC).date()
    try:
        last = date.fromisoformat(raw_to) if raw_to else today
        first = date.fromisoformat(raw_from) if raw_from else last - timedelta(days=6)
    except ValueError:
        raise BadPeriod("from and to are dates: YYYY-MM-DD") from None
    if first < FIRST_DAY or last > LAST_DAY:  # 9999-12-31 would overflow the day after; see timeparse
        raise BadPeriod(f"from and to are dates within {RANGE_TEXT}")
    if first > last:
        raise BadPeriod("from must not be after to")
    if (last - first).days >= MAX_DAYS:
        raise BadPeriod(f"a period is at most {MAX_DAYS} days")
    return Period(first, last)


@dataclass(frozen=True)
class Report:
    period: Period
    calls: int
    inbound: int
    answered_inbound: int
    charts: list[Chart]

    @property
    def answer_rate(self) -> float | None:
        return None if not self.inbound else 100.0 * self.answered_inbound / self.inbound

    def chart(self, name: str) -> Chart | None:
        return next((c for c in self.charts if c.name == name), None)


def _day(ts: float) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


def report(conn: Connection, p: Period, account: str | None = None) -> Report:
    where = "started_at >= ? AND started_at < ?"
    params: list[Any] = [p.since, p.until]
    if account:
        where += " AND account = ?"
        params.append(account)
    calls = query(
        conn,
        "SELECT account, id, direction, status, started_at, answered_at, duration, missed_call_reason, user_id"
        f" FROM aircall_calls WHERE {where}",
        params,
    )
    days = p.days()
    day_index = {d: i for i, d in enumerate(days)}
    per_day = {k: [0.0] * len(days) for k in ("inbound", "outbound", "missed")}
    per_hour = {k: [0.0] * 24 for k in ("inbound", "outbound", "missed")}
    inbound_day, answered_day = [0] * len(days), [0] * len(days)
    reasons: Counter[str] = Counter()
    handle: dict[tuple[str, int], list[float]] = defaultdict(list)
    for c in calls:
        d = day_index.get(_day(c["started_at"]))
        if d is None:
            continue
        hour = datetime.fromtimestamp(c["started_at"], UTC).hour
        direction = "outbound" if c["direction"] == "outbound" else "inbound"
        per_day[direction][d] += 1
        per_hour[direction][hour] += 1
        if direction == "inbound":
            inbound_day[d] += 1
            answered_day[d] += c["answered_at"] is not None
        if is_missed(c):
            per_day["missed"][d] += 1
            per_hour["missed"][hour] += 1
            reasons[c["missed_call_reason"] or "no_answer"] += 1
        if c["status"] == "done" and c["answered_at"] is not None and c["user_id"] is not None:
            handle[(c["account"], c["user_id"])].append(float(c["duration"] or 0))

    wrap = _wrap_ups(conn, p, account)
    names = _agent_names(conn, set(handle) | set(wrap))
    agents = sorted(set(handle) | set(wrap), key=lambda k: (names.get(k, ""), k))
    sentiment = _sentiments(conn, p, account)
    total_sentiment = sum(sentiment.values())
    series3 = ("inbound", "outbound", "missed")
    charts = [
        Chart("calls_per_day", "Calls per day", "day", [d.isoformat() for d in days],
              [(k, per_day[k]) for k in series3]),
        Chart("calls_per_hour", "Calls per hour of day (UTC)", "hour", [f"{h:02d}h" for h in range(24)],
              [(k, per_hour[k]) for k in series3]),
        Chart("answer_rate", "Answer rate of inbound calls", "day", [d.isoformat() for d in days],
              [("answered %", [100.0 * a / i if i else 0.0 for a, i in zip(answered_day, inbound_day, strict=True)])],
              unit="%"),
        Chart("missed_reasons", "Missed-call reasons", "reason", [r for r, _ in reasons.most_common()],
              [("calls", [float(n) for _, n in reasons.most_common()])]),
        Chart("agents", "Average handle time and wrap-up per agent", "agent",
              [names.get(k) or f"agent {k[1]}" for k in agents],
              [("handle time (s)", [_mean(handle.get(k, [])) for k in agents]),
               ("wrap-up (s)", [_mean(wrap.get(k, [])) for k in agents])], unit=" s"),
        Chart("sentiment", "Sentiment of callers", "sentiment", [s.lower() for s in SENTIMENTS],
              [("share %", [100.0 * sentiment[s] / total_sentiment if total_sentiment else 0.0 for s in SENTIMENTS])],
              unit="%"),
    ]
    inbound = sum(inbound_day)
    return Report(p, len(calls), inbound, sum(answered_day), charts)


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def _wrap_ups(conn: Connection, p: Period, account: str | None) -> dict[tuple[str, int], list[float]]:
    """Wrap-up durations per agent: each user.wut_start paired with the next user.wut_end."""
    marks = ", ".join("?" for _ in _WRAP_EVENTS)
    sql = (f"SELECT account, resource_id, event, occurred_at FROM events WHERE provider = ? AND event IN ({marks})"
           " AND occurred_at >= ? AND occurred_at < ?")
    params: list[Any] = ["aircall", *_WRAP_EVENTS, p.since, p.until]
    if account:
        sql += " AND account = ?"
        params.append(account)
    out: dict[tuple[str, int], list[float]] = defaultdict(list)
    started: dict[tuple[str, int], float] = {}
    for acct, rid, event, at in conn.fetchall(sql + " ORDER BY occurred_at, id", params):
        if rid is None or not str(rid).isdigit() or at is None:
            continue
        key = (acct, int(rid))
        if event.startswith("user.wut_start"):
            started[key] = float(at)
        elif key in started:
            out[key].append(float(at) - started.pop(key))
    return out


def _agent_names(conn: Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    if not keys:
        return {}
    rows = conn.fetchall("SELECT account, id, COALESCE(name, seen_name) FROM aircall_users")
    return {(a, int(i)): n for a, i, n in rows if (a, int(i)) in keys and n}


def _sentiments(conn: Connection, p: Period, account: str | None) -> Counter[str]:
    sql = "SELECT data FROM aircall_call_intelligence WHERE kind = ? AND \"timestamp\" >= ? AND \"timestamp\" < ?"
    params: list[Any] = ["sentiment", p.since, p.until]
    if account:
        sql += " AND account = ?"
        params.append(account)
    out: Counter[str] = Counter()
    for (data,) in conn.fetchall(sql, params):
        value = json.loads(data) if isinstance(data, str) else data
        for participant in (value or {}).get("participants") or ():
            mood = str(participant.get("value") or "").upper()
            if mood in SENTIMENTS:
                out[mood] += 1
    return out
