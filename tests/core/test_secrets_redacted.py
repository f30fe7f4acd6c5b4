"""Secrets never reach the journal, the inspected records or a state export: in headers and in bodies."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.journal import REDACTED, redact_stored, redact_text
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig

WRITE_KEY = "app-write-key"


@pytest.fixture
def segment() -> FlaskClient:
    backend = SegmentBackend(SegmentConfig())
    yield segment_app(backend).test_client()
    backend.close()


def test_a_write_key_in_the_body_is_in_no_journal_event_or_export(segment: FlaskClient) -> None:
    assert segment.post("/v1/track", json={"writeKey": WRITE_KEY, "userId": "u", "event": "E"}).status_code == 200
    assert (
        segment.post(
            "/v1/batch", json={"writeKey": WRITE_KEY, "batch": [{"type": "track", "userId": "u", "event": "F"}]}
        ).status_code
        == 200
    )
    journal = segment.get("/_swoosh/journal").get_data(as_text=True)
    events = segment.get("/_swoosh/events").get_json()["items"]
    exported = segment.get("/_swoosh/state").get_json()
    assert WRITE_KEY not in journal and REDACTED in journal
    assert [e["message"]["writeKey"] for e in events] == [REDACTED, REDACTED]
    assert WRITE_KEY not in json.dumps(exported["backend"].get("events", []))
    assert any(s["write_key"] == WRITE_KEY for s in segment.get("/_swoosh/config").get_json()["sources"])


def test_a_pushwoosh_api_token_in_the_body_is_not_journaled() -> None:
    backend = PushwooshBackend(PushwooshConfig())
    client = pushwoosh_app(backend).test_client()
    token = backend.api_tokens[0]
    code = backend.default_app().code
    client.post(
        "/json/1.3/createMessage",
        json={"request": {"auth": token, "application": code, "notifications": [{"content": "hi"}]}},
    )
    journal = client.get("/_swoosh/journal").get_data(as_text=True)
    assert "createMessage" in journal and token not in journal
    backend.close()


@pytest.mark.parametrize(
    "text",
    [
        '{"writeKey": "S3CRET"}',
        '{"request": {"auth": "S3CRET", "x": 1}}',
        '{"Token" : "S3C\\"RET"}',
        '{"api_token": "S3CRET',  # clipped in the middle of the value
        '[{"secret": "S3CRET"}, {"password": "S3CRET"}]',
    ],
)
def test_redact_text_hides_every_secret_field_even_in_a_clipped_body(text: str) -> None:
    assert "S3C" not in redact_text(text)


def test_redact_stored_copies_without_touching_the_original_and_survives_deep_records() -> None:
    record = {"message": {"writeKey": "k", "items": [{"auth": "t"}, 1]}, "write_key": "shown"}
    assert redact_stored(record) == {
        "message": {"writeKey": REDACTED, "items": [{"auth": REDACTED}, 1]},
        "write_key": "shown",
    }
    assert record["message"]["writeKey"] == "k"
    deep: dict = {"writeKey": "k"}
    for _ in range(5000):
        deep = {"a": deep}
    inner = redact_stored(deep)
    for _ in range(5000):
        inner = inner["a"]
    assert inner == {"writeKey": REDACTED}
