"""The recordings archiver: a pipeline loop that downloads the recordings and voicemails the worker
recorded as wanted (recordings.py), outside any database transaction.

For each claimed row: re-fetch the call (GET /v1/calls/{id}) for a fresh signed link, since the link
an event carried expires within hours; download it to a temp file in the target directory while
hashing it; check it (HTTP 200, an audio/* content type, non-empty, Content-Length honoured, MP3
magic); fsync; rename it atomically to <dir>/<account>/<yyyy>/<mm>/<call id>-<kind>.mp3 (yyyy/mm
of the call's started_at, UTC); then record path, size and sha256. A failure goes back to pending
with exponential backoff and is parked with its error after `max_attempts`; a call Aircall no
longer has, or that no longer carries the media, is parked at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from hookline.pipeline import jobs
from hookline.pipeline.loops import Loop, LoopFactory, LoopUnavailable
from hookline.pipeline.worker import worker_name
from hookline.providers.aircall import recordings
from hookline.providers.aircall.accounts import AccountError, AccountStore
from hookline.providers.aircall.api import (
    AircallClient,
    AircallError,
    AuthError,
    NotFound,
    RateLimiter,
    Unavailable,
)
from hookline.providers.aircall.projections import epoch
from hookline.providers.aircall.settings import RecordingsSettings
from hookline.providers.api_urls import chosen, with_url
from hookline.runtime import Runtime
from hookline.store.engine import Database

log = structlog.get_logger(__name__)

_SAFE_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CHUNK = 64 * 1024


class ArchiveError(Exception):
    """This attempt failed; the message says why (never a link's signature or a credential)."""


class Hopeless(ArchiveError):
    """Retrying cannot help (the call is gone, or has no such media): park at once."""


class LinkRefused(ArchiveError):
    """The media host refused the link (403: expired or bad signature): fetch a fresh one."""


@dataclass(frozen=True)
class Archived:
    path: str  # relative to the archive directory
    size: int
    sha256: str


def relative_path(account: str, call_id: int, kind: str, started_at: float) -> str:
    """<account>/<yyyy>/<mm>/<call id>-<kind>.mp3, the month of the call's start in UTC."""
    if not _SAFE_ACCOUNT.match(account):
        raise Hopeless(f"account name {account!r} cannot be a directory name")
    try:
        day = datetime.fromtimestamp(started_at, UTC)
    except (OverflowError, ValueError, OSError) as exc:  # a start time stored by an older version
        raise Hopeless(f"call {call_id} has no usable start time ({started_at!r})") from exc
    return f"{account}/{day:%Y}/{day:%m}/{call_id}-{kind}.mp3"


def looks_like_mp3(head: bytes) -> bool:
    """An ID3v2 tag, or an MPEG audio frame sync (11 set bits) at the very start."""
    return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _where(url: str) -> str:
    """A link without its query (the signature) for messages."""
    return url.split("?", 1)[0]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Archiver:
    def __init__(
        self,
        db: Database,
        accounts: AccountStore,
        settings: RecordingsSettings,
        *,
        api_url: str,  # for accounts without their own (added before URLs were stored)
        name: str | None = None,
        on_archived: Callable[[str], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> None:
        assert settings.dir is not None, "the archiver runs only with a recordings directory"
        self.db = db
        self.accounts = accounts
        self.cfg = settings
        self.root = settings.dir
        self.api_url = api_url
        self.name = name or worker_name()
        self.on_archived = on_archived
        self.on_failed = on_failed
        self._limiters: dict[str, RateLimiter] = {}
        self._session: aiohttp.ClientSession | None = None
        self._last_maintenance = 0.0

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self.root.mkdir(parents=True, exist_ok=True)  # the factory checked it can be
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=60)
        )
        running: set[asyncio.Task[None]] = set()
        log.info("recordings archiver started", directory=str(self.root), concurrency=self.cfg.concurrency)
        try:
            while not stop.is_set():
                claimed = 0
                while len(running) < self.cfg.concurrency and not stop.is_set():
                    token = f"{self.name}:{uuid.uuid4().hex[:12]}"
                    try:
                        rows = await asyncio.to_thread(self._claim, token)
                    except Exception as exc:  # the database is away: try again later, never die
                        log.error("recordings claim failed", error=f"{type(exc).__name__}: {exc}")
                        break
                    if not rows:
                        break
                    claimed += 1
                    task = asyncio.create_task(self._attempt(rows[0], token))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if claimed and len(running) < self.cfg.concurrency:
                    continue  # claimed until none was due: look again at once, then wait
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait([stopping, *running], timeout=self.cfg.poll_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
            # Stopping: let the downloads in hand finish (LoopGroup cancels them after its timeout,
            # and a cancelled attempt hands its row back).
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await self._session.close()
            log.info("recordings archiver stopped")

    def _claim(self, token: str) -> list[recordings.Claimed]:
        with self.db.connection() as conn:
            now = time.time()
            if now - self._last_maintenance > self.cfg.lease_seconds:
                self._last_maintenance = now
                parked = recordings.park_abandoned(conn, self.cfg.max_attempts, now)
                if parked:
                    log.warning("parked recordings whose archiver kept dying", rows=parked)
            return recordings.claim(conn, token, 1, self.cfg.lease_seconds, now)

    async def _attempt(self, row: recordings.Claimed, token: str) -> None:
        """One attempt at one row, with its lease renewed meanwhile; the outcome recorded under the claim."""
        renewer = asyncio.create_task(self._keep_leased(token))
        read_at = time.time()  # the account's credentials are read after this
        try:
            result = await asyncio.wait_for(self.archive(row), self.cfg.timeout_seconds)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._with_conn, recordings.release, token)
            raise
        except Hopeless as exc:
            await self._failed(row, token, str(exc), retry_at=None)
        except (ArchiveError, AircallError, AccountError) as exc:
            if isinstance(exc, AuthError):  # an OAuth account's token refused: the app was uninstalled
                from hookline.providers.aircall.oauth_install import mark_uninstalled

                await asyncio.to_thread(mark_uninstalled, self.db, row.account, f"api_{exc.status or 401}", read_at)
            await self._failed(row, token, str(exc), retry_at=self._retry_at(row))
        except TimeoutError:
            await self._failed(row, token, f"download took longer than {self.cfg.timeout_seconds:g}s",
                               retry_at=self._retry_at(row))
        except Exception as exc:  # a bug or an OS error (disk full): retried like the rest, and logged
            log.exception("recording archive attempt crashed", call_id=row.call_id, kind=row.kind)
            await self._failed(row, token, f"{type(exc).__name__}: {exc}", retry_at=self._retry_at(row))
        else:
            ok = await asyncio.to_thread(
                self._with_conn, recordings.archived, row.id, token,
                path=result.path, size=result.size, sha256=result.sha256,
            )
            if ok:
                log.info("recording archived", account=row.account, call_id=row.call_id, kind=row.kind,
                         path=result.path, size=result.size)
                if self.on_archived is not None:
                    self.on_archived(row.account)
            else:
                log.warning("recording claim taken over before it was recorded", call_id=row.call_id)
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)

    def _retry_at(self, row: recordings.Claimed) -> float | None:
        if row.attempts >= self.cfg.max_attempts:
            return None
        return time.time() + jobs.backoff_delay(row.attempts, self.cfg.backoff_seconds, self.cfg.backoff_max_seconds)

    async def _failed(self, row: recordings.Claimed, token: str, error: str, *, retry_at: float | None) -> None:
        await asyncio.to_thread(self._with_conn, recordings.failed, row.id, token, error, retry_at=retry_at)
        if self.on_failed is not None:
            self.on_failed(row.account)
        if retry_at is None:
            log.warning("recording parked", account=row.account, call_id=row.call_id, kind=row.kind,
                        attempts=row.attempts, error=error)
        else:
            log.info("recording failed, will retry", account=row.account, call_id=row.call_id, kind=row.kind,
                     attempts=row.attempts, retry_in=round(retry_at - time.time(), 2), error=error)

    async def _keep_leased(self, token: str) -> None:
        while True:
            await asyncio.sleep(self.cfg.lease_seconds / 3)
            try:
                await asyncio.to_thread(self._with_conn, recordings.renew, token, self.cfg.lease_seconds)
            except Exception as exc:
                log.warning("recordings lease renewal failed", error=type(exc).__name__)

    def _with_conn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.db.connection() as conn:
            return fn(conn, *args, **kwargs)

    # --- one download ----------------------------------------------------------------------------

    async def archive(self, row: recordings.Claimed) -> Archived:
        """Fetch a fresh link, download, check and store the file; raises ArchiveError on failure."""
        credentials = await asyncio.to_thread(self.accounts.credentials, row.account)
        base = chosen(await asyncio.to_thread(self.accounts.api_url, row.account), self.api_url)
        assert self._session is not None
        client = AircallClient(
            base, credentials, session=self._session, max_retries=2,
            limiter=self._limiters.setdefault(row.account, RateLimiter()),
        )
        # A link the media host refuses right after a fresh read is retried once with another one.
        for attempt in range(2):
            try:
                call = await client.get_call(row.call_id)
            except NotFound:
                raise Hopeless(f"Aircall has no call {row.call_id} on account {row.account} (deleted?)") from None
            except Unavailable as exc:  # the row's last error says where hookline tried
                raise ArchiveError(with_url(exc.message, base)) from None
            link = call.get(row.kind) or call.get(f"{row.kind}_short_url")
            if not isinstance(link, str) or not link:
                raise Hopeless(f"Aircall's call {row.call_id} has no {row.kind} any more")
            started = epoch(call.get("started_at")) or row.started_at or time.time()
            rel = relative_path(row.account, row.call_id, row.kind, started)
            try:
                return await self._download(link, rel)
            except LinkRefused:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def _download(self, link: str, rel: str) -> Archived:
        assert self._session is not None
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        where = _where(link)
        try:
            # No Authorization header: the link is signed, and may point at another host (storage).
            # identity: the bytes checked against Content-Length and hashed are the bytes stored.
            async with self._session.get(link, headers={"Accept-Encoding": "identity"}) as resp:
                if resp.status == 403:
                    raise LinkRefused(f"{where} refused the link (HTTP 403: expired or bad signature)")
                if resp.status != 200:
                    raise ArchiveError(f"{where} answered HTTP {resp.status}")
                ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not ctype.startswith("audio/"):
                    raise ArchiveError(f"{where} answered {ctype or 'no content type'}, not audio")
                expected = resp.content_length
                if expected is not None and expected > self.cfg.max_bytes:
                    raise Hopeless(f"{where} is {expected} bytes, over HOOKLINE_RECORDINGS_MAX_BYTES")
                fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
                tmp = Path(tmp_name)
                try:
                    digest = hashlib.sha256()
                    size = 0
                    head = b""
                    with os.fdopen(fd, "wb") as out:
                        async for chunk in resp.content.iter_chunked(_CHUNK):
                            if len(head) < 4:
                                head += chunk[: 4 - len(head)]
                            size += len(chunk)
                            if size > self.cfg.max_bytes:
                                raise Hopeless(f"{where} is over HOOKLINE_RECORDINGS_MAX_BYTES")
                            digest.update(chunk)
                            out.write(chunk)
                        if size == 0:
                            raise ArchiveError(f"{where} answered an empty body")
                        if expected is not None and size != expected:
                            raise ArchiveError(f"{where} sent {size} bytes of the {expected} announced")
                        if not looks_like_mp3(head):
                            raise ArchiveError(f"{where} is not an MP3 file (no ID3 tag or frame sync)")
                        out.flush()
                        await asyncio.to_thread(os.fsync, out.fileno())
                    os.replace(tmp, target)  # atomic: readers see the old file or the whole new one
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
        except aiohttp.ClientError as exc:
            raise ArchiveError(f"downloading {where} failed: {type(exc).__name__}") from None
        await asyncio.to_thread(_fsync_dir, target.parent)
        return Archived(rel, size, digest.hexdigest())


def archiver_loop_factory(api_url: str, settings: RecordingsSettings) -> LoopFactory:
    """A LoopFactory (pipeline/loops.py) for Provider.loops: builds the Archiver on the runtime."""

    def recordings_archiver(runtime: Runtime) -> Loop:
        from prometheus_client import Counter

        from hookline.providers.kit.credentials import box_for

        assert settings.dir is not None
        try:
            settings.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LoopUnavailable(
                f"HOOKLINE_RECORDINGS_DIR {settings.dir} cannot be created: {exc.strerror}"
            ) from None
        box = box_for(runtime.settings)
        registry = runtime.metrics.registry
        archived = Counter("hookline_aircall_recordings_archived", "Recordings and voicemails archived",
                           ["account"], registry=registry)
        failed = Counter("hookline_aircall_recordings_failures", "Failed recording download attempts",
                         ["account"], registry=registry)
        archiver = Archiver(
            runtime.db, AccountStore(runtime.db, box), settings, api_url=api_url,
            on_archived=lambda account: archived.labels(account).inc(),
            on_failed=lambda account: failed.labels(account).inc(),
        )
        return archiver.run

    return recordings_archiver
