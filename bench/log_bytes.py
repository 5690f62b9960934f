"""What an event of the log costs on disk: the events row and each of its indexes, per engine.

The bodies are realistic Aircall webhooks (bench/pipeline.py's `realistic_events`: calls through
their five stages, the agent's wrap-up pair after each, a transcription for 30% of calls; made by
hookline.testing.aircall.samples), appended by the log's own writer (`append_batch`) into a fresh,
migrated database. Bytes are the pages each b-tree holds (SQLite `dbstat`; PostgreSQL
`pg_relation_size`, the table's TOAST included), after VACUUM ANALYZE on PostgreSQL.

    python bench/log_bytes.py [--events 50000] [--engine sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import incoming, realistic_events  # noqa: E402
from hookline.assembly import migration_sources  # noqa: E402
from hookline.providers.registry import providers  # noqa: E402
from hookline.store import events as event_log  # noqa: E402
from hookline.store import migrations  # noqa: E402
from hookline.store.engine import Database  # noqa: E402

PG_URL = os.environ.get("HOOKLINE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "log_bytes"


def sizes(db: Database) -> dict[str, int]:
    """Bytes of the events table and of each index on it."""
    with db.connection() as conn:
        if db.dialect == "sqlite":
            rows = conn.fetchall(
                "SELECT s.name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name"
                " WHERE m.tbl_name = 'events' GROUP BY s.name")
        else:
            rows = conn.fetchall(
                "SELECT c.relname, CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE pg_relation_size(c.oid)"
                " END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND (c.relname = 'events' OR c.oid IN"
                " (SELECT indexrelid FROM pg_index WHERE indrelid = 'events'::regclass))")
    return {str(name): int(size) for name, size in rows}


def measure(engine: str, n: int, tmp: Path) -> None:
    if engine == "sqlite":
        url = f"sqlite:///{tmp / 'log.sqlite3'}"
    else:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            c.execute(f"CREATE SCHEMA {SCHEMA}")
        url = f"{PG_URL}?options=-csearch_path%3D{SCHEMA}"
    db = Database(url)
    try:
        migrations.upgrade(db, migration_sources(providers()))
        bodies = [incoming(b) for b in realistic_events(n)]
        conn = db.connect(writer=True)
        try:
            for start in range(0, n, 1000):
                event_log.append_batch(conn, bodies[start : start + 1000])
            conn.execute("VACUUM ANALYZE events" if engine == "postgresql" else "ANALYZE")
        finally:
            conn.close()
        size = sizes(db)
        body = sum(len(e.body) for e in bodies) / n
        total = sum(size.values())
        print(f"{engine}: {n:,} events, bodies {body:,.0f} B on average; {total / n:,.0f} B an event in all")
        for name, b in sorted(size.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<28} {b / n:8,.0f} B/event")
    finally:
        db.close()
        if engine == "postgresql":
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as c:
                c.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("sqlite", "postgresql") if args.engine == "both" else (args.engine,):
            measure(engine, args.events, Path(tmp))


if __name__ == "__main__":
    main()
