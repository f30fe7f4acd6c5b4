"""A reset while the bridge is sending: nothing leased before it reaches a service after it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox


def test_a_reset_mid_pass_stops_the_pass_and_waits_for_its_request_in_flight(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []
    first_in_flight, release = threading.Event(), threading.Event()

    def pushwoosh(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        first_in_flight.set()
        release.wait(10)
        return httpx.Response(200, json={"status": "ok"})

    settings = BridgeSettings(app_code="ABCDE-12345", api_key="KEY123", pushwoosh_url="http://pushwoosh.test")
    bridge = Bridge(settings, Outbox(tmp_path / "o.db"), transport=httpx.MockTransport(pushwoosh))
    identifies = [
        {"type": "identify", "userId": f"u{i}", "traits": {"tier": i}, "messageId": f"m{i}"} for i in range(20)
    ]
    assert bridge.accept_segment({"batch": identifies})["accepted"] == 20
    bridge.start()
    try:
        assert first_in_flight.wait(10)
        resetting = threading.Thread(target=bridge.reset)
        resetting.start()
        resetting.join(0.2)
        assert resetting.is_alive(), "reset returned while a request of the old pass was still in flight"
        release.set()
        resetting.join(10)
        assert not resetting.is_alive()
        assert len(sent) == 1, f"{len(sent)} requests went out for events queued before the reset"
        assert bridge.outbox.lease("segment", 100, now=1e12) == []
    finally:
        release.set()
        bridge.stop()
        bridge.outbox.close()


def test_a_pass_that_raises_does_not_end_its_direction(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An exception no send catches (here the transport's own) used to end the direction's thread: the
    bridge then delivered nothing more in that direction until restarted. Now the pass is logged and the
    leased events come back when their lease ends."""
    calls: list[int] = []

    def pushwoosh(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug below the sender")
        return httpx.Response(200, json={"status": "ok"})

    settings = BridgeSettings(app_code="ABCDE-12345", api_key="KEY123", pushwoosh_url="http://pushwoosh.test")
    bridge = Bridge(settings, Outbox(tmp_path / "o.db"), transport=httpx.MockTransport(pushwoosh))
    identify = {"type": "identify", "userId": "u1", "traits": {"tier": 1}, "messageId": "m1"}
    assert bridge.accept_segment({"batch": [identify]})["accepted"] == 1
    with caplog.at_level("ERROR", logger="swoosh.bridge"):
        bridge.start()
        try:
            deadline = time.monotonic() + 10
            while not calls and time.monotonic() < deadline:
                time.sleep(0.02)
            bridge.clock.advance(31)  # past the failed pass's lease
            while len(calls) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            bridge.stop()
    assert len(calls) == 2, "the direction stopped after the failed pass"
    assert [r.getMessage() for r in caplog.records] == [
        "segment: a delivery pass failed (RuntimeError); its events are sent again"
    ]
