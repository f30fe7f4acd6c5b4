"""Outbox semantics (lease, retry, dead letter, replay, kill -9 durability) and retry classification."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from swoosh.bridge.destination import Request
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.transport import RETRY, PushwooshSender


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    box = Outbox(tmp_path / "outbox.db")
    yield box
    box.close()


def test_lease_ack_and_visibility_timeout(outbox: Outbox) -> None:
    outbox.enqueue("segment", [b"a", b"b", b"c"], now=100.0)
    first = outbox.lease("segment", 2, now=100.0, visibility=30)
    assert [i.payload for i in first] == [b"a", b"b"]
    assert [i.payload for i in outbox.lease("segment", 10, now=101.0)] == [b"c"]
    assert outbox.lease("segment", 10, now=110.0) == []
    outbox.ack([first[0].id])
    again = outbox.lease("segment", 10, now=131.0)  # the crashed worker's lease on "b" expired
    assert [i.payload for i in again] == [b"b", b"c"]
    assert outbox.lease("pushwoosh", 10, now=1000.0) == []


def test_retry_dead_letter_and_replay(outbox: Outbox) -> None:
    outbox.enqueue("pushwoosh", [b"x", b"y"], now=0.0)
    x, y = outbox.lease("pushwoosh", 10, now=0.0)
    outbox.retry([x.id], next_at=50.0, status=503, error="down")
    outbox.bury([y.id], status=400, error='{"message": "bad"}')
    assert outbox.lease("pushwoosh", 10, now=10.0) == []
    retried = outbox.lease("pushwoosh", 10, now=50.0)
    assert retried[0].attempts == 1
    dead = outbox.dead_letters()
    assert [(d["payload"], d["last_status"], d["last_error"]) for d in dead] == [("y", 400, '{"message": "bad"}')]
    assert outbox.counts() == {"pushwoosh": {"queued": 1, "dead": 1}}
    assert outbox.replay(None, now=60.0) == 1
    assert sorted(i.payload for i in outbox.lease("pushwoosh", 10, now=100.0)) == [b"x", b"y"]
    assert outbox.replay([999], now=0.0) == 0


def test_a_dead_letter_is_shown_without_its_write_key_and_replayed_whole(outbox: Outbox) -> None:
    event = b'{"type": "track", "event": "Opened", "writeKey": "wk-5e2f91"}'
    outbox.enqueue("segment", [event], now=0.0)
    (item,) = outbox.lease("segment", 10, now=0.0)
    outbox.bury([item.id], status=400, error="refused")
    (shown,) = outbox.dead_letters()
    assert "wk-5e2f91" not in shown["payload"] and '"event": "Opened"' in shown["payload"]
    assert outbox.replay(None, now=1.0) == 1
    assert [i.payload for i in outbox.lease("segment", 10, now=2.0)] == [event]


CHILD = """
import sys, time
from swoosh.bridge.outbox import Outbox
box = Outbox(sys.argv[1])
n = 0
while True:
    box.enqueue("segment", [f"event-{n + i}".encode() for i in range(10)], now=time.time())
    n += 10
    print(n, flush=True)
"""


def test_committed_items_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    acknowledged = 0
    assert child.stdout is not None
    for line in child.stdout:
        acknowledged = int(line)
        if acknowledged >= 2000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    box = Outbox(path)
    stored = box.lease("segment", 1_000_000, now=1e12)
    payloads = {i.payload for i in stored}
    assert len(stored) >= acknowledged  # everything reported as committed is there
    assert all(f"event-{n}".encode() in payloads for n in range(acknowledged))
    box.close()


def test_the_bridge_backs_off_at_its_own_pace_under_the_shared_policy() -> None:
    """Classification is emulator/retry.py's (tests/core/test_retry.py); the bridge's base and cap are its own."""
    rng = random.Random(1)
    delays = [RETRY.delay(n, None, rng) for n in range(1, 7)]
    assert delays[5] > delays[0]
    assert all(0.25 <= d <= 48 for d in delays)
    assert RETRY.delay(1, 30.0, rng) >= 30.0
    assert RETRY.delay(50, None, rng) <= 450


def test_the_pushwoosh_sender_speaks_like_segments_destination() -> None:
    """Same wire format as Segment's Pushwoosh destination: token, app code and its User-Agent."""
    seen: list[httpx.Request] = []

    def pushwoosh(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    sender = PushwooshSender(
        "http://pushwoosh.test", "KEY123", "ABCDE-12345", client=httpx.Client(transport=httpx.MockTransport(pushwoosh))
    )
    sender.send(Request("delete-user", {"external_id": "u1"}))
    [request] = seen
    assert str(request.url) == "http://pushwoosh.test/integration-segment/v1/delete-user"
    assert request.headers["User-Agent"] == "Segment (Actions)"
    assert (request.headers["Authorization"], request.headers["X-PW-Appcode"]) == ("Token KEY123", "ABCDE-12345")
