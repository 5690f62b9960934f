"""The AsyncAPI document is generated from the catalog: one message per event type, valid refs."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from hookline.providers.aircall.asyncapi import ADDRESS, asyncapi_document
from hookline.providers.aircall.catalog import CATALOG
from hookline.testing.aircall.samples import sample_event


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi_document()


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_top_level_structure(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["defaultContentType"] == "application/json"
    (channel,) = doc["channels"].values()
    assert channel["address"] == ADDRESS == "/aircall/webhook"
    (operation,) = doc["operations"].values()
    assert operation["action"] == "receive"
    assert operation["bindings"]["http"]["method"] == "POST"
    assert _resolve(doc, operation["channel"]["$ref"]) is channel


def test_one_message_per_catalog_event(doc: dict[str, Any]) -> None:
    messages = doc["components"]["messages"]
    assert {m["name"] for m in messages.values()} == set(CATALOG)
    assert len(messages) == len(CATALOG) == 69
    (channel,) = doc["channels"].values()
    assert len(channel["messages"]) == 69
    (operation,) = doc["operations"].values()
    assert len(operation["messages"]) == 69
    for ref in operation["messages"]:
        assert _resolve(doc, ref["$ref"]) in channel["messages"].values()


def test_message_payloads_follow_the_catalog(doc: dict[str, Any]) -> None:
    for key, message in doc["components"]["messages"].items():
        spec = CATALOG[message["name"]]
        assert message["summary"] == spec.description
        assert message["tags"] == [{"name": spec.family}]
        payload = message["payload"]
        assert payload["type"] == "object"
        assert set(payload["required"]) == {"resource", "event", "timestamp", "token", "data"}
        assert payload["properties"]["event"]["const"] == spec.name == key
        assert payload["properties"]["resource"]["const"] == spec.resource
        assert spec.model is not None
        assert payload["properties"]["data"] == {"$ref": f"#/components/schemas/{spec.model.__name__}"}


def test_all_refs_resolve(doc: dict[str, Any]) -> None:
    refs = _refs(doc)
    assert refs
    for ref in refs:
        assert _resolve(doc, ref) is not None


def test_schemas_describe_aircall_fields(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    call = schemas["Call"]["properties"]
    for field in ("id", "direction", "status", "started_at", "recording", "user", "contact", "number",
                  "teams", "tags", "comments", "participants"):
        assert field in call, field
    assert schemas["Call"]["required"] == []  # lenient: nothing is required in `data`
    assert schemas["Call"].get("description")


def test_json_serialisable_and_stable(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert json.loads(text) == doc
    assert json.dumps(asyncapi_document(), sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_samples_match_their_message_schema(doc: dict[str, Any]) -> None:
    # Light structural check (no JSON Schema validator dependency): the envelope consts and the
    # data fields of each sample are all declared in the message's schema.
    schemas = doc["components"]["schemas"]
    for event in CATALOG:
        body = sample_event(event)
        payload = doc["components"]["messages"][event]["payload"]
        assert body["event"] == payload["properties"]["event"]["const"]
        assert body["resource"] == payload["properties"]["resource"]["const"]
        declared = _resolve(doc, payload["properties"]["data"]["$ref"])["properties"]
        assert set(body["data"]) <= set(declared), (event, set(body["data"]) - set(declared))
        assert schemas  # referenced components exist
        msgspec.json.encode(body)
