"""`integration.deleted` for hookline's own app: the account is uninstalled (its webhook token is no
longer accepted, the watchdog and archiver skip it, its data stays; a re-install brings it back)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import structlog

from hookline.oauth import installations
from hookline.pipeline.handlers import EventHandler, StoredEvent
from hookline.store.engine import Connection

log = structlog.get_logger(__name__)


class _Data(msgspec.Struct):
    id: int | str | None = None


class _Envelope(msgspec.Struct):
    data: _Data | None = None


_decode = msgspec.json.Decoder(_Envelope).decode


class IntegrationDeleted(EventHandler):
    name = "aircall.oauth_uninstall"
    replayable = False  # a rebuild must not replay an old uninstall over a later re-install

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            if ev.event != "integration.deleted":
                continue
            try:
                data = _decode(ev.body).data
            except msgspec.DecodeError:  # checked on the way in; a wrong shape is simply not ours
                continue
            if data is None or data.id is None:
                continue
            # Only the integration of the current install: another app's, or an earlier install's, is not ours.
            if installations.mark_uninstalled(conn, "aircall", ev.account, "integration.deleted",
                                              integration_id=str(data.id)):
                log.warning("aircall.oauth_uninstalled", account=ev.account, reason="integration.deleted")
