"""Worker processes come and go with their primary; a killed worker loses nothing it acknowledged."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import httpx

from swoosh.stack import Stack
from tests.reliability import crash
from tests.workers.conftest import APP_KEY, acknowledged_across_a_kill, alive, counts, replaced_within, track


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_kill_9_of_a_worker_loses_nothing_acknowledged_and_the_port_keeps_serving(url: str, stack: Stack) -> None:
    group = stack.worker_groups["segment"]
    victim = group.pids[0]

    def send_once(_sender: int, _n: int) -> list[str]:
        ids = [uuid.uuid4().hex for _ in range(10)]
        batch = [{"type": "track", "userId": "u", "event": "E", "messageId": m} for m in ids]
        answer = httpx.post(f"{url}/v1/batch", json={"writeKey": APP_KEY, "batch": batch}, timeout=10)
        return ids if answer.status_code == 200 else []

    acknowledged = acknowledged_across_a_kill(victim, send_once)
    assert acknowledged
    stored = {e["message"]["messageId"] for e in httpx.get(f"{url}/_swoosh/events", timeout=30).json()["items"]}
    assert set(acknowledged) <= stored
    for _ in range(20):
        assert track(url).status_code == 200
    assert replaced_within(group, victim, 10) and group.restarts >= 1
    assert counts(url)["good"] >= len(acknowledged) + 20  # more: an answer the kill cut off after its commit


def test_workers_end_when_their_primary_is_killed(tmp_path: Path) -> None:
    process, urls = crash.start(tmp_path, "--only", "segment", "--port", "segment=0", "--workers", "3")
    try:
        workers = children_of(process.pid)
        assert len(workers) == 2
        assert track(urls["segment"]).status_code == 200
        os.kill(process.pid, signal.SIGKILL)  # the primary only: its workers see their pipe end
        process.wait(timeout=10)
        assert gone_within(workers, 10)
    finally:
        crash.kill_group(process)


def test_swoosh_up_with_workers_stops_on_sigterm_within_its_grace(tmp_path: Path) -> None:
    process, urls = crash.start(tmp_path, "--only", "segment", "--port", "segment=0", "--workers", "3")
    try:
        workers = children_of(process.pid)
        assert len(workers) == 2
        for _ in range(10):
            assert track(urls["segment"]).status_code == 200
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 8
        assert gone_within(workers, 2)
    finally:
        crash.kill_group(process)


def test_swoosh_up_serves_from_one_process_per_core_by_default(tmp_path: Path) -> None:
    process, urls = crash.start(tmp_path, "--only", "segment", "--port", "segment=0")
    try:
        assert len(children_of(process.pid)) == len(os.sched_getaffinity(0)) - 1
        assert track(urls["segment"]).status_code == 200
    finally:
        crash.kill_group(process)


def test_swoosh_workers_chooses_the_count_and_one_process_is_allowed(tmp_path: Path) -> None:
    env = {**os.environ, "SWOOSH_WORKERS": "1"}
    process, urls = crash.start(tmp_path, "--only", "segment", "--port", "segment=0", env=env)
    try:
        assert children_of(process.pid) == set()
        assert track(urls["segment"]).status_code == 200
    finally:
        crash.kill_group(process)
