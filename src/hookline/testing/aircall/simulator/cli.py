"""`hookline simulate aircall`: a fake Aircall on localhost (Public API + call-center traffic + webhooks)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import sys
import time
from typing import TYPE_CHECKING

import typer

from hookline.clitools import bad_input, fail, time_option
from hookline.testing.aircall.simulator.defaults import DEFAULT_AGENTS, DEFAULT_CALLS_PER_MINUTE, DEFAULT_SPEED

if TYPE_CHECKING:
    from hookline.testing.aircall.simulator.simulation import Simulator

STATUS_EVERY = 10.0  # wall-clock seconds between two status lines


def simulate_aircall(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(9000, min=0, max=65535, help="Port of the fake Public API and /simulator pages"),
    agents: int = typer.Option(DEFAULT_AGENTS, min=1, max=5000, help="Agents (users) in the call center"),
    calls_per_minute: float = typer.Option(
        DEFAULT_CALLS_PER_MINUTE, min=0, help="Calls per minute of the company's day (before --speed)"
    ),
    speed: float = typer.Option(
        DEFAULT_SPEED, min=0.01,
        help="Compress the company's day this many times (more calls per minute, shorter calls); timestamps stay real",
    ),
    seed: int | None = typer.Option(None, help="Seed of the traffic (same seed, same calls); random if unset"),
    start: str | None = typer.Option(
        None, help="Start time, ISO 8601 or unix seconds, not in the future; all times shift by it [default: now]"
    ),
    duplicate_rate: float = typer.Option(0.0, min=0, max=1, help="Share of events delivered twice"),
    reorder_rate: float = typer.Option(0.0, min=0, max=1, help="Share of events held back and sent after the next"),
    disable_after: int = typer.Option(10, min=1, help="Consecutive failures after which a webhook is disabled"),
    api_id: str | None = typer.Option(None, "--api-id", help="API ID clients authenticate with [default: random]"),
    api_token: str | None = typer.Option(None, "--api-token", help="API token [default: random]"),
    webhook: str | None = typer.Option(
        None, "--webhook", help="Create a webhook to this URL at start (all events) and print its token"
    ),
    webhook_token: str | None = typer.Option(
        None,
        "--webhook-token",
        help="The token of the --webhook webhook, so hookline can be told it before traffic starts [default: random]",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No status line every 10 s"),
    oauth_client_id: str | None = typer.Option(
        None, "--oauth-client-id", help="Register an OAuth app with this client_id, so hookline's install flow works"
    ),
    oauth_client_secret: str | None = typer.Option(
        None, "--oauth-client-secret", help="The OAuth app's client_secret ('-': read it from standard input)"
    ),
) -> None:
    """Run a fake Aircall: its Public API, a call center's traffic, and webhook delivery to your URLs."""
    start_at = time_option(start, "--start") if start else None
    if start_at is not None and start_at > time.time() + 1:
        bad_input("--start is in the future: the simulator never sends times ahead of the wall clock")
    if webhook_token is not None and (not webhook or not webhook_token.strip()):
        bad_input("--webhook-token needs --webhook, and a non-empty token")
    oauth = _oauth_app(oauth_client_id, oauth_client_secret)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _run(
                host=host,
                port=port,
                agents=agents,
                calls_per_minute=calls_per_minute,
                speed=speed,
                seed=seed,
                start_at=start_at,
                duplicate_rate=duplicate_rate,
                reorder_rate=reorder_rate,
                disable_after=disable_after,
                api_id=api_id or secrets.token_hex(16),
                api_token=api_token or secrets.token_hex(16),
                webhook=webhook,
                webhook_token=webhook_token,
                quiet=quiet,
                oauth=oauth,
            )
        )


def _oauth_app(client_id: str | None, client_secret: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) of the app the fake's /oauth/authorize and /v1/oauth/token accept."""
    if client_id is None and client_secret is None:
        return None
    if not client_id or not client_secret:
        bad_input("--oauth-client-id and --oauth-client-secret go together")
    given = client_secret
    if given == "-":  # out of the shell history, as `hookline aircall oauth configure` reads it
        given = sys.stdin.readline().strip()
        if not given:
            bad_input("--oauth-client-secret -: standard input gave no secret")
    return client_id, given


async def _run(
    *,
    host: str,
    port: int,
    agents: int,
    calls_per_minute: float,
    speed: float,
    seed: int | None,
    start_at: float | None,
    duplicate_rate: float,
    reorder_rate: float,
    disable_after: int,
    api_id: str,
    api_token: str,
    webhook: str | None,
    webhook_token: str | None,
    quiet: bool,
    oauth: tuple[str, str] | None = None,
) -> None:
    from hookline.testing.aircall.fake_api import FakeAircallState, FakeApiError
    from hookline.testing.aircall.simulator.server import serve_simulator
    from hookline.testing.aircall.simulator.simulation import Simulator

    state = FakeAircallState()
    # Aircall's default limit; the real client reads the X-AircallApi-* headers and backs off.
    state.add_account("sim", api_id=api_id, api_token=api_token, rate_limit=60)
    if oauth is not None:  # the authorize page consents as the admin of "sim", the only company
        state.set_oauth_app(*oauth)
    sim = Simulator(
        state,
        account="sim",
        seed=seed,
        agents=agents,
        calls_per_minute=calls_per_minute,
        speed=speed,
        start_at=start_at,
        duplicate_rate=duplicate_rate,
        reorder_rate=reorder_rate,
        disable_after=disable_after,
    )
    try:
        runner, base_url = await serve_simulator(sim, host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    created = None
    if webhook:
        try:
            created = state.create_webhook(webhook, None, "hookline simulator", account="sim")
        except FakeApiError as exc:
            await runner.cleanup()
            bad_input(f"--webhook: {exc.troubleshoot}")  # the URL given is refused: bad input, exit 2
        if webhook_token:
            created["token"] = webhook_token.strip()  # the stored webhook itself: deliveries carry it
    _banner(sim, base_url, api_id, api_token, created, None if oauth is None else oauth[0])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await sim.start()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), STATUS_EVERY)
            if not quiet and not stop.is_set():
                _status(sim)
    finally:
        await sim.close()
        await runner.cleanup()
    print("stopped", flush=True)


def _banner(
    sim: Simulator,
    base_url: str,
    api_id: str,
    api_token: str,
    webhook: dict[str, object] | None,
    oauth_client_id: str | None = None,
) -> None:
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sim.clock.start))
    lines = [
        f"Fake Aircall on {base_url}: {len(sim.traffic.company.agents)} agents, "
        f"{sim.traffic.calls_per_minute:g} calls/min, x{sim.speed:g} speed, seed {sim.seed}, "
        f"from {started}",
        "",
        "Point hookline's Aircall client at it, in every hookline process (serve's watchdog included):",
        f"  export HOOKLINE_AIRCALL_API_URL={base_url}",
        f"  API ID:    {api_id}",
        f"  API token: {api_token}",
        f"  hookline aircall account add sim --api-id {api_id} --api-token {api_token}",
        "",
        "Webhooks created through the API (POST /v1/webhooks) receive the traffic.",
    ]
    if webhook is not None:
        lines += [
            f"Webhook {webhook['webhook_id']} -> {webhook['url']} (all events), token {webhook['token']}.",
            "Deliveries fail until hookline accepts that token (and 10 failures disable the webhook):",
            f"  hookline aircall token add {webhook['token']} --account sim --webhook-id {webhook['webhook_id']}",
        ]
    if oauth_client_id is not None:  # the secret is the caller's own: never printed
        lines += [
            f"OAuth app {oauth_client_id}: installs consent as the admin of company sim. Tell hookline:",
            f"  hookline aircall oauth configure --client-id {oauth_client_id} --client-secret -"
            f" --authorize-url {base_url}/oauth/authorize --api-url {base_url}",
            "  then open HOOKLINE_PUBLIC_URL/aircall/oauth/install in a browser.",
        ]
    lines += [f"Stats: {base_url}/simulator/stats   calls: {base_url}/simulator/calls   Ctrl-C stops.", ""]
    print("\n".join(lines), flush=True)


def _status(sim: Simulator) -> None:
    s = sim.stats()
    now = time.strftime("%H:%M:%S", time.gmtime(s["simulated_now"]))
    inactive = sum(1 for w in s["webhooks"] if not w["active"])
    print(
        f"[{now} simulated] calls {s['calls']}  events {s['events_generated']}  delivered {s['delivered']}"
        f"  failed {s['failed']}  retried {s['retried']}  duplicates {s['duplicates_sent']}"
        f"  pending {s['pending']}  webhooks {len(s['webhooks'])} ({inactive} disabled)",
        flush=True,
    )
