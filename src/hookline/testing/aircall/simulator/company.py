"""The simulated company: its agents (with presence), numbers, teams, contacts and tags.

Every object is built with the samples.py builders (so it has Aircall's shape) and stored in the
FakeAircallState as it is created or changed, so the REST API always shows what the webhooks said.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookline.testing.aircall.fake_api import FakeAircallState
from hookline.testing.aircall.samples import make_contact, make_number, make_tag, make_team, make_user

Json = dict[str, Any]

TEAM_NAMES = ("Sales", "Support", "Customer Success", "Billing", "Onboarding", "Renewals")


def iso(ts: float, *, millis: bool = True) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(int(ts), UTC).strftime(fmt)


def brief_user(user: Json) -> Json:
    """The abridged user Aircall nests in calls, numbers, teams and comments."""
    keys = ("id", "direct_link", "name", "email", "available", "availability_status")
    return {k: user[k] for k in keys if k in user}


def brief_number(number: Json) -> Json:
    return {k: v for k, v in number.items() if k != "users"}


class Ids:
    """Increasing ids per resource from random, realistic bases, skipping ids the state already has."""

    BASES = {
        "calls": (1_900_000_000, 2_100_000_000),
        "users": (400_000, 1_500_000),
        "numbers": (300_000, 900_000),
        "contacts": (40_000_000, 90_000_000),
        "teams": (20_000, 80_000),
        "tags": (20_000, 80_000),
        "messages": (10_000_000, 90_000_000),
        "insights": (1_000_000, 9_000_000),
        "comments": (1_000_000, 9_000_000),
    }

    def __init__(self, state: FakeAircallState, rng: random.Random) -> None:
        self.state = state
        self.rng = rng
        self._next = {name: rng.randint(lo, hi) for name, (lo, hi) in self.BASES.items()}

    def new(self, resource: str) -> int:
        rid = self._next[resource]
        while resource in ("calls", "users", "numbers", "contacts", "teams", "tags") and self._taken(resource, rid):
            rid += 1
        # Small random gaps, as in a shared id space.
        self._next[resource] = rid + 1 + (self.rng.randint(0, 3) if resource == "calls" else 0)
        return rid

    def _taken(self, resource: str, rid: int) -> bool:
        try:
            self.state.owner(resource, rid)
        except KeyError:
            return False
        return True


@dataclass
class Agent:
    """A user of the call center and what they are doing right now."""

    user: Json  # as stored in the state (the V1 shape, with `numbers`)
    connected: bool = False
    open: bool = False
    busy: bool = False  # ringing, on a call, or dialling
    wrap_up_until: float = 0.0

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def available(self, now: float) -> bool:
        return self.connected and self.open and not self.busy and now >= self.wrap_up_until

    def v1(self) -> Json:
        return dict(self.user)

    def v2(self, **extra: Any) -> Json:
        data = {k: v for k, v in self.user.items() if k != "numbers"}
        data.update(extra)
        return data


# Presence fields per user event (the same for V1 and .v2).
PRESENCE: dict[str, Json] = {
    "user.connected": {"available": True, "availability_status": "available", "substatus": "always_open"},
    "user.opened": {"available": True, "availability_status": "available", "substatus": "always_open"},
    "user.closed": {"available": False, "availability_status": "unavailable"},
    "user.disconnected": {"available": False, "availability_status": "unavailable", "substatus": "always_closed"},
}


class Company:
    """One Aircall account's people and lines, mirrored into the state as they change."""

    def __init__(self, state: FakeAircallState, account: str, rng: random.Random, *, agents: int, now: float) -> None:
        if agents < 1:
            raise ValueError("the call center needs at least one agent")
        self.state = state
        self.account = account
        self.rng = rng
        self.ids = Ids(state, rng)
        created = int(now)
        self.numbers: list[Json] = [
            make_number(rng, self.ids.new("numbers"), created_at=created) for _ in range(max(2, agents // 5))
        ]
        self.closed_numbers: set[int] = set()
        self.agents: list[Agent] = []
        for i in range(agents):
            lines = [brief_number(self.numbers[i % len(self.numbers)])]
            user = make_user(rng, self.ids.new("users"), numbers=lines, created_at=created)
            user.update(PRESENCE["user.disconnected"])
            self.agents.append(Agent(user))
        for n, number in enumerate(self.numbers):
            number["users"] = [brief_user(a.user) for i, a in enumerate(self.agents) if i % len(self.numbers) == n]
        team_count = min(len(TEAM_NAMES), max(1, agents // 6))
        self.teams: list[Json] = []
        for t, name in enumerate(rng.sample(TEAM_NAMES, team_count)):
            members = [brief_user(a.user) for i, a in enumerate(self.agents) if i % team_count == t]
            team = make_team(rng, self.ids.new("teams"), users=members)
            team.update(name=name, created_at=iso(created))
            self.teams.append(team)
        self.contacts: list[Json] = [self.new_contact(now) for _ in range(max(20, agents * 3))]
        self.tags: list[Json] = []
        for _ in range(12):  # a handful of distinct tags (make_tag draws from a fixed list)
            tag = make_tag(rng, self.ids.new("tags"))
            if all(t["name"] != tag["name"] for t in self.tags):
                self.tags.append(tag)
        self._store()

    def _store(self) -> None:
        put = self.state.add
        for number in self.numbers:
            put("numbers", number, account=self.account)
        for agent in self.agents:
            put("users", agent.user, account=self.account)
        for team in self.teams:
            put("teams", team, account=self.account)
        for contact in self.contacts:
            put("contacts", contact, account=self.account)
        for tag in self.tags:
            put("tags", tag, account=self.account)

    # -- changes, mirrored into the state -------------------------------------------------------

    def new_contact(self, now: float, phone: str | None = None) -> Json:
        contact = make_contact(self.rng, self.ids.new("contacts"), updated_at=int(now))
        contact["created_at"] = contact["updated_at"]
        if phone is not None:
            contact["phone_numbers"][0]["value"] = phone
        return contact

    def add_contact(self, contact: Json) -> None:
        self.contacts.append(contact)
        self.state.add("contacts", contact, account=self.account)

    def touch_contact(self, contact: Json, now: float, changes: Json) -> Json:
        """A new version of the contact (calls made earlier keep the one they were made with)."""
        updated = {**contact, **changes, "updated_at": iso(now, millis=False)}
        self.contacts[self.contacts.index(contact)] = updated
        self.state.update("contacts", contact["id"], updated)
        return updated

    def set_presence(self, agent: Agent, event: str, substatus: str | None = None) -> None:
        agent.user.update(PRESENCE[event])
        if substatus is not None:
            agent.user["substatus"] = substatus
        agent.connected = event != "user.disconnected"
        agent.open = event in ("user.connected", "user.opened")
        self.state.update("users", agent.id, agent.user)

    def set_number_open(self, number: Json, is_open: bool) -> None:
        number.update(open=is_open, availability_status="open" if is_open else "closed")
        (self.closed_numbers.discard if is_open else self.closed_numbers.add)(number["id"])
        self.state.update("numbers", number["id"], number)

    # -- choices ----------------------------------------------------------------------------------

    def idle_agent(self, now: float, exclude: tuple[Agent, ...] = ()) -> Agent | None:
        free = [a for a in self.agents if a.available(now) and a not in exclude]
        return self.rng.choice(free) if free else None

    def line_of(self, agent: Agent) -> Json:
        ids = {n["id"] for n in agent.user.get("numbers") or []}
        return next((n for n in self.numbers if n["id"] in ids), self.numbers[0])

    def team_of(self, agent: Agent) -> Json | None:
        return next((t for t in self.teams if any(u["id"] == agent.id for u in t["users"])), None)

    def team_for(self, number: Json) -> Json:
        """The team an inbound call on `number` rings (teams take lines in turn)."""
        return self.teams[self.numbers.index(number) % len(self.teams)]
