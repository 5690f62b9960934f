"""What a rule's steps can do: the Action interface and the registry of actions.

Built-in actions (builtin_actions.py) and each provider's (`Provider.actions()`) register the same
way. A step's values are rendered (templates.py) before `run` sees them, so an action receives plain
data; `run` does its I/O and returns a StepResult, or raises ActionFailed saying whether a retry can
help. Nothing here runs inside a database transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from hookline.provider import Provider
    from hookline.runtime import Runtime


@dataclass
class StepResult:
    """What later steps see as `steps.<id>`: status, json, text; `request` is kept for the run's record."""

    status: int | None = None
    json: Any = None
    text: str = ""
    request: dict[str, Any] = field(default_factory=dict)
    # True: the steps after this one are not run (an alert that was already open).
    stop: bool = False

    def as_context(self) -> dict[str, Any]:
        return {"status": self.status, "json": self.json, "text": self.text}


class ActionFailed(Exception):
    """A step that did not succeed. `retryable`: network error, 5xx, 429; otherwise failed at once."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        response: str | None = None,
        retry_after: float | None = None,
        request: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.response = response
        self.retry_after = retry_after
        self.request = request or {}


def failed_http(status: int, text: str, *, retry_after: float | None, request: dict[str, Any]) -> ActionFailed:
    """The rule for every HTTP-speaking action: 429 and 5xx are retried, any other 4xx is final."""
    retryable = status == 429 or status >= 500
    return ActionFailed(f"HTTP {status}", retryable=retryable, status=status, response=text[:4000],
                        retry_after=retry_after, request=request)


@dataclass
class RunInfo:
    """Who asks: the run, its rule and event, for actions that record something (alerts)."""

    run_id: int
    rule_name: str
    event_id: int
    provider: str
    account: str
    window_key: str


class ActionContext:
    """What an action may use: the runtime (database, settings), the shared HTTP session, the run."""

    def __init__(self, runtime: Runtime, session: aiohttp.ClientSession, run: RunInfo, timeout: float) -> None:
        self.runtime = runtime
        self.session = session
        self.run = run
        self.timeout = timeout


class Action(ABC):
    """One kind of step. `required`/`optional` name its fields (besides `action` and `id`)."""

    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Values (templates too) used for fields a step leaves out, e.g. the event's call id.
    defaults: dict[str, Any] = {}

    def params(self, step: Mapping[str, Any]) -> dict[str, Any]:
        """A step's values for this action: its own fields over the defaults (`action` and `id` left out)."""
        return {**self.defaults, **{k: v for k, v in step.items() if k not in ("action", "id")}}

    def check(self, params: Mapping[str, Any]) -> None:
        """Static checks at apply time (templates are compiled by the caller); ValueError('field: why')."""

    def preview(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The request this step would make (dry-run), from its rendered values."""
        return dict(params)

    @abstractmethod
    async def run(self, params: Mapping[str, Any], ctx: ActionContext) -> StepResult:
        """Do it (outside any transaction); raise ActionFailed when it did not work."""


def registry(providers: Sequence[Provider]) -> dict[str, Action]:
    """Built-ins first, then each provider's actions; a name registered twice raises."""
    from hookline.automations.builtin_actions import BUILTIN

    found: dict[str, Action] = {}
    for action in [*BUILTIN, *(a for p in providers for a in p.actions())]:
        if action.name in found:
            raise ValueError(f"action {action.name!r} is registered twice")
        found[action.name] = action
    return found
