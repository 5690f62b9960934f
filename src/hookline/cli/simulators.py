"""`hookline simulate aircall|calendly|monday` and `hookline demo`: the commands that run the fakes of
hookline.testing. They are attached here, in the top layer, not by the providers: hookline.testing
imports the providers (catalogs, signatures), so a provider importing it would be an import cycle.
An outside provider may still add its own through Provider.register_simulator."""

from __future__ import annotations

import typer


def register(app: typer.Typer, simulate: typer.Typer) -> None:
    from hookline.testing.aircall.simulator.cli import simulate_aircall
    from hookline.testing.aircall.simulator.demo_cli import demo
    from hookline.testing.calendly.simulator import register as register_calendly
    from hookline.testing.monday.simulator import register as register_monday

    simulate.command("aircall")(simulate_aircall)
    register_calendly(simulate)
    register_monday(simulate)
    app.command("demo")(demo)
