"""CPU time of reading calls as the API does (a page of /api/calls, ten calls with their timeline), in
this process: thread CPU time is what a busy machine cannot inflate the way it does wall time.

    python bench/calls_read_cpu.py DATABASE_URL LABEL      (e.g. a kept bench/scale.py database)

Run it for the code before and after a change (PYTHONPATH=<other tree>/src) on the same data,
alternating; compare medians.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from hookline.providers.aircall.projections_api import CALLS, call_record, composed
from hookline.store.engine import Database


def median_ms(f: Callable[[], Any], rounds: int = 30) -> float:
    out = []
    for _ in range(rounds):
        t0 = time.thread_time()
        f()
        out.append((time.thread_time() - t0) * 1000)
    return statistics.median(out)


def main() -> None:
    url, label = sys.argv[1], sys.argv[2]
    db = Database(url)
    with db.connection() as conn:
        ids = [r[0] for r in conn.fetchall("SELECT id FROM aircall_calls ORDER BY id DESC LIMIT 10")]
        page = median_ms(lambda: composed(conn, CALLS, " ORDER BY id DESC LIMIT ?", [100]))
        one = median_ms(lambda: [call_record(conn, i, None) for i in ids])
    db.close()
    print(f"{label}: a page of 100 calls {page:.2f} ms CPU; 10 calls with timeline {one:.2f} ms CPU")


if __name__ == "__main__":
    main()
