"""The bridge's trail: which messageIds each accepted batch and each downstream request carried, and the reply."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swoosh.bridge.client import BridgeClient
from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app
from swoosh.bridge.source import message_id, parse_message_event
from swoosh.bridge.trail import Sent, Trail
from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.retry import Outcome

APP = "ABCDE-12345"
API_KEY = "KEY-not-in-the-trail"
WRITE_KEY = "write-key-not-in-the-trail"
STAMP = "2026-11-22T14:08:43.998Z"
IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"plan": "gold"}, "timestamp": STAMP, "messageId": "m-id"}
TRACK = {"type": "track", "userId": "u1", "event": "E", "timestamp": STAMP, "messageId": "m1"}
PUSH_SENT = {
    "event": "Push Sent",
    "message_code": "CODE-1",
    "hwid": "phone-1",
    "user_id": "u1",
    "device_type": 1,
    "timestamp": STAMP,
    "application": APP,
}

Replies = list[httpx.Response]


@pytest.fixture
def replies() -> Replies:
    return []


@pytest.fixture
def bridge(tmp_path: Path, replies: Replies) -> Iterator[Bridge]:
    def downstream(request: httpx.Request) -> httpx.Response:
        return replies.pop(0) if replies else httpx.Response(200, json={"success": True})

    settings = BridgeSettings(
        app_code=APP,
        api_key=API_KEY,
        pushwoosh_url="http://pushwoosh.test",
        segment_url="http://segment.test",
        write_key=WRITE_KEY,
        batching=True,
        seed=1,
    )
    core = Bridge(settings, Outbox(tmp_path / "o.db"), transport=httpx.MockTransport(downstream))
    yield core
    core.outbox.close()


def _drain_until_settled(bridge: Bridge, drain: Callable[[], int]) -> None:
    for _ in range(10):
        if not drain() and not bridge.outbox.counts().get("segment", {}).get("queued"):
            return
        bridge.clock.advance(600)


def test_a_retried_request_is_recorded_per_attempt_with_its_reply_and_next_attempt(
    bridge: Bridge, replies: Replies
) -> None:
    replies.append(httpx.Response(503, json={"message": "busy"}))
    bridge.accept_segment([IDENTIFY, TRACK])
    bridge.drain_segment()
    bridge.clock.advance(600)
    bridge.drain_segment()

    [accepted] = bridge.trail.records(kind="accepted")
    assert accepted["message_ids"] == ["m-id", "m1"] and accepted["direction"] == "segment"
    first, second = bridge.trail.records(message_id="m-id", kind="sent")
    assert (first["endpoint"], first["attempt"], first["status"], first["result"]) == ("track-user", 1, 503, "retry")
    assert "busy" in first["reply"] and first["next_attempt_at"] > first["at"]
    assert (second["attempt"], second["status"], second["result"]) == (2, 200, "delivered")
    assert json.loads(second["body"])["user_id"] == "u1" and second["duration_ms"] >= 0
    [track] = bridge.trail.records(message_id="m1", kind="sent")
    assert track["endpoint"] == "post-events" and track["result"] == "delivered"


def test_a_narrowed_batch_is_recorded_then_each_part(bridge: Bridge, replies: Replies) -> None:
    replies.append(httpx.Response(400, json={"message": "events[1].timestamp: bad"}))
    bridge.accept_segment([TRACK, {**TRACK, "messageId": "m2"}])
    bridge.drain_segment()
    sent = bridge.trail.records(kind="sent")
    assert [(r["message_ids"], r["result"]) for r in sent] == [
        (["m1", "m2"], "narrowed"),
        (["m1"], "delivered"),
    ]
    assert [d["last_status"] for d in bridge.outbox.dead_letters()] == [400]


def test_message_events_are_followed_to_the_segment_batch_by_their_derived_message_id(bridge: Bridge) -> None:
    bridge.accept_pushwoosh([PUSH_SENT])
    bridge.drain_pushwoosh()
    derived = message_id(parse_message_event(PUSH_SENT))
    accepted, sent = bridge.trail.records(message_id=derived)
    assert (accepted["kind"], accepted["direction"]) == ("accepted", "pushwoosh")
    assert (sent["endpoint"], sent["status"], sent["result"]) == ("/v1/batch", 200, "delivered")
    assert json.loads(sent["body"])["batch"][0]["messageId"] == derived


def test_no_credential_reaches_the_trail(bridge: Bridge, replies: Replies) -> None:
    replies.append(httpx.Response(401, json={"message": "bad token"}))
    bridge.accept_segment([IDENTIFY, {**TRACK, "writeKey": "a-key-in-a-body"}])
    bridge.accept_pushwoosh([PUSH_SENT])
    _drain_until_settled(bridge, bridge.drain_segment)
    bridge.drain_pushwoosh()
    shown = json.dumps(bridge.trail.records())
    assert API_KEY not in shown and WRITE_KEY not in shown and "a-key-in-a-body" not in shown


def test_the_trail_is_served_filtered_and_forgotten_at_reset(bridge: Bridge) -> None:
    client = BridgeClient(
        "http://bridge.localhost", http=httpx.Client(transport=httpx.WSGITransport(app=create_app(bridge)))
    )
    bridge.accept_segment([IDENTIFY, TRACK])
    bridge.drain_segment()
    assert [r["kind"] for r in client.trail("m1")] == ["accepted", "sent"]
    assert [r["endpoint"] for r in client.trail(kind="sent")] == ["track-user", "post-events"]
    assert len(client.items("trail", limit=1)) == 1
    with pytest.raises(ControlAPIError, match="unknown filter 'hwid'"):
        client.items("trail", hwid="x")
    client.reset()
    assert client.trail() == []


@given(st.lists(st.integers(min_value=0, max_value=7), max_size=40), st.integers(min_value=1, max_value=12))
def test_the_trail_holds_at_most_its_bound_of_message_ids_keeping_the_newest(sizes: list[int], bound: int) -> None:
    trail = Trail(ids_kept=bound)
    for n, size in enumerate(sizes):
        trail.accepted("segment", [f"{n}-{i}" for i in range(size)], float(n))
    kept = trail.records()
    held = sum(len(r["message_ids"]) for r in kept)
    assert held <= bound or len(kept) == 1
    non_empty = [n for n, size in enumerate(sizes) if size]
    if non_empty:
        assert kept[-1]["at"] == float(non_empty[-1])  # the newest is always kept
    assert [r["id"] for r in kept] == sorted(r["id"] for r in kept)


def test_a_send_without_message_ids_is_recorded_with_none_left_out() -> None:
    trail = Trail()
    trail.sent(
        Sent("segment", "track-user", [None, "x"], b"{}", 1.0, 2.0, 1), Outcome(True, False, 200, None), "delivered"
    )
    assert trail.records("x")[0]["message_ids"] == ["x"]
