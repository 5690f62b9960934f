"""The shared vocabulary: what every layer passes around."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class IncomingEvent:
    """An authenticated event, ready to append to the log."""

    provider: str
    account: str
    event: str
    dedup_key: str
    body: bytes
    received_at: float
    known: bool = True
    resource: str | None = None
    resource_id: str | None = None
    occurred_at: float | None = None
    origin: str = "webhook"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What the log answered: the event's id, and whether it was already there."""

    id: int
    duplicate: bool


class Rejection(Exception):
    """A request the receiver refuses: HTTP status, a stable reason code and a message for the client."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
