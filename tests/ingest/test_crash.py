"""kill -9 in the middle of a load: every event that got a 200 is in the log exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from hookline.providers.aircall.tokens import TokenStore
from hookline.store.engine import Database
from tests.ingest.test_aircall_webhook import TOKEN, envelope


def test_acknowledged_events_survive_kill_9(db: Database, start_server) -> None:
    TokenStore(db).add(TOKEN, "acme")
    server = start_server()
    acked: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as c:
            for n in range(100_000):
                if stop.is_set():
                    return
                call_id = worker * 1_000_000 + n
                try:
                    r = c.post("/aircall/webhook", json=envelope(call_id=call_id))
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 200:
                    with lock:
                        acked.add(call_id)

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(load, w) for w in range(16)]
        deadline = time.monotonic() + 20
        while len(acked) < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        for f in futures:
            f.result()
    assert len(acked) >= 1000

    with db.connection() as conn:
        rows = conn.fetchall("SELECT resource_id, count(*) FROM events GROUP BY resource_id")
    counts = {int(rid): n for rid, n in rows}
    missing = acked - counts.keys()
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert all(n == 1 for n in counts.values())

    # After a restart the log is usable and resends of acknowledged events are recognised.
    again = start_server()
    sample = sorted(acked)[:20]
    with again.client() as c:
        answers = [c.post("/aircall/webhook", json=envelope(call_id=i)).json() for i in sample]
    assert all(a["duplicate"] for a in answers)
