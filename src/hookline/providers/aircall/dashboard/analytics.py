"""Analytics over a period (UTC days): calls per day and per hour (inbound, outbound, missed), answer
rate, missed-call reasons, handle time and wrap-up per agent, sentiment shares.

Read from the projections (calls, users, intelligence) and, for wrap-up durations, from the event
log's user.wut_start / user.wut_end pairs (the projection keeps only an agent's current state).
Calls are counted from rollups per hour and per agent and day that triggers keep on aircall_calls
(migration 0006), wrap-ups by a window over a partial index of the log, sentiment in SQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hookline.store.engine import Connection
from hookline.store.queries import load_queries
from hookline.timeparse import EARLIEST, LATEST, RANGE_TEXT
from hookline.web.dashboard.charts import Chart

Q = load_queries(__package__)

MAX_DAYS = 366
DAY = 86_400
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


def report(conn: Connection, p: Period, account: str | None = None) -> Report:
    """Read from the rollups that triggers keep on aircall_calls (migration 0006): a year of a busy
    center is a million calls, a few rows per hour here."""
    account = account or None  # "" is every account, as None
    first_hour, first_day = int(p.since) // 3600, int(p.since) // DAY
    days = p.days()
    per_day = {k: [0.0] * len(days) for k in ("inbound", "outbound", "missed")}
    per_hour = {k: [0.0] * 24 for k in ("inbound", "outbound", "missed")}
    inbound_day, answered_day = [0] * len(days), [0] * len(days)
    reasons: Counter[str] = Counter()
    total = 0
    rows = conn.fetchall(Q.analytics_hours, (first_hour, int(p.until) // 3600, account, account))
    for hour_, outbound, missed, answered, reason, calls in rows:
        n = int(calls)
        if not n:
            continue
        d, hour = divmod(int(hour_) - first_hour, 24)
        total += n
        direction = "outbound" if outbound else "inbound"
        per_day[direction][d] += n
        per_hour[direction][hour] += n
        if direction == "inbound":
            inbound_day[d] += n
            answered_day[d] += n if answered else 0
        if missed:
            per_day["missed"][d] += n
            per_hour["missed"][hour] += n
            reasons[reason] += n
    handle: dict[tuple[str, int], tuple[float, int]] = {}
    for acct, user, seconds, n in conn.fetchall(
        Q.analytics_agent_days, (first_day, first_day + len(days), account, account)
    ):
        if int(n):
            handle[(acct, int(user))] = (float(seconds), int(n))

    wrap = _wrap_ups(conn, p, account)
    names = _agent_names(conn, set(handle) | set(wrap))
    agents = sorted(set(handle) | set(wrap), key=lambda k: (names.get(k, ""), k))
    sentiment = _sentiments(conn, p, account)
    total_sentiment = sum(sentiment.values())
    by_count = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    series3 = ("inbound", "outbound", "missed")
    charts = [
        Chart("calls_per_day", "Calls per day", "day", [d.isoformat() for d in days],
              [(k, per_day[k]) for k in series3]),
        Chart("calls_per_hour", "Calls per hour of day (UTC)", "hour", [f"{h:02d}h" for h in range(24)],
              [(k, per_hour[k]) for k in series3]),
        Chart("answer_rate", "Answer rate of inbound calls", "day", [d.isoformat() for d in days],
              [("answered %", [100.0 * a / i if i else 0.0 for a, i in zip(answered_day, inbound_day, strict=True)])],
              unit="%"),
        Chart("missed_reasons", "Missed-call reasons", "reason", [r for r, _ in by_count],
              [("calls", [float(n) for _, n in by_count])]),
        Chart("agents", "Average handle time and wrap-up per agent", "agent",
              [names.get(k) or f"agent {k[1]}" for k in agents],
              [("handle time (s)", [_mean(*handle.get(k, (0.0, 0))) for k in agents]),
               ("wrap-up (s)", [_mean(*wrap.get(k, (0.0, 0))) for k in agents])], unit=" s"),
        Chart("sentiment", "Sentiment of callers", "sentiment", [s.lower() for s in SENTIMENTS],
              [("share %", [100.0 * sentiment[s] / total_sentiment if total_sentiment else 0.0 for s in SENTIMENTS])],
              unit="%"),
    ]
    return Report(p, total, sum(inbound_day), sum(answered_day), charts)


def _mean(total: float, n: int) -> float:
    return round(total / n, 1) if n else 0.0


def _wrap_ups(conn: Connection, p: Period, account: str | None) -> dict[tuple[str, int], tuple[float, int]]:
    """Wrap-up time per agent (total seconds, count): each user.wut_start paired with the next
    user.wut_end. The period's wrap-up events only, in time order, straight from the partial index
    (paired here: faster than a window in SQL, which sorts them again)."""
    totals: dict[tuple[str, int], list[float]] = {}
    started: dict[tuple[str, str], float] = {}
    for acct, rid, event, at in conn.execute(Q.analytics_wrap_ups, (p.since, p.until, account, account)):
        key = (acct, rid)
        if event.startswith("user.wut_start"):
            started[key] = at
        elif key in started and rid is not None and rid.isdigit():
            total = totals.setdefault((acct, int(rid)), [0.0, 0])
            total[0] += at - started.pop(key)
            total[1] += 1
    return {k: (float(v[0]), int(v[1])) for k, v in totals.items()}


def _agent_names(conn: Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    if not keys:
        return {}
    rows = conn.fetchall(Q.analytics_agent_names)
    return {(a, int(i)): n for a, i, n in rows if (a, int(i)) in keys and n}


def _sentiments(conn: Connection, p: Period, account: str | None) -> Counter[str]:
    """Callers' moods of a period: each participant's `value` of the sentiment results, counted in SQL
    (the JSON functions differ: json_each on SQLite, jsonb_array_elements on PostgreSQL)."""
    out: Counter[str] = Counter()
    for mood, n in conn.fetchall(Q.analytics_sentiments, (p.since, p.until, account, account)):
        if mood in SENTIMENTS:
            out[mood] += int(n)
    return out
