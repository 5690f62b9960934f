"""One HTTP server for the simulator: the fake Aircall Public API plus /simulator/stats and /simulator/calls."""

from __future__ import annotations

import msgspec
from aiohttp import web

from hookline.providers.aircall.fake_api import make_app
from hookline.providers.aircall.simulator.simulation import Simulator

SIMULATOR: web.AppKey[Simulator] = web.AppKey("aircall_simulator", Simulator)


def _json(body: object) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), content_type="application/json")


async def _stats(request: web.Request) -> web.StreamResponse:
    return _json(request.app[SIMULATOR].stats())


async def _calls(request: web.Request) -> web.StreamResponse:
    ids = request.app[SIMULATOR].call_ids
    return _json({"count": len(ids), "calls": ids})


def make_simulator_app(simulator: Simulator) -> web.Application:
    """fake_api.make_app over the simulator's state, with the simulator's own pages added."""
    app = make_app(simulator.state)
    app[SIMULATOR] = simulator
    app.add_routes([web.get("/simulator/stats", _stats), web.get("/simulator/calls", _calls)])
    return app


async def serve_simulator(simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, str]:
    """Serve on host:port (0 = a free port); the runner (call .cleanup()) and the base URL to give clients.

    The state's public_url (used in recording links) is set to that base URL, so links in webhooks point
    here; a wildcard host is advertised as 127.0.0.1.
    """
    runner = web.AppRunner(make_simulator_app(simulator), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - comparing, not binding
    if ":" in shown:
        shown = f"[{shown}]"
    base_url = f"http://{shown}:{bound}"
    if simulator.state.public_url is None:
        simulator.state.public_url = base_url
    return runner, base_url
