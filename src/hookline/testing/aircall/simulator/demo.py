"""`hookline demo`: the fake Aircall, a real `hookline serve`, an account and a webhook, in one command.

The simulator runs in this process; hookline runs as a `hookline serve` subprocess (SQLite in
./data/demo/ unless --database-url), pointed at the simulator through HOOKLINE_AIRCALL_API_URL and
with a short watchdog interval. The account and the webhook are made with hookline's own CLI, as a
user would. Without --seconds it runs until Ctrl-C with a live line of what is flowing.

A drill (--outage-at S --outage-seconds D --seconds N): hookline is stopped at S for D seconds; the
simulator's deliveries fail and Aircall's rule disables the webhook; hookline comes back, its watchdog
re-enables the webhook and backfills the gap through the API. At N the simulator stops, hookline is
given time to settle, and its tables are compared with the simulator's truth (truth.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hookline.store.engine import Database
from hookline.store.queries import load_queries
from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.simulator.calls import ENDED_AFTER_HUNGUP
from hookline.testing.aircall.simulator.server import serve_simulator
from hookline.testing.aircall.simulator.simulation import Simulator
from hookline.testing.aircall.simulator.truth import Comparison, compare

Q = load_queries(__package__)

ACCOUNT = "sim"
FINISH_SECONDS = 120.0  # at the end, how long the calls under way may take to end
SETTLE_SECONDS = 60.0  # after the traffic stops, how long hookline may take to match the truth
STABLE_POLLS = 5  # ...or how many identical comparisons with nothing left to do end the wait


class DemoError(Exception):
    """Something the demo needs did not work: the message says what, and where to look."""


@dataclass
class DemoOptions:
    port: int
    aircall_port: int
    data_dir: Path
    database_url: str | None
    speed: float
    agents: int
    calls_per_minute: float
    seed: int | None
    seconds: float | None
    outage_at: float | None
    outage_seconds: float
    watchdog_interval: float
    as_json: bool


@dataclass
class DrillState:
    webhook_disabled: bool = False
    webhook_reenabled: bool = False
    outages: int = 0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------ hookline serve


class Hookline:
    """`hookline serve` as a subprocess, and the CLI commands run against the same settings."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.env = env
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def cli(self, *args: str, check: bool = True) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hookline", *args, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if check and proc.returncode != 0:
            raise DemoError(f"`hookline {' '.join(args[:3])}` failed: {err.decode(errors='replace').strip()}")
        return out.decode(errors="replace")

    async def start(self, timeout: float = 60.0) -> None:
        import aiohttp

        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hookline", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise DemoError(f"hookline serve exited with {self.proc.returncode}: see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(self.url + "/readyz", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise DemoError(f"hookline serve not ready on {self.url} after {timeout:.0f} s: see {self.log_path}")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        for _ in range(100):
            if proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        proc.kill()
        await asyncio.to_thread(proc.wait)

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def hookline_env(opts: DemoOptions, database_url: str, api_url: str, admin_token: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOOKLINE_DATABASE_URL=database_url,
        HOOKLINE_ADMIN_TOKEN=admin_token,
        HOOKLINE_PORT=str(opts.port),
        HOOKLINE_PUBLIC_URL=f"http://127.0.0.1:{opts.port}",  # the watchdog knows the webhook by its URL
        HOOKLINE_AIRCALL_API_URL=api_url,
        HOOKLINE_AIRCALL_WATCHDOG_INTERVAL=f"{opts.watchdog_interval:g}",
        HOOKLINE_RECORDINGS_DIR=str(opts.data_dir / "recordings"),
        PYTHONUNBUFFERED="1",
    )
    env.setdefault("HOOKLINE_LOG_LEVEL", "warning")
    return env


# ----------------------------------------------------------------------------------------- the run


def _fresh_sqlite(data_dir: Path) -> str:
    """The demo's own SQLite file, emptied: the simulator starts a new company on every run."""
    path = data_dir / "hookline.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _admin_token(data_dir: Path) -> str:
    """HOOKLINE_ADMIN_TOKEN when set, else a new one, written (0600) where the README's curl reads it."""
    token = os.environ.get("HOOKLINE_ADMIN_TOKEN") or secrets.token_urlsafe(24)
    path = data_dir / "admin-token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


class Demo:
    def __init__(self, opts: DemoOptions, out: TextIO, err: TextIO) -> None:
        self.opts = opts
        self.out = out
        self.err = err
        self.drill = DrillState()
        self.started = time.monotonic()
        self.tty = err.isatty() and not opts.as_json
        self.backfilled_before = 0
        self.interrupts = 0  # Ctrl-C: the first stops the traffic, a second skips the wait for calls

    def say(self, text: str) -> None:
        """Messages for people: stdout, or stderr when stdout carries the JSON summary."""
        stream = self.err if self.opts.as_json else self.out
        if self.tty:
            stream.write("\r\033[K")
        print(text, file=stream, flush=True)

    async def run(self, stop: asyncio.Event) -> dict[str, Any]:
        opts = self.opts
        opts.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = opts.database_url or _fresh_sqlite(opts.data_dir)
        token = _admin_token(opts.data_dir)
        state = FakeAircallState()
        api_id, api_token = secrets.token_hex(16), secrets.token_hex(16)
        # Aircall's 60 requests per minute, scaled like the company's day: speed x as many calls to read.
        state.add_account(ACCOUNT, api_id=api_id, api_token=api_token, rate_limit=int(60 * max(1.0, opts.speed)))
        sim = Simulator(state, account=ACCOUNT, seed=opts.seed, agents=opts.agents,
                        calls_per_minute=opts.calls_per_minute, speed=opts.speed)
        try:
            runner, api_url = await serve_simulator(sim, "127.0.0.1", opts.aircall_port)
        except OSError as exc:
            raise DemoError(f"cannot listen on 127.0.0.1:{opts.aircall_port}: {exc.strerror or exc}") from exc
        hookline = Hookline(hookline_env(opts, database_url, api_url, token), opts.port,
                            opts.data_dir / "serve.log")
        db: Database | None = None
        try:
            await hookline.cli("db", "upgrade")
            await hookline.start()
            await hookline.cli("aircall", "account", "remove", ACCOUNT, check=False)  # a reused database
            await hookline.cli("aircall", "account", "add", ACCOUNT, "--api-id", api_id, "--api-token", api_token)
            await hookline.cli("aircall", "webhooks", "create", "--account", ACCOUNT,
                               "--url", hookline.url + "/aircall/webhook", "--allow-http")
            db = Database(database_url)
            self.backfilled_before = _backfilled(db)
            self._banner(sim, api_url, hookline, token, database_url)
            await sim.start()
            self.started = time.monotonic()  # the drill's times count from the first event
            await self._drive(sim, hookline, db, stop)
            sim.traffic.wind_down()
            await self._finish_calls(sim)
            await sim.stop()  # the truth is frozen from here on
            if not hookline.up:
                await hookline.start()
            result = await self._settle(sim, db)
            return self._summary(sim, db, result)
        finally:
            await sim.close()
            await runner.cleanup()
            await hookline.stop()
            if db is not None:
                db.close()

    async def _drive(self, sim: Simulator, hookline: Hookline, db: Database, stop: asyncio.Event) -> None:
        opts = self.opts
        outage_end = None if opts.outage_at is None else opts.outage_at + opts.outage_seconds
        last_line = 0.0
        while not stop.is_set():
            elapsed = time.monotonic() - self.started
            if opts.seconds is not None and elapsed >= opts.seconds:
                return
            if opts.outage_at is not None and hookline.up and self.drill.outages == 0 and elapsed >= opts.outage_at:
                self.say(f"[{elapsed:5.0f}s] outage: hookline stopped for {opts.outage_seconds:g} s")
                self.drill.outages += 1
                await hookline.stop()
            elif outage_end is not None and not hookline.up and elapsed >= outage_end:
                self.say(f"[{elapsed:5.0f}s] hookline back; its watchdog re-enables the webhook and backfills")
                await hookline.start()
            self._watch_webhook(sim, elapsed)
            if time.monotonic() - last_line >= (1.0 if self.tty else 10.0):
                last_line = time.monotonic()
                await self._live_line(sim, hookline, db, elapsed)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)

    def _watch_webhook(self, sim: Simulator, elapsed: float) -> None:
        hooks = sim.state.webhooks_for(ACCOUNT)
        if any(not h["active"] for h in hooks) and not self.drill.webhook_disabled:
            self.drill.webhook_disabled = True
            failed = sim.delivery.stats.failed
            self.say(f"[{elapsed:5.0f}s] the simulator disabled the webhook after {failed} failed deliveries")
        if self.drill.webhook_disabled and not self.drill.webhook_reenabled and hooks and all(
            h["active"] for h in hooks
        ):
            self.drill.webhook_reenabled = True
            self.say(f"[{elapsed:5.0f}s] the webhook is active again (re-enabled through the API)")

    async def _live_line(self, sim: Simulator, hookline: Hookline, db: Database, elapsed: float) -> None:
        s = sim.stats()
        try:
            stored = await asyncio.to_thread(_stored_calls, db)
        except Exception:
            stored = -1
        active = all(w["active"] for w in s["webhooks"])
        line = (
            f"[{elapsed:5.0f}s] calls {s['calls']}  events {s['events_generated']}  delivered {s['delivered']}"
            f"  failed {s['failed']}  webhook {'active' if active else 'DISABLED'}"
            f"  hookline {'up' if hookline.up else 'DOWN'}, {stored if stored >= 0 else '?'} calls stored"
        )
        stream = self.err if self.opts.as_json else self.out
        if self.tty:
            stream.write("\r\033[K" + line)
            stream.flush()
        else:
            print(line, file=stream, flush=True)

    async def _finish_calls(self, sim: Simulator) -> None:
        """No new calls; let those under way end (their final snapshot is what is compared: a call
        stopped mid-ring may hold two snapshots of one second that only its end orders)."""
        deadline = time.monotonic() + FINISH_SECONDS
        said = False
        while self.interrupts < 2 and time.monotonic() < deadline:
            under_way = sum(1 for i in sim.call_ids if (c := sim.state.get_call(i)) and c["status"] != "done")
            if not under_way:
                await asyncio.sleep(ENDED_AFTER_HUNGUP[1] / sim.speed + 0.5)  # their call.ended
                return
            if not said:
                said = True
                more = " (Ctrl-C again to stop at once)" if self.interrupts else ""
                self.say(f"no new calls; waiting for the {under_way} under way to end{more}")
            await asyncio.sleep(0.5)

    async def _settle(self, sim: Simulator, db: Database) -> Comparison:
        """Compare until hookline matches the truth, or nothing changes any more."""
        deadline = time.monotonic() + SETTLE_SECONDS
        previous: tuple[int, int, int] | None = None
        stable = 0
        while True:
            result = await asyncio.to_thread(compare, sim.state, sim.call_ids, db, ACCOUNT)
            if result.clean or time.monotonic() > deadline:
                return result
            pending = await asyncio.to_thread(_pending_jobs, db)
            now = (len(result.missing), len(result.wrong), result.stored)
            stable = stable + 1 if now == previous and pending == 0 else 0
            previous = now
            if stable >= STABLE_POLLS:
                return result
            await asyncio.sleep(1.0)

    def _summary(self, sim: Simulator, db: Database, result: Comparison) -> dict[str, Any]:
        s = sim.stats()
        inbound = [c for i in sim.call_ids if (c := sim.state.get_call(i)) and c["direction"] == "inbound"
                   and c["status"] == "done"]
        answered = sum(1 for c in inbound if c.get("answered_at"))
        return {
            "calls_made": result.made,
            "calls_stored": result.stored,
            "calls_missing": len(result.missing),
            "calls_wrong": len(result.wrong),
            "calls_under_way": sum(1 for i in sim.call_ids if (c := sim.state.get_call(i)) and c["status"] != "done"),
            "webhook_disabled": self.drill.webhook_disabled,
            "webhook_reenabled": self.drill.webhook_reenabled,
            "backfilled_events": _backfilled(db) - self.backfilled_before,
            "events_generated": s["events_generated"],
            "delivered": s["delivered"],
            "failed_deliveries": s["failed"],
            "dropped": s["dropped"],
            "inbound_answer_rate": round(answered / len(inbound), 3) if inbound else None,
            "seconds": round(time.monotonic() - self.started, 1),
            "engine": db.url.dialect,
            "missing_ids": result.missing[:10],
            "wrong": result.wrong[:10],
        }

    def _banner(self, sim: Simulator, api_url: str, hookline: Hookline, token: str, database_url: str) -> None:
        shown_db = database_url if self.opts.database_url is None else "(--database-url)"
        lines = [
            f"hookline demo: a fake Aircall call center ({len(sim.traffic.company.agents)} agents, "
            f"{sim.traffic.calls_per_minute:g} calls/min, its day {sim.speed:g}x faster) -> hookline",
            f"  dashboard:    {hookline.url}/   admin token: {token}",
            f"  fake Aircall: {api_url}   (stats: {api_url}/simulator/stats)",
            f"  database:     {shown_db}   hookline's log: {hookline.log_path}",
        ]
        if self.opts.outage_at is not None:
            lines.append(f"  drill: hookline stops at {self.opts.outage_at:g} s for {self.opts.outage_seconds:g} s")
        lines.append("  Ctrl-C stops." if self.opts.seconds is None else f"  runs {self.opts.seconds:g} s.")
        self.say("\n".join(lines))


def _stored_calls(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar(Q.stored_calls, (ACCOUNT,)))


def _pending_jobs(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar(Q.pending_jobs))


def _backfilled(db: Database) -> int:
    with db.connection() as conn:
        return int(conn.scalar(Q.backfilled_events))


async def run_demo(opts: DemoOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> dict[str, Any]:
    stop = asyncio.Event()
    demo = Demo(opts, out, err)

    def interrupted() -> None:
        demo.interrupts += 1
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupted)
    summary = await demo.run(stop)
    if demo.tty:
        err.write("\n")
    return summary


def print_summary(summary: dict[str, Any], as_json: bool, out: TextIO = sys.stdout) -> None:
    if as_json:
        print(json.dumps(summary, indent=2), file=out, flush=True)
        return
    print(
        f"calls made {summary['calls_made']}, stored {summary['calls_stored']}, missing {summary['calls_missing']},"
        f" wrong {summary['calls_wrong']}; webhook disabled: {summary['webhook_disabled']},"
        f" re-enabled: {summary['webhook_reenabled']}; backfilled events: {summary['backfilled_events']}",
        file=out, flush=True,
    )
    for call in summary["wrong"]:
        print(f"  wrong: {json.dumps(call)}", file=out, flush=True)
    if summary["missing_ids"]:
        print(f"  missing: {summary['missing_ids']}", file=out, flush=True)
