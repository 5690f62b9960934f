"""The Aircall event catalog: complete, well-formed, and consistent with its families."""

from __future__ import annotations

import re
from collections import Counter

import msgspec
import pytest

from hookline.providers.aircall import models
from hookline.providers.aircall.catalog import CATALOG, FAMILIES, SYNCED, family_of, is_known, lookup

NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*(\.v2)?$")

# Aircall's list, family by family (developer.aircall.io "Webhooks" / "Events").
EXPECTED_PER_FAMILY = {
    "call": 19,
    "user": 16,  # 8 V1 + 8 .v2
    "contact": 3,
    "number": 4,
    "team": 2,
    "message": 3,
    "group_message": 3,
    "integration": 1,
    "conversation_intelligence": 12,
    "ai_voice_agent": 4,
    "analytics": 2,
}


def test_catalog_has_every_aircall_event_type() -> None:
    assert len(CATALOG) == 69
    assert Counter(t.family for t in CATALOG.values()) == EXPECTED_PER_FAMILY


def test_names_are_unique_and_well_formed() -> None:
    for key, spec in {**CATALOG, **SYNCED}.items():
        assert key == spec.name
        assert NAME.match(spec.name), spec.name
        assert spec.description and spec.description.endswith("."), spec.name
    assert not set(CATALOG) & set(SYNCED)


def test_families_are_the_documented_ones() -> None:
    assert {t.family for t in CATALOG.values()} == set(FAMILIES)
    for spec in CATALOG.values():
        prefix = spec.name.split(".", 1)[0]
        if spec.family != "conversation_intelligence":
            assert prefix == spec.family, spec.name


def test_resource_is_aircalls_envelope_value() -> None:
    assert CATALOG["call.created"].resource == "call"
    assert CATALOG["group_message.sent"].resource == "message"
    assert CATALOG["summary.created"].resource == "conversation_intelligence"


def test_every_event_has_a_struct_model() -> None:
    for spec in {**CATALOG, **SYNCED}.values():
        assert spec.model is not None and issubclass(spec.model, msgspec.Struct), spec.name
    assert CATALOG["call.ended"].model is models.Call
    assert CATALOG["user.wut_start.v2"].model is models.User
    assert CATALOG["transcription.created"].model is models.Transcription


def test_user_v1_and_v2_pair_up() -> None:
    v2 = {n.removesuffix(".v2") for n in CATALOG if n.endswith(".v2")}
    v1 = {n for n, t in CATALOG.items() if t.family == "user" and not n.endswith(".v2")}
    assert v1 == v2
    assert all(CATALOG[n].deprecated for n in v1)
    assert not any(CATALOG[n + ".v2"].deprecated for n in v1)


def test_synced_pseudo_events() -> None:
    assert set(SYNCED) == {"call.synced", "user.synced", "contact.synced", "number.synced", "team.synced",
                           "tag.synced"}
    assert all(t.origin == "backfill" for t in SYNCED.values())
    assert all(t.origin == "webhook" for t in CATALOG.values())
    assert SYNCED["tag.synced"].model is models.Tag


@pytest.mark.parametrize("event", [*CATALOG, *SYNCED])
def test_is_known_and_family_of(event: str) -> None:
    assert is_known(event)
    spec = lookup(event)
    assert spec is not None
    assert family_of(event) == spec.family


@pytest.mark.parametrize("event", ["", "call", "call.exploded", "CALL.CREATED", "user.created.v3",
                                   "tag.created", "call.created ", "synced"])
def test_unknown_events(event: str) -> None:
    assert not is_known(event)
    assert family_of(event) is None
    assert lookup(event) is None
