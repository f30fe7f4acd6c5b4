"""A worker process hands every request it does not serve itself to its primary, unchanged.

The primary listens for its workers on a Unix socket in a private folder (mode 0700: only this user's
processes reach it). The worker forwards method, target, headers and body as they came, plus who the
client was (`X-Swoosh-Peer`, `X-Swoosh-Scheme`), which it always overwrites; `TrustForwarded`, mounted
only on that private socket, puts them back into the environ. So the primary's control guard sees the
client's own Host, Origin, Authorization and Content-Type and the scheme it used, and decides exactly
as it would for a request it received itself.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from swoosh.emulator.faults import DROP_ENVIRON_KEY
from swoosh.emulator.runtime import CLIENT_GONE_KEY
from swoosh.emulator.serving import WAITING_PREFIXES

PEER_HEADER, SCHEME_HEADER = "X-Swoosh-Peer", "X-Swoosh-Scheme"
_PEER_KEY, _SCHEME_KEY = "HTTP_X_SWOOSH_PEER", "HTTP_X_SWOOSH_SCHEME"
# Connection-level headers: each hop has its own (RFC 9110 section 7.6.1).
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
READ_CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 330.0  # above the longest long-poll the control API allows (300 s)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The request's headers as the client sent them (names title-cased), without hop-by-hop ones."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_") and key not in (_PEER_KEY, _SCHEME_KEY):
            name = key[5:].replace("_", "-").title()
            if name.lower() not in HOP_BY_HOP:
                headers.append((name, str(value)))
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    return headers


class Upstream:
    """A WSGI app that forwards each request to the primary's Unix socket and streams its answer back."""

    def __init__(self, socket_path: str, timeout: float = UPSTREAM_TIMEOUT) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        target = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            conn.putrequest(environ["REQUEST_METHOD"], target, skip_host=True, skip_accept_encoding=True)
            for name, value in request_headers(environ):
                conn.putheader(name, value)
            conn.putheader(PEER_HEADER, f"{environ.get('REMOTE_ADDR', '')} {environ.get('REMOTE_PORT', '0')}")
            conn.putheader(SCHEME_HEADER, environ.get("wsgi.url_scheme", "http"))
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            with _ended_with_its_client(environ, conn):
                response = conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            drop = environ.get(DROP_ENVIRON_KEY)  # the primary dropped it (a drop fault): so does this worker
            if drop is not None:
                drop()
                return []
            return _unavailable(start_response)
        except OSError:
            conn.close()
            return _unavailable(start_response)
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}", headers)
        return _stream(conn, response)


@contextlib.contextmanager
def _ended_with_its_client(environ: dict[str, Any], conn: http.client.HTTPConnection) -> Iterator[None]:
    """While a long-poll waits for the primary's answer, a client that leaves closes the forwarded
    connection too, so the primary's wait ends with it (as it would for a client of its own) instead of
    holding a waiting-pool thread until its timeout."""
    gone = environ.get(CLIENT_GONE_KEY)
    if gone is None or not environ.get("PATH_INFO", "").startswith(WAITING_PREFIXES):
        yield
        return
    answered = threading.Event()

    def close_when_gone() -> None:
        while not answered.is_set():
            if gone.wait(0.25):
                with contextlib.suppress(OSError):
                    if conn.sock is not None:
                        conn.sock.shutdown(socket.SHUT_RDWR)
                return

    threading.Thread(target=close_when_gone, name="swoosh-proxy-gone", daemon=True).start()
    try:
        yield
    finally:
        answered.set()


def _stream(conn: http.client.HTTPConnection, response: http.client.HTTPResponse) -> Iterator[bytes]:
    try:
        while True:
            chunk = response.read1(READ_CHUNK)
            if not chunk:
                return
            yield chunk
    except OSError:
        return
    finally:
        conn.close()


def _unavailable(start_response: Callable[..., Any]) -> list[bytes]:
    body = orjson.dumps({"code": "primary_unavailable", "message": "the stack's primary process is not answering"})
    start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Retry-After", "1")])
    return [body]


class TrustForwarded:
    """On the primary's private socket only: the client address and scheme a worker forwarded."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        peer = environ.pop(_PEER_KEY, "")
        address, _, port = peer.partition(" ")
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = address, port or "0"
        scheme = environ.pop(_SCHEME_KEY, "http")
        environ["wsgi.url_scheme"] = "https" if scheme == "https" else "http"
        return self.app(environ, start_response)
