"""The analytics report of another revision against this tree's, on a kept database (read-only).

Runs `report()` directly (no HTTP), so that a database whose newer migrations would take long (0009 on
the 1M year) can be compared on the report alone: the old revision's analytics.py and queries.sql are
taken with `git show` into a temporary package, the database opened read-only, the two reports checked
equal, then timed alternated old/new, medians of --rounds, for 7, 30 and 365 days ending at the last
day of data. The new tree's migrations must be applied to the database (apply them with sqlite3 when
the migration runner would run older ones first).

    python bench/analytics_ab.py --db bench/results/data/scale-1000000.sqlite3 --old <rev> [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from hookline.providers.aircall.dashboard import analytics as new  # noqa: E402
from hookline.store.engine import Connection  # noqa: E402

PKG = "src/hookline/providers/aircall/dashboard"


def old_module(rev: str, into: Path) -> Any:
    pkg = into / "old_analytics"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("analytics.py", "queries.sql"):
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{PKG}/{name}"], check=True,
                              capture_output=True, text=True).stdout
        (pkg / name).write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module("old_analytics.analytics")


def same(a: Any, b: Any) -> None:
    assert (a.calls, a.inbound, a.answered_inbound) == (b.calls, b.inbound, b.answered_inbound)
    for ca, cb in zip(a.charts, b.charts, strict=True):
        assert ca.categories == cb.categories, ca.name
        for (na, va), (nb, vb) in zip(ca.series, cb.series, strict=True):
            assert na == nb and all(abs(x - y) < 1e-6 for x, y in zip(va, vb, strict=True)), (ca.name, na)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--old", required=True, help="a git revision")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    raw = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    conn = Connection(raw, "sqlite")
    last = date(1970, 1, 1) + timedelta(days=int(raw.execute("SELECT max(day) FROM aircall_call_agent_days")
                                                 .fetchone()[0]))
    with tempfile.TemporaryDirectory() as tmp:
        old = old_module(args.old, Path(tmp))
        for days in (7, 30, 365):
            p = new.Period(last - timedelta(days=days - 1), last)
            po = old.Period(p.first, p.last)
            same(old.report(conn, po), new.report(conn, p))
            times: dict[str, list[float]] = {"old": [], "new": []}
            for r in range(args.rounds):
                for which in ("old", "new") if r % 2 == 0 else ("new", "old"):
                    t = time.perf_counter()
                    if which == "old":
                        old.report(conn, po)
                    else:
                        new.report(conn, p)
                    times[which].append(1000 * (time.perf_counter() - t))
            o, n = statistics.median(times["old"]), statistics.median(times["new"])
            print(f"{days} days ({p.first}..{p.last}): old {o:,.1f} ms, new {n:,.1f} ms, {o / n:.1f}x, same report")


if __name__ == "__main__":
    main()
