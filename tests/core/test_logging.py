"""Each service logs through its own named logger, and no credential ever reaches a log record."""

from __future__ import annotations

import logging

import pytest

from swoosh.emulator.logfields import fields_of
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
    caplog.set_level(logging.DEBUG, logger="swoosh")
    good = {"writeKey": "app-write-key", "userId": "u1", "event": "Signed Up", "messageId": "m-1"}
    client.post("/v1/track", json=good)
    client.post("/v1/track", json=good)
    client.post("/v1/track", json={"writeKey": "app-write-key", "event": "No User"})
    client.post("/v1/track", json={**good, "writeKey": "unknown-key-123", "messageId": "m-2"})
    client.post("/v1/track", data=b"{not json", headers={"Content-Type": "application/json"})
    client.get("/v1/projects/app-write-key/settings")
    backend.close()
    records = [r for r in caplog.records if r.name == "swoosh.segment"]
    lines = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert "app: 1 good, 0 bad, 0 duplicate" in lines
    assert "app: 0 good, 0 bad, 1 duplicate" in lines
    assert any(line.startswith("app: 0 good, 1 bad (") for line in lines)
    assert "dropped 1 message(s) with an unknown write key" in lines
    # the request line of a request whose messages were logged is a detail; a refused request's is not
    detail = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert any(line.startswith("POST /v1/track -> 200") for line in detail)
    assert any(line.startswith("POST /v1/track -> 400") for line in lines)
    assert any(line.startswith("GET /v1/projects/<redacted>/settings -> 200") for line in lines)
    kinds = [(fields_of(r) or {}).get("kind") for r in records]
    assert kinds.count("arrival") == 2 and kinds.count("refusal") == 4 and kinds.count("request") == 4
    _no_secret_in(caplog.records)


def test_segment_records_carry_their_counts_as_fields(caplog: pytest.LogCaptureFixture) -> None:
    backend = SegmentBackend(SegmentConfig())
    client = create_segment(backend).test_client()
    caplog.set_level(logging.INFO, logger="swoosh.segment")
    batch = [
        {"type": "track", "userId": "u1", "event": "A", "messageId": "m-1"},
        {"type": "track", "userId": "u1", "event": "A", "messageId": "m-1"},
        {"type": "track", "event": "No User"},
    ]
    client.post("/v1/batch", json={"writeKey": "app-write-key", "batch": batch})
    backend.close()
    (record,) = [r for r in caplog.records if fields_of(r) and fields_of(r)["kind"] != "request"]
    assert fields_of(record) == {
        "kind": "arrival",
        "source": "app",
        "count": 3,
        "outcomes": {"good": 1, "bad": 1, "duplicate": 1},
        "reasons": {"no_user_anon_id": 1},
    }


def test_the_fake_pushwoosh_logs_its_requests_without_tokens(caplog: pytest.LogCaptureFixture) -> None:
    client = create_pushwoosh(PushwooshBackend()).test_client()
    caplog.set_level(logging.INFO, logger="swoosh")
    client.post("/json/1.3/getTags", json={"request": {"auth": "KEY123", "application": "ABCDE-12345", "hwid": "x"}})
    client.post("/integration-segment/v1/ping", headers={"Authorization": "Token KEY123"})
    client.post("/json/1.3/createMessage", json={"request": {"auth": "WRONG", "application": "ABCDE-12345"}})
    client.post(
        "/json/1.3/registerDevice", json={"request": {"application": "ABCDE-12345", "hwid": "x", "device_type": 3}}
    )
    records = [r for r in caplog.records if r.name == "swoosh.pushwoosh"]
    lines = [r.getMessage() for r in records]
    assert any(line.startswith("POST /json/1.3/getTags -> 200") for line in lines)
    assert any(line.startswith("POST /integration-segment/v1/ping ->") for line in lines)
    # /json/1.3 refuses with HTTP 200 and a status_code: still a refusal, with the reply's text
    shown = [fields_of(r) for r in records]
    assert {"kind": "arrival", "method": "POST", "path": "/json/1.3/registerDevice", "status": 200} in [
        {k: v for k, v in f.items() if k != "duration_ms"} for f in shown if f
    ]
    assert any(f and f["kind"] == "refusal" and f.get("reason") == "210 Account not found" for f in shown)
    _no_secret_in(caplog.records)
