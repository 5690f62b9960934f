"""Analytics over a period (UTC days): calls per day and per hour (inbound, outbound, missed), answer
rate, missed-call reasons, handle time and wrap-up per agent, sentiment shares.

Read from rollups, so that a year reads a few rows per hour or per agent and day, never every call
or event: calls per hour and handle time per agent and day (triggers on aircall_calls, migration
0006), wrap-up pairs (user.wut_start then user.wut_end) per agent and day (kept by the projection:
wrap_ups.py, migration 0008), sentiment per day (triggers on aircall_call_intelligence, 0008). The
day rollups are summed per month by triggers on them (0010): a period reads its whole months there,
only its partial months at the edges from the day/hour rollups (Split), so a year is ~10k rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hookline.store.engine import Connection
from hookline.store.queries import load_queries
from hookline.timeparse import EARLIEST, LATEST, RANGE_TEXT
from hookline.web.dashboard.charts import Chart

Q = load_queries(__package__)

MAX_DAYS = 366
DAY = 86_400
SENTIMENTS = ("POSITIVE", "NEUTRAL", "NEGATIVE")


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


@dataclass(frozen=True)
class Split:
    """A period as whole months (read from the month rollups, migration 0010) and its partial months
    at the edges (read from the day/hour rollups): epoch days [first, months_from) and [months_until,
    end) are edges, months [first_month, end_month) are whole."""
    first: int
    months_from: int
    months_until: int
    end: int
    first_month: int
    end_month: int

    @classmethod
    def of(cls, p: Period) -> Split:
        first, end = int(p.since) // DAY, int(p.until) // DAY
        start = p.first if p.first.day == 1 else (p.first.replace(day=1) + timedelta(days=32)).replace(day=1)
        stop = (p.last + timedelta(days=1)).replace(day=1)
        if start >= stop:  # no whole month: all of it from the day rollups
            return cls(first, end, end, end, 0, 0)
        return cls(first, _day(start), _day(stop), end, month_index(start), month_index(stop))


def month_index(d: date) -> int:
    """A month as the rollups count it: months since 1970-01 (migration 0010)."""
    return (d.year - 1970) * 12 + d.month - 1


def _day(d: date) -> int:
    return (d - FIRST_DAY).days


def report(conn: Connection, p: Period, account: str | None = None) -> Report:
    """Read from the rollups that triggers keep on aircall_calls (migrations 0006, 0010): a year of a
    busy center is a million calls, a few rows per day and per month here."""
    account = account or None  # "" is every account, as None
    s = Split.of(p)
    days = p.days()
    per_day = {k: [0.0] * len(days) for k in ("inbound", "outbound", "missed")}
    per_hour = {k: [0.0] * 24 for k in ("inbound", "outbound", "missed")}
    inbound_day, answered_day = [0] * len(days), [0] * len(days)
    reasons: Counter[str] = Counter()
    total = 0
    for day, outbound, missed, answered, reason, calls in conn.fetchall(
            Q.analytics_days, (s.first, s.end, account, account)):
        n = int(calls)
        if not n:
            continue
        d = int(day) - s.first
        total += n
        direction = "outbound" if outbound else "inbound"
        per_day[direction][d] += n
        if direction == "inbound":
            inbound_day[d] += n
            answered_day[d] += n if answered else 0
        if missed:
            per_day["missed"][d] += n
            reasons[reason] += n
    hour_rows = conn.fetchall(Q.analytics_hour_months, (s.first_month, s.end_month, account, account))
    for lo, hi in ((s.first, s.months_from), (s.months_until, s.end)):
        if lo < hi:
            hour_rows += conn.fetchall(Q.analytics_hours, (lo * 24, hi * 24, account, account))
    for hour, outbound, missed, calls in hour_rows:
        n = int(calls)
        per_hour["outbound" if outbound else "inbound"][int(hour)] += n
        if missed:
            per_hour["missed"][int(hour)] += n
    handle = _per_agent(conn.fetchall(Q.analytics_agent_months, (s.first_month, s.end_month, account, account)))
    for lo, hi in ((s.first, s.months_from), (s.months_until, s.end)):
        if lo < hi:
            handle = _per_agent(conn.fetchall(Q.analytics_agent_days, (lo, hi, account, account)), handle)

    wrap = _wrap_ups(conn, s, account)
    names = _agent_names(conn, set(handle) | set(wrap))
    agents = sorted(set(handle) | set(wrap), key=lambda k: (names.get(k, ""), k))
    sentiment = _sentiments(conn, s.first, s.end, account)
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


def _per_agent(rows: list[Any], into: dict[tuple[str, int], tuple[float, int]] | None = None
               ) -> dict[tuple[str, int], tuple[float, int]]:
    """(account, user, seconds, count) rows summed per agent; agents whose count is 0 left out."""
    out = {} if into is None else into
    for acct, user, seconds, n in rows:
        key = (acct, int(user))
        before = out.get(key, (0.0, 0))
        out[key] = (before[0] + float(seconds), before[1] + int(n))
    return {k: v for k, v in out.items() if v[1]}


def _wrap_ups(conn: Connection, s: Split, account: str | None) -> dict[tuple[str, int], tuple[float, int]]:
    """Wrap-up time per agent (total seconds, count): the pairs whose start and end both fall in the
    period (a pair across midnight counts when the period holds both days, as when it was paired
    from the log). Three disjoint parts: those starting in the leading partial month, those starting
    later and ending in the trailing one (day rollup), those within the whole months (month rollup)."""
    out = _per_agent(conn.fetchall(Q.analytics_wrap_up_days_starting,
                                   (s.first, s.months_from, s.end, account, account)))
    if s.months_until < s.end:
        out = _per_agent(conn.fetchall(Q.analytics_wrap_up_days_ending,
                                       (s.months_until, s.end, s.months_from, s.end, account, account)), out)
    if s.first_month < s.end_month:
        out = _per_agent(conn.fetchall(Q.analytics_wrap_up_months,
                                       (s.first_month, s.end_month, s.end_month, account, account)), out)
    return out


def _agent_names(conn: Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    if not keys:
        return {}
    rows = conn.fetchall(Q.analytics_agent_names)
    return {(a, int(i)): n for a, i, n in rows if (a, int(i)) in keys and n}


def _sentiments(conn: Connection, first_day: int, end_day: int, account: str | None) -> Counter[str]:
    """Callers' moods of a period: participants per sentiment value, summed from the days' rollup."""
    out: Counter[str] = Counter()
    for mood, n in conn.fetchall(Q.analytics_sentiment_days, (first_day, end_day, account, account)):
        if mood in SENTIMENTS:
            out[mood] += int(n)
    return out
