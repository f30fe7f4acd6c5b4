"""Message events, the bridge's ingress bodies, and the Pushwoosh source's tracking plan (as a schema and
as the plan file the fake Segment enforces: the docs recipe)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from swoosh import contracts
from swoosh.bridge.source import SOURCE_EVENTS, parse_message_event, track_message
from swoosh.contracts.tracking_plan import PLAN_FILE, render_plan, source_events_plan
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig

MESSAGE_EVENT = {
    "id": "307E-76BED83C-D2DF7BA0:45AAD005-C7E9-4E9B-BAF5-EB8E20E024B8:Push Sent",
    "event": "Push Sent",
    "message_code": "307E-76BED83C-D2DF7BA0",
    "campaign_code": None,
    "message_type": "Push",
    "application": "ABCDE-12345",
    "hwid": "45AAD005-C7E9-4E9B-BAF5-EB8E20E024B8",
    "user_id": "usr_492002a270b12a00",
    "device_type": 1,
    "platform": "iOS",
    "timestamp": "2026-11-22T14:08:43.998Z",
}
WEBHOOK_EVENT = {
    "event_name": "Email Delivered",
    "message_id": 42,
    "message_code": "307E-76BED83C-D2DF7BA0",
    "campaign_id": None,
    "platform": "Email",
    "application_code": "ABCDE-12345",
    "hwid": "ann@example.com",
    "user_id": "u1",
    "payload": {},
}
KIND = {
    "Push": ("Push", 1, "iOS", "45AAD005-C7E9-4E9B-BAF5-EB8E20E024B8"),
    "Email": ("Email", 14, "Email", "a@x.io"),
    "SMS": ("SMS", 18, "SMS", "+15123234567"),
}


def message_event(name: str) -> dict[str, Any]:
    kind, device_type, platform, hwid = KIND[name.split(" ")[0]]
    return {
        **MESSAGE_EVENT,
        "id": f"307E-76BED83C-D2DF7BA0:{hwid}:{name}",
        "event": name,
        "message_type": kind,
        "device_type": device_type,
        "platform": platform,
        "hwid": hwid,
        "campaign_code": "CAMPA-IGN01",
    }


@pytest.mark.parametrize("name", SOURCE_EVENTS)
def test_each_of_the_seven_events_validates(name: str) -> None:
    assert contracts.validate("events/message-event", message_event(name)) == []
    assert contracts.validate("events/bridge-message-event", message_event(name)) == []


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("event", "Push Opened", "$.event"),
        ("message_code", "not-a-code", "$.message_code"),
        ("message_type", "Fax", "$.message_type"),
        ("message_type", "Email", "$.message_type"),  # a Push event cannot be an Email message
        ("device_type", "1", "$.device_type"),
        ("timestamp", "2026-11-22T14:08:43Z", "$.timestamp"),
        ("application", "ABCDE12345", "$.application"),
        ("user_id", KeyError, "$"),
    ],
)
def test_broken_message_events_fail_at_the_right_path(key: str, value: Any, path: str) -> None:
    broken = copy.deepcopy(MESSAGE_EVENT)
    if value is KeyError:
        del broken[key]
    else:
        broken[key] = value
    assert {p.path for p in contracts.validate("events/message-event", broken)} == {path}


def test_generic_webhook_event() -> None:
    assert contracts.validate("events/webhook-event", WEBHOOK_EVENT) == []
    assert contracts.validate("events/bridge-message-event", WEBHOOK_EVENT) == []
    assert {p.path for p in contracts.validate("events/webhook-event", {**WEBHOOK_EVENT, "hwid": ""})} == {"$.hwid"}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([1], "a message event must be a JSON object"),
        ({"hwid": "h", "message_code": "c"}, "missing event (or event_name)"),
        ({"event": "", "event_name": "", "hwid": "h", "message_code": "c"}, "missing event (or event_name)"),
        ({"event": "Push Sent", "message_code": "c"}, "missing hwid"),
        ({"event": "Push Sent", "hwid": "h", "message_id": ""}, "missing message_code"),
    ],
)
def test_bridge_rejection_reasons_come_from_the_schema(event: Any, reason: str) -> None:
    problems = contracts.validate("events/bridge-message-event", event)
    assert problems[0].message == reason
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_message_event(event)


@pytest.mark.parametrize(
    ("name", "body", "valid"),
    [
        ("events/bridge-pushwoosh-body", {"events": [MESSAGE_EVENT, WEBHOOK_EVENT]}, True),
        ("events/bridge-pushwoosh-body", [MESSAGE_EVENT], True),
        ("events/bridge-pushwoosh-body", MESSAGE_EVENT, True),
        ("events/bridge-pushwoosh-body", "Push Sent", False),
        ("events/bridge-segment-body", {"batch": [{"type": "track", "event": "x"}]}, True),
        ("events/bridge-segment-body", [{"type": "identify"}], True),
        ("events/bridge-segment-body", {"type": "page"}, True),
        ("events/bridge-segment-body", 7, False),
        ("events/bridge-segment-body", [{"event": "no type"}], False),
    ],
)
def test_bridge_ingress_bodies(name: str, body: Any, valid: bool) -> None:
    assert (contracts.validate(name, body) == []) is valid


def test_message_event_batch_is_at_most_100() -> None:
    assert contracts.validate("events/webhook-batch", {"events": [MESSAGE_EVENT] * 100}) == []
    assert [p.path for p in contracts.validate("events/webhook-batch", {"events": [MESSAGE_EVENT] * 101})] == [
        "$.events"
    ]


@pytest.mark.parametrize("name", SOURCE_EVENTS)
def test_the_bridge_turns_every_event_into_a_tracking_plan_track_call(name: str) -> None:
    for raw in (message_event(name), {**WEBHOOK_EVENT, "event_name": name}):
        track = track_message(parse_message_event(raw))
        assert contracts.validate("events/tracking-plan", track) == [], track


def test_tracking_plan_schema_refuses_what_the_source_never_sends() -> None:
    track = track_message(parse_message_event(message_event("SMS Sent")))
    assert [p.path for p in contracts.validate("events/tracking-plan", {**track, "event": "Order Completed"})] == [
        "$.event"
    ]
    bad = copy.deepcopy(track)
    bad["properties"]["message_type"] = "Fax"
    assert [p.path for p in contracts.validate("events/tracking-plan", bad)] == ["$.properties.message_type"]
    del bad["properties"]["campaign_code"]
    assert {p.path for p in contracts.validate("events/tracking-plan", bad)} == {
        "$.properties",
        "$.properties.message_type",
    }


def test_committed_plan_file_is_derived_from_the_schema() -> None:
    assert PLAN_FILE.read_text() == render_plan(), (
        "run: python -c 'from contracts.tracking_plan import *; PLAN_FILE.write_text(render_plan())'"
    )
    assert sorted(source_events_plan()["events"]) == sorted(SOURCE_EVENTS)


@pytest.fixture
def segment() -> Iterator[SegmentBackend]:
    instance = SegmentBackend(SegmentConfig())
    yield instance
    instance.close()


def test_recipe_enforce_the_tracking_plan_file_on_the_fake_segment(segment: SegmentBackend) -> None:
    """docs/contracts.md, "Enforce a tracking plan file on the fake Segment"."""
    client = create_app(segment).test_client()
    plan = PLAN_FILE.read_text()
    reply = client.put("/_swoosh/sources/pushwoosh/tracking-plan", data=plan, content_type="application/json")
    assert reply.status_code == 200, reply.get_json()
    good = track_message(parse_message_event(message_event("Push Delivered")))
    wrong = copy.deepcopy(track_message(parse_message_event(message_event("Email Bounced"))))
    wrong["properties"]["message_type"] = "Letter"
    reply = client.post("/v1/batch", json={"batch": [good, wrong], "writeKey": "pushwoosh-write-key"})
    assert reply.status_code == 200
    kept = segment.events({"status": "good"}, None)
    blocked = segment.events({"status": "bad"}, None)
    assert [e["message"]["event"] for e in kept] == ["Push Delivered"]
    assert [(e["message"]["event"], e["reason"]) for e in blocked] == [("Email Bounced", "blocked_by_tracking_plan")]
