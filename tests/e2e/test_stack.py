"""The whole loop through real HTTP on ephemeral ports (the bridge under faults: tests/reliability/test_delivery.py)."""

from __future__ import annotations

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
from tests import stacks

APP, TOKEN = "ABCDE-12345", "KEY123"


@pytest.fixture
def stack(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[Stack]:
    with Stack(stacks.options(pytestconfig, data_dir=tmp_path)) as running:
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
