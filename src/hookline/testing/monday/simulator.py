"""`hookline simulate monday`: the fake monday.com API on localhost (imported only when run)."""

from __future__ import annotations

import typer

DEFAULT_TOKEN = "fake-monday-token-0123456789"  # noqa: S105 - the fake's own, not a secret


def register(simulate: typer.Typer) -> None:
    @simulate.command("monday")
    def simulate_monday(
        host: str = typer.Option("127.0.0.1", help="Address to listen on"),
        port: int = typer.Option(8791, help="Port to listen on"),
        token: str = typer.Option(DEFAULT_TOKEN, help="The API token the fake accepts"),
        signing_secret: str | None = typer.Option(None, help="Sign the handshake and events with this secret"),
    ) -> None:
        """A fake monday.com GraphQL API that performs the challenge and delivers events (see docs)."""
        from aiohttp import web

        from hookline.testing.monday.fake_api import DEFAULT_BOARD, FakeMonday

        fake = FakeMonday(token=token, signing_secret=signing_secret)
        print(f"fake monday.com API on http://{host}:{port}/v2 (token: {token}, board {DEFAULT_BOARD})", flush=True)
        web.run_app(fake.app(), host=host, port=port, print=None)
