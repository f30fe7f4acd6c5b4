"""Each service logs through its own named logger, and no credential ever reaches a log record."""

from __future__ import annotations

import logging

import pytest

from swoosh.emulator.pushwoosh.app import create_app as create_pushwoosh
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.segment.app import create_app as create_segment
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig

SECRETS = ("app-write-key", "KEY123", "DEVICE-TOKEN", "unknown-key-123")


def _no_secret_in(records: list[logging.LogRecord]) -> None:
    for record in records:
        text = record.getMessage()
        assert not any(secret in text for secret in SECRETS), text


def test_the_fake_segment_logs_arrivals_and_refusals_by_source(caplog: pytest.LogCaptureFixture) -> None:
    backend = SegmentBackend(SegmentConfig())
    client = create_segment(backend).test_client()
    caplog.set_level(logging.INFO, logger="swoosh")
    good = {"writeKey": "app-write-key", "userId": "u1", "event": "Signed Up", "messageId": "m-1"}
    client.post("/v1/track", json=good)
    client.post("/v1/track", json=good)
    client.post("/v1/track", json={"writeKey": "app-write-key", "event": "No User"})
    client.post("/v1/track", json={**good, "writeKey": "unknown-key-123", "messageId": "m-2"})
    backend.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "swoosh.segment"]
    assert "app: 1 good, 0 bad, 0 duplicate" in lines
    assert "app: 0 good, 0 bad, 1 duplicate" in lines
    assert any(line.startswith("app: 0 good, 1 bad (") for line in lines)
    assert "dropped 1 message(s) with an unknown write key" in lines
    assert any(line.startswith("POST /v1/track -> 200") for line in lines)
    _no_secret_in(caplog.records)


def test_the_fake_pushwoosh_logs_its_requests_without_tokens(caplog: pytest.LogCaptureFixture) -> None:
    client = create_pushwoosh(PushwooshBackend()).test_client()
    caplog.set_level(logging.INFO, logger="swoosh")
    client.post("/json/1.3/getTags", json={"request": {"auth": "KEY123", "application": "ABCDE-12345", "hwid": "x"}})
    client.post("/integration-segment/v1/ping", headers={"Authorization": "Token KEY123"})
    lines = [r.getMessage() for r in caplog.records if r.name == "swoosh.pushwoosh"]
    assert any(line.startswith("POST /json/1.3/getTags -> 200") for line in lines)
    assert any(line.startswith("POST /integration-segment/v1/ping ->") for line in lines)
    _no_secret_in(caplog.records)
