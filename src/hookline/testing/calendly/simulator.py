"""`hookline simulate calendly`: the fake Calendly API on localhost (imported only when run)."""

from __future__ import annotations

import typer

DEFAULT_TOKEN = "fake-calendly-token-0123456789"  # noqa: S105 - the fake's own, not a secret


def register(simulate: typer.Typer) -> None:
    @simulate.command("calendly")
    def simulate_calendly(
        host: str = typer.Option("127.0.0.1", help="Address to listen on"),
        port: int = typer.Option(8790, help="Port to listen on"),
        token: str = typer.Option(DEFAULT_TOKEN, help="The API token the fake accepts"),
    ) -> None:
        """A fake Calendly API that also delivers signed webhooks (see docs/providers/calendly.md)."""
        from aiohttp import web

        from hookline.testing.calendly.fake_api import FakeCalendly

        fake = FakeCalendly(token=token, base_url=f"http://{host}:{port}")
        print(f"fake Calendly API on {fake.base_url} (token: {token})", flush=True)
        web.run_app(fake.app(), host=host, port=port, print=None)
