"""One bad event never sinks a batch: held back alone, or the refused batch narrowed down to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from swoosh.bridge.client import BridgeClient
from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig

APP, KEY = "ABCDE-12345", "KEY123"
TIME = "2026-11-22T14:08:43.998Z"
# What Segment's destination sends and Pushwoosh refuses: timestamps that are not RFC 3339 strings.
BAD_TIMESTAMPS = {17: 1763820523, 50: "20261122", 83: "2026-11-22 14:08:43"}
REFUSAL = "Time.UnmarshalJSON: input is not a JSON string"


def track(i: int) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": f"u{i}",
        "event": f"Event {i}",
        "messageId": f"m{i}",
        "timestamp": BAD_TIMESTAMPS.get(i, TIME),
        "properties": {"i": i},
    }


@pytest.fixture
def pushwoosh() -> Iterator[PushwooshBackend]:
    backend = PushwooshBackend(PushwooshConfig())
    yield backend
    backend.close()


def bridge_to(transport: httpx.BaseTransport, tmp_path: Path, **settings: Any) -> Bridge:
    base = BridgeSettings(app_code=APP, api_key=KEY, pushwoosh_url="http://pushwoosh.test", batching=True)
    for key, value in settings.items():
        setattr(base, key, value)
    return Bridge(base, Outbox(tmp_path / "o.db"), transport=transport)


@pytest.mark.parametrize("check_contract", [True, False], ids=["held-back", "narrowed"])
def test_a_100_event_batch_with_3_bad_events_delivers_97(
    pushwoosh: PushwooshBackend, tmp_path: Path, check_contract: bool
) -> None:
    """Held back before sending (the contract check), or, with it off, the fake's refusal of the whole
    batch (its reply names no event) narrowed down by halves: either way 97 arrive, 3 dead letters."""
    requests: list[httpx.Request] = []
    fake = httpx.WSGITransport(app=pushwoosh_app(pushwoosh))

    class Recording(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            requests.append(request)
            return fake.handle_request(request)

    bridge = bridge_to(Recording(), tmp_path)
    bridge.mappings.check_contract = check_contract
    bridge.accept_segment({"batch": [track(i) for i in range(100)]})
    bridge.drain_segment()

    assert sorted(int(e["name"].split()[1]) for e in pushwoosh.query("events", {}, None)) == sorted(
        set(range(100)) - set(BAD_TIMESTAMPS)
    )
    dead = bridge.outbox.dead_letters("segment")
    assert sorted(orjson.loads(d["payload"])["messageId"] for d in dead) == sorted(f"m{i}" for i in BAD_TIMESTAMPS)
    stats = bridge.describe_stats()["segment"]
    assert (stats["delivered"], stats["dead_lettered"], stats["queued"]) == (97, 3, 0)
    if check_contract:
        assert all((d["last_status"], d["last_error"]) == (None, REFUSAL) for d in dead)
        assert len(requests) == 1 and stats["invalid"] == 3  # one batch of the 97, nothing refused
    else:
        assert all(d["last_status"] == 400 and REFUSAL in d["last_error"] for d in dead)
        assert stats["narrowed"] > 0 and len(requests) < 2 * 100  # bisecting: bounded, far under one per event
    bridge.outbox.close()


def test_a_reply_that_names_the_event_narrows_without_bisecting(tmp_path: Path) -> None:
    bodies: list[dict[str, Any]] = []

    def pushwoosh(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        bodies.append(body)
        for index, event in enumerate(body["events"]):
            if not isinstance(event["timestamp"], str) or "T" not in event["timestamp"]:
                return httpx.Response(400, json={"message": f"events[{index}].timestamp is not in the expected format"})
        return httpx.Response(200)

    bridge = bridge_to(httpx.MockTransport(pushwoosh), tmp_path)
    bridge.mappings.check_contract = False
    bridge.accept_segment([track(i) for i in range(100)])
    bridge.drain_segment()
    # the whole batch, then the rest after each named event: 4 requests, the last one carrying the 97
    assert [len(b["events"]) for b in bodies] == [100, 99, 98, 97]
    dead = bridge.outbox.dead_letters()
    assert [d["last_error"] for d in dead] == [
        '{"message":"events[17].timestamp is not in the expected format"}',
        '{"message":"events[49].timestamp is not in the expected format"}',
        '{"message":"events[81].timestamp is not in the expected format"}',
    ]
    bridge.outbox.close()


def test_credentials_refused_are_not_narrowed(tmp_path: Path) -> None:
    """A 401 refuses every event alike: one request, the batch dead-lettered, no bisecting."""
    sent: list[httpx.Request] = []

    def pushwoosh(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(401, json={"message": "unauthorized"})

    bridge = bridge_to(httpx.MockTransport(pushwoosh), tmp_path)
    bridge.accept_segment([track(i) for i in range(10) if i not in BAD_TIMESTAMPS])
    bridge.drain_segment()
    assert len(sent) == 1 and len(bridge.outbox.dead_letters()) == 10
    bridge.outbox.close()


def test_skips_are_counted_per_reason_and_listed_per_event(tmp_path: Path) -> None:
    bridge = bridge_to(httpx.MockTransport(lambda request: httpx.Response(200)), tmp_path)
    listed = {**track(1), "properties": [1, 2]}
    anonymous = {**track(2), "userId": None, "anonymousId": "a2"}
    bridge.accept_segment([listed, anonymous, {**anonymous, "messageId": "m3"}, track(4)])
    bridge.drain_segment()
    array_reason = "Event Properties must be an object but it was an array."
    missing_reason = "The root value is missing the required field 'external_id'."
    stats = bridge.describe_stats()["segment"]
    assert stats["skipped_by_reason"] == {array_reason: 1, missing_reason: 2}
    assert (stats["skipped"], stats["delivered"]) == (3, 1)
    metrics = bridge.metrics()
    assert f'swoosh_bridge_skipped_by_reason_total{{direction="segment",reason="{missing_reason}"}} 2' in metrics
    client = BridgeClient(
        "http://bridge.localhost", http=httpx.Client(transport=httpx.WSGITransport(app=create_app(bridge)))
    )
    assert [s["message_id"] for s in client.skipped(reason=missing_reason)] == ["m2", "m3"]
    [array] = client.skipped(message_id="m1")
    assert array["reason"] == array_reason and array["direction"] == "segment" and re.match(r"\d{4}-", array["at"])
    bridge.outbox.close()


def test_deliveries_retries_and_dead_letters_are_logged_without_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200), httpx.Response(401, json={"message": "unauthorized"})])
    bridge = bridge_to(httpx.MockTransport(lambda _request: next(answers)), tmp_path)
    caplog.set_level("INFO", logger="swoosh.bridge")
    bridge.accept_segment([track(1)])
    bridge.drain_segment()
    bridge.clock.advance(3600)  # past any backoff
    bridge.drain_segment()
    bridge.accept_segment([track(2)])
    bridge.drain_segment()
    lines = [r.getMessage() for r in caplog.records if r.name == "swoosh.bridge"]
    assert any(line.startswith("segment: will retry 1 event(s)") and "503" in line for line in lines), lines
    assert "segment: delivered 1 event(s) (200)" in lines
    assert "segment: dead-lettered 1 event(s): 401" in lines
    assert not any(KEY in line for line in lines)
    bridge.outbox.close()
