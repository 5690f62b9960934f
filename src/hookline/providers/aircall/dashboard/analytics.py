"""Analytics over a period (UTC days): calls per day and per hour (inbound, outbound, missed), answer
rate, missed-call reasons, handle time and wrap-up per agent, sentiment shares.

Read from rollups, so that a year reads a few rows per hour or per agent and day, never every call
or event: calls per hour and handle time per agent and day (triggers on aircall_calls, migration
0006), wrap-up pairs (user.wut_start then user.wut_end) per agent and day (kept by the projection:
wrap_ups.py, migration 0008), sentiment per day (triggers on aircall_call_intelligence, 0008).
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

    wrap = _wrap_ups(conn, first_day, first_day + len(days), account)
    names = _agent_names(conn, set(handle) | set(wrap))
    agents = sorted(set(handle) | set(wrap), key=lambda k: (names.get(k, ""), k))
    sentiment = _sentiments(conn, first_day, first_day + len(days), account)
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


def _wrap_ups(conn: Connection, first_day: int, end_day: int, account: str | None
              ) -> dict[tuple[str, int], tuple[float, int]]:
    """Wrap-up time per agent (total seconds, count): the pairs whose start and end both fall in the
    period (a pair across midnight counts when the period holds both days, as when it was paired
    from the log)."""
    out: dict[tuple[str, int], tuple[float, int]] = {}
    for acct, user, seconds, n in conn.fetchall(Q.analytics_wrap_up_days, (first_day, end_day, account, account)):
        if int(n):
            out[(acct, int(user))] = (float(seconds), int(n))
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
