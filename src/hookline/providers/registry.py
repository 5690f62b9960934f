"""The registered providers. Built-in providers register exactly like outside ones would."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from hookline.provider import Provider

BUILTIN = (
    "hookline.providers.aircall:provider",
    "hookline.providers.calendly:provider",
    "hookline.providers.monday:provider",
)


def _load(spec: str) -> Provider:
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    provider = getattr(module, attr)
    if not isinstance(provider, Provider):
        raise TypeError(f"{spec} is not a hookline Provider")
    return provider


@cache
def providers() -> tuple[Provider, ...]:
    """Built-in providers, then any installed through the `hookline.providers` entry point group."""
    found = [_load(spec) for spec in BUILTIN]
    names = {p.name for p in found}
    for ep in entry_points(group="hookline.providers"):
        provider = ep.load()
        if isinstance(provider, Provider) and provider.name not in names:
            found.append(provider)
            names.add(provider.name)
    return tuple(found)
