"""Hints of secrets that are safe to print (the kit's, under the name Calendly's modules import)."""

from __future__ import annotations

from hookline.providers.kit.credentials import mask

__all__ = ["mask"]
