"""`swoosh up` as a process group to kill -9 and restart on the same data dir, and senders that count.

A stack starts in its own session (so `kill_group` reaches every process it has, not only the
first), on loopback port 0 for every service; its URLs come from the locator it writes once
listening. A sender repeats one request until the stack is gone and records what each answered
request carried only once it was answered successfully: that is what was acknowledged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import httpx

START_TIMEOUT_S = 60.0


def start(
    data_dir: Path, *args: str, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`swoosh up ARGS --data-dir DATA_DIR` and its services' URLs, once every one answers health."""
    command = [sys.executable, "-c", "from swoosh.cli import main; main()", "up", *args, "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    locator = data_dir / "stack.json"
    while time.monotonic() < deadline:
        try:
            info = json.loads(locator.read_text())
        except (OSError, ValueError):
            info = {}
        if info.get("pid") == process.pid:
            urls = {name: service["url"] for name, service in info["services"].items()}
            if all(httpx.get(f"{url}/_swoosh/health", timeout=5).status_code == 200 for url in urls.values()):
                return process, urls
        assert process.poll() is None, "swoosh up exited while starting"
        time.sleep(0.1)
    kill_group(process)
    raise AssertionError("swoosh up did not start in time")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to every process of the stack's group: no shutdown code runs anywhere."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


class Acknowledged:
    """What the stack answered successfully, per label, shared by the sender threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, list[str]] = {}

    def add(self, label: str, items: Iterable[str]) -> None:
        with self._lock:
            self._items.setdefault(label, []).extend(items)

    def of(self, label: str) -> set[str]:
        with self._lock:
            return set(self._items.get(label, ()))

    def count(self, found: Mapping[str, Iterable[str]]) -> dict[str, tuple[int, int, int]]:
        """Per label of `found` (what a restarted stack holds): acknowledged, of those present, of those lost."""
        counts = {}
        for label, there in found.items():
            acked, present = self.of(label), set(there)
            counts[label] = (len(acked), len(acked & present), len(acked - present))
        return counts


def figures_row(round_: int, counts: Mapping[str, tuple[int, int, int]], *more: object) -> str:
    """One table row: the round, `acknowledged / present / lost` per label, then `more` columns."""
    cells = [str(round_), *(f"{a} / {p} / {lost}" for a, p, lost in counts.values()), *map(str, more)]
    return "| " + " | ".join(cells) + " |"


def assert_nothing_lost(counts: Mapping[str, tuple[int, int, int]]) -> None:
    assert all(acked > 0 for acked, _, _ in counts.values()), f"nothing acknowledged before the kill: {counts}"
    assert all(lost == 0 for _, _, lost in counts.values()), f"acknowledged but lost: {counts}"


def send_until_killed(
    acknowledged: Acknowledged, label: str, request: Callable[[int], tuple[httpx.Response, list[str]]]
) -> None:
    """Call `request(n)` for n = 0, 1, ... until the stack is gone; its items count once answered 2xx."""
    for n in range(1_000_000):
        try:
            answer, items = request(n)
        except httpx.HTTPError:
            return
        if answer.is_success and _accepted(answer):
            acknowledged.add(label, items)


def _accepted(answer: httpx.Response) -> bool:
    """/json/1.3 answers HTTP 200 with its own status_code: only 200 there is a yes."""
    if not answer.content or not answer.headers.get("content-type", "").startswith("application/json"):
        return True
    body = answer.json()
    return not isinstance(body, dict) or body.get("status_code", 200) == 200


def run_round(senders: list[threading.Thread], process: subprocess.Popen[bytes], seconds: float) -> None:
    """Start the senders, let them run `seconds`, kill the stack's group, wait for every sender to notice."""
    for sender in senders:
        sender.start()
    time.sleep(seconds)
    kill_group(process)
    for sender in senders:
        sender.join(timeout=30)
