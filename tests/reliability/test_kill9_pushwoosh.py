"""Acknowledged means durable for the fake Pushwoosh (issue 19, item 2): kill -9 under traffic, restart, count.

`swoosh up --only pushwoosh --data-dir D` runs as a subprocess on loopback port 0. Three sender threads
use the real wire: one registers devices (registerDevice with a userId, then setTags with a value of
its own per device), one posts 20-event batches to the Segment integration API (`post-events`), one
posts events one at a time through /json/1.3 `postEvent`. Each notes what was answered as taken.
After a seeded random delay the process group gets SIGKILL; the stack is restarted on the same data
dir and every acknowledged device, tag value and event must be there, and the tag definition and
webhook configured in the first round too. Bounded: a few rounds, seconds each.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import httpx
import pytest

from tests.reliability import crash

SEED = 1919
ROUNDS = 4
BATCH = 20
APP, TOKEN = "ABCDE-12345", "KEY123"
UP_PUSHWOOSH = ("--only", "pushwoosh", "--port", "pushwoosh=0")
WEBHOOK = {"url": "http://127.0.0.1:9/crash-test", "token": "t"}


def senders(url: str, round_: int, acknowledged: crash.Acknowledged) -> list[threading.Thread]:
    device_api = httpx.Client(base_url=f"{url}/json/1.3", timeout=10)
    integration = httpx.Client(
        base_url=f"{url}/integration-segment/v1",
        headers={"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP},
        timeout=10,
    )

    def register(n: int) -> tuple[httpx.Response, list[str]]:
        hwid = f"r{round_}-d{n}"
        device = {"application": APP, "hwid": hwid, "device_type": 3, "userId": f"user-{hwid}"}
        answer = device_api.post("/registerDevice", json={"request": device})
        if not answer.is_success or answer.json()["status_code"] != 200:
            return answer, []
        acknowledged.add("devices", [hwid])
        tags = {"application": APP, "hwid": hwid, "tags": {"Crash": f"v-{hwid}"}}
        return device_api.post("/setTags", json={"request": tags}), [hwid]

    def post_events(n: int) -> tuple[httpx.Response, list[str]]:
        ids = [f"r{round_}-b{n}-{i}" for i in range(BATCH)]
        events = [
            {"name": "Crash Test", "user_id": f"u{i}", "timestamp": "2026-11-30T12:00:00Z", "attributes": {"id": e}}
            for i, e in enumerate(ids)
        ]
        return integration.post("/post-events", json={"events": events}), ids

    def post_event(n: int) -> tuple[httpx.Response, list[str]]:
        event_id = f"r{round_}-e{n}"
        request = {"application": APP, "hwid": "anchor", "userId": "u", "event": "Crash Test"}
        return device_api.post("/postEvent", json={"request": {**request, "attributes": {"id": event_id}}}), [event_id]

    return [
        threading.Thread(target=crash.send_until_killed, args=(acknowledged, label, request))
        for label, request in (("tagged", register), ("events", post_events), ("events", post_event))
    ]


def configure(url: str) -> None:
    """A tag definition, an event definition, a device to post to and a webhook: configuration that must survive."""
    with httpx.Client(base_url=url, timeout=10) as client:
        tag = {"auth": TOKEN, "tag": {"name": "Crash", "type": 2}}
        assert client.post("/json/1.3/addTag", json={"request": tag}).json()["status_code"] == 200
        event = {"auth": TOKEN, "name": "Crash Test", "eventAttributes": []}
        assert client.post("/json/1.3/createEvent", json={"request": event}).json()["status_code"] == 200
        anchor = {"application": APP, "hwid": "anchor", "device_type": 3}
        assert client.post("/json/1.3/registerDevice", json={"request": anchor}).json()["status_code"] == 200
        assert client.post("/_swoosh/webhooks", json=WEBHOOK).status_code == 201


def present(url: str) -> tuple[dict[str, list[str]], list[str]]:
    """Devices, devices whose user has the device's own tag value, event ids; and the configuration seen."""
    with httpx.Client(base_url=url, timeout=60) as client:
        devices = [d["hwid"] for d in client.get("/_swoosh/devices").json()["items"]]
        users = client.get("/_swoosh/users").json()["items"]
        events = client.get("/_swoosh/events").json()["items"]
        webhooks = [h["url"] for h in client.get("/_swoosh/config").json()["webhooks"]]
        tags = client.post("/json/1.3/listTags", json={"request": {"auth": TOKEN}}).json()["response"]["tags"]
    hwids = [u["user_id"].removeprefix("user-") for u in users]
    tagged = [hwid for hwid, user in zip(hwids, users, strict=True) if user["tags"].get("Crash") == f"v-{hwid}"]
    found = {"devices": devices, "tagged": tagged, "events": [e["attributes"].get("id") for e in events]}
    return found, [*webhooks, *(t["name"] for t in tags)]


def poster(event_id: str) -> str:
    """The user an acknowledged event id was posted for (see `senders`)."""
    kind_and_n = event_id.split("-")
    return "u" if kind_and_n[1].startswith("e") else f"u{kind_and_n[2]}"


@pytest.mark.parametrize("workers", [1, 3])
def test_kill_9_of_the_fake_pushwoosh_under_traffic_loses_nothing_acknowledged(tmp_path: Path, workers: int) -> None:
    """With 3 processes (`--workers 3`) workers record the posted events and the primary applies what they
    change in the heap after them: the users of acknowledged events are there after the restart all the same."""
    rng = random.Random(SEED)
    acknowledged = crash.Acknowledged()
    up = (*UP_PUSHWOOSH, "--workers", str(workers))
    process, urls = crash.start(tmp_path, *up)
    try:
        configure(urls["pushwoosh"])
        print("\n[reliability] kill -9 of swoosh up --only pushwoosh under traffic (acknowledged / present / lost)")
        print("| round | devices | tag values | events | events stored twice | webhooks, tag definitions |")
        print("|---|---|---|---|---|---|")
        for round_ in range(ROUNDS):
            threads = senders(urls["pushwoosh"], round_, acknowledged)
            crash.run_round(threads, process, rng.uniform(0.5, 2.5))
            process, urls = crash.start(tmp_path, *up)
            found, configuration = present(urls["pushwoosh"])
            users = {u["user_id"] for u in httpx.get(f"{urls['pushwoosh']}/_swoosh/users", timeout=60).json()["items"]}
            assert {poster(event_id) for event_id in acknowledged.of("events")} <= users
            counts = acknowledged.count(found)
            twice = len(found["events"]) - len(set(found["events"]))
            print(crash.figures_row(round_ + 1, counts, twice, ", ".join(configuration)))
            crash.assert_nothing_lost(counts)
            assert twice == 0
            assert configuration == [WEBHOOK["url"], "Crash"]
    finally:
        crash.kill_group(process)
