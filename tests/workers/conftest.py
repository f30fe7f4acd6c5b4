"""A fake Segment served by three processes on one port (the test process as primary, two workers)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from swoosh.emulator import defaults
from swoosh.emulator.workers import WorkerGroup
from swoosh.stack import Stack, StackOptions

WORKERS = 3  # processes: the primary and two workers
APP_KEY = next(key for name, key, _ in defaults.SOURCES if name == "app")


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    with Stack(StackOptions(workers=WORKERS, only=("segment",))) as running:
        yield running


@pytest.fixture(scope="package")
def baseline(stack: Stack) -> dict[str, Any]:
    base = stack.urls["segment"]
    httpx.post(f"{base}/_swoosh/reset", json={})
    state: dict[str, Any] = httpx.get(f"{base}/_swoosh/state").json()
    return state


@pytest.fixture
def url(stack: Stack, baseline: dict[str, Any]) -> Iterator[str]:
    """The service's URL, its data and journal forgotten, its configuration as at the start, before and after."""
    base = stack.urls["segment"]
    assert httpx.put(f"{base}/_swoosh/state", json=baseline).status_code == 200
    assert httpx.delete(f"{base}/_swoosh/journal").status_code == 200
    yield base
    assert httpx.put(f"{base}/_swoosh/state", json=baseline).status_code == 200


def track(url: str, message_id: str | None = None, key: str = APP_KEY, **fields: Any) -> httpx.Response:
    """One Tracking API call on a connection of its own (so the kernel may hand it to any process)."""
    body = {"writeKey": key, "userId": "u1", "event": "Clicked", "messageId": message_id or uuid.uuid4().hex}
    return httpx.post(f"{url}/v1/track", json={**body, **fields}, timeout=10)


def counts(url: str) -> dict[str, Any]:
    result: dict[str, Any] = httpx.get(f"{url}/_swoosh/counts").json()
    return result


def servers_of(url: str) -> set[int | None]:
    """Which processes served the journaled requests (None: the primary)."""
    entries = httpx.get(f"{url}/_swoosh/journal").json()["requests"]
    return {entry["extra"].get("worker_pid") for entry in entries}


class Receiver:
    """A destination on loopback that keeps every messageId it was sent."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                items = body.get("batch", [body]) if isinstance(body, dict) else body
                with receiver.lock:
                    receiver.ids += [item.get("messageId") for item in items]
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture(scope="package")
def pushwoosh_stack() -> Iterator[Stack]:
    """The fake Pushwoosh alone, in three processes on one port."""
    with Stack(StackOptions(workers=WORKERS, only=("pushwoosh",))) as running:
        yield running


@pytest.fixture
def pushwoosh_url(pushwoosh_stack: Stack) -> Iterator[str]:
    """The fake Pushwoosh's URL, its data, journal and event definitions forgotten, before and after."""
    base = pushwoosh_stack.urls["pushwoosh"]
    httpx.post(f"{base}/_swoosh/reset", json={})
    baseline = httpx.get(f"{base}/_swoosh/state").json()
    baseline["backend"]["event_registry"] = []
    assert httpx.put(f"{base}/_swoosh/state", json=baseline).status_code == 200
    assert httpx.delete(f"{base}/_swoosh/journal").status_code == 200
    yield base
    assert httpx.put(f"{base}/_swoosh/state", json=baseline).status_code == 200


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def acknowledged_across_a_kill(victim: int, send_once: Callable[[int, int], list[str]]) -> list[str]:
    """Three senders call `send_once(sender, n)` (the ids its answer acknowledged; an HTTP error on the
    killed worker's connection acknowledges none) until a second after `victim` got SIGKILL."""
    acknowledged: list[str] = []
    stop = threading.Event()

    def send(sender: int) -> None:
        n = 0
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):  # on the killed worker's connection: not acknowledged
                acknowledged.extend(send_once(sender, n))
            n += 1

    senders = [threading.Thread(target=send, args=(n,)) for n in range(3)]
    for sender in senders:
        sender.start()
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    time.sleep(1.0)
    stop.set()
    for sender in senders:
        sender.join(timeout=20)
    return acknowledged


def replaced_within(group: WorkerGroup, victim: int, seconds: float) -> bool:
    """Whether the group started a worker in the killed one's place, all of them alive, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (victim in group.pids or not all(alive(p) for p in group.pids)):
        time.sleep(0.05)
    return victim not in group.pids and all(alive(p) for p in group.pids)
