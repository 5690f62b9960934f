"""What an endpoint needs from the app, and the one way it runs blocking work.

Endpoints are module-level functions listed in a routes table; what they need comes from the
request (`runtime_of(request)`), not from a closure over a factory's arguments. A blocking read
goes through `await read(request, fn, *args)`: `fn(conn, *args)` runs in the thread pool with a
pooled connection, so the event loop never waits on the database. `in_thread(fn, *args)` is the
same without a connection, for blocking calls that open their own (stores taking the `Database`,
the admin-token check, migrations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hookline.store.events import AccountScope

if TYPE_CHECKING:
    from hookline.runtime import Runtime

T = TypeVar("T")


def runtime_of(request: Request) -> Runtime:
    """The process's runtime, kept on the app's state by `create_app`."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """`fn(conn, *args)` on a pooled connection, in the thread pool."""
    db = runtime_of(request).db

    def run() -> T:
        with db.connection() as conn:
            return fn(conn, *args)

    return await run_in_threadpool(run)


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in the thread pool: blocking work that needs no connection from here."""
    return await run_in_threadpool(fn, *args)


def account_of(request: Request) -> AccountScope | None:
    """`?account=NAME` of a listing (as /api/events has it): that account, of any registered provider."""
    name = request.query_params.get("account")
    if not name:
        return None
    return AccountScope(tuple(p.name for p in runtime_of(request).providers), name)
