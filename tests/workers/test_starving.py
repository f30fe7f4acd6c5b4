"""Idle sockets, half-sent requests and long-polls never starve a process of the port (issue 18 item 7,
with the reliability issue's item 1): every process serves on an event loop, so connections that send
nothing, or a header and then nothing, hold no request thread; long-polls a worker forwards wait on the
primary's waiting pool, not its request workers. Counts and times are bounded; servers are on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx

from tests.workers.conftest import counts, servers_of, track

IDLE, HALF_SENT, POLLS, TRACKS = 150, 50, 60, 30  # well past the 32 request workers of each process
SENDERS = 6


@contextlib.contextmanager
def held(url: str, requests: list[bytes]) -> Iterator[list[socket.socket]]:
    """One connection per entry of `requests`, each having sent its bytes (b"" sends nothing); closed after."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sockets: list[socket.socket] = []
    try:
        for data in requests:
            sock = socket.create_connection((host, int(port)), timeout=5)
            if data:
                sock.sendall(data)
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def test_idle_and_half_sent_connections_leave_every_process_serving(url: str) -> None:
    host = url.removeprefix("http://")
    half = f"POST /v1/track HTTP/1.1\r\nHost: {host}\r\nContent-Length: 500\r\n\r\n{{".encode()
    with held(url, [b""] * IDLE + [half] * HALF_SENT):
        answers = [track(url).status_code for _ in range(TRACKS)]
    assert answers == [200] * TRACKS
    assert counts(url)["good"] == TRACKS
    assert len(servers_of(url)) >= 2, "the tracks reached more than one process while the sockets were held"


def test_long_polls_through_workers_leave_ingest_and_the_control_api_serving(url: str) -> None:
    host = url.removeprefix("http://")
    poll = f"GET /_swoosh/wait/events?messageId=never&timeout=30 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with held(url, [poll] * POLLS):
        answers = [track(url).status_code for _ in range(TRACKS)]
        control = httpx.get(f"{url}/_swoosh/events", params={"limit": 1}, timeout=10)
    assert answers == [200] * TRACKS and control.status_code == 200
    assert counts(url)["good"] == TRACKS


def test_concurrent_senders_beside_held_sockets_all_get_answers(url: str) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(TRACKS // SENDERS):
            code = track(url).status_code
            with lock:
                statuses.append(code)

    with held(url, [b""] * IDLE):
        senders = [threading.Thread(target=send) for _ in range(SENDERS)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
    assert statuses == [200] * (TRACKS // SENDERS * SENDERS)
    assert counts(url)["good"] == len(statuses)
