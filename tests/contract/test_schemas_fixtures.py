"""Thousands of generated payloads (every fixtures kind with a wire shape) match their schemas, and every
generated bad Segment event breaks the message schema (except the one rule a schema cannot state: size)."""

from __future__ import annotations

import pytest

from swoosh import contracts, fixtures

COUNT = 1500
# Each session action's target -> the schema of its body.
SESSION_SCHEMAS = {
    "segment": "segment/message",
    "pushwoosh:registerDevice": "pushwoosh/register-device",
    "pushwoosh:registerUser": "pushwoosh/register-user",
    "pushwoosh:postEvent": "pushwoosh/post-event",
    "pushwoosh:setTags": "pushwoosh/set-tags",
}


@pytest.mark.parametrize(
    ("kind", "schema", "wrap"),
    [
        ("segment", "segment/message", False),
        ("pushwoosh-devices", "pushwoosh/register-device", True),
        ("message-events", "events/message-event", False),
    ],
)
def test_generated_payloads_validate(kind: str, schema: str, wrap: bool) -> None:
    for item in fixtures.generate(kind, COUNT, seed=11):
        payload = {"request": item} if wrap else item
        assert contracts.validate(schema, payload) == [], payload


def test_message_event_batches_validate() -> None:
    events = list(fixtures.generate("message-events", 300, seed=12))
    for start in range(0, len(events), 100):
        assert contracts.validate("events/webhook-batch", {"events": events[start : start + 100]}) == []


def test_generated_sessions_validate() -> None:
    seen = set()
    for action in fixtures.generate("sessions", COUNT, seed=13):
        schema = SESSION_SCHEMAS[action["target"]]
        seen.add(action["target"])
        assert contracts.validate(schema, action["payload"]) == [], action
    assert seen == set(SESSION_SCHEMAS)


def test_generated_bad_segment_events_break_the_schema() -> None:
    for labelled in fixtures.generate("bad-segment", COUNT, seed=14):
        if labelled["expected_reason"] == "message_too_large":  # a byte size: not expressible in JSON Schema
            continue
        assert contracts.validate("segment/message", labelled["message"]), labelled["expected_reason"]
