"""One HTTP server for the simulator: the fake Aircall Public API plus /simulator/stats, /simulator/calls
and /simulator/calls/{id} (a call as the API gives it, with what rules' actions posted on it)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from hookline.testing.aircall.fake_api import make_app
from hookline.testing.aircall.simulator.simulation import Simulator

SIMULATOR: web.AppKey[Simulator] = web.AppKey("aircall_simulator", Simulator)


def _json(body: object) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), content_type="application/json")


def _json_status(body: object, status: int) -> web.Response:
    return web.Response(body=msgspec.json.encode(body), status=status, content_type="application/json")


async def _stats(request: web.Request) -> web.StreamResponse:
    simulator = request.app[SIMULATOR]
    return _json({**simulator.stats(), "actions": simulator.state.action_counts()})


async def _call(request: web.Request) -> web.StreamResponse:
    """One call with the insight cards, comments, tags and transfers rules' actions posted on it."""
    state = request.app[SIMULATOR].state
    try:
        call_id = int(request.match_info["id"])
    except ValueError:
        return _json_status({"error": "not_found", "detail": "a call id is a number"}, 404)
    call = state.get_call(call_id)
    if call is None:
        return _json_status({"error": "not_found", "detail": f"no call {call_id}"}, 404)
    base = state.public_url or f"{request.scheme}://{request.host}"
    return _json({"call": state.render("calls", call, base), **state.call_actions(call_id)})


async def _calls(request: web.Request) -> web.StreamResponse:
    ids = request.app[SIMULATOR].call_ids
    return _json({"count": len(ids), "calls": ids})


def make_simulator_app(simulator: Simulator) -> web.Application:
    """fake_api.make_app over the simulator's state, with the simulator's own pages added."""
    app = make_app(simulator.state)
    app[SIMULATOR] = simulator
    app.add_routes([web.get("/simulator/stats", _stats), web.get("/simulator/calls", _calls),
                    web.get("/simulator/calls/{id}", _call)])
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
