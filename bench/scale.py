"""A year of a 300-agent call center: is every page still fast, and how much does it cost on disk?

1. Build. A synthetic year goes straight into the current schema (no HTTP, no queue): 300 agents,
   100k contacts, N calls over the 365 days before today (--calls), each call's row made by the
   Aircall projection itself (`projections.project` on a call.ended body, so the columns hold what
   the worker would write), ~5.3 timeline rows per call (the five call.* stages, plus the sentiment
   and summary results of some calls), ~1.7 events per call in the log (the call.ended body, and a
   user.wut_start/user.wut_end pair after 35% of calls). Rows go in with bulk inserts (executemany on
   SQLite, unnest arrays on PostgreSQL) in batches, then ANALYZE. The database is kept
   (bench/results/data/, ignored by git; a PostgreSQL schema `scale_<N>`) and reused by the next run
   with the same --calls, unless --rebuild.
2. Measure. A real `hookline serve` on it (its worker idle: the queue is empty); every dashboard page
   and /api request of issue 16 is requested once right after start (cold: a fresh process, empty
   caches and connection pools) and then --rounds times (warm: the median). serve's peak resident
   memory is its VmHWM from /proc after all requests.
3. Compare with the targets: <= 100 ms per page and API request; Analytics and its CSV <= 300 ms
   over 365 days and <= 100 ms over 30 days; serve's peak memory <= 200 MB. Storage: bytes per call
   of the projections (calls + timeline + intelligence) and bytes per event of the log.

    python bench/scale.py --calls 100000 [--engine sqlite|postgresql] [--rounds 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from hookline.assembly import migration_sources  # noqa: E402
from hookline.pipeline.handlers import StoredEvent  # noqa: E402
from hookline.pipeline.versioned import insert_many  # noqa: E402
from hookline.providers.aircall import projections as proj  # noqa: E402
from hookline.providers.aircall.wrap_ups import WrapUp  # noqa: E402
from hookline.providers.registry import providers  # noqa: E402
from hookline.store import migrations  # noqa: E402
from hookline.store.engine import Connection, Database  # noqa: E402
from hookline.testing.aircall.samples import make_call, make_contact, make_number, make_user  # noqa: E402

PG_URL = os.environ.get("HOOKLINE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATA = ROOT / "bench" / "results" / "data"
ADMIN_TOKEN = "scale-bench-admin-token-0123456789"
ACCOUNT = "acme"
AGENTS, CONTACTS, NUMBERS = 300, 100_000, 20
BATCH = 5_000
DAY = 86_400
TARGET_MS, TARGET_MB = 100.0, 200.0
_encode = msgspec.json.encode

CALL_STAGES = ("call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended")
EVENT_COLUMNS = ("provider", "account", "event", "resource", "resource_id", "occurred_at", "received_at",
                 "dedup_key", "duplicate_count", "last_seen_at", "known", "origin", "headers", "body")


# --- build --------------------------------------------------------------------------------------


def database_url(engine: str, calls: int) -> str:
    if engine == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DATA / f'scale-{calls}.sqlite3'}"
    return f"{PG_URL}?options=-csearch_path%3Dscale_{calls}"


def built(db: Database) -> int | None:
    """How many calls a kept database holds (None: not built or not finished)."""
    try:
        with db.connection() as conn:
            return int(conn.scalar("SELECT value FROM settings WHERE key = 'bench.scale.calls'"))
    except Exception:
        return None


def reset(engine: str, calls: int) -> None:
    if engine == "sqlite":
        path = DATA / f"scale-{calls}.sqlite3"
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS scale_{calls} CASCADE")
        conn.execute(f"CREATE SCHEMA scale_{calls}")


class Builder:
    def __init__(self, conn: Connection, calls: int, seed: int = 16) -> None:
        self.conn = conn
        self.calls = calls
        self.rng = random.Random(seed)
        self.event_id = 0
        self.fake_event_id = 10**12  # timeline rows of events not kept in the log
        self.now = time.time()
        self.start = self.now - 365 * DAY

    def rows(self, event: str, resource: str, data: dict[str, Any], ts: float, rows: proj.Rows,
             event_id: int | None = None) -> bytes:
        body = _encode({"resource": resource, "event": event, "timestamp": int(ts), "token": "t", "data": data})
        if event_id is None:
            self.fake_event_id += 1
            event_id = self.fake_event_id
        proj.project(StoredEvent(event_id, "aircall", ACCOUNT, event, "webhook", ts, ts, body), rows)
        return body

    def write(self, rows: proj.Rows, events: list[tuple[Any, ...]]) -> None:
        with self.conn.transaction():
            rows.write(self.conn)
            if events:
                insert_many(self.conn, "events", EVENT_COLUMNS, events)

    def event_row(self, event: str, resource: str, rid: int, ts: float, body: bytes) -> tuple[Any, ...]:
        self.event_id += 1
        return ("aircall", ACCOUNT, event, resource, str(rid), ts, ts + 1, f"scale:{self.event_id}", 0, ts + 1,
                True, "webhook", "{}", body)

    def people(self) -> None:
        rows = proj.Rows()
        base = self.start - 30 * DAY
        self.numbers = [make_number(self.rng, 500 + i) for i in range(NUMBERS)]
        for n in self.numbers:
            self.rows("number.created", "number", n, base, rows)
        self.agents = [make_user(self.rng, 1000 + i, v2=True) for i in range(AGENTS)]
        for a in self.agents:
            self.rows("user.created", "user", a, base, rows)
            self.rows("user.connected", "user", a, self.now - 3600, rows)
        self.write(rows, [])
        self.contacts: list[dict[str, Any]] = []
        for start in range(0, CONTACTS, BATCH):
            rows = proj.Rows()
            for i in range(start, min(CONTACTS, start + BATCH)):
                c = make_contact(self.rng, 10_000_000 + i)
                self.contacts.append(c)
                self.rows("contact.created", "contact", c, base, rows)
            self.write(rows, [])

    def year(self) -> None:
        rng = self.rng
        step = 365 * DAY / self.calls
        call_id = 1_000_000_000
        done = 0
        t0 = time.monotonic()
        while done < self.calls:
            rows, events = proj.Rows(), []
            for _ in range(min(BATCH, self.calls - done)):
                call_id += 1
                started = int(self.start + done * step + rng.random() * step)
                done += 1
                agent = rng.choice(self.agents)
                outbound = rng.random() < 0.3
                answered = rng.random() < 0.8
                call = make_call(
                    rng, call_id, user=agent if answered or outbound else None, number=rng.choice(self.numbers),
                    contact=rng.choice(self.contacts) if rng.random() < 0.6 else None, started_at=started,
                    direction="outbound" if outbound else "inbound", answered=answered,
                    recording=answered and rng.random() < 0.5,
                )
                ended = float(call["ended_at"])
                body = self.rows("call.ended", "call", call, ended + 30, rows, self.event_id + 1)
                events.append(self.event_row("call.ended", "call", call_id, ended + 30, body))
                # The other four stages: timeline rows only (their snapshots lost to call.ended's).
                for stage, at in zip(CALL_STAGES[:4], (started, started + 1, call["answered_at"] or started, ended),
                                     strict=True):
                    self.fake_event_id += 1
                    rows.timeline.append((ACCOUNT, call_id, stage, float(at), self.fake_event_id))
                if answered and rng.random() < 0.2:
                    mood = rng.choice(("POSITIVE", "POSITIVE", "NEUTRAL", "NEGATIVE"))
                    result = {"id": call_id, "call_id": call_id, "type": "call", "participants": [
                        {"participant_type": "external", "phone_number": call["raw_digits"], "value": mood}]}
                    self.rows("sentiment.created", "sentiment", result, ended + 60, rows)
                if answered and rng.random() < 0.1:
                    result = {"id": call_id, "call_id": call_id, "type": "call", "ai_generated": True,
                              "content": "The customer asked about an invoice; the agent sent a copy by email."}
                    self.rows("summary.created", "summary", result, ended + 90, rows)
                if call["user"] is not None and rng.random() < 0.35:
                    wrap = {k: agent[k] for k in ("id", "name", "email", "availability_status")}
                    for event, at in (("user.wut_start", ended + 1), ("user.wut_end", ended + 1 + rng.randint(5, 90))):
                        b = _encode({"resource": "user", "event": event, "timestamp": int(at), "token": "t",
                                     "data": wrap})
                        # What the projection keeps of it (wrap_ups.py): ids are the log's, 1, 2, ...
                        rows.wrap_ups.append(WrapUp(ACCOUNT, str(agent["id"]), at, self.event_id + 1,
                                                    event == "user.wut_start"))
                        events.append(self.event_row(event, "user", agent["id"], at, b))
            self.write(rows, events)
            rate = done / (time.monotonic() - t0)
            print(f"\r  {done:,} calls ({rate:,.0f}/s)", end="", flush=True)
        print()


def build(engine: str, calls: int) -> Database:
    reset(engine, calls)
    db = Database(database_url(engine, calls))
    migrations.upgrade(db, migration_sources(providers()))
    t0 = time.monotonic()
    conn = db.connect(writer=True)
    try:
        if engine == "sqlite":
            conn.execute("PRAGMA synchronous=OFF")  # a benchmark's fill: durability is not the point
        b = Builder(conn, calls)
        b.people()
        b.year()
        conn.execute("VACUUM ANALYZE" if engine == "postgresql" else "ANALYZE")  # as autovacuum would
        conn.execute("INSERT INTO settings (key, value) VALUES ('bench.scale.calls', ?)", (str(calls),))
    finally:
        conn.close()
    print(f"  built in {time.monotonic() - t0:.0f} s")
    return db


# --- storage ------------------------------------------------------------------------------------

PROJECTION_TABLES = ("aircall_calls", "aircall_call_parts", "aircall_call_timeline", "aircall_call_intelligence")


def sizes(db: Database) -> dict[str, int]:
    """Bytes per table, its indexes included."""
    out: dict[str, int] = {}
    with db.connection() as conn:
        if db.dialect == "sqlite":
            for _name, tbl, size in conn.fetchall(
                "SELECT s.name, m.tbl_name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name"
                " GROUP BY s.name"
            ):
                out[tbl] = out.get(tbl, 0) + int(size)
        else:
            for tbl, size in conn.fetchall(  # a partition (the log's months) counts in its parent's
                "SELECT COALESCE(r.relname, c.relname), sum(pg_total_relation_size(c.oid)) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_class r ON r.oid = pg_partition_root(c.oid)"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r' GROUP BY 1"
            ):
                out[tbl] = int(size)
    return out


# --- measure ------------------------------------------------------------------------------------


@dataclass
class Serve:
    url: str
    proc: subprocess.Popen[bytes]

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve(url: str, log: Path) -> Serve:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKLINE_")}
    env.update(HOOKLINE_DATABASE_URL=url, HOOKLINE_ADMIN_TOKEN=ADMIN_TOKEN, HOOKLINE_LOG_FORMAT="json",
               HOOKLINE_AIRCALL_API_URL="http://127.0.0.1:9")
    proc = subprocess.Popen([sys.executable, "-m", "hookline", "serve", "--port", str(port)], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited with {proc.returncode}: see {log}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return Serve(base, proc)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"serve did not start: see {log}")


def requests(db: Database) -> list[tuple[str, str, float]]:
    """(name, path, target ms) of every request measured; ids picked from the data."""
    today = datetime.now(UTC).date()

    def span(days: int) -> str:
        return f"from={(today - timedelta(days=days - 1)).isoformat()}&to={today.isoformat()}"

    with db.connection() as conn:
        call_id, contact_id = conn.fetchone(
            "SELECT id, contact_id FROM aircall_calls WHERE contact_id IS NOT NULL ORDER BY id DESC LIMIT 1")
        user_id = conn.scalar("SELECT min(id) FROM aircall_users")
    return [
        ("Analytics 7 days", f"/aircall/analytics?{span(7)}", TARGET_MS),
        ("Analytics 30 days", f"/aircall/analytics?{span(30)}", TARGET_MS),
        ("Analytics 365 days", f"/aircall/analytics?{span(365)}", 300.0),
        ("Analytics CSV 30 days", f"/aircall/analytics/calls_per_day.csv?{span(30)}", TARGET_MS),
        ("Analytics CSV 365 days", f"/aircall/analytics/calls_per_day.csv?{span(365)}", 300.0),
        ("Analytics CSV agents 365 days", f"/aircall/analytics/agents.csv?{span(365)}", 300.0),
        ("Live page", "/aircall/live", TARGET_MS),
        ("Agents page", "/aircall/agents", TARGET_MS),
        ("Calls page", "/aircall/calls", TARGET_MS),
        ("Calls page, inbound missed", "/aircall/calls?direction=inbound&missed=true", TARGET_MS),
        ("Calls page, one agent", f"/aircall/calls?user={user_id}", TARGET_MS),
        ("A call's page", f"/aircall/calls/{call_id}", TARGET_MS),
        ("Operations page", "/operations", TARGET_MS),
        ("Event log page", "/events", TARGET_MS),
        ("/api/agents", "/api/agents", TARGET_MS),
        ("/api/stats", "/api/stats", TARGET_MS),
        ("/api/calls", "/api/calls", TARGET_MS),
        ("/api/calls?contact=", f"/api/calls?contact={contact_id}", TARGET_MS),
        ("/api/calls?user=", f"/api/calls?user={user_id}", TARGET_MS),
        ("/api/calls?user=&status=done", f"/api/calls?user={user_id}&status=done", TARGET_MS),
        ("/api/calls/{id}", f"/api/calls/{call_id}", TARGET_MS),
        ("/api/contacts", "/api/contacts", TARGET_MS),
        ("/api/events", "/api/events", TARGET_MS),
    ]


def timed(client: httpx.Client, path: str) -> float:
    t0 = time.perf_counter()
    r = client.get(path)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise SystemExit(f"GET {path}: {r.status_code} {r.text[:300]}")
    return ms


def measure(db: Database, url: str, rounds: int, log: Path) -> tuple[list[tuple[str, float, float, float]], float]:
    todo = requests(db)
    server = serve(url, log)
    try:
        with httpx.Client(base_url=server.url, timeout=300) as client:
            r = client.post("/login", data={"token": ADMIN_TOKEN, "next": "/operations"})
            assert r.status_code == 303, r.text
            client.headers["authorization"] = f"Bearer {ADMIN_TOKEN}"
            out = []
            for name, path, target in todo:
                cold = timed(client, path)
                warm = statistics.median(timed(client, path) for _ in range(rounds))
                out.append((name, cold, warm, target))
                print(f"  {name:<32} cold {cold:9.1f} ms  warm {warm:9.1f} ms"
                      f"  {'ok' if warm <= target else 'MISSED'} (<= {target:.0f})", flush=True)
            return out, server.peak_rss_mb()
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true", help="build again even if a kept database exists")
    ap.add_argument("--build-only", action="store_true")
    args = ap.parse_args()

    url = database_url(args.engine, args.calls)
    print(f"scale: {args.calls:,} calls on {args.engine}; load {os.getloadavg()[0]:.1f}")
    db = Database(url)
    if args.rebuild or built(db) != args.calls:
        db.close()
        db = build(args.engine, args.calls)
    else:
        print("  reusing the kept database")
    migrations.upgrade(db, migration_sources(providers()))  # a kept database gets the newer migrations
    with db.connection() as conn:
        n_calls = int(conn.scalar("SELECT count(*) FROM aircall_calls"))
        n_timeline = int(conn.scalar("SELECT count(*) FROM aircall_call_timeline"))
        n_events = int(conn.scalar("SELECT count(*) FROM events"))
    size = sizes(db)
    projections = sum(size.get(t, 0) for t in PROJECTION_TABLES)
    total = sum(size.values())
    log_bytes = size.get("events", 0) + size.get("event_keys", 0)  # PostgreSQL's log: its keys apart
    print(f"  {n_calls:,} calls, {n_timeline / n_calls:.2f} timeline rows and {n_events / n_calls:.2f} events a call")
    print(f"  storage: calls {size.get('aircall_calls', 0) / n_calls:,.0f} B/call; projections (calls, timeline,"
          f" intelligence) {projections / n_calls:,.0f} B/call; log {log_bytes / n_events:,.0f} B/event;"
          f" all {total / 2**20:,.0f} MiB")
    print("  per call: " + ", ".join(f"{t} {size.get(t, 0) / n_calls:,.0f} B" for t in PROJECTION_TABLES))
    if args.build_only:
        return
    log = DATA / f"serve-{args.engine}-{args.calls}.log"
    DATA.mkdir(parents=True, exist_ok=True)
    results, rss = measure(db, url, args.rounds, log)
    missed = [name for name, _, warm, target in results if warm > target]
    print(f"  serve's peak RSS {rss:.0f} MB ({'ok' if rss <= TARGET_MB else 'MISSED'} <= {TARGET_MB:.0f})")
    print(f"  targets: {len(results) - len(missed)}/{len(results)} requests met" +
          (f"; missed: {', '.join(missed)}" if missed else ""))
    db.close()


if __name__ == "__main__":
    main()
