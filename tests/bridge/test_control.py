"""The bridge behind the core's control API: shared routes, faults on its ingress, skips and dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from swoosh.bridge.client import BridgeClient
from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.rates import RecentRates
from swoosh.bridge.service import create_app
from swoosh.emulator.client import ControlAPIError

APP = "ABCDE-12345"
TRACK = {"type": "track", "userId": "u1", "event": "E", "timestamp": "2026-11-22T14:08:43.998Z", "messageId": "m1"}


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    def pushwoosh(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": "refused"})

    settings = BridgeSettings(app_code=APP, api_key="KEY123", pushwoosh_url="http://pushwoosh.test")
    core = Bridge(settings, Outbox(tmp_path / "o.db"), transport=httpx.MockTransport(pushwoosh))
    yield core
    core.outbox.close()


@pytest.fixture
def client(bridge: Bridge) -> BridgeClient:
    http = httpx.Client(transport=httpx.WSGITransport(app=create_app(bridge)))
    return BridgeClient("http://bridge.localhost", http=http)


def test_the_shared_control_routes_answer_for_the_bridge(client: BridgeClient) -> None:
    assert client.health()["service"] == "bridge"
    assert client.config()["app_code"] == APP
    assert set(client.stats()) == {"segment", "pushwoosh"}
    with pytest.raises(ControlAPIError, match="not imported"):
        client.import_state({"backend": {}})
    with pytest.raises(ControlAPIError, match="ids"):
        client.call("POST", "/dead-letters/replay", json={"ids": "all"})


def test_a_fault_on_the_ingress_answers_in_the_bridges_error_shape_and_is_journaled(client: BridgeClient) -> None:
    client.faults.add(status=503, path="/segment", times=1)
    http = client._http
    first = http.post("http://bridge.localhost/segment", json=TRACK, headers={"X-Signature": "secret-sig"})
    assert first.status_code == 503 and first.json()["error"]["code"] == "fault_injected"
    assert http.post("http://bridge.localhost/segment", json=TRACK).json()["accepted"] == 1
    [faulted, accepted] = client.journal(path="/segment")
    assert (faulted["status"], accepted["status"]) == (503, 200)
    assert faulted["headers"]["X-Signature"] == "<redacted>"


def test_refusals_become_dead_letters_listed_and_replayed_through_the_client(
    client: BridgeClient, bridge: Bridge
) -> None:
    bridge.accept_segment([TRACK, {**TRACK, "messageId": "m2"}])
    bridge.drain_segment()
    dead = client.dead_letters("segment")
    assert [d["last_status"] for d in dead] == [400, 400]
    assert client.dead_letters("pushwoosh") == []
    assert client.replay([dead[0]["id"]]) == 1 and len(client.dead_letters()) == 1
    client.reset()
    assert client.dead_letters() == [] and client.stats()["segment"]["dead_lettered"] == 0


def test_the_outbox_lists_waiting_items_and_rates_count_each_second(bridge: Bridge, client: BridgeClient) -> None:
    bridge.accept_segment([TRACK, {**TRACK, "messageId": "m2"}])
    waiting = client.outbox("segment")
    assert [(i["attempts"], i["last_status"]) for i in waiting] == [(0, None), (0, None)]
    assert waiting[0]["next_at"] <= bridge.clock.time() and client.outbox("pushwoosh") == []
    bridge.drain_segment()  # the fake downstream refuses with 400: dead letters, failed attempts counted
    assert client.outbox() == []
    series = client.rates(60)
    [second] = series["directions"]["segment"]
    assert second["failed"] == 2 and second["delivered"] == 0 and second["latency_ms"] is None
    assert series["from"] <= second["t"] <= series["to"] and series["directions"]["pushwoosh"] == []
    with pytest.raises(ControlAPIError, match="seconds must be"):
        client.rates(0)
    client.reset()
    assert client.rates(60)["directions"]["segment"] == []


def test_rates_keep_the_mean_latency_of_confirmed_deliveries() -> None:
    rates = RecentRates(["segment"], window=60)
    rates.record("segment", 1000.2, delivered=2, latencies=[0.010, 0.030])
    rates.record("segment", 1000.9, delivered=1, latencies=[0.020])
    rates.record("segment", 900.0, delivered=5, latencies=[1.0])  # older than the window when the next one comes
    rates.record("segment", 1001.0, failed=1)
    assert rates.series(1001.5, 60)["directions"]["segment"] == [
        {"t": 1000, "delivered": 3, "failed": 0, "latency_ms": 20.0},
        {"t": 1001, "delivered": 0, "failed": 1, "latency_ms": None},
    ]
