"""Realistic Aircall webhook bodies for every catalog event, for tests, docs and the simulator.

Everything is drawn from a `random.Random`, so a seed gives the same payloads on every run and
machine. The per-event differences live in small tables (call stages, user presence, number
state...) rather than one function per event, so a new event type is one table line.

Phone numbers use ranges set aside for drama and fiction (US 555-01xx, UK 020 7946 0xxx, FR 01 99 00
xx xx, DE 030 23125 xxx) and e-mail domains are example.com / example.org, so samples never point
at real people or lines.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hookline.providers.aircall.catalog import lookup

__all__ = [
    "BASE_TIMESTAMP",
    "make_call",
    "make_contact",
    "make_number",
    "make_tag",
    "make_team",
    "make_user",
    "sample_event",
]

API = "https://api.aircall.io/v1"
BASE_TIMESTAMP = 1732622896  # 2024-11-26T12:08:16Z: samples land in a fixed month unless told otherwise

Json = dict[str, Any]

_FIRST = ("Madelaine", "Jonas", "Amira", "Lucas", "Chloé", "Noah", "Sofia", "Malik", "Inès", "Oliver",
          "Hana", "Mateo", "Léa", "Ethan", "Priya", "Hugo", "Zoe", "Samuel", "Nora", "Tomás")
_LAST = ("Dupont", "Fischer", "Haddad", "Martin", "Nguyen", "Okafor", "Rossi", "Schmidt", "Tanaka", "Walsh",
         "García", "Bernard", "Kowalski", "Moreau", "Patel", "Silva", "Lefèvre", "Brennan", "Costa", "Meyer")
_COMPANIES = ("Acme Logistics", "Bluebird Dental", "Northwind Traders", "Globex Insurance", "Initech",
              "Umbrella Realty", "Stark Solar", "Hooli Health", "Wayne Florists", "Vandelay Imports")
_LINE_NAMES = ("Sales", "Support", "Billing", "Front desk", "Partnerships", "Onboarding", "Renewals",
               "After-hours")
_TEAM_NAMES = ("Sales EMEA", "Sales NA", "Tier 1 Support", "Tier 2 Support", "Customer Success", "Billing")
_TAGS = (("Lead", "#00B388"), ("Upsell", "#3C66F5"), ("Complaint", "#E53935"), ("Callback needed", "#FFB300"),
         ("Billing question", "#8E24AA"), ("Churn risk", "#D81B60"), ("Demo booked", "#00ACC1"))
_SUBSTATUSES = ("Out for lunch", "On a break", "In training", "Back office", "Other")
_TOPICS = ("pricing", "onboarding", "invoice", "contract renewal", "integration", "delivery delay",
           "refund", "product demo", "technical issue", "cancellation")


# (country, time zone, phone formatter): fictional ranges, formatted the way Aircall shows `digits`.
def _us(rng: random.Random) -> str:
    return f"+1 {rng.choice(('212', '415', '617', '312'))}-555-01{rng.randint(0, 99):02d}"


def _gb(rng: random.Random) -> str:
    return f"+44 20 7946 0{rng.randint(0, 999):03d}"


def _fr(rng: random.Random) -> str:
    return f"+33 1 99 00 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def _de(rng: random.Random) -> str:
    return f"+49 30 23125 {rng.randint(0, 999):03d}"


_COUNTRIES: tuple[tuple[str, str, Callable[[random.Random], str]], ...] = (
    ("US", "America/New_York", _us),
    ("GB", "Europe/London", _gb),
    ("FR", "Europe/Paris", _fr),
    ("DE", "Europe/Berlin", _de),
)
_LANGUAGE = {"US": "en-US", "GB": "en-GB", "FR": "fr-FR", "DE": "de-DE"}


def _e164(digits: str) -> str:
    return "+" + "".join(ch for ch in digits if ch.isdigit())


def _iso(ts: int, *, millis: bool = True) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.000Z" if millis else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(_FIRST), rng.choice(_LAST)


def _slug(text: str) -> str:
    table = str.maketrans("éèêëáàçíóúñ", "eeeeaacioun")
    return text.lower().translate(table).replace(" ", "")


# --- Builders of Aircall objects (dicts, the way they appear in `data`) -----------------------


def make_user(rng: random.Random, id: int, *, v2: bool = False, numbers: list[Json] | None = None,
              created_at: int | None = None) -> Json:
    """A user as sent on user.* events; V1 payloads also list the user's numbers."""
    first, last = _person(rng)
    country, tz, _ = rng.choice(_COUNTRIES)
    user: Json = {
        "id": id,
        "direct_link": f"{API}/users/{id}",
        "name": f"{first} {last}",
        "email": f"{_slug(first)}.{_slug(last)}@example.com",
        "created_at": _iso(created_at if created_at is not None
                           else BASE_TIMESTAMP - rng.randint(30, 900) * 86400),
        "available": True,
        "availability_status": "available",
        "substatus": "always_open",
        "time_zone": tz,
        "language": _LANGUAGE[country],
        "wrap_up_time": rng.choice((0, 15, 30, 60)),
    }
    if not v2:
        user["numbers"] = numbers if numbers is not None else []
    return user


def make_number(rng: random.Random, id: int, *, users: list[Json] | None = None,
                created_at: int | None = None) -> Json:
    """An Aircall line; `users` is included on number.* events."""
    country, tz, phone = rng.choice(_COUNTRIES)
    digits = phone(rng)
    number: Json = {
        "id": id,
        "direct_link": f"{API}/numbers/{id}",
        "name": f"{rng.choice(_LINE_NAMES)} {country}",
        "digits": digits,
        "e164_digits": _e164(digits),
        "created_at": _iso(created_at if created_at is not None
                           else BASE_TIMESTAMP - rng.randint(60, 1200) * 86400),
        "country": country,
        "time_zone": tz,
        "open": True,
        "availability_status": "open",
        "is_ivr": rng.random() < 0.25,
        "live_recording_activated": rng.random() < 0.7,
        "priority": rng.choice((None, 0, 1)),
        "messages": {
            "welcome": f"https://assets.aircall.io/numbers/{id}/welcome.mp3",
            "waiting": "https://assets.aircall.io/defaults/waiting_music.mp3",
            "ivr": None,
            "voicemail": f"https://assets.aircall.io/numbers/{id}/voicemail.mp3",
            "after_hours": f"https://assets.aircall.io/numbers/{id}/after_hours.mp3",
        },
    }
    if users is not None:
        number["users"] = users
    return number


def make_contact(rng: random.Random, id: int, *, updated_at: int | None = None) -> Json:
    """A shared contact; its timestamps are ISO strings (unlike calls)."""
    first, last = _person(rng)
    company = rng.choice(_COMPANIES)
    _, _, phone = rng.choice(_COUNTRIES)
    updated = updated_at if updated_at is not None else BASE_TIMESTAMP - rng.randint(0, 30) * 86400
    created = updated - rng.randint(0, 400) * 86400
    domain = _slug(company) + ".example.org"
    phones = [{"id": id * 10 + 1, "label": "Work", "value": _e164(phone(rng))}]
    if rng.random() < 0.4:
        phones.append({"id": id * 10 + 2, "label": "Mobile", "value": _e164(phone(rng))})
    return {
        "id": id,
        "direct_link": f"{API}/contacts/{id}",
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "information": rng.choice(("", "Prefers calls after 2pm.", "Decision maker.", "VIP account.")),
        "is_shared": True,
        "created_at": _iso(created, millis=False),
        "updated_at": _iso(updated, millis=False),
        "phone_numbers": phones,
        "emails": [{"id": id * 10 + 3, "label": "Work", "value": f"{_slug(first)}@{domain}"}],
    }


def make_team(rng: random.Random, id: int, *, users: list[Json] | None = None) -> Json:
    return {
        "id": id,
        "direct_link": f"{API}/teams/{id}",
        "name": rng.choice(_TEAM_NAMES),
        "created_at": _iso(BASE_TIMESTAMP - rng.randint(30, 700) * 86400),
        "users": users if users is not None else [],
    }


def make_tag(rng: random.Random, id: int) -> Json:
    name, color = rng.choice(_TAGS)
    return {"id": id, "direct_link": f"{API}/tags/{id}", "name": name, "color": color,
            "description": f"Calls about: {name.lower()}"}


def _brief_user(user: Json) -> Json:
    """The abridged user Aircall nests in calls and comments."""
    keys = ("id", "direct_link", "name", "email", "available", "availability_status")
    return {k: user[k] for k in keys if k in user}


def _brief_number(number: Json) -> Json:
    return {k: v for k, v in number.items() if k != "users"}


def _media_url(rng: random.Random, call_id: int, kind: str) -> str:
    return (f"https://aircall-recordings.s3.amazonaws.com/calls/{call_id}/{kind}.mp3"
            f"?X-Amz-Expires=3600&X-Amz-Signature={_hex(rng, 64)}")


def make_call(
    rng: random.Random,
    id: int,
    *,
    user: Json | None,
    number: Json,
    contact: Json | None,
    status: str = "done",
    direction: str = "inbound",
    started_at: int | None = None,
    answered: bool = True,
    recording: bool = False,
    voicemail: bool = False,
    missed_call_reason: str | None = None,
    teams: list[Json] | None = None,
    tags: list[Json] | None = None,
    comments: list[Json] | None = None,
    **extra: Any,
) -> Json:
    """A Call as sent on call.* events, consistent with `status`.

    `status` is Aircall's initial | answered | done; `answered` says whether anyone picked up, so a
    done call that nobody answered gets no answered_at and a missed_call_reason. `extra` fields are
    set as given (transferred_to, archived, ivr_options...).
    """
    started = started_at if started_at is not None else BASE_TIMESTAMP - rng.randint(60, 3600)
    ring = rng.randint(3, 25)
    talk = rng.randint(20, 900)
    picked_up = answered and status != "initial"
    answered_at = started + ring if picked_up else None
    ended_at = None
    duration = 0
    if status == "done":
        ended_at = started + ring + (talk if picked_up else rng.randint(5, 40))
        duration = ended_at - started
    if contact is not None and contact.get("phone_numbers"):
        raw_digits = contact["phone_numbers"][0]["value"]
    else:
        raw_digits = rng.choice(_COUNTRIES)[2](rng)  # unknown caller: Aircall's formatted digits
    country = _country_of(raw_digits)
    brief_user = _brief_user(user) if user is not None else None  # None: nobody took the call (yet)
    missed = None if picked_up or status != "done" else (missed_call_reason or "agents_did_not_answer")
    agent_leg = []
    if user is not None and picked_up:
        agent_leg.append({"type": "user", "id": user["id"], "name": user["name"]})
    call: Json = {
        "id": id,
        "call_uuid": "CA" + _hex(rng, 32),
        "direct_link": f"{API}/calls/{id}",
        "direction": direction,
        "status": status,
        "missed_call_reason": missed,
        "started_at": started,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "duration": duration,
        "voicemail": _media_url(rng, id, "voicemail") if voicemail else None,
        "recording": _media_url(rng, id, "recording") if recording and picked_up else None,
        "asset": f"https://assets.aircall.io/calls/{id}/recording" if recording or voicemail else None,
        "raw_digits": raw_digits,
        "country_code_a2": country,
        "cost": f"{duration * 0.0135:.2f}" if status == "done" else "0",
        "archived": False,
        "user": brief_user,
        "contact": contact,
        "number": _brief_number(number),
        "assigned_to": None,
        "transferred_by": None,
        "transferred_to": None,
        "teams": teams if teams is not None else [],
        "tags": tags if tags is not None else [],
        "comments": comments if comments is not None else [],
        "participants": [
            {"type": "external", "phone_number": raw_digits},
            *agent_leg,
        ],
    }
    if recording and picked_up:
        call["recording_short_url"] = f"https://short-urls.aircall.io/v1/{_hex(rng, 10)}"
    if voicemail:
        call["voicemail_short_url"] = f"https://short-urls.aircall.io/v1/{_hex(rng, 10)}"
    if status == "done":
        call["hangup_cause"] = "NORMAL_CLEARING"
    call.update(extra)
    return call


def _country_of(e164: str) -> str | None:
    for prefix, country in (("+1", "US"), ("+44", "GB"), ("+33", "FR"), ("+49", "DE")):
        if e164.startswith(prefix):
            return country
    return None


# --- Per-family payload builders ----------------------------------------------------------------

Builder = Callable[[random.Random, str, int], Json]


def _ids(rng: random.Random) -> dict[str, int]:
    return {
        "call": rng.randint(1_800_000_000, 2_400_000_000),
        "user": rng.randint(100_000, 1_999_999),
        "number": rng.randint(100_000, 999_999),
        "contact": rng.randint(10_000_000, 99_999_999),
        "team": rng.randint(10_000, 99_999),
        "tag": rng.randint(10_000, 99_999),
    }


# Call events: what the call looks like when each event fires. An inbound call has no `user` until
# it rings on (or is taken by) an agent; "agent": False keeps it empty (voicemail, missed calls).
_CALL_STAGES: dict[str, Json] = {
    "call.created": {"status": "initial", "agent": False},
    "call.ringing_on_agent": {"status": "initial"},
    "call.agent_declined": {"status": "initial"},
    "call.ivr_option_selected": {"status": "initial", "ivr": True, "agent": False},
    "call.answered": {"status": "answered"},
    "call.hold": {"status": "answered"},
    "call.unhold": {"status": "answered"},
    "call.transferred": {"status": "answered", "transfer": "user"},
    "call.external_transferred": {"status": "answered", "transfer": "external"},
    "call.unsuccessful_transfer": {"status": "answered", "transfer": "failed"},
    "call.hungup": {"status": "done"},
    "call.ended": {"status": "done", "recording": True},
    "call.comm_assets_generated": {"status": "done", "recording": True},
    "call.voicemail_left": {"status": "done", "answered": False, "voicemail": True, "agent": False},
    "call.assigned": {"status": "done", "answered": False, "voicemail": True, "assign": True, "agent": False},
    "call.archived": {"status": "done", "recording": True, "archived": True},
    "call.tagged": {"status": "done", "recording": True, "tags": 2},
    "call.untagged": {"status": "done", "recording": True, "tags": 1},
    "call.commented": {"status": "done", "recording": True, "comments": 1},
}


def _call(rng: random.Random, event: str, ts: int) -> Json:
    stage = _CALL_STAGES.get(event, {"status": "done", "recording": True})  # call.synced: a finished call
    ids = _ids(rng)
    agent = make_user(rng, ids["user"])
    number = make_number(rng, ids["number"])
    contact = make_contact(rng, ids["contact"]) if rng.random() < 0.85 else None
    direction = "inbound" if stage.get("ivr") or stage.get("voicemail") or rng.random() < 0.65 else "outbound"
    started = ts - rng.randint(5, 40) if stage["status"] == "initial" else ts - rng.randint(60, 1200)
    teams = [make_team(rng, ids["team"], users=[_brief_user(agent)])] if direction == "inbound" else []
    tags = [make_tag(rng, ids["tag"] + i) for i in range(stage.get("tags", 0))]
    comments = [{"id": rng.randint(1_000_000, 9_999_999),
                 "content": rng.choice(("Customer asked for a quote by Friday.", "Follow up next week.",
                                        "Escalated to billing.")),
                 "posted_at": ts, "posted_by": _brief_user(agent)}
                for _ in range(stage.get("comments", 0))]
    extra: Json = {}
    transfer = stage.get("transfer")
    if transfer == "user":
        colleague = make_user(rng, ids["user"] + 1)
        extra.update(transferred_by=_brief_user(agent), transferred_to=_brief_user(colleague))
    elif transfer == "external":
        extra.update(transferred_by=_brief_user(agent),
                     external_transferred_to=_e164(_us(rng)), external_caller_number=_e164(_gb(rng)))
    elif transfer == "failed":
        extra.update(transferred_by=_brief_user(agent))
    if stage.get("assign"):
        extra["assigned_to"] = _brief_user(agent)
    if stage.get("archived"):
        extra["archived"] = True
    if stage.get("ivr"):
        key = rng.choice(("1", "2", "3"))
        extra["ivr_options"] = [{
            "id": _uuid(rng), "title": rng.choice(_LINE_NAMES), "key": key, "branch": f"option_{key}",
            "created_at": _iso(ts), "transition_started_at": _iso(ts - 8), "transition_ended_at": _iso(ts),
        }]
    return make_call(
        rng, ids["call"], user=agent if stage.get("agent", True) or direction == "outbound" else None,
        number=number, contact=contact, status=stage["status"],
        direction=direction, started_at=started, answered=stage.get("answered", True),
        recording=stage.get("recording", False), voicemail=stage.get("voicemail", False),
        teams=teams, tags=tags, comments=comments, **extra,
    )


# User events: presence fields at the moment each event fires (applies to V1 and .v2 alike).
_USER_STATES: dict[str, Json] = {
    "user.disconnected": {"available": False, "availability_status": "unavailable",
                          "substatus": "always_closed"},
    "user.closed": {"available": False, "availability_status": "unavailable"},  # substatus: drawn below
    "user.deleted": {"available": False, "availability_status": "unavailable", "substatus": "always_closed"},
}


def _user(rng: random.Random, event: str, ts: int) -> Json:
    base = event.removesuffix(".v2")
    v2 = event.endswith(".v2")
    ids = _ids(rng)
    numbers = None if v2 else [_brief_number(make_number(rng, ids["number"]))]
    created = ts if base == "user.created" else None
    user = make_user(rng, ids["user"], v2=v2, numbers=numbers, created_at=created)
    user.update(_USER_STATES.get(base, {}))
    if base == "user.closed":
        user["substatus"] = rng.choice(_SUBSTATUSES)
    if v2 and base in ("user.wut_start", "user.wut_end"):
        user["last_call_id"] = ids["call"]
    return user


def _contact(rng: random.Random, event: str, ts: int) -> Json:
    return make_contact(rng, _ids(rng)["contact"], updated_at=ts)


_NUMBER_STATES: dict[str, Json] = {
    "number.closed": {"open": False, "availability_status": "closed"},
}


def _number(rng: random.Random, event: str, ts: int) -> Json:
    ids = _ids(rng)
    users = [_brief_user(make_user(rng, ids["user"] + i)) for i in range(rng.randint(1, 3))]
    created = ts if event == "number.created" else None
    number = make_number(rng, ids["number"], users=users, created_at=created)
    number.update(_NUMBER_STATES.get(event, {}))
    return number


def _team(rng: random.Random, event: str, ts: int) -> Json:
    ids = _ids(rng)
    members = 0 if event == "team.created" else 3  # a new team starts empty
    users = [_brief_user(make_user(rng, ids["user"] + i)) for i in range(members)]
    return make_team(rng, ids["team"], users=users)


def _tag(rng: random.Random, event: str, ts: int) -> Json:
    return make_tag(rng, _ids(rng)["tag"])


# Message events: direction and delivery status per event.
_MESSAGE_STATES: dict[str, tuple[str, str]] = {
    "sent": ("outbound", "sent"),
    "received": ("inbound", "received"),
    "status_updated": ("outbound", "delivered"),
}
_SMS_BODIES = ("Hi! Your appointment is confirmed for tomorrow at 10am.", "Can you call me back?",
               "Thanks, the invoice has been paid.", "Is the store open on Sunday?",
               "Your order has shipped and will arrive Thursday.")


def _message(rng: random.Random, event: str, ts: int) -> Json:
    direction, status = _MESSAGE_STATES[event.split(".", 1)[1]]
    ids = _ids(rng)
    number = _brief_number(make_number(rng, ids["number"]))
    contact = make_contact(rng, ids["contact"])
    whatsapp = rng.random() < 0.3
    msg_id = f"{ts}{_hex(rng, 12)}"
    message: Json = {
        "id": msg_id,
        "direct_link": f"{API}/messages/{msg_id}",
        "direction": direction,
        "status": status,
        "channel": "whatsapp" if whatsapp else None,
        "body": rng.choice(_SMS_BODIES),
        "external_number": contact["phone_numbers"][0]["value"],
        "raw_digits": contact["phone_numbers"][0]["value"],
        "media_url": [],
        "media_details": [],
        "created_at": _iso(ts - (0 if status != "delivered" else rng.randint(1, 20))),
        "updated_at": _iso(ts),
        "sent_at": _iso(ts) if direction == "outbound" else None,
        "number": number,
        "contact": contact,
    }
    if whatsapp:
        message.update(type="text", whatsapp_message_category="utility", whatsapp_message_type="regular",
                       recipient_country=_country_of(message["external_number"]))
    return message


def _group_message(rng: random.Random, event: str, ts: int) -> Json:
    direction, status = _MESSAGE_STATES[event.split(".", 1)[1]]
    ids = _ids(rng)
    gid = _uuid(rng)
    return {
        "id": gid,
        "group_message_id": gid,
        "group_conversation_id": _uuid(rng),
        "direct_link": f"{API}/messages/{gid}",
        "direction": direction,
        "status": status,
        "channel": None,
        "body": rng.choice(_SMS_BODIES),
        "participants": [_e164(_us(rng)) for _ in range(rng.randint(2, 4))],
        "media_url": [],
        "created_at": _iso(ts),
        "updated_at": _iso(ts),
        "sent_at": _iso(ts) if direction == "outbound" else None,
        "number": _brief_number(make_number(rng, ids["number"])),
    }


def _integration(rng: random.Random, event: str, ts: int) -> Json:
    return {"integration_id": rng.randint(10_000, 999_999), "company_id": rng.randint(10_000, 999_999)}


# --- Conversation intelligence -------------------------------------------------------------------


def _ci_base(rng: random.Random, ts: int) -> tuple[Json, dict[str, int], str]:
    ids = _ids(rng)
    caller = _e164(rng.choice(_COUNTRIES)[2](rng))
    return {
        "id": rng.randint(100_000, 9_999_999),
        "call_id": ids["call"],
        "call_uuid": "CA" + _hex(rng, 32),
        "number_id": ids["number"],
        "type": "call",
        "call_created_at": _iso(ts - rng.randint(300, 3600)),
        "created_at": _iso(ts),
    }, ids, caller


_DIALOGUE = (
    ("internal", "Thanks for calling {company}, this is {agent}. How can I help?"),
    ("external", "Hi, I'm calling about my last invoice, I think I was charged twice."),
    ("internal", "I'm sorry about that. Let me pull up your account."),
    ("external", "Sure, the reference is on the email you sent on Monday."),
    ("internal", "I can see the duplicate charge. I'll refund it today, you'll get a confirmation by email."),
    ("external", "Perfect, thank you very much."),
)


def _transcription(rng: random.Random, event: str, ts: int) -> Json:
    base, ids, caller = _ci_base(rng, ts)
    agent = rng.choice(_FIRST)
    company = rng.choice(_COMPANIES)
    clock = rng.uniform(0.5, 2.0)
    utterances = []
    for who, text in _DIALOGUE:
        length = round(rng.uniform(1.5, 6.0), 2)
        utterance: Json = {"start_time": round(clock, 2), "end_time": round(clock + length, 2),
                           "text": text.format(company=company, agent=agent), "participant_type": who}
        if who == "internal":
            utterance["user_id"] = ids["user"]
        else:
            utterance["phone_number"] = caller
        utterances.append(utterance)
        clock += length + rng.uniform(0.2, 1.2)
    base["content"] = {"language": "en-US", "utterances": utterances}
    base["participants"] = [{"participant_type": "internal", "user_id": ids["user"]},
                            {"participant_type": "external", "phone_number": caller}]
    return base


def _summary(rng: random.Random, event: str, ts: int) -> Json:
    base, _, _ = _ci_base(rng, ts)
    base["content"] = ("The customer called about a duplicate charge on their last invoice. The agent "
                       "confirmed the duplicate and issued a refund, to be confirmed by email today.")
    base["ai_generated"] = True
    return base


def _topics(rng: random.Random, event: str, ts: int) -> Json:
    base, _, _ = _ci_base(rng, ts)
    base["content"] = rng.sample(_TOPICS, 3)
    return base


def _sentiment(rng: random.Random, event: str, ts: int) -> Json:
    base, _, caller = _ci_base(rng, ts)
    base["participants"] = [{"participant_type": "external", "phone_number": caller,
                             "value": rng.choice(("POSITIVE", "NEUTRAL", "NEGATIVE"))}]
    return base


def _action_item(rng: random.Random, event: str, ts: int) -> Json:
    base, _, _ = _ci_base(rng, ts)
    base["content"] = rng.choice(("Refund the duplicate charge and email a confirmation.",
                                  "Send the updated quote by Friday.", "Schedule a product demo next week."))
    base["ai_generated"] = True
    return base


def _playbook_result(rng: random.Random, event: str, ts: int) -> Json:
    base, ids, _ = _ci_base(rng, ts)
    steps = ("Introduction", "Discovery questions", "Pricing discussed", "Next steps agreed")
    base.update(
        adherence_score=round(rng.uniform(0.4, 1.0), 2),
        playbook={"id": rng.randint(100, 999), "name": "Discovery call", "language": "en-US"},
        playbook_result_topics=[{"name": s, "result": rng.random() < 0.75} for s in steps],
    )
    if event.endswith(".updated"):
        base.update(updated_at=_iso(ts), updated_by=ids["user"])
    return base


def _custom_summary(rng: random.Random, event: str, ts: int) -> Json:
    base, ids, _ = _ci_base(rng, ts)
    base.update(
        template_id=rng.randint(100, 999),
        template_name="Sales qualification",
        content=[
            {"title": "Budget", "value": rng.choice(("Under 5k", "5k-20k", "Over 20k"))},
            {"title": "Decision maker", "value": rng.choice(("Yes", "No"))},
            {"title": "Next step", "value": "Demo on Thursday"},
        ],
    )
    if event.endswith("_updated"):
        base.update(updated_at=_iso(ts), updated_by=ids["user"])
    return base


def _call_evaluation(rng: random.Random, event: str, ts: int) -> Json:
    base, ids, _ = _ci_base(rng, ts)
    questions = ("Greeted the caller by name", "Confirmed the caller's identity", "Offered further help")
    scores = [rng.choice((0, 1)) for _ in questions]
    answers = [{"question": q, "answer": "yes" if score else "no", "score": score}
               for q, score in zip(questions, scores, strict=True)]
    base.update(
        scorecard_id=rng.randint(100, 999),
        scorecard_name="Support QA",
        evaluation_type="ai" if event.endswith(".created") else "manual",
        score=float(sum(scores)),
        max_score=float(len(answers)),
        status="completed",
        content=answers,
    )
    if event.endswith(".updated"):
        base.update(updated_at=_iso(ts), updated_by=ids["user"])
    return base


def _realtime(rng: random.Random, event: str, ts: int) -> Json:
    ids = _ids(rng)
    clock = ts * 1000
    utterances = []
    for who, text in _DIALOGUE[:2]:
        duration = rng.randint(1200, 5000)
        utterances.append({"participant_type": who, "user_id": ids["user"] if who == "internal" else None,
                           "timestamp": clock, "duration_ms": duration,
                           "text": text.format(company=rng.choice(_COMPANIES), agent=rng.choice(_FIRST)),
                           "language": "en-US"})
        clock += duration + rng.randint(200, 900)
    return {"id": _uuid(rng),
            "call": {"id": ids["call"], "uuid": "CA" + _hex(rng, 32), "number_id": ids["number"],
                     "direction": rng.choice(("inbound", "outbound"))},
            "utterances": utterances}


_CI_BUILDERS: dict[str, Builder] = {
    "transcription": _transcription,
    "summary": _summary,
    "topics": _topics,
    "sentiment": _sentiment,
    "action_item": _action_item,
    "playbook_result": _playbook_result,
    "custom_summary": _custom_summary,
    "call_evaluation": _call_evaluation,
    "realtime_transcription": _realtime,
}


def _conversation_intelligence(rng: random.Random, event: str, ts: int) -> Json:
    return _CI_BUILDERS[event.split(".", 1)[0]](rng, event, ts)


# AI voice agent: fields that exist only on some of the four events.
_AIVA_END_REASONS = ("answered", "disconnected", "caller_hung_up")


def _ai_voice_agent(rng: random.Random, event: str, ts: int) -> Json:
    ids = _ids(rng)
    kind = event.split(".", 1)[1]
    data: Json = {
        "id": ids["call"],
        "call_id": ids["call"],
        "call_uuid": "CA" + _hex(rng, 32),
        "ai_voice_agent_id": _uuid(rng),
        "ai_voice_agent_name": rng.choice(("Reception agent", "After-hours agent", "Booking assistant")),
        "ai_voice_agent_session_id": _uuid(rng),
        "number_id": ids["number"],
        "created_at": ts,
    }
    started = ts - (0 if kind == "started" else rng.randint(30, 400))
    if kind in ("started", "ended"):
        data.update(external_caller_number=_e164(_us(rng)), aircall_number=_e164(_gb(rng)),
                    started_at=started)
    if kind == "ended":
        data.update(ended_at=ts, call_end_reason=rng.choice(_AIVA_END_REASONS))
    if kind == "escalated":
        data["escalation_reason"] = rng.choice(("Caller asked for a human", "Billing dispute",
                                                "Unrecognised intent"))
    if kind == "summary":
        first, last = _person(rng)
        data["extracted_data"] = {"caller_name": f"{first} {last}",
                                  "reason_for_call": rng.choice(("book an appointment", "billing question")),
                                  "callback_number": _e164(_us(rng)), "preferred_time": "tomorrow morning"}
    return data


def _analytics(rng: random.Random, event: str, ts: int) -> Json:
    export_id = _uuid(rng)
    report = rng.choice(("CALLS_HISTORY", "USER_STATUS_HISTORY", "USER_ACTIVITY_CALLS_HANDLED"))
    data: Json = {"exportID": export_id, "createdAt": _iso(ts - rng.randint(10, 300)), "format": "CSV",
                  "exportName": report, "isZipCompressed": False}
    if event == "analytics.report_created":
        url = (f"https://aircall-analytics-exports.s3.amazonaws.com/{export_id}.csv"
               f"?X-Amz-Expires=3600&X-Amz-Signature={_hex(rng, 64)}")
        data.update(status="COMPLETED", downloadUrl=url, downloadUrlExpiresAt=_iso(ts + 3600))
    else:
        data.update(status="FAILED", errorMessage="Report generation timed out")
    return data


_BUILDERS: dict[str, Builder] = {
    "call": _call,
    "user": _user,
    "contact": _contact,
    "number": _number,
    "team": _team,
    "tag": _tag,
    "message": _message,
    "group_message": _group_message,
    "integration": _integration,
    "conversation_intelligence": _conversation_intelligence,
    "ai_voice_agent": _ai_voice_agent,
    "analytics": _analytics,
}

_ENVELOPE_KEYS = frozenset({"resource", "event", "data"})


def sample_event(event: str, *, token: str = "tok", timestamp: int | None = None,  # noqa: S107
                 rng: random.Random | None = None, **overrides: Any) -> Json:
    """A full webhook body `{resource, event, timestamp, token, data}` for a catalog or .synced event.

    Without `rng` the payload is seeded from the event name, so it is the same on every run.
    `overrides` named `resource`, `event` or `data` replace those envelope fields; any other key is
    set on `data` (e.g. `id=42`, `status="done"`). Raises KeyError for an unknown event.
    """
    spec = lookup(event)
    if spec is None:
        raise KeyError(f"unknown Aircall event: {event}")
    if rng is None:
        rng = random.Random(zlib.crc32(event.encode()))
    ts = timestamp if timestamp is not None else BASE_TIMESTAMP + rng.randint(0, 30 * 86400)
    data = _BUILDERS[spec.family](rng, event, ts)
    body: Json = {"resource": spec.resource, "event": event, "timestamp": ts, "token": token, "data": data}
    for key, value in overrides.items():
        if key in _ENVELOPE_KEYS:
            body[key] = value
        else:
            data[key] = value
    return body
