"""The executor: a pipeline loop that runs the rules' runs, step by step, outside any transaction.

It claims due runs under a lease (runs.py), renews the lease while a run executes, and records each
step's outcome before starting the next, so a run resumed after a crash skips the steps already done
(their results are what `steps.<id>` reads). A step that fails with a network error, a 5xx or a 429
sends the run back to pending with backoff (Retry-After honoured); any other failure (a 4xx, a
template the sandbox refused) fails the run at once with the response kept; the last attempt parks it.

Exactly-once, precisely: a step's effect is requested once per run, except when the process dies
between the request and the recording of its outcome; then the run is resumed from that step and
the request is made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
import structlog

from hookline.automations import runs
from hookline.automations.actions import Action, ActionContext, ActionFailed, RunInfo, StepResult
from hookline.automations.actions import registry as action_registry
from hookline.automations.context import event_context
from hookline.automations.errors import TemplateError
from hookline.automations.matcher import CHANNEL, WAKE_KEY
from hookline.automations.templates import render_value
from hookline.forwarding.policy import RETRY_AFTER_MAX
from hookline.outbound import OutboundPolicy
from hookline.pipeline import jobs
from hookline.pipeline.handlers import StoredEvent, load_events
from hookline.pipeline.loops import Loop
from hookline.pipeline.wakeup import listen
from hookline.pipeline.worker import worker_name
from hookline.runtime import Runtime
from hookline.store.queries import load_queries

Q = load_queries(__package__)

log = structlog.get_logger(__name__)

_TEXT_KEPT = 64 * 1024  # of a response, for later steps and the run's record


class Executor:
    def __init__(self, runtime: Runtime, *, name: str | None = None) -> None:
        s = runtime.settings
        self.runtime = runtime
        self.db = runtime.db
        self.name = name or worker_name()
        self.concurrency = s.automations_concurrency
        self.max_attempts = s.automations_max_attempts
        self.backoff = (s.automations_backoff_seconds, s.automations_backoff_max_seconds)
        self.timeout = s.automations_timeout_seconds
        self.lease = s.automations_lease_seconds
        self.poll = 1.0
        self.providers = {p.name: p for p in runtime.providers}
        self.actions: dict[str, Action] = action_registry(runtime.providers)
        self.wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    # --- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        self.runtime.state[WAKE_KEY] = lambda: loop.call_soon_threadsafe(self.wake.set)
        helpers: list[asyncio.Task[Any]] = []
        if self.db.notifies:
            helpers.append(asyncio.create_task(listen(self.db.url.url, CHANNEL, lambda _p: self.wake.set(), stop)))
        # The outbound policy's connector: a rule's URL resolving to a denied address gets no connection.
        self._session = aiohttp.ClientSession(connector=OutboundPolicy.from_settings(self.runtime.settings).connector())
        running: set[asyncio.Task[None]] = set()
        log.info("automations executor started", concurrency=self.concurrency)
        try:
            while not stop.is_set():
                self.wake.clear()
                due: float | None = None
                free = self.concurrency - len(running)
                if free > 0:
                    token = f"{self.name}:{uuid.uuid4().hex[:12]}"
                    try:
                        claimed, due = await asyncio.to_thread(self._claim, token, free)
                    except Exception as exc:  # the database is away: try again later, never die
                        log.error("automations claim failed", error=f"{type(exc).__name__}: {exc}"[:300])
                        claimed = []
                    for run in claimed:
                        task = asyncio.create_task(self._execute(run, token))
                        running.add(task)
                        task.add_done_callback(running.discard)
                        task.add_done_callback(lambda _t: self.wake.set())
                    if len(claimed) == free:
                        continue
                timeout = self.poll if due is None else max(0.0, min(self.poll, due - time.time()))
                stopping = asyncio.ensure_future(stop.wait())
                waking = asyncio.ensure_future(self.wake.wait())
                await asyncio.wait([stopping, waking], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                waking.cancel()
            if running:  # let the runs in hand finish (LoopGroup cancels them after its timeout)
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            for h in helpers:
                h.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self._session.close()
            self.runtime.state.pop(WAKE_KEY, None)
            log.info("automations executor stopped")

    def _claim(self, token: str, limit: int) -> tuple[list[runs.Claimed], float | None]:
        with self.db.connection() as conn:
            now = time.time()
            claimed = runs.claim(conn, token, limit, self.lease, now)
            return claimed, (None if claimed else runs.next_due(conn, now))

    def _with_conn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.db.connection() as conn:
            return fn(conn, *args, **kwargs)

    async def _keep_leased(self, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._with_conn, runs.renew, token, self.lease)

    # --- one run -------------------------------------------------------------------------------------

    def _load(self, run: runs.Claimed) -> tuple[dict[str, Any] | None, StoredEvent | None]:
        with self.db.connection() as conn:
            spec = conn.scalar(Q.rule_spec, (run.rule_id,))
            events = load_events(conn, [run.event_id])
        return (None if spec is None else msgspec.json.decode(spec)), (events[0] if events else None)

    async def _execute(self, run: runs.Claimed, token: str) -> None:
        renewer = asyncio.create_task(self._keep_leased(token))
        try:
            await self._steps(run, token)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._with_conn, runs.release, token)
            raise
        except Exception as exc:  # a bug must not lose the run: retried like a failure, and logged
            log.exception("automation run crashed", run=run.id, rule=run.rule_name)
            await self._finish(run, token, run.steps, ActionFailed(f"hookline error: {type(exc).__name__}",
                                                                  retryable=True))
        finally:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)

    async def _steps(self, run: runs.Claimed, token: str) -> None:
        spec, event = await asyncio.to_thread(self._load, run)
        if spec is None or event is None:
            what = "rule was removed" if spec is None else "event is no longer in the log"
            await self._finish(run, token, run.steps, ActionFailed(f"the {what}", retryable=False))
            return
        context = event_context(event, self.providers.get(event.provider))
        info = RunInfo(run.id, run.rule_name, run.event_id, event.provider, event.account, run.window_key)
        assert self._session is not None
        actx = ActionContext(self.runtime, self._session, info, self.timeout)
        records: list[dict[str, Any]] = list(run.steps)
        results: dict[str, Any] = {}
        for i, step in enumerate(spec["steps"]):
            step_id = step.get("id") or f"step{i + 1}"
            done = records[i] if i < len(records) else None
            if done is not None and done.get("state") in ("succeeded", "skipped"):
                results[step_id] = done.get("result") or {}
                if done.get("stop"):
                    break
                continue  # finished before a crash or a retry: not requested again
            record: dict[str, Any] = {"index": i + 1, "id": step.get("id"), "action": step["action"]}
            started = time.time()
            try:
                result = await self._one(step, {**context, "steps": results}, actx)
            except ActionFailed as failure:
                record.update(state="failed", error=str(failure), status=failure.status,
                              response=failure.response, request=failure.request,
                              took_ms=round((time.time() - started) * 1000, 1))
                await self._finish(run, token, [*records[:i], record], failure)
                return
            record.update(state="succeeded", status=result.status, request=result.request, stop=result.stop,
                          result={"status": result.status, "json": result.json, "text": result.text[:_TEXT_KEPT]},
                          took_ms=round((time.time() - started) * 1000, 1))
            records = [*records[:i], record]
            results[step_id] = record["result"]
            if not await asyncio.to_thread(self._with_conn, runs.record_steps, run.id, token, records):
                log.warning("automation run taken over before its step was recorded", run=run.id)
                return
            if result.stop:
                break
        await self._finish(run, token, records, None)

    async def _one(self, step: dict[str, Any], context: dict[str, Any], actx: ActionContext) -> StepResult:
        action = self.actions.get(step["action"])
        if action is None:
            raise ActionFailed(f"no action {step['action']!r} is installed", retryable=False)
        params = action.params(step)
        try:
            rendered = render_value(params, context)
        except TemplateError as exc:
            raise ActionFailed(f"template: {exc}", retryable=False) from None
        try:
            return await asyncio.wait_for(action.run(rendered, actx), self.timeout * 3)
        except TimeoutError:
            raise ActionFailed(f"{step['action']} took longer than {self.timeout * 3:g}s", retryable=True,
                               request=action.preview(rendered)) from None

    async def _finish(self, run: runs.Claimed, token: str, records: list[dict[str, Any]],
                      failure: ActionFailed | None) -> None:
        retry_at = None
        if failure is None:
            state, error = "succeeded", None
        elif not failure.retryable:
            state, error = "failed", str(failure)
        elif run.attempts >= self.max_attempts:
            state, error = "parked", f"{failure} (gave up after {run.attempts} attempts)"
        else:
            state, error = "pending", str(failure)
            delay = jobs.backoff_delay(run.attempts, *self.backoff)
            if failure.retry_after is not None:
                delay = min(max(failure.retry_after, 0.0), RETRY_AFTER_MAX)
            retry_at = time.time() + delay
        ok = await asyncio.to_thread(self._with_conn, runs.finish, run.id, token, state, records,
                                     error=error, retry_at=retry_at)
        level = log.info if state in ("succeeded", "pending") else log.warning
        level("automation run", run=run.id, rule=run.rule_name, state=state, attempts=run.attempts,
              error=error, recorded=ok)


def executor_loop(runtime: Runtime) -> Loop:
    """The LoopFactory of pipeline/loops.py: runs in `serve` (unless --no-worker) and `hookline worker`."""
    return Executor(runtime).run
