"""Acknowledged means durable (issue 19, item 2): kill -9 at random points under traffic, restart, count.

`swoosh up --only segment --data-dir D` runs as a subprocess on loopback port 0. Two sender threads post
50-event track batches, each with fresh messageIds, and note the ids of every batch answered 200. After
a seeded random delay the process gets SIGKILL; it is restarted on the same data dir and every
acknowledged id must be in `/_swoosh/events` and in the warehouse (`/_swoosh/sql`) at once, and the
destination added in the first round must still be configured. Bounded: a few rounds, seconds each.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import httpx

from swoosh.emulator.defaults import APP_WRITE_KEY
from tests.reliability.crash import Acknowledged, kill_group, run_round, send_until_killed, start

SEED = 1919
ROUNDS = 4
SENDERS = 2
BATCH = 50
UP_SEGMENT = ("--only", "segment", "--port", "segment=0")
DESTINATION = {"source": "app", "name": "crash-test", "url": "http://127.0.0.1:9/hook", "max_batch": 10}


def sender(url: str, label: str, acknowledged: Acknowledged) -> threading.Thread:
    """Posts 50-event batches with fresh messageIds; the ids count once their batch was answered 200."""
    client = httpx.Client(base_url=url, auth=(APP_WRITE_KEY, ""), timeout=10)

    def post_batch(n: int) -> tuple[httpx.Response, list[str]]:
        ids = [f"{label}-{n}-{i}" for i in range(BATCH)]
        batch = [{"type": "track", "event": "Crash Test", "userId": "u", "messageId": m} for m in ids]
        return client.post("/v1/batch", json={"batch": batch}), ids

    return threading.Thread(target=send_until_killed, args=(acknowledged, "events", post_batch))


def present(url: str) -> tuple[set[str], set[str], list[dict[str, object]]]:
    """Ids in the event store, ids in the warehouse, destinations: right after a restart."""
    with httpx.Client(base_url=url, timeout=30) as client:
        events = client.get("/_swoosh/events", params={"status": "good"}).json()["items"]
        rows = client.post("/_swoosh/sql", json={"sql": "select id from app.crash_test"}).json()["rows"]
        destinations = client.get("/_swoosh/destinations").json()["items"]
    return {e["message"]["messageId"] for e in events}, {r[0] for r in rows}, destinations


def test_kill_9_under_traffic_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    acknowledged = Acknowledged()
    process, urls = start(tmp_path, *UP_SEGMENT)
    url = urls["segment"]
    try:
        assert httpx.post(f"{url}/_swoosh/destinations", json=DESTINATION, timeout=10).status_code == 201
        for round_ in range(ROUNDS):
            senders = [sender(url, f"r{round_}s{s}", acknowledged) for s in range(SENDERS)]
            run_round(senders, process, rng.uniform(0.3, 2.0))  # SIGKILL: no shutdown code runs
            process, urls = start(tmp_path, *UP_SEGMENT)
            url = urls["segment"]
            in_events, in_warehouse, destinations = present(url)
            acked = acknowledged.of("events")
            lost_events, lost_warehouse = acked - in_events, acked - in_warehouse
            print(
                f"\n[reliability] kill -9 round {round_ + 1}/{ROUNDS}: {len(acked)} events acknowledged so far, "
                f"{len(acked & in_events)} present in /_swoosh/events ({len(in_events - acked)} more, in flight "
                f"at the kill), {len(acked & in_warehouse)} in the warehouse; lost {len(lost_events)} / "
                f"{len(lost_warehouse)}; destinations {len(destinations)}"
            )
            assert acked, "no batch was acknowledged before the kill"
            assert not lost_events and not lost_warehouse
            assert [(d["source"], d["url"]) for d in destinations] == [(DESTINATION["source"], DESTINATION["url"])]
    finally:
        kill_group(process)
