"""Acknowledged means durable across the whole stack (issue 19, item 2): kill -9 of every process, restart, count.

`swoosh up --data-dir D` (fake Segment, fake Pushwoosh and the bridge wired together) runs in its own
process group on loopback port 0. Under traffic to both fakes at once (50-event `/v1/batch` requests
to the fake Segment, which its destination forwards to the bridge and on to the fake Pushwoosh;
20-event `post-events` and `registerDevice` straight to the fake Pushwoosh) the whole group gets
SIGKILL at a seeded random moment. Restarted on the same data dir, every acknowledged event must be in
the fake that acknowledged it, and the configuration made in the first round (a Segment source and a
destination, a Pushwoosh webhook) must be there beside exactly one bridge registration in each fake.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import httpx

from swoosh.emulator.defaults import APP_WRITE_KEY
from tests.reliability import crash

SEED = 1920
ROUNDS = 3
SEGMENT_BATCH, PUSHWOOSH_BATCH = 50, 20
APP, TOKEN = "ABCDE-12345", "KEY123"
UP_STACK = ("--port", "segment=0", "--port", "pushwoosh=0", "--port", "bridge=0")
SOURCE = {"name": "crash-source", "write_key": "crash-source-key"}
DESTINATION = {"source": "crash-source", "name": "crash-test", "url": "http://127.0.0.1:9/hook", "max_batch": 10}
WEBHOOK = {"url": "http://127.0.0.1:9/crash-test", "token": "t"}


def senders(urls: dict[str, str], round_: int, acknowledged: crash.Acknowledged) -> list[threading.Thread]:
    segment = httpx.Client(base_url=urls["segment"], auth=(APP_WRITE_KEY, ""), timeout=10)
    pushwoosh = httpx.Client(base_url=urls["pushwoosh"], timeout=10)
    integration_headers = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP}

    def track(n: int) -> tuple[httpx.Response, list[str]]:
        ids = [f"r{round_}-s{n}-{i}" for i in range(SEGMENT_BATCH)]
        batch = [{"type": "track", "event": "Crash Test", "userId": f"u{i}", "messageId": m} for i, m in enumerate(ids)]
        return segment.post("/v1/batch", json={"batch": batch}), ids

    def post_events(n: int) -> tuple[httpx.Response, list[str]]:
        ids = [f"r{round_}-p{n}-{i}" for i in range(PUSHWOOSH_BATCH)]
        events = [
            {"name": "Direct", "user_id": f"u{i}", "timestamp": "2026-11-30T12:00:00Z", "attributes": {"id": e}}
            for i, e in enumerate(ids)
        ]
        answer = pushwoosh.post(
            "/integration-segment/v1/post-events", json={"events": events}, headers=integration_headers
        )
        return answer, ids

    def register(n: int) -> tuple[httpx.Response, list[str]]:
        hwid = f"r{round_}-d{n}"
        device = {"application": APP, "hwid": hwid, "device_type": 3}
        return pushwoosh.post("/json/1.3/registerDevice", json={"request": device}), [hwid]

    return [
        threading.Thread(target=crash.send_until_killed, args=(acknowledged, label, request))
        for label, request in (("segment", track), ("pushwoosh", post_events), ("devices", register))
    ]


def configure(urls: dict[str, str]) -> None:
    assert httpx.post(f"{urls['segment']}/_swoosh/sources", json=SOURCE, timeout=10).status_code == 201
    assert httpx.post(f"{urls['segment']}/_swoosh/destinations", json=DESTINATION, timeout=10).status_code == 201
    assert httpx.post(f"{urls['pushwoosh']}/_swoosh/webhooks", json=WEBHOOK, timeout=10).status_code == 201


def present(urls: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Event ids in each fake and the devices; then the configuration: sources, destinations, webhooks."""
    with httpx.Client(timeout=60) as client:
        segment = client.get(f"{urls['segment']}/_swoosh/events", params={"status": "good"}).json()["items"]
        pushwoosh = client.get(f"{urls['pushwoosh']}/_swoosh/events", params={"name": "Direct"}).json()["items"]
        devices = client.get(f"{urls['pushwoosh']}/_swoosh/devices").json()["items"]
        sources = client.get(f"{urls['segment']}/_swoosh/config").json()["sources"]
        destinations = client.get(f"{urls['segment']}/_swoosh/destinations").json()["items"]
        webhooks = client.get(f"{urls['pushwoosh']}/_swoosh/config").json()["webhooks"]
    found = {
        "segment": [e["message"]["messageId"] for e in segment if e["source"] == "app"],
        "pushwoosh": [e["attributes"]["id"] for e in pushwoosh],
        "devices": [d["hwid"] for d in devices],
    }
    configuration = sorted(
        [f"source {s['name']}" for s in sources if s["name"] == SOURCE["name"]]
        + [f"destination {d['name']} -> {_ours(d['url'], urls)}" for d in destinations]
        + [f"webhook -> {_ours(h['url'], urls)}" for h in webhooks]
    )
    return found, configuration


def _ours(url: str, urls: dict[str, str]) -> str:
    """The bridge's URL changes with every start (port 0): name it, so runs compare."""
    return url.replace(urls["bridge"], "<bridge>")


def test_kill_9_of_the_whole_stack_under_traffic_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    acknowledged = crash.Acknowledged()
    process, urls = crash.start(tmp_path, *UP_STACK)
    expected = sorted(
        [
            f"source {SOURCE['name']}",
            f"destination {DESTINATION['name']} -> {DESTINATION['url']}",
            "destination Pushwoosh -> <bridge>/segment",
            f"webhook -> {WEBHOOK['url']}",
            "webhook -> <bridge>/pushwoosh",
        ]
    )
    try:
        configure(urls)
        print(
            "\n[reliability] kill -9 of the whole swoosh up process group under traffic (acknowledged / present / lost)"
        )
        print("| round | fake Segment events | fake Pushwoosh events | devices | configuration |")
        print("|---|---|---|---|---|")
        for round_ in range(ROUNDS):
            crash.run_round(senders(urls, round_, acknowledged), process, rng.uniform(1.0, 3.0))
            process, urls = crash.start(tmp_path, *UP_STACK)
            found, configuration = present(urls)
            counts = acknowledged.count(found)
            print(crash.figures_row(round_ + 1, counts, "intact" if configuration == expected else configuration))
            crash.assert_nothing_lost(counts)
            assert configuration == expected
    finally:
        crash.kill_group(process)
