"""(b) The baseline: what users write by hand. FastAPI + SQLAlchemy, one transaction per request.

Same durability as hookline on SQLite (WAL, synchronous=FULL) so the comparison isolates the
group commit. Run: BASELINE_DB=/tmp/x.db uvicorn bench.baseline_fastapi:app
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Column, Float, Integer, LargeBinary, String, create_engine, event
from sqlalchemy.orm import Session, declarative_base

engine = create_engine(f"sqlite:///{os.environ.get('BASELINE_DB', '/tmp/baseline.db')}")


@event.listens_for(engine, "connect")
def _pragmas(conn: Any, _: Any) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")


Base = declarative_base()


class Event(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "events"
    id = Column(Integer, primary_key=True)
    event = Column(String, nullable=False)
    resource_id = Column(String)
    received_at = Column(Float, nullable=False)
    body = Column(LargeBinary, nullable=False)


Base.metadata.create_all(engine)
app = FastAPI()


@app.post("/aircall/webhook")
async def receive(request: Request) -> dict[str, Any]:
    raw = await request.body()
    payload = json.loads(raw)
    with Session(engine) as session:
        row = Event(event=payload["event"], resource_id=str(payload["data"]["id"]), received_at=time.time(), body=raw)
        session.add(row)
        session.commit()
        return {"id": row.id}
