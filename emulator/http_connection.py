"""One client connection on the event loop: read whole requests, run each on a worker, write the answer.

Everything that waits on the client happens here, on the loop, and costs no thread: the request line
and headers arriving, a body trickling in, an idle keep-alive connection. A request goes to a worker
only once it is complete and within limits; a long-poll goes to the separate waiting pool, and learns
through `CLIENT_GONE_KEY` when its client disconnects, so it ends then instead of holding a thread.
"""

from __future__ import annotations

import asyncio
import email.utils
import io
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from swoosh.emulator.faults import DROP_ENVIRON_KEY
from swoosh.emulator.http1 import HttpError, HttpRequest, Limits, RequestReader
from swoosh.emulator.http_errors import Head, render_error
from swoosh.emulator.runtime import CLIENT_GONE_KEY

log = logging.getLogger("swoosh.serving")

NO_BODY_STATUSES = frozenset({204, 304})
WRITE_BUFFER_LIMIT = 256 * 1024  # a worker waits for the client to read past this (backpressure)
READ_AHEAD_LIMIT = 256 * 1024  # bytes a client may send beyond the request being answered


@dataclass
class Timeouts:
    idle: float = 60.0  # a connection with no request under way (new, or kept alive) is closed after it
    request: float = 60.0  # from a request's first byte until it is whole; then 408
    write: float = 30.0  # a worker waits this long for a client that does not read its answer


@dataclass
class ServerContext:
    """What every connection of one server shares; mutable parts are touched only on the loop thread."""

    app: Callable[..., Iterable[bytes]]
    loop: asyncio.AbstractEventLoop
    workers: ThreadPoolExecutor
    waiters: ThreadPoolExecutor
    limits: Limits
    timeouts: Timeouts
    scheme: str
    server_name: str
    server_port: int
    waiting_prefixes: tuple[str, ...]
    max_waits: int
    per_client: int
    connections: set[HttpConnection] = field(default_factory=set)
    clients: dict[str, int] = field(default_factory=dict)
    waits: int = 0


class HttpConnection(asyncio.Protocol):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.reader = RequestReader(ctx.limits)
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.gone = threading.Event()  # set from the loop when the client disconnects or the server stops
        self.writable = threading.Event()
        self.writable.set()
        self.busy = False  # a request is with a worker
        self.closing = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio callbacks (loop thread) --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_BUFFER_LIMIT)
        peer = transport.get_extra_info("peername")
        self.peer = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else ("", 0)
        ctx = self.ctx
        ctx.connections.add(self)
        held = ctx.clients.get(self.peer[0], 0) + 1
        ctx.clients[self.peer[0]] = held
        if held > ctx.per_client:
            self._refuse(HttpError(429, f"more than {ctx.per_client} connections from {self.peer[0]}"))
            return
        self._arm(ctx.timeouts.idle, self._idle_timeout)

    def data_received(self, data: bytes) -> None:
        was_idle = not self.reader.mid_request
        self.reader.feed(data)
        if self.busy:
            if self.reader.buffered > READ_AHEAD_LIMIT and self.transport is not None:
                self.transport.pause_reading()
            return
        if was_idle and self.reader.mid_request:
            self._arm(self.ctx.timeouts.request, self._request_timeout)
        self._next()

    def eof_received(self) -> bool:
        self.gone.set()
        return self.busy  # keep the transport open to answer the request under way, then close

    def connection_lost(self, exc: Exception | None) -> None:
        self.gone.set()
        self.writable.set()
        self._disarm()
        ctx = self.ctx
        ctx.connections.discard(self)
        left = ctx.clients.get(self.peer[0], 1) - 1
        if left:
            ctx.clients[self.peer[0]] = left
        else:
            ctx.clients.pop(self.peer[0], None)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # request flow (loop thread) -------------------------------------------------------------------

    def _next(self) -> None:
        if self.closing or self.transport is None:
            return
        try:
            request = self.reader.next_request()
        except HttpError as error:
            self._refuse(error)
            return
        if request is None:
            if self.reader.continue_wanted:
                self.reader.continue_wanted = False
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._disarm()
        ctx = self.ctx
        pool = ctx.workers
        if request.target.startswith(ctx.waiting_prefixes) or _path_of(request.target).startswith(ctx.waiting_prefixes):
            if ctx.waits >= ctx.max_waits:
                self._refuse(HttpError(503, f"more than {ctx.max_waits} waiting requests"), request.target)
                return
            ctx.waits += 1
            pool = ctx.waiters
        self.busy = True
        pool.submit(Exchange(self, request, pool is ctx.waiters).run)

    def finished(self, last: bytes, keep_alive: bool, was_wait: bool) -> None:
        """The worker is done with the request: write its last bytes, then serve the next request (already
        buffered, maybe) or close. One hand-off per ordinary answer."""
        if last:
            self.write(last)
        self.busy = False
        if was_wait:
            self.ctx.waits -= 1
        if self.transport is None or self.transport.is_closing():
            return
        if not keep_alive or self.gone.is_set():
            self._close()
            return
        self.transport.resume_reading()
        if self.reader.mid_request:
            self._arm(self.ctx.timeouts.request, self._request_timeout)
        else:
            self._arm(self.ctx.timeouts.idle, self._idle_timeout)
        self._next()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def abort(self) -> None:
        """Close without another byte: the connection-drop fault, a worker failing mid-answer, server stop."""
        self.closing = True
        self.gone.set()
        if self.transport is not None:
            self.transport.abort()

    def _refuse(self, error: HttpError, path: str | None = None) -> None:
        """Answer an HTTP-layer error in the service's format, then close (the stream can't be trusted)."""
        self._disarm()
        head, body = render_error(self.ctx.app, error.status, error.message, path or self.reader.pending_path)
        self.write(response_head(head, len(body), close=True) + body)
        self._close()

    def _close(self) -> None:
        self.closing = True
        self._disarm()
        if self.transport is not None:
            self.transport.close()

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self.ctx.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _idle_timeout(self) -> None:
        self._timer = None
        if not self.busy:
            self._close()

    def _request_timeout(self) -> None:
        self._timer = None
        if not self.busy:
            self._refuse(HttpError(408, f"request not received within {self.ctx.timeouts.request:g} s"))


class Exchange:
    """One request on a worker thread: WSGI call, then the answer handed to the loop chunk by chunk."""

    def __init__(self, conn: HttpConnection, request: HttpRequest, is_wait: bool) -> None:
        self.conn = conn
        self.request = request
        self.is_wait = is_wait
        self.dropped = False
        self.keep_alive = request.keep_alive
        self.head_sent = False
        self.chunked = False
        self.no_body = request.method == "HEAD"
        self.last = b""  # the answer's final bytes, handed to the loop together with the end of the exchange

    def run(self) -> None:
        conn = self.conn
        try:
            self._call_app()
        except Exception:
            log.exception("%s %s failed", self.request.method, self.request.target)
            if self.head_sent:
                self.dropped = True
            else:
                head, body = render_error(conn.ctx.app, 500, "internal error in the emulator", self.request.target)
                self.keep_alive = False
                self.last = response_head(head, len(body), close=True) + body
        if self.dropped:
            self.last = b""
            self._to_loop(conn.abort)
        self._to_loop(conn.finished, self.last, self.keep_alive, self.is_wait)

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> bool:
        """Hand `callback` to the loop; False when the server has stopped meanwhile (nothing left to do)."""
        try:
            self.conn.ctx.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: the server stopped while this request ran
            self.dropped = True
            return False
        return True

    def _call_app(self) -> None:
        status_box: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and self.head_sent:
                raise exc_info[1].with_traceback(exc_info[2])
            status_box[:] = [status, headers]
            return self._legacy_write

        self._status_box = status_box
        result = self.conn.ctx.app(self._environ(), start_response)
        try:
            held: bytes | None = None  # one chunk held back so a whole answer usually goes in one hand-off
            for chunk in result:
                if self.dropped or self.conn.gone.is_set():
                    break
                if not chunk:
                    continue
                if held is not None:
                    self._emit(held)
                held = chunk
                if self.chunked:  # a stream: every chunk goes out as soon as it is made
                    self._emit(held)
                    held = None
            if not self.dropped:
                self._emit(held or b"", last=True)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _legacy_write(self, data: bytes) -> None:
        self._emit(data)

    def _emit(self, data: bytes, last: bool = False) -> None:
        out = b""
        if not self.head_sent:
            out = self._head(data, last)
            self.head_sent = True
        if not self.no_body:
            if self.chunked:
                if data:
                    out += b"%x\r\n%b\r\n" % (len(data), data)
                if last:
                    out += b"0\r\n\r\n"
            else:
                out += data
        if last:
            self.last = out
        elif out:
            self._send(out)

    def _head(self, first: bytes, last: bool) -> bytes:
        if not self._status_box:
            raise RuntimeError("the app returned a body before calling start_response")
        status, headers = self._status_box
        code = int(status.split(" ", 1)[0])
        names = {k.lower() for k, _ in headers}
        if code in NO_BODY_STATUSES:
            self.no_body = True
        elif "content-length" not in names:
            if last:
                headers = [*headers, ("Content-Length", str(len(first)))]
            elif self.request.version >= (1, 1):
                self.chunked = True
                headers = [*headers, ("Transfer-Encoding", "chunked")]
            else:
                self.keep_alive = False
        if any(k.lower() == "connection" and "close" in v.lower() for k, v in headers):
            self.keep_alive = False
        headers = [(k, v) for k, v in headers if k.lower() != "connection"]
        return response_head((status, headers), None, close=not self.keep_alive, version=self.request.version)

    def _send(self, data: bytes) -> None:
        conn = self.conn
        if not self._to_loop(conn.write, data):
            return
        if not conn.writable.is_set() and not conn.writable.wait(conn.ctx.timeouts.write):
            self.dropped = True  # the client stopped reading: give the worker back

    def _environ(self) -> dict[str, Any]:
        request, conn, ctx = self.request, self.conn, self.conn.ctx
        target = request.target
        if not target.startswith("/"):  # absolute form (RFC 9112 section 3.2.2), as some clients send
            parts = urlsplit(target)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": request.target,
            "RAW_URI": request.target,
            "SERVER_NAME": ctx.server_name,
            "SERVER_PORT": str(ctx.server_port),
            "SERVER_PROTOCOL": "HTTP/{}.{}".format(*request.version),
            "REMOTE_ADDR": conn.peer[0],
            "REMOTE_PORT": str(conn.peer[1]),
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": ctx.scheme,
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            DROP_ENVIRON_KEY: self._drop,
            CLIENT_GONE_KEY: conn.gone,
        }
        for name, value in request.headers:
            if name in ("transfer-encoding", "content-length"):
                continue  # the body is whole and de-chunked: CONTENT_LENGTH says how long it is
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        return environ

    def _drop(self) -> None:
        self.dropped = True


def _path_of(target: str) -> str:
    return urlsplit(target).path if not target.startswith("/") else target


_date_cache: list[Any] = [0, ""]


def http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return str(_date_cache[1])


def response_head(head: Head, length: int | None, close: bool, version: tuple[int, int] = (1, 1)) -> bytes:
    status, headers = head
    lines = [f"HTTP/1.1 {status}", f"Date: {http_date()}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if close:
        lines.append("Connection: close")
    elif version < (1, 1):
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
