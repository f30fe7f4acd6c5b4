"""Acknowledged means durable (issue 19, item 2): kill -9 at random points under traffic, restart, count.

`swoosh up --only segment --data-dir D` runs as a subprocess on loopback port 0. Two sender threads post
50-event track batches, each with fresh messageIds, and note the ids of every batch answered 200. After
a seeded random delay the process gets SIGKILL; it is restarted on the same data dir and every
acknowledged id must be in `/_swoosh/events` and in the warehouse (`/_swoosh/sql`) at once, and the
destination added in the first round must still be configured. Bounded: a few rounds, seconds each.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from swoosh.emulator.defaults import APP_WRITE_KEY

SEED = 1919
ROUNDS = 4
SENDERS = 2
BATCH = 50
START_TIMEOUT_S = 60.0
UP_SEGMENT = ("up", "--only", "segment", "--port", "segment=0")
DESTINATION = {"source": "app", "name": "crash-test", "url": "http://127.0.0.1:9/hook", "max_batch": 10}


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The stack's process and the fake Segment's URL, read from the locator it writes once listening."""
    command = [sys.executable, "-c", "from swoosh.cli import main; main()", *UP_SEGMENT, "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    locator = data_dir / "stack.json"
    while time.monotonic() < deadline:
        try:
            info = json.loads(locator.read_text())
        except (OSError, ValueError):
            info = {}
        if info.get("pid") == process.pid:
            url = info["services"]["segment"]["url"]
            if httpx.get(f"{url}/_swoosh/health", timeout=5).status_code == 200:
                return process, url
        assert process.poll() is None, "swoosh up exited while starting"
        time.sleep(0.1)
    process.kill()
    raise AssertionError("swoosh up did not start in time")


def send_until_killed(url: str, label: str, acknowledged: list[str], lock: threading.Lock) -> None:
    """Post batches until the process is gone; an id counts only once its batch was answered 200."""
    with httpx.Client(base_url=url, auth=(APP_WRITE_KEY, ""), timeout=10) as client:
        for n in range(100_000):
            ids = [f"{label}-{n}-{i}" for i in range(BATCH)]
            batch = [{"type": "track", "event": "Crash Test", "userId": "u", "messageId": m} for m in ids]
            try:
                answer = client.post("/v1/batch", json={"batch": batch})
            except httpx.HTTPError:
                return
            if answer.status_code == 200:
                with lock:
                    acknowledged.extend(ids)


def present(url: str) -> tuple[set[str], set[str], list[dict[str, object]]]:
    """Ids in the event store, ids in the warehouse, destinations: right after a restart."""
    with httpx.Client(base_url=url, timeout=30) as client:
        events = client.get("/_swoosh/events", params={"status": "good"}).json()["items"]
        rows = client.post("/_swoosh/sql", json={"sql": "select id from app.crash_test"}).json()["rows"]
        destinations = client.get("/_swoosh/destinations").json()["items"]
    return {e["message"]["messageId"] for e in events}, {r[0] for r in rows}, destinations


def test_kill_9_under_traffic_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    acknowledged: list[str] = []
    lock = threading.Lock()
    process, url = start(tmp_path)
    try:
        assert httpx.post(f"{url}/_swoosh/destinations", json=DESTINATION, timeout=10).status_code == 201
        for round_ in range(ROUNDS):
            senders = [
                threading.Thread(target=send_until_killed, args=(url, f"r{round_}s{s}", acknowledged, lock))
                for s in range(SENDERS)
            ]
            for sender in senders:
                sender.start()
            time.sleep(rng.uniform(0.3, 2.0))
            process.kill()  # SIGKILL: no shutdown code runs
            process.wait(timeout=30)
            for sender in senders:
                sender.join(timeout=30)
            process, url = start(tmp_path)
            in_events, in_warehouse, destinations = present(url)
            acked = set(acknowledged)
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
        process.kill()
        process.wait(timeout=30)
