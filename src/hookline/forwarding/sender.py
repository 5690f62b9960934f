"""One POST to a destination with the shared aiohttp session: the answer, or why there was none."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from hookline.forwarding.policy import Attempt
from hookline.outbound import refusal
from hookline.retry_after import parse_retry_after

_ERROR_BODY_MAX = 200


async def post(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> Attempt:
    try:
        async with session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as resp:
            status = resp.status
            if 200 <= status < 300:
                await resp.read()  # drain, so the connection goes back to the pool
                return Attempt(status)
            text = (await resp.content.read(_ERROR_BODY_MAX)).decode("utf-8", "replace").strip()
            error = f"HTTP {status}" + (f": {text}" if text else "")
            if 300 <= status < 400:
                # Never follow: the signed payload must not go to a host the user did not configure.
                error = f"HTTP {status} redirect to {resp.headers.get('location', '?')} (not followed)"
            return Attempt(status, error, parse_retry_after(resp.headers.get("retry-after"), time.time()))
    except TimeoutError:
        return Attempt(None, f"timed out after {timeout:g} s")
    except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError, ValueError) as exc:
        refused = refusal(exc)
        if refused is not None:  # nothing was sent: the address is one hookline never sends to
            return Attempt(None, f"not sent: {refused}", permanent=True)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return Attempt(None, f"cannot connect: {exc.os_error.strerror or exc.os_error}")
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:300])
