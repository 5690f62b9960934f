"""Call lifecycles, as Aircall reports them.

Inbound: created -> [ivr_option_selected] -> ringing_on_agent (-> agent_declined -> ringing on the
next agent)... -> answered -> [hold/unhold] [transferred | external_transferred |
unsuccessful_transfer] -> hungup -> ended (~30 s later, with the recording) ->
comm_assets_generated -> [tagged, untagged, commented, archived]; transcription, summary, topics,
sentiment and action items a few minutes later. A call nobody takes ends with a missed_call_reason,
sometimes a voicemail (voicemail_left, later assigned). Outbound: created -> [answered] -> hungup ->
ended. Every event carries the whole call as it is at that moment.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from hookline.testing.aircall.samples import make_call
from hookline.testing.aircall.simulator.company import Agent, brief_user, iso

if TYPE_CHECKING:
    from hookline.testing.aircall.simulator.traffic import Process, Traffic

Json = dict[str, Any]

# Every value Aircall puts in a call's missed_call_reason.
MISSED_CALL_REASONS = (
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_ivr",
    "abandoned_in_classic",
    "no_available_agent",
    "agents_did_not_answer",
)
OUTBOUND_SHARE = 0.35
ENDED_AFTER_HUNGUP = (27.0, 33.0)  # call.ended follows call.hungup by about 30 s
MAX_QUEUE_WAIT = 60.0  # then the call goes to voicemail or is missed
_NOTES = ("Customer asked for a quote by Friday.", "Follow up next week.", "Escalated to billing.",
          "Sent the onboarding guide.", "Wants a callback from their account manager.")
_VOICEMAILS = ("Hi, this is about my order, could you call me back please?",
               "Hello, I'd like to move my appointment to next week. Thanks.",
               "Calling about the invoice we received, please call back when you can.")


def arrival(sim: Traffic) -> Process:
    """A new call: outbound when an agent is free to dial (about a third), else inbound."""
    if sim.rng.random() < OUTBOUND_SHARE:
        agent = sim.company.idle_agent(sim.now)
        if agent is not None:
            return outbound(sim, agent)
    return inbound(sim)


def _talk_time(sim: Traffic) -> float:
    """Lognormal talk time, shorter when there are many calls per agent (a busy center keeps calls short).

    An agent's time per call is ringing + talk + wrap-up (~35 s besides the talk); below 20 s of talk
    the center is simply overloaded and misses calls (no_available_agent), as a real one would.
    """
    agents = len(sim.company.agents)
    per_minute = max(sim.calls_per_minute, 0.1)
    mean = min(240.0, max(20.0, 0.75 * agents * 60 / per_minute - 35))
    return min(1800.0, max(8.0, sim.rng.lognormvariate(math.log(mean) - 0.18, 0.6)))


def _new_call(sim: Traffic, *, number: Json, contact: Json | None, direction: str, agent: Agent | None) -> Json:
    call = make_call(
        sim.rng,
        sim.company.ids.new("calls"),
        user=agent.user if agent is not None else None,
        number=number,
        contact=contact,
        status="initial",
        direction=direction,
        started_at=int(sim.now),
        answered=False,
    )
    if agent is not None:
        call["participants"].append({"type": "user", "id": agent.id, "name": agent.user["name"]})
    return call


def _caller(call: Json) -> str:
    return "+" + "".join(ch for ch in call["raw_digits"] if ch.isdigit())


def _hang_up(sim: Traffic, call: Json) -> None:
    ended = int(sim.now)
    duration = ended - call["started_at"]
    call.update(status="done", ended_at=ended, duration=duration, hangup_cause="NORMAL_CLEARING",
                cost=f"{duration * 0.0135:.2f}")


def _release(sim: Traffic, agent: Agent, call_id: int) -> None:
    """The agent leaves the call; wrap-up starts now (set at once so nobody rings them meanwhile)."""
    agent.busy = False
    seconds = float(agent.user.get("wrap_up_time") or 0)
    if seconds > 0:
        agent.wrap_up_until = sim.now + seconds / sim.pace
        sim.spawn(sim.wrap_up(agent, call_id, seconds))


def inbound(sim: Traffic) -> Process:
    rng, co = sim.rng, sim.company
    number = rng.choice(co.numbers)
    contact = rng.choice(co.contacts) if rng.random() < 0.7 else None
    call = _new_call(sim, number=number, contact=contact, direction="inbound", agent=None)
    sim.emit_call("call.created", call)
    if number["id"] in co.closed_numbers:
        yield rng.uniform(10, 25)  # the after-hours message plays
        yield from _missed(sim, call, "out_of_opening_hours", voicemail=rng.random() < 0.4)
        return
    if rng.random() < 0.04:
        yield rng.uniform(1, 6)
        yield from _missed(sim, call, "short_abandoned", voicemail=False)
        return
    if number.get("is_ivr"):
        yield rng.uniform(6, 15)
        if rng.random() < 0.1:
            yield from _missed(sim, call, "abandoned_in_ivr", voicemail=False)
            return
        key = rng.choice("123")
        now = iso(sim.now)
        call["ivr_options"] = [{
            "id": f"{call['id']}-{key}", "title": rng.choice(("Sales", "Support", "Billing")), "key": key,
            "branch": f"option_{key}", "created_at": now, "transition_started_at": iso(sim.now - 8 / sim.pace),
            "transition_ended_at": now,
        }]
        sim.emit_call("call.ivr_option_selected", call)
    team = co.team_for(number)
    call["teams"] = [{k: team[k] for k in ("id", "direct_link", "name", "created_at")}]
    outcome = yield from _ring(sim, call)
    if isinstance(outcome, str):
        voicemail = outcome in ("no_available_agent", "agents_did_not_answer") and rng.random() < 0.5
        yield from _missed(sim, call, outcome, voicemail=voicemail)
        return
    agent: Agent | None = outcome
    call.update(status="answered", answered_at=int(sim.now), user=brief_user(outcome.user))
    call["participants"].append({"type": "user", "id": outcome.id, "name": outcome.user["name"]})
    sim.emit_call("call.answered", call)
    agent = yield from _talk(sim, call, outcome)
    _hang_up(sim, call)
    sim.emit_call("call.hungup", call)
    if agent is not None:
        _release(sim, agent, call["id"])
    recorded = bool(number.get("live_recording_activated"))
    sim.spawn(_after_call(sim, call, agent or outcome, recorded=recorded))


def _ring(sim: Traffic, call: Json) -> Generator[float, None, Agent | str]:
    """Ring free agents one after the other until one answers (the Agent) or the call is missed (a reason)."""
    rng, co = sim.rng, sim.company
    patience = rng.uniform(15, 240)  # how long this caller is willing to wait
    limit = min(MAX_QUEUE_WAIT, patience)
    waited = 0.0
    tried: list[Agent] = []
    while waited < limit:
        agent = co.idle_agent(sim.now, exclude=tuple(tried))
        if agent is None:
            yield 5.0  # waiting in the queue
            waited += 5.0
            continue
        tried.append(agent)
        agent.busy = True
        call["user"] = brief_user(agent.user)
        sim.emit_call("call.ringing_on_agent", call)
        roll = rng.random()
        if roll < 0.75:
            yield rng.uniform(3, 12)
            return agent
        step = rng.uniform(2, 8) if roll < 0.87 else 20.0
        yield step
        waited += step
        agent.busy = False
        if roll < 0.87:
            sim.emit_call("call.agent_declined", call)
        call["user"] = None
    if patience < MAX_QUEUE_WAIT:
        return "abandoned_in_classic"
    return "agents_did_not_answer" if tried else "no_available_agent"


def _talk(sim: Traffic, call: Json, agent: Agent) -> Generator[float, None, Agent | None]:
    """The conversation, with a hold and a transfer now and then; the agent on the call at the end."""
    rng, co = sim.rng, sim.company
    remaining = _talk_time(sim)
    if rng.random() < 0.25:
        before = rng.uniform(0.2, 0.6) * remaining
        yield before
        remaining -= before
        sim.emit_call("call.hold", call)
        yield rng.uniform(10, 60)
        sim.emit_call("call.unhold", call)
    roll = rng.random()
    if roll < 0.11:
        before = rng.uniform(0.2, 0.5) * remaining
        yield before
        remaining -= before
        colleague = co.idle_agent(sim.now)
        if roll < 0.03:
            # A fictional US number (555-01xx), like the samples use.
            phone = f"+121255501{rng.randint(0, 99):02d}"
            call.update(transferred_by=brief_user(agent.user), external_transferred_to=phone)
            sim.emit_call("call.external_transferred", call)
            _release(sim, agent, call["id"])
            yield rng.uniform(5, 30)  # the call leaves Aircall soon after
            return None
        if colleague is None or roll < 0.05:
            call["transferred_by"] = brief_user(agent.user)
            sim.emit_call("call.unsuccessful_transfer", call)
        else:
            colleague.busy = True
            call.update(transferred_by=brief_user(agent.user), transferred_to=brief_user(colleague.user),
                        user=brief_user(colleague.user))
            call["participants"].append({"type": "user", "id": colleague.id, "name": colleague.user["name"]})
            sim.emit_call("call.transferred", call)
            _release(sim, agent, call["id"])
            agent = colleague
    yield max(1.0, remaining)
    return agent


def outbound(sim: Traffic, agent: Agent) -> Process:
    rng, co = sim.rng, sim.company
    agent.busy = True
    contact = rng.choice(co.contacts) if rng.random() < 0.9 else None
    call = _new_call(sim, number=co.line_of(agent), contact=contact, direction="outbound", agent=agent)
    sim.emit_call("call.created", call)
    answered = rng.random() < 0.7
    last: Agent | None = agent
    if answered:
        yield rng.uniform(5, 25)
        call.update(status="answered", answered_at=int(sim.now))
        sim.emit_call("call.answered", call)
        last = yield from _talk(sim, call, agent)
    else:
        yield rng.uniform(15, 45)  # nobody picks up; outbound calls carry no missed_call_reason
    _hang_up(sim, call)
    sim.emit_call("call.hungup", call)
    if last is not None:
        _release(sim, last, call["id"])
    recorded = answered and bool(co.line_of(agent).get("live_recording_activated"))
    sim.spawn(_after_call(sim, call, last or agent, recorded=recorded))


def _missed(sim: Traffic, call: Json, reason: str, *, voicemail: bool) -> Process:
    rng = sim.rng
    if voicemail:
        yield rng.uniform(10, 45)  # the caller records a message
    call.update(missed_call_reason=reason, user=None)
    _hang_up(sim, call)
    sim.emit_call("call.hungup", call)
    sim.spawn(_after_call(sim, call, None, recorded=False))
    if voicemail:
        yield rng.uniform(1, 5)
        link = sim.state.media_url(call["id"], "voicemail")
        call.update(voicemail=link, voicemail_short_url=link)
        sim.emit_call("call.voicemail_left", call)


def _after_call(sim: Traffic, call: Json, agent: Agent | None, *, recorded: bool) -> Process:
    """From call.ended (~30 s after hang-up, data final) to the notes and AI results that follow."""
    rng, co = sim.rng, sim.company
    yield rng.uniform(*ENDED_AFTER_HUNGUP)
    if call["contact"] is None and call["answered_at"] is not None and rng.random() < 0.3:
        contact = co.new_contact(sim.now, phone=_caller(call))  # the agent saves the new caller
        co.add_contact(contact)
        sim.emit("contact.created", contact)
        call["contact"] = contact
    if recorded:
        link = sim.state.media_url(call["id"], "recording")
        call.update(recording=link, recording_short_url=link)
    sim.emit_call("call.ended", call)
    if recorded or call.get("voicemail"):
        yield rng.uniform(5, 60)
        sim.emit_call("call.comm_assets_generated", call)
        if rng.random() < 0.85:
            sim.spawn(_insights(sim, call, agent if recorded else None))
    if agent is not None and call["answered_at"] is not None:
        if rng.random() < 0.5:
            yield rng.uniform(5, 60)
            tag = rng.choice(co.tags)
            call["tags"] = [*call["tags"], {k: tag[k] for k in ("id", "direct_link", "name", "color")}]
            sim.emit_call("call.tagged", call)
            if rng.random() < 0.1:
                yield rng.uniform(10, 120)
                call["tags"] = call["tags"][:-1]
                sim.emit_call("call.untagged", call)
        if rng.random() < 0.3:
            yield rng.uniform(5, 120)
            comment = {"id": co.ids.new("comments"), "content": rng.choice(_NOTES), "posted_at": int(sim.now),
                       "posted_by": brief_user(agent.user)}
            call["comments"] = [*call["comments"], comment]
            sim.emit_call("call.commented", call)
    if call.get("voicemail") and rng.random() < 0.6:
        yield rng.uniform(60, 600)
        call["assigned_to"] = brief_user(rng.choice(co.agents).user)
        sim.emit_call("call.assigned", call)
    if rng.random() < 0.15:
        yield rng.uniform(300, 1800)
        call["archived"] = True
        sim.emit_call("call.archived", call)


def _insights(sim: Traffic, call: Json, agent: Agent | None) -> Process:
    """Conversation intelligence: the transcription a few minutes later, then what is derived from it."""
    rng = sim.rng
    yield rng.uniform(60, 300)
    caller = _caller(call)
    common = {"call_id": call["id"], "call_uuid": call["call_uuid"], "number_id": call["number"]["id"],
              "call_created_at": iso(call["started_at"])}
    transcript = sim.sample("transcription.created", **common, id=sim.company.ids.new("insights"))
    if agent is None:  # a voicemail: one speaker
        transcript["type"] = "voicemail"
        text = rng.choice(_VOICEMAILS)
        transcript["content"]["utterances"] = [{"start_time": 0.6, "end_time": 6.4, "text": text,
                                                "participant_type": "external", "phone_number": caller}]
        transcript["participants"] = [{"participant_type": "external", "phone_number": caller}]
        sim.emit("transcription.created", transcript)
        return
    for utterance in transcript["content"]["utterances"]:
        if utterance["participant_type"] == "internal":
            utterance["user_id"] = agent.id
        else:
            utterance["phone_number"] = caller
    transcript["participants"] = [{"participant_type": "internal", "user_id": agent.id},
                                  {"participant_type": "external", "phone_number": caller}]
    sim.emit("transcription.created", transcript)
    yield rng.uniform(5, 30)
    for event in ("summary.created", "topics.created", "action_item.created"):
        sim.emit(event, sim.sample(event, **common, id=sim.company.ids.new("insights")))
    sentiment = sim.sample("sentiment.created", **common, id=sim.company.ids.new("insights"))
    for participant in sentiment["participants"]:
        participant["phone_number"] = caller
    sim.emit("sentiment.created", sentiment)
