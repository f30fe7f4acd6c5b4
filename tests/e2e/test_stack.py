"""The whole loop through real HTTP on ephemeral ports, and the bridge's delivery guarantees under faults."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import segment.analytics as sa

from swoosh.bridge.client import BridgeClient
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack, StackOptions

APP, TOKEN = "ABCDE-12345", "KEY123"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(StackOptions(data_dir=tmp_path)) as running:
        yield running


def clients(stack: Stack) -> tuple[SegmentClient, PushwooshClient]:
    return SegmentClient(stack.urls["segment"]), PushwooshClient(stack.urls["pushwoosh"])


def register_devices(pushwoosh_url: str, count: int, prefix: str = "dev") -> None:
    for i in range(count):
        httpx.post(
            f"{pushwoosh_url}/json/1.3/registerDevice",
            json={
                "request": {
                    "application": APP,
                    "hwid": f"{prefix}-{i}",
                    "device_type": 1 if i % 2 else 3,
                    "userId": f"user-{i}",
                }
            },
        )


def send_push(pushwoosh_url: str, campaign: str = "C1") -> str:
    reply = httpx.post(
        f"{pushwoosh_url}/json/1.3/createMessage",
        json={
            "request": {
                "auth": TOKEN,
                "application": APP,
                "notifications": [{"content": "Hello", "campaign": campaign}],
            }
        },
    ).json()
    return reply["response"]["Messages"][0]


def test_identify_with_the_official_sdk_becomes_tags_in_pushwoosh(stack: Stack) -> None:
    segment, pushwoosh = clients(stack)
    client = sa.Client(segment.write_key(), host=segment.base_url, sync_mode=True)
    client.identify("newcomer-1", {"searched_product": "sports shoes", "email": "n@x.io"})
    client.track("newcomer-1", "SubscribedToOffers", {"plan": "gold"})
    client.flush()
    pushwoosh.wait("events", 1, timeout=15, name="SubscribedToOffers")
    assert pushwoosh.tags(user_id="newcomer-1") == {"searched_product": "sports shoes"}
    assert pushwoosh.users(user_id="newcomer-1")[0]["profile"]["email"] == "n@x.io"
    assert segment.wait("deliveries", 2, timeout=10, state="delivered")


def test_a_push_lands_in_the_warehouse_as_push_sent(stack: Stack) -> None:
    segment, _ = clients(stack)
    register_devices(stack.urls["pushwoosh"], 3)
    code = send_push(stack.urls["pushwoosh"], "WELCOME")
    segment.wait_for_events(6, timeout=15, source="pushwoosh")
    rows = segment.sql(
        "select user_id, event_text, campaign_code, message_type, device_type from pushwoosh.push_sent order by user_id"
    )
    assert rows == [
        {
            "user_id": f"user-{i}",
            "event_text": "Push Sent",
            "campaign_code": "WELCOME",
            "message_type": "Push",
            "device_type": "iOS" if i % 2 else "Android",
        }
        for i in range(3)
    ]
    assert len(segment.sql("select id from pushwoosh.push_delivered")) == 3
    assert {m["context"]["pushwoosh"]["message_code"] for m in segment.messages(source="pushwoosh")} == {code}


def test_the_applications_segment_source_settings_filter_what_reaches_segment(tmp_path: Path) -> None:
    """As in Pushwoosh's UI: the application's Segment source has a write key and an event allow-list."""
    config = tmp_path / "swoosh.toml"
    config.write_text(
        f"""[[pushwoosh.applications]]
code = "{APP}"
name = "My app"
segment = {{ write_key = "pushwoosh-write-key", events = "Push Delivered" }}
"""
    )
    with Stack(StackOptions(data_dir=tmp_path, config_file=config)) as stack:
        segment, _ = clients(stack)
        register_devices(stack.urls["pushwoosh"], 2)
        send_push(stack.urls["pushwoosh"], "ONLY-DELIVERED")
        segment.wait_for_events(2, timeout=15, source="pushwoosh")  # the Sent events came first, in one batch
        assert [m["event"] for m in segment.messages(source="pushwoosh")] == ["Push Delivered"] * 2


def test_pushwoosh_outage_then_recovery_loses_nothing(stack: Stack) -> None:
    segment, pushwoosh = clients(stack)
    pushwoosh.faults.add(status=503, times=4, path="^/integration-segment/")
    client = sa.Client(segment.write_key(), host=segment.base_url, sync_mode=True)
    for i in range(20):
        client.track(f"user-{i}", "Viewed Product", {"n": i})
    client.flush()
    pushwoosh.wait("events", 20, timeout=30, name="Viewed Product")
    assert sorted(e["attributes"]["n"] for e in pushwoosh.events()) == list(range(20))
    stats = httpx.get(f"{stack.urls['bridge']}/_swoosh/stats").json()["segment"]
    assert stats["retried"] >= 1 and stats["dead_lettered"] == 0 and stats["queued"] == 0


def test_segment_429_storm_with_retry_after_and_a_slow_downstream(stack: Stack) -> None:
    segment, _ = clients(stack)
    segment.faults.add(status=429, retry_after=1, times=3, path="^/v1/batch")
    segment.faults.add(delay_ms=300, times=2, path="^/v1/batch")
    register_devices(stack.urls["pushwoosh"], 30)
    send_push(stack.urls["pushwoosh"])
    events = segment.wait_for_events(60, timeout=30, source="pushwoosh")
    assert len({e["message"]["messageId"] for e in events}) == 60
    limited = [e for e in segment.journal(path="/v1/batch") if e["status"] == 429]
    assert len(limited) == 3


def test_final_4xx_goes_to_dead_letters_and_can_be_replayed(stack: Stack) -> None:
    segment, pushwoosh = clients(stack)
    pushwoosh.faults.add(status=400, times=1, path="^/integration-segment/", body={"message": "rejected"})
    client = sa.Client(segment.write_key(), host=segment.base_url, sync_mode=True)
    client.track("u1", "Signed Up")
    client.flush()
    bridge_url = stack.urls["bridge"]
    deadline = time.monotonic() + 10
    while not (dead := httpx.get(f"{bridge_url}/_swoosh/dead-letters").json()["items"]):
        assert time.monotonic() < deadline, "no dead letter appeared"
        time.sleep(0.05)
    assert dead[0]["last_status"] == 400 and "rejected" in dead[0]["last_error"]
    assert httpx.post(f"{bridge_url}/_swoosh/dead-letters/replay", json={}).json() == {"replayed": 1}
    pushwoosh.wait("events", 1, timeout=10, name="Signed Up")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_bridge(port: int, data_dir: Path, urls: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWOOSH_BRIDGE_API_KEY": TOKEN, "SWOOSH_BRIDGE_WRITE_KEY": "pushwoosh-write-key"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from swoosh.cli import main; main()",
            "bridge",
            "run",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--segment-url",
            urls["segment"],
            "--pushwoosh-url",
            urls["pushwoosh"],
            "--app-code",
            APP,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60  # a loaded CI machine can take long to start Python
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_swoosh/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the bridge did not start")


def test_bridge_killed_with_sigkill_mid_stream_loses_nothing(tmp_path: Path) -> None:
    with Stack(StackOptions(only=("segment", "pushwoosh"))) as fakes:
        segment = SegmentClient(fakes.urls["segment"])
        port = _free_port()
        bridge = _start_bridge(port, tmp_path, fakes.urls)
        events = [
            {
                "event": "Push Sent",
                "message_code": "AAAA-00000000-00000001",
                "hwid": f"h{i}",
                "user_id": f"u{i}",
                "device_type": 3,
                "timestamp": "2026-11-22T14:08:43.998Z",
            }
            for i in range(400)
        ]
        sent = 0
        try:
            for start in range(0, len(events), 20):
                if start == 200:
                    os.kill(bridge.pid, signal.SIGKILL)  # mid-stream: accepted events may be unsent
                    bridge.wait(timeout=10)
                    bridge = _start_bridge(port, tmp_path, fakes.urls)
                reply = httpx.post(f"http://127.0.0.1:{port}/pushwoosh", json={"events": events[start : start + 20]})
                assert reply.status_code == 200
                sent += reply.json()["accepted"]
            assert sent == 400
            received = segment.wait_for_events(400, timeout=30, source="pushwoosh")
            assert {
                e["message"]["anonymousId"] if "anonymousId" in e["message"] else e["message"]["userId"]
                for e in received
            } == {f"u{i}" for i in range(400)}
        finally:
            bridge.send_signal(signal.SIGINT)
            bridge.wait(timeout=15)


def test_bad_events_from_the_official_sdk_never_sink_their_batch(stack: Stack) -> None:
    """100 tracks through the whole stack: a numeric device id is coerced to text as the destination
    does; an object device id is refused by the destination (skipped with its reason, alone); the
    other 97 arrive, batched, and nothing is dead-lettered."""
    segment, pushwoosh = clients(stack)
    bridge = BridgeClient(stack.urls["bridge"])
    client = sa.Client(segment.write_key(), host=segment.base_url, sync_mode=True)
    refused = {11, 47, 90}
    for i in range(100):
        device: Any = {"bad": i} if i in refused else (i if i % 10 == 5 else f"dev-{i}")
        client.track(f"user-{i}", "Viewed Product", {"n": i}, context={"device": {"id": device}})
    client.flush()
    pushwoosh.wait("events", 97, timeout=30, name="Viewed Product")
    assert sorted(e["attributes"]["n"] for e in pushwoosh.events()) == sorted(set(range(100)) - refused)
    skipped = bridge.wait("skipped", 3, timeout=10)
    assert all(s["reason"] == "Device ID must be a string or null but it was an object." for s in skipped)
    stats = bridge.stats()["segment"]
    assert (stats["delivered"], stats["skipped"], stats["dead_lettered"]) == (97, 3, 0)
    assert bridge.dead_letters() == []


def test_a_restarted_stack_on_its_data_dir_has_one_bridge_registration_each(tmp_path: Path) -> None:
    """The fakes restore the previous run's bridge destination and webhook: the new bridge replaces them."""
    for _run in range(2):
        with Stack(StackOptions(data_dir=tmp_path)) as running:
            segment = SegmentClient(running.urls["segment"])
            pushwoosh = PushwooshClient(running.urls["pushwoosh"])
            bridge = running.urls["bridge"]
            destinations = [d for d in segment.items("destinations") if d["name"] == "Pushwoosh"]
            assert [d["url"] for d in destinations] == [f"{bridge}/segment"]
            assert [w["url"] for w in pushwoosh.items("webhooks")] == [f"{bridge}/pushwoosh"]
