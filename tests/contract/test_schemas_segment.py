"""Segment schemas: the reference examples validate, broken variants fail at the right path, and what
the fake Segment emits (enriched events, as delivered and stored) validates."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from swoosh import contracts, fixtures
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.serving import ServerThread
from tests.segment.test_delivery_and_sdk import Receiver

# Copied from the Segment Tracking API reference and the captured SDK traffic (tests never read /work/shared).
CONTEXT = {
    "active": True,
    "app": {"name": "Shop", "version": "3.4.0", "build": "340", "namespace": "com.shop.app"},
    "campaign": {"name": "spring", "source": "newsletter", "medium": "email", "term": "shoes", "content": "a"},
    "device": {
        "id": "2d6930da9e24fea9",
        "advertisingId": "ad-1",
        "adTrackingEnabled": False,
        "manufacturer": "OnePlus",
        "model": "CPH2449",
        "name": "OnePlus 11",
        "type": "android",
        "token": "fcm-token",
    },
    "ip": "89.13.143.83",
    "library": {"name": "analytics-python", "version": "2.4.0"},
    "locale": "en-US",
    "location": {
        "city": "San Francisco",
        "country": "United States",
        "latitude": 40.2964197,
        "longitude": -76.9411617,
        "region": "CA",
        "speed": 0,
    },
    "network": {"bluetooth": False, "carrier": "T-Mobile", "cellular": True, "wifi": False},
    "os": {"name": "Android", "version": "14"},
    "page": {"path": "/", "referrer": "", "search": "", "title": "Home", "url": "https://shop.example/"},
    "screen": {"density": 2, "height": 2400, "width": 1080},
    "timezone": "Europe/Amsterdam",
    "traits": {"email": "a@x.io"},
    "userAgent": "Mozilla/5.0 (iPhone; ...)",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "identify": {
        "userId": "u1",
        "traits": {"name": "Ann", "email": "a@x.io", "searched_product": "sports shoes"},
        "context": CONTEXT,
        "timestamp": "2026-11-22T14:08:43.998Z",
    },
    "track": {
        "userId": "u1",
        "event": "SubscribedToOffers",
        "properties": {"plan": "gold"},
        "timestamp": "2026-11-22T14:08:43.998Z",
        "messageId": "m-1",
        "integrations": {"All": True, "Mixpanel": False},
    },
    "page": {"anonymousId": "a1", "name": "Home", "category": "Shop", "properties": {"url": "https://shop.example/"}},
    "screen": {"userId": 42, "name": "Welcome", "properties": {}},
    "group": {"userId": "u1", "groupId": 7, "traits": {"name": "Initech"}},
    "alias": {"previousId": "a1", "userId": "u1"},
}
# How each call type's example breaks, and where the problem must be reported.
BREAKAGES: list[tuple[str, str, Any, str]] = [
    ("track", "event", None, "$"),
    ("track", "event", "", "$.event"),
    ("track", "event", 5, "$.event"),
    ("track", "properties", [1], "$.properties"),
    ("track", "messageId", "m" * 101, "$.messageId"),
    ("track", "userId", "", "$"),
    ("identify", "traits", "Ann", "$.traits"),
    ("identify", "context", {"location": {"latitude": "north"}}, "$.context.location.latitude"),
    ("identify", "context", {"device": {"adTrackingEnabled": "no"}}, "$.context.device.adTrackingEnabled"),
    ("page", "anonymousId", None, "$"),
    ("group", "groupId", "", "$.groupId"),
    ("group", "groupId", None, "$"),
    ("alias", "previousId", None, "$"),
    ("alias", "userId", None, "$"),
]


@pytest.mark.parametrize("call_type", sorted(EXAMPLES))
def test_reference_examples_validate(call_type: str) -> None:
    assert contracts.validate(f"segment/{call_type}", EXAMPLES[call_type]) == []
    as_batch_item = {"type": call_type, **EXAMPLES[call_type]}
    assert contracts.validate("segment/message", as_batch_item) == []


@pytest.mark.parametrize(("call_type", "key", "value", "path"), BREAKAGES)
def test_broken_examples_fail_at_the_right_path(call_type: str, key: str, value: Any, path: str) -> None:
    message = copy.deepcopy(EXAMPLES[call_type])
    if value is None:
        message.pop(key)
    else:
        message[key] = value
    problems = contracts.validate(f"segment/{call_type}", message)
    assert {p.path for p in problems} == {path}, problems
    batch_problems = contracts.validate("segment/batch", {"batch": [{"type": call_type, **message}]})
    assert {p.path for p in batch_problems} == {path.replace("$", "$.batch[0]", 1)}


def test_batch_envelope() -> None:
    envelope = {
        "batch": [{"type": t, **m} for t, m in EXAMPLES.items()],
        "sentAt": "2026-11-22T14:08:44.100Z",
        "writeKey": "app-write-key",
        "context": {"library": {"name": "analytics-node", "version": "3.1.0"}},
        "integrations": {},
    }
    assert contracts.validate("segment/batch", envelope) == []
    assert [p.path for p in contracts.validate("segment/batch", {"batch": {}})] == ["$.batch"]
    assert [p.path for p in contracts.validate("segment/batch", {})] == ["$"]
    assert [p.path for p in contracts.validate("segment/batch", {"batch": [EXAMPLES["track"]]})] == ["$.batch[0]"]
    too_many = {"batch": [{"type": "track", "userId": "u", "event": "x"}] * 2501}
    assert [str(p) for p in contracts.validate("segment/batch", too_many)] == [
        "$.batch: an array of 2501 items is too long"
    ]


@pytest.fixture
def backend() -> Iterator[SegmentBackend]:
    instance = SegmentBackend(SegmentConfig())
    yield instance
    instance.close()


def test_what_the_fake_segment_stores_and_delivers_validates_as_enriched(backend: SegmentBackend) -> None:
    client = create_app(backend).test_client()
    batch = list(fixtures.generate("segment", 300, seed=5))
    batch += [{"type": t, **m} for t, m in EXAMPLES.items()]
    batch.append({"type": "track", "anonymousId": 12, "event": "Numeric Ids"})  # ids stringified by the fake
    reply = client.post(
        "/v1/batch", json={"batch": batch, "writeKey": "app-write-key", "sentAt": "2026-11-22T14:08:44.1+01:00"}
    )
    assert reply.status_code == 200 and reply.get_json() == {"success": True}
    single = client.post("/v1/track", json={"userId": "u1", "event": "Solo", "writeKey": "app-write-key"})
    assert single.status_code == 200
    stored = [e["message"] for e in backend.events({"status": "good"}, None)]
    assert len(stored) == len(batch) + 1
    for message in stored:
        assert contracts.validate("segment/enriched", message) == [], message


def test_enriched_requires_what_segment_adds() -> None:
    incoming = {"type": "track", "userId": "u1", "event": "x"}
    problems = {p.message for p in contracts.validate("segment/enriched", incoming)}
    for added in ("messageId", "receivedAt", "timestamp", "channel", "version", "projectId", "writeKey"):
        assert f"'{added}' is a required property" in problems
    enriched = {
        **incoming,
        "messageId": "api-1",
        "receivedAt": "2026-11-22T14:08:44.100Z",
        "timestamp": "2026-11-22T14:08:44+00:00",
        "channel": "server",
        "version": 2,
        "integrations": {},
        "context": {"library": {"name": "unknown", "version": "unknown"}},
        "projectId": "src_app",
        "writeKey": "app-write-key",
    }
    (problem,) = contracts.validate("segment/enriched", enriched)
    assert problem.path == "$.timestamp"
    assert problem.message.startswith("'2026-11-22T14:08:44+00:00' does not match")


def test_what_the_fake_segment_delivers_to_destinations_validates(backend: SegmentBackend) -> None:
    hook = Receiver()
    with ServerThread(hook.app) as server:
        backend.add_destination({"source": "app", "name": "bridge", "url": f"{server.url}/hook"})
        for call_type, message in EXAMPLES.items():
            backend.ingest(call_type, copy.deepcopy(message), "app-write-key")
        assert backend.runtime.wait_until(
            lambda: len(backend.deliverer.log({"state": "delivered"}, None)) >= len(EXAMPLES), 10
        )
    assert len(hook.received) == len(EXAMPLES)
    for body, _headers in hook.received:
        delivered = json.loads(body)
        assert contracts.validate("segment/enriched", delivered) == [], delivered
        assert contracts.validate("events/bridge-segment-body", delivered) == []


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"}, 400),
        (json.dumps({"batch": [], "writeKey": ""}).encode(), {}, 400),
        (b"x" * 600_000, {}, 400),
    ],
)
def test_the_fake_segment_error_replies_carry_code_and_message(
    backend: SegmentBackend, body: bytes, headers: dict[str, str], status: int
) -> None:
    reply = create_app(backend).test_client().post("/v1/batch", data=body, headers=headers)
    assert reply.status_code == status
    assert contracts.validate("segment/error", reply.get_json()) == []


def test_the_fake_segment_success_and_strict_replies_validate() -> None:
    lenient = SegmentBackend(SegmentConfig())
    strict = SegmentBackend(SegmentConfig(strict=True))
    try:
        body = {"batch": [{"type": "track", "event": "anonymous"}], "writeKey": "app-write-key"}
        ok = create_app(lenient).test_client().post("/v1/batch", json=body)
        assert (ok.status_code, contracts.validate("segment/reply", ok.get_json())) == (200, [])
        refused = create_app(strict).test_client().post("/v1/batch", json=body)
        assert refused.status_code == 400
        assert contracts.validate("segment/error", refused.get_json()) == []
        assert refused.get_json()["errors"] == [{"index": 0, "reason": "no_user_anon_id"}]
    finally:
        lenient.close()
        strict.close()
