"""What Segment adds to an accepted message, and how it corrects timestamps."""

from datetime import UTC, datetime

import pytest

from swoosh.emulator.clock import parse_iso
from swoosh.emulator.ksuid import ksuid_timestamp
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.messages import corrected_timestamp, merge_envelope
from tests.segment.conftest import APP_KEY


def ingest_one(backend: SegmentBackend, call_type: str, message: dict) -> dict:
    backend.ingest(call_type, message, APP_KEY)
    return backend.events({"status": "good"})[-1]["message"]


def test_accepted_message_gets_segment_fields(backend: SegmentBackend) -> None:
    message = ingest_one(backend, "track", {"userId": "u1", "event": "Push Sent"})
    assert message["messageId"].startswith("api-") and len(message["messageId"]) == 31
    assert abs(ksuid_timestamp(message["messageId"][4:]) - backend.runtime.clock.time()) < 5
    assert message["type"] == "track"
    assert message["channel"] == "server"
    assert message["version"] == 2
    assert message["integrations"] == {}
    assert message["context"]["library"] == {"name": "unknown", "version": "unknown"}
    assert message["projectId"] == "src_app"
    assert message["writeKey"] == APP_KEY
    assert message["timestamp"] == message["receivedAt"]
    assert "originalTimestamp" not in message
    assert message["receivedAt"].endswith("Z") and len(message["receivedAt"]) == 24


def test_client_values_are_kept(backend: SegmentBackend) -> None:
    message = ingest_one(
        backend,
        "identify",
        {
            "userId": "u1",
            "messageId": "m-1",
            "integrations": {"All": False},
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
            "traits": {"a": 1},
        },
    )
    assert message["messageId"] == "m-1"
    assert message["integrations"] == {"All": False}
    assert message["context"]["library"]["name"] == "analytics-python"
    assert message["traits"] == {"a": 1}


def test_route_type_wins_over_body_type(backend: SegmentBackend) -> None:
    assert ingest_one(backend, "page", {"anonymousId": "a", "type": "track"})["type"] == "page"


def test_clock_skew_is_corrected_from_sent_at(backend: SegmentBackend) -> None:
    message = ingest_one(
        backend,
        "track",
        {"userId": "u", "event": "e", "timestamp": "2026-01-01T10:00:00.000Z", "sentAt": "2026-01-01T10:00:05Z"},
    )
    received = parse_iso(message["receivedAt"])
    assert message["originalTimestamp"] == "2026-01-01T10:00:00.000Z"
    assert parse_iso(message["timestamp"]) == received.replace(microsecond=received.microsecond) - (
        parse_iso("2026-01-01T10:00:05Z") - parse_iso("2026-01-01T10:00:00Z")
    )
    assert message["sentAt"] == "2026-01-01T10:00:05.000Z"


def test_without_sent_at_timestamp_is_the_client_timestamp(backend: SegmentBackend) -> None:
    message = ingest_one(backend, "track", {"userId": "u", "event": "e", "timestamp": "2026-01-01T12:00:00+02:00"})
    assert message["timestamp"] == "2026-01-01T10:00:00.000Z"


@pytest.mark.parametrize(
    ("received", "original", "sent", "expected"),
    [
        ("2026-01-01T00:00:10Z", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:09Z"),
        ("2026-01-01T00:00:10Z", None, "2026-01-01T00:00:01Z", "2026-01-01T00:00:10Z"),
        ("2026-01-01T00:00:10Z", "2026-01-01T00:00:00.123456Z", None, "2026-01-01T00:00:00.123456Z"),
    ],
)
def test_corrected_timestamp_rule(received: str, original: str | None, sent: str | None, expected: str) -> None:
    result = corrected_timestamp(parse_iso(received), parse_iso(original), parse_iso(sent))
    assert result == parse_iso(expected)


def test_batch_envelope_merges_into_items_and_item_keys_win(backend: SegmentBackend) -> None:
    backend.ingest(
        "batch",
        {
            "writeKey": APP_KEY,
            "sentAt": "2026-01-01T00:00:01Z",
            "context": {"ip": "1.2.3.4", "locale": "en-US"},
            "integrations": {"All": True},
            "batch": [
                {"type": "track", "userId": "u", "event": "a", "context": {"locale": "de-DE"}},
                {"type": "identify", "userId": "u", "sentAt": "2026-01-01T00:00:02Z"},
            ],
        },
    )
    first, second = (e["message"] for e in backend.events({}))
    assert first["context"]["ip"] == "1.2.3.4" and first["context"]["locale"] == "de-DE"
    assert first["integrations"] == {"All": True}
    assert first["sentAt"] == "2026-01-01T00:00:01.000Z"
    assert second["sentAt"] == "2026-01-01T00:00:02.000Z"
    assert merge_envelope({"a": 1}, {}) == {"a": 1}


def test_duplicate_message_ids_are_dropped_for_24_hours_across_sources(backend: SegmentBackend) -> None:
    backend.ingest("track", {"userId": "u", "event": "e", "messageId": "same"}, APP_KEY)
    backend.ingest("track", {"userId": "u", "event": "e", "messageId": "same"}, "pushwoosh-write-key")
    assert backend.counts()["good"] == 1 and backend.counts()["duplicate"] == 1
    duplicate = backend.events({"status": "duplicate"})[0]
    assert duplicate["source"] == "pushwoosh" and duplicate["message"]["messageId"] == "same"
    backend.runtime.clock.advance(24 * 3600 + 1)
    backend.ingest("track", {"userId": "u", "event": "e", "messageId": "same"}, APP_KEY)
    assert backend.counts()["good"] == 2


def test_numeric_user_ids_are_stringified(backend: SegmentBackend) -> None:
    assert ingest_one(backend, "identify", {"userId": 42})["userId"] == "42"


def test_since_filter_and_limit(backend: SegmentBackend) -> None:
    backend.ingest("track", {"userId": "u", "event": "old"}, APP_KEY)
    backend.runtime.clock.advance(60)
    cut = datetime.fromtimestamp(backend.runtime.clock.time() - 1, tz=UTC).isoformat()
    backend.ingest("track", {"userId": "u", "event": "new"}, APP_KEY)
    assert [e["message"]["event"] for e in backend.events({"since": cut})] == ["new"]
    assert len(backend.events({}, limit=1)) == 1
    with pytest.raises(ValueError):
        backend.events({"since": "last tuesday"})


def test_state_import_replaces_sources(backend: SegmentBackend) -> None:
    from swoosh.emulator.segment.backend import Source

    baseline = backend.export_state()
    backend.add_source(Source("web", "web-key", "src_web"))
    backend.import_state(baseline)
    assert list(backend.sources) == ["app", "pushwoosh"]
    assert backend.source_for_key("web-key") is None


def test_client_side_libraries_get_the_client_channel(backend: SegmentBackend) -> None:
    """Segment records analytics.js events with `channel: "client"`; server libraries keep "server"."""
    browser = {"userId": "u1", "event": "Viewed", "context": {"library": {"name": "analytics.js", "version": "1.84"}}}
    assert ingest_one(backend, "track", browser)["channel"] == "client"
    python = {**browser, "context": {"library": {"name": "analytics-python", "version": "2.4.0"}}}
    assert ingest_one(backend, "track", python)["channel"] == "server"
