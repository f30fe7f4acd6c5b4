"""Malformed framing and over-limit requests on raw sockets (issue 19, items 1, 5 and 9).

Every case is answered by the HTTP layer with a 4xx in the service's own error format (the fake
Segment's `{"success": false, ...}`, the fake Pushwoosh's envelope, the bridge's `{"error": {...}}`),
never a 5xx, never ingested, and the service answers normally afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from swoosh.emulator.http1 import Limits
from swoosh.emulator.http_connection import Timeouts
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.serving import ServerThread
from tests.reliability.sockets import close_all, eventually, exchange, open_connections, read_until_closed

EVENT = b'{"userId":"u-1","event":"Smuggled"}'
AUTH = "Authorization: Basic d2s6\r\n"  # write key "wk"
HEAD = f"POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{AUTH}".encode()

ABUSE: dict[str, tuple[bytes, int]] = {
    "chunk size zz": (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + EVENT + b"\r\n0\r\n\r\n", 400),
    "chunk size 2**64-1": (HEAD + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n" + EVENT + b"\r\n", 400),
    "chunk longer than declared": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n" + EVENT + b"\r\n0\r\n\r\n", 400),
    "two different Content-Lengths": (
        HEAD + b"Content-Length: %d\r\nContent-Length: 5\r\n\r\n" % len(EVENT) + EVENT, 400),
    "negative Content-Length": (HEAD + b"Content-Length: -1\r\n\r\n" + EVENT, 400),
    "signed Content-Length": (HEAD + b"Content-Length: +%d\r\n\r\n" % len(EVENT) + EVENT, 400),
    "Content-Length and chunked": (
        HEAD + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(EVENT) + EVENT, 400),
    "Transfer-Encoding not ending in chunked": (HEAD + b"Transfer-Encoding: gzip\r\n\r\n" + EVENT, 400),
    "NUL in a header": (HEAD + b"X-Trace: a\x00b\r\nContent-Length: %d\r\n\r\n" % len(EVENT) + EVENT, 400),
    "obsolete line folding": (HEAD + b"X-Trace: a\r\n b\r\nContent-Length: %d\r\n\r\n" % len(EVENT) + EVENT, 400),
    "malformed request line": (b"POST  /v1/track HTTP/1.1\r\n\r\n", 400),
    "HTTP/2 request line": (b"POST /v1/track HTTP/2.0\r\n\r\n", 505),
    "request line too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
    "header block too large": (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "too many headers": (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
    "body over the server's limit": (HEAD + b"Content-Length: 999999999999\r\n\r\n", 413),
}


def _segment_shape(body: dict[str, Any], status: int) -> bool:
    return body.get("success") is False and isinstance(body.get("code"), str) and bool(body.get("message"))


def _pushwoosh_shape(body: dict[str, Any], status: int) -> bool:
    return body.get("status_code") == status and bool(body.get("status_message"))


def _bridge_shape(body: dict[str, Any], status: int) -> bool:
    error = body.get("error")
    return isinstance(error, dict) and bool(error.get("code")) and bool(error.get("message"))


SHAPES: dict[str, Callable[[dict[str, Any], int], bool]] = {
    "segment": _segment_shape,
    "pushwoosh": _pushwoosh_shape,
    "bridge": _bridge_shape,
}


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


@pytest.mark.parametrize("case", sorted(ABUSE))
@pytest.mark.parametrize("service", sorted(SHAPES))
def test_http_layer_abuse_is_a_4xx_in_the_service_format(
    service: str, case: str, request: pytest.FixtureRequest
) -> None:
    server: ServerThread = request.getfixturevalue(service)
    raw, expected = ABUSE[case]
    status, headers, body = parse(exchange(server.port, raw))
    assert status == expected, body
    assert headers.get("connection") == "close"
    assert SHAPES[service](json.loads(body), status), body
    assert httpx.get(f"{server.url}/_swoosh/health", timeout=10).status_code == 200


@pytest.mark.parametrize("case", sorted(ABUSE))
def test_abusive_requests_are_never_ingested(case: str, segment: ServerThread, segment_backend: SegmentBackend) -> None:
    exchange(segment.port, ABUSE[case][0])
    well_formed = HEAD + b"Content-Length: %d\r\n\r\n" % len(EVENT) + EVENT
    assert parse(exchange(segment.port, well_formed))[0] == 200  # the same event, framed properly, is taken
    assert [r["message"] for r in segment_backend.query("events", {}, None)] == [json.loads(EVENT)]


def test_valid_chunked_bodies_and_pipelined_requests_are_served(
    segment: ServerThread, segment_backend: SegmentBackend
) -> None:
    chunked = HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n" + EVENT[:5] + b"\r\n%x;ext=1\r\n" % (
        len(EVENT) - 5) + EVENT[5:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n"
    health = b"GET /_swoosh/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answers = read_until_closed(segment.port, chunked + health)
    assert answers.count(b"HTTP/1.1 200 OK") == 2, answers
    assert len(segment_backend.query("events", {}, None)) == 1


def test_connections_past_the_per_client_cap_get_429_in_the_service_format() -> None:
    with ServerThread(segment_app(SegmentBackend()), threads=2, per_client=3) as server:
        socks = open_connections(server.port, 3)
        try:
            assert eventually(lambda: server.connections == 3)
            status, _, body = parse(exchange(server.port, b"GET /_swoosh/health HTTP/1.1\r\n\r\n"))
            assert status == 429
            assert _segment_shape(json.loads(body), status)
        finally:
            close_all(socks)
        assert eventually(lambda: server.connections == 0)
        assert httpx.get(f"{server.url}/_swoosh/health", timeout=10).status_code == 200


def test_a_request_that_never_completes_gets_408_and_is_closed() -> None:
    with ServerThread(segment_app(SegmentBackend()), threads=2, timeouts=Timeouts(idle=5, request=0.3)) as server:
        status, _headers, body = parse(exchange(server.port, b"POST /v1/track HTTP/1.1\r\nHost: x\r\n"))
        assert status == 408
        assert _segment_shape(json.loads(body), status)


def test_the_limits_are_the_server_s_to_choose() -> None:
    with ServerThread(segment_app(SegmentBackend()), threads=2, limits=Limits(body_bytes=10)) as server:
        status, _, body = parse(exchange(server.port, HEAD + b"Content-Length: %d\r\n\r\n" % len(EVENT) + EVENT))
        assert status == 413
        assert _segment_shape(json.loads(body), status)
