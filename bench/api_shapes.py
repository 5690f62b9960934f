"""/api/calls before and after the API's rows became msgspec Structs (issue #12 item 7).

The same SQLite database (bench/scale.py's synthetic year, --calls projected calls, built once and
kept in bench/results/data/) is read by two checkouts in turn: the baseline's `src` (--old-src, e.g.
`git archive <commit> src | tar -x -C /tmp/old`) and this one's. Each round is a fresh process per side
that makes the app (create_app, Starlette's TestClient, no server), warms up, then times --requests
GETs of `/api/calls?limit=<limit>`; rounds alternate old/new so both see the same machine load. Printed:
each side's median over all requests, and new/old.

    python bench/api_shapes.py --old-src /tmp/old/src [--calls 10000] [--rounds 5] [--requests 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMER = """
import sys, time, msgspec
from starlette.testclient import TestClient
from hookline.app import create_app
from hookline.config import Settings
url, token, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app(Settings(database_url=url, admin_token=token))
auth = {"authorization": f"Bearer {token}"}
with TestClient(app) as client:
    for _ in range(5):
        assert client.get(path, headers=auth).status_code == 200
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path, headers=auth)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200
print(msgspec.json.encode({"times": times, "bytes": len(r.content)}).decode())
"""


def run(src: Path, url: str, token: str, path: str, n: int) -> tuple[list[float], int]:
    env = {**os.environ, "PYTHONPATH": str(src), "HOOKLINE_LOG_LEVEL": "warning"}
    out = subprocess.run([sys.executable, "-c", TIMER, url, token, path, str(n)], env=env, check=True,
                         capture_output=True, text=True).stdout
    import msgspec

    found = msgspec.json.decode(out.strip().splitlines()[-1])
    return found["times"], found["bytes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old-src", type=Path, required=True, help="the baseline checkout's src folder")
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    from bench import scale

    db = scale.Database(scale.database_url("sqlite", args.calls))
    if scale.built(db) != args.calls:
        db.close()
        db = scale.build("sqlite", args.calls)
    db.close()
    url, path = scale.database_url("sqlite", args.calls), f"/api/calls?limit={args.limit}"
    sides = {"old": args.old_src.resolve(), "new": ROOT / "src"}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(args.rounds):
        for side in ("old", "new") if i % 2 == 0 else ("new", "old"):
            got, size = run(sides[side], url, scale.ADMIN_TOKEN, path, args.requests)
            times[side] += got
            print(f"  round {i + 1} {side}: median {statistics.median(got) * 1000:.2f} ms ({size:,} bytes)")
    old, new = (statistics.median(times[s]) * 1000 for s in ("old", "new"))
    print(f"GET {path} over {args.calls:,} calls, {args.rounds} rounds x {args.requests} requests per side:")
    print(f"  old {old:.2f} ms, new {new:.2f} ms (median); new/old {new / old:.2f}")


if __name__ == "__main__":
    main()
