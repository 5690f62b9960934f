"""The call-center traffic generator: a discrete-event simulation.

Each actor (a call, an agent's shift, an SMS conversation...) is a generator that emits events and
yields how many seconds of the company's day to wait before its next step; `advance_to(t)` runs every
step due up to t (a time on the simulator's clock) and returns the events they emitted, oldest first.
`pace` compresses the company's day: every wait lasts 1/pace of its length on the clock, so arrivals
come `pace` times as often and calls ring and talk `pace` times shorter, while every timestamp stays
the clock's (the wall clock, when the simulator delivers live). No I/O and no wall clock here: the
same seed and the same `advance_to` calls give the same events.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Generator
from typing import Any

import msgspec

from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.samples import sample_event
from hookline.testing.aircall.simulator import calls
from hookline.testing.aircall.simulator.company import Agent, Company, brief_number, iso
from hookline.testing.aircall.simulator.defaults import DEFAULT_AGENTS, DEFAULT_CALLS_PER_MINUTE
from hookline.testing.aircall.simulator.events import Emitted

Json = dict[str, Any]
# A simulated actor: yields the seconds of the company's day until its next step.
Process = Generator[float, None, None]

MAX_STEPS_PER_ADVANCE = 1_000_000  # a guard against an actor that never lets time pass
SUBSTATUSES = ("Out for lunch", "On a break", "In training", "Back office")


class Traffic:
    """A company and its traffic, emitted as Aircall webhook events and mirrored into the state."""

    def __init__(
        self,
        state: FakeAircallState,
        *,
        account: str,
        rng: random.Random,
        start: float,
        agents: int = DEFAULT_AGENTS,
        calls_per_minute: float = DEFAULT_CALLS_PER_MINUTE,
        messages_per_minute: float | None = None,
        pace: float = 1.0,
    ) -> None:
        if calls_per_minute < 0:
            raise ValueError("calls_per_minute must be 0 or more")
        if pace <= 0:
            raise ValueError("pace must be positive")
        self.pace = pace
        self.state = state
        self.account = account
        self.rng = rng
        self.now = start
        self.start = start
        self.calls_per_minute = calls_per_minute
        self.messages_per_minute = calls_per_minute / 6 if messages_per_minute is None else messages_per_minute
        self.company = Company(state, account, rng, agents=agents, now=start)
        self.call_ids: list[int] = []
        self.events_emitted = 0
        self.winding_down = False
        self._heap: list[tuple[float, int, Process]] = []
        self._seq = itertools.count()
        self._out: list[Emitted] = []
        self.spawn(self._opening())

    # -- the scheduler --------------------------------------------------------------------------

    def spawn(self, process: Process, delay: float = 0.0) -> None:
        heapq.heappush(self._heap, (self.now + max(0.0, delay) / self.pace, next(self._seq), process))

    def next_at(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def advance_to(self, until: float) -> list[Emitted]:
        """Run every step due at or before `until`; the events they emitted, in order."""
        steps = 0
        while self._heap and self._heap[0][0] <= until:
            at, _, process = heapq.heappop(self._heap)
            self.now = at
            try:
                delay = next(process)
            except StopIteration:
                continue
            heapq.heappush(self._heap, (at + max(0.0, delay) / self.pace, next(self._seq), process))
            steps += 1
            if steps > MAX_STEPS_PER_ADVANCE:
                raise RuntimeError("the simulation does not advance: an actor keeps yielding 0")
        self.now = max(self.now, until)
        out, self._out = self._out, []
        return out

    # -- emitting -------------------------------------------------------------------------------

    def emit(self, event: str, data: Json) -> bytes:
        """Emit `event` with a snapshot of `data` at the current simulated second."""
        encoded = msgspec.json.encode(data)
        self._out.append(Emitted(event, int(self.now), encoded))
        self.events_emitted += 1
        return encoded

    def emit_user(self, event: str, agent: Agent, **v2_extra: Any) -> None:
        """User events come in two versions: V1 (with numbers, deprecated) and .v2."""
        self.emit(event, agent.v1())
        self.emit(f"{event}.v2", agent.v2(**v2_extra))

    def emit_call(self, event: str, call: Json) -> None:
        """A call event; the state keeps the same snapshot, so the API lists what the webhook said."""
        self.emit(event, call)
        # A copy sharing the nested objects, which are replaced rather than changed in place (lists
        # aside, copied here): a fraction of the memory of a deep copy, for tens of thousands of calls.
        snapshot = {k: list(v) if isinstance(v, list) else v for k, v in call.items()}
        if self.state.get_call(call["id"]) is None:
            self.state.add_call(snapshot, account=self.account)
            self.call_ids.append(call["id"])
        else:
            self.state.update_call(call["id"], snapshot)

    def sample(self, event: str, **data: Any) -> Json:
        """A samples.py payload for `event` at the current second, with `data` fields set."""
        body = sample_event(event, timestamp=int(self.now), rng=self.rng, **data)
        result: Json = body["data"]
        return result

    # -- actors ---------------------------------------------------------------------------------

    def _opening(self) -> Process:
        """The company appears (numbers, teams, users, contacts), then the day's traffic starts."""
        co = self.company
        for number in co.numbers:
            self.emit("number.created", number)
        for team in co.teams:
            self.emit("team.created", team)
        for agent in co.agents:
            self.emit_user("user.created", agent)
        for contact in co.contacts:
            self.emit("contact.created", contact)
        for agent in co.agents:
            self.spawn(self._shift(agent), delay=self.rng.uniform(0, 60))
        yield 60.0  # agents log in during the first minute, then the phones start ringing
        if self.calls_per_minute > 0:
            self.spawn(self._arrivals(self.calls_per_minute / 60, lambda: calls.arrival(self)))
        if self.messages_per_minute > 0:
            self.spawn(self._arrivals(self.messages_per_minute / 60, self._conversation))
        self.spawn(self._contact_edits())
        self.spawn(self._opening_hours())

    def wind_down(self) -> None:
        """No new calls or conversations from now on; those under way run to their end."""
        self.winding_down = True

    def _arrivals(self, per_second: float, make: Callable[[], Process | None]) -> Process:
        """A Poisson stream: exponential gaps, one new actor per arrival."""
        while True:
            yield self.rng.expovariate(per_second)
            if self.winding_down:
                return
            process = make()
            if process is not None:
                self.spawn(process)

    def _shift(self, agent: Agent) -> Process:
        """An agent logs in, then takes breaks and sometimes closes the app for a while."""
        co = self.company
        co.set_presence(agent, "user.connected")
        self.emit_user("user.connected", agent)
        co.set_presence(agent, "user.opened")
        self.emit_user("user.opened", agent)
        while True:
            yield self.rng.expovariate(1 / 2400)  # about every 40 simulated minutes
            while agent.busy or agent.wrap_up_until > self.now:
                yield 15.0  # never leave in the middle of a call
            if self.rng.random() < 0.2:
                co.set_presence(agent, "user.disconnected")
                self.emit_user("user.disconnected", agent)
                yield self.rng.uniform(300, 1800)
                co.set_presence(agent, "user.connected")
                self.emit_user("user.connected", agent)
                co.set_presence(agent, "user.opened")
                self.emit_user("user.opened", agent)
            else:
                co.set_presence(agent, "user.closed", self.rng.choice(SUBSTATUSES))
                self.emit_user("user.closed", agent)
                yield self.rng.uniform(300, 900)
                co.set_presence(agent, "user.opened")
                self.emit_user("user.opened", agent)

    def wrap_up(self, agent: Agent, call_id: int, seconds: float) -> Process:
        """After-call work: user.wut_start now, user.wut_end `seconds` later."""
        self.emit_user("user.wut_start", agent, last_call_id=call_id)
        yield seconds
        self.emit_user("user.wut_end", agent, last_call_id=call_id)

    def _contact_edits(self) -> Process:
        co = self.company
        while True:
            yield self.rng.expovariate(1 / 600)
            contact = self.rng.choice(co.contacts)
            note = self.rng.choice(("Prefers e-mail.", "New billing contact.", "Renewal due next quarter.",
                                    "Asked for a callback on Fridays.", "Moved to the enterprise plan."))
            self.emit("contact.updated", co.touch_contact(contact, self.now, {"information": note}))

    def _opening_hours(self) -> Process:
        """Now and then a line closes for a while (calls to it are missed: out_of_opening_hours)."""
        co = self.company
        while True:
            yield self.rng.expovariate(1 / 3600)
            number = self.rng.choice(co.numbers)
            if number["id"] in co.closed_numbers:
                continue
            co.set_number_open(number, False)
            self.emit("number.closed", number)
            yield self.rng.uniform(600, 1800)
            co.set_number_open(number, True)
            self.emit("number.opened", number)

    def _conversation(self) -> Process:
        """An SMS exchange: an inbound text and often a reply, or an outbound text; then delivery."""
        co = self.company
        contact = self.rng.choice(co.contacts)
        number = brief_number(self.rng.choice(co.numbers))
        phone = contact["phone_numbers"][0]["value"]
        if self.rng.random() < 0.55:
            self.emit("message.received", self._message("message.received", number, contact, phone))
            if self.rng.random() > 0.6:
                return
            yield self.rng.uniform(20, 180)  # an agent replies
        sent = self._message("message.sent", number, contact, phone)
        self.emit("message.sent", sent)
        yield self.rng.uniform(1, 15)
        delivered = dict(sent, status="delivered", updated_at=iso(self.now))
        self.emit("message.status_updated", delivered)

    def _message(self, event: str, number: Json, contact: Json, phone: str) -> Json:
        mid = self.company.ids.new("messages")
        message = self.sample(event, id=str(mid), direct_link=f"https://api.aircall.io/v1/messages/{mid}",
                              number=number, contact=contact, external_number=phone, raw_digits=phone)
        if "recipient_country" in message:  # WhatsApp messages name the contact's country
            prefixes = (("+1", "US"), ("+44", "GB"), ("+33", "FR"), ("+49", "DE"))
            message["recipient_country"] = next((c for p, c in prefixes if phone.startswith(p)), None)
        return message
