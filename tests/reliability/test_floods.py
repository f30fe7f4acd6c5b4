"""Connections that wait never starve a service (issue 19, item 1).

Each test holds `flood_size` connections open in one way (idle, trickling a request head, trickling a
body, long-polling), then sends one normal request and requires it answered. The 5 s bound only
keeps a stalled server from hanging the suite (the old server answered after 30 s, or not within
15 s); the measured latency is printed and recorded in docs/reliability.md.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.serving import ServerThread
from tests.reliability.sockets import close_all, eventually, open_connections

BOUND_S = 5.0
TRACK = {"userId": "u-1", "event": "Order Completed"}


def _normal_request(server: ServerThread, label: str, held: int) -> float:
    """A new connection's first request (accept included), then four more on it; the client is built untimed."""
    latencies = []
    with httpx.Client(base_url=server.url, auth=("wk", ""), timeout=BOUND_S) as client:
        for _ in range(5):
            started = time.perf_counter()
            response = client.post("/v1/track", json=TRACK)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    first, median = latencies[0] * 1000, sorted(latencies)[2] * 1000
    print(f"\n[reliability] {label}: {held} connections held; normal request on a new connection answered in "
          f"{first:.1f} ms, median of 5 {median:.1f} ms")
    assert max(latencies) < BOUND_S
    return latencies[0]


def test_idle_connections_do_not_stall_a_service(segment: ServerThread, flood_size: int) -> None:
    socks = open_connections(segment.port, flood_size)
    try:
        assert eventually(lambda: segment.connections >= flood_size)
        _normal_request(segment, "idle flood", segment.connections)
    finally:
        close_all(socks)


TRICKLES = {
    # the head under way, never whole (two trickles)
    "trickling-header": [b"POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"Content-Type: application/json\r\n"],
    # the head whole, 6 of the 100 body bytes sent
    "trickling-body": [b"POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n", b'{"user'],
}


@pytest.mark.parametrize("kind", sorted(TRICKLES))
def test_trickling_requests_do_not_stall_a_service(segment: ServerThread, flood_size: int, kind: str) -> None:
    socks = open_connections(segment.port, flood_size)
    try:
        for piece in TRICKLES[kind]:
            for sock in socks:
                sock.sendall(piece)
        assert eventually(lambda: segment.connections >= flood_size)
        _normal_request(segment, f"{kind} flood", segment.connections)
    finally:
        close_all(socks)


def test_long_polls_do_not_stall_a_service_and_end_with_their_clients(segment: ServerThread, flood_size: int) -> None:
    socks = open_connections(segment.port, flood_size)
    try:
        for sock in socks:
            sock.sendall(b"GET /_swoosh/wait/events?count=1000000&timeout=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert eventually(lambda: segment.waiting >= flood_size), f"{segment.waiting} waits under way"
        _normal_request(segment, "long-poll flood", segment.waiting)
    finally:
        close_all(socks)
    started = time.perf_counter()
    assert eventually(lambda: segment.waiting == 0), f"{segment.waiting} waits still held after their clients left"
    released = time.perf_counter() - started
    print(f"[reliability] {flood_size} long-polls released {released:.2f} s after their clients left")


def test_a_long_poll_ends_when_its_client_disconnects(segment: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", segment.port)) as sock:
        sock.sendall(b"GET /_swoosh/wait/events?count=5&timeout=300 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert eventually(lambda: segment.waiting == 1)
    assert eventually(lambda: segment.waiting == 0, seconds=10), "the wait outlived its client"


def test_a_long_poll_still_answers_its_client(segment: ServerThread) -> None:
    """The waiting pool is only where a wait runs: a client that stays gets its answer, and the event wakes it."""
    with httpx.Client(base_url=segment.url, timeout=30) as client:
        waiting = []

        def poll() -> None:
            waiting.append(client.get("/_swoosh/wait/events", params={"count": 1, "timeout": 20}).json())

        thread = threading.Thread(target=poll)
        thread.start()
        assert eventually(lambda: segment.waiting == 1)
        assert client.post("/v1/track", json=TRACK, auth=("wk", "")).status_code == 200
        thread.join(25)
    assert waiting and waiting[0]["matched"] is True and waiting[0]["count"] == 1


def test_waiting_requests_past_the_cap_are_refused_in_the_service_format(segment_backend: SegmentBackend) -> None:
    with ServerThread(segment_app(segment_backend), threads=2, max_waits=2) as server:
        socks = open_connections(server.port, 2)
        try:
            for sock in socks:
                sock.sendall(b"GET /_swoosh/wait/events?count=9&timeout=60 HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert eventually(lambda: server.waiting == 2)
            third = httpx.get(f"{server.url}/_swoosh/wait/events", params={"count": 9, "timeout": 60}, timeout=10)
            assert third.status_code == 503
            assert third.json()["success"] is False
            assert httpx.get(f"{server.url}/_swoosh/health", timeout=BOUND_S).status_code == 200
        finally:
            close_all(socks)
