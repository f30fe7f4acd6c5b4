"""A reset while the bridge is sending: nothing leased before it reaches a service after it."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

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
