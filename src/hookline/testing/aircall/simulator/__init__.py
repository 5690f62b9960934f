"""A fake Aircall on localhost: the Public API, a call center's traffic, and webhook delivery.

`hookline simulate aircall` runs it; tests drive `Simulator` directly (`run_for`). Names are imported
on first use so that registering the command does not load aiohttp into every CLI start.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "SimClock": "clock",
    "Delivery": "delivery",
    "DeliveryStats": "delivery",
    "Outgoing": "delivery",
    "Emitted": "events",
    "Simulator": "simulation",
    "Traffic": "traffic",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
