"""Serve a WSGI app from an event loop in a background thread, with a bounded pool of request workers.

Used identically by `swoosh up`, the pytest plugin and the tests: ephemeral ports (port 0), loopback
by default, clean stop, optional TLS, keep-alive and the connection-drop fault. Connections live on
one asyncio loop (emulator.http_connection) and cost no thread while they wait; a request reaches a
worker only when it is whole; long-polls run on a separate waiting pool that cannot starve the
workers. Why this design, and how worker processes share one port with it: docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from swoosh.emulator.faults import CONTROL_PREFIX
from swoosh.emulator.http1 import Limits
from swoosh.emulator.http_connection import HttpConnection, ServerContext, Timeouts

log = logging.getLogger("swoosh.serving")

# Routes that wait on purpose (long-polls, and later event streams): they run on the waiting pool.
WAITING_PREFIXES = (f"{CONTROL_PREFIX}/wait/", f"{CONTROL_PREFIX}/stream/")
MAX_WAITS = 1024
BACKLOG = 1024  # the kernel's queue of connections not accepted yet
ACCEPTS_PER_WAKE = 100  # asyncio's default: connections a readable listening socket hands over at once
PER_CLIENT_CONNECTIONS = 4096


def bind_listener(host: str, port: int, reuse_port: bool = False, backlog: int = BACKLOG) -> socket.socket:
    """A listening TCP socket. Worker processes share one port either by each binding with
    `reuse_port=True` (SO_REUSEPORT: the kernel spreads connections) or by inheriting one socket bound
    here before they fork; either way each gives its socket to `ServerThread(listener=...)`."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class ServerThread:
    """One WSGI app on one port; `start()` returns once the socket is bound and accepting."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 32,
        name: str = "swoosh",
        tls: tuple[str, str] | None = None,
        *,
        listener: socket.socket | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        max_waits: int = MAX_WAITS,
        per_client: int = PER_CLIENT_CONNECTIONS,
        shared: bool = False,
    ) -> None:
        self.app = app
        self._shared = shared
        self.host = host
        self.name = name
        self._requested_port = port
        self._threads = threads
        self._tls = tls
        self._listener = listener
        self._limits = limits or Limits()
        self._timeouts = timeouts or Timeouts()
        self._max_waits = max_waits
        self._per_client = per_client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ctx: ServerContext | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    def start(self) -> ServerThread:
        listener = self._listener or bind_listener(self.host, self._requested_port)
        self._listener = listener
        address = listener.getsockname()
        self._requested_port = int(address[1]) if isinstance(address, tuple) else 0  # 0: a Unix socket
        context = None
        if self._tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._ctx = ServerContext(
            app=self.app,
            loop=loop,
            workers=ThreadPoolExecutor(self._threads, thread_name_prefix=f"{self.name}-worker"),
            waiters=ThreadPoolExecutor(self._max_waits, thread_name_prefix=f"{self.name}-wait"),
            limits=self._limits,
            timeouts=self._timeouts,
            scheme="https" if context else "http",
            server_name=self.host,
            server_port=self.port,
            waiting_prefixes=WAITING_PREFIXES,
            max_waits=self._max_waits,
            per_client=self._per_client,
        )
        ctx = self._ctx
        tls_options: dict[str, Any] = {"ssl": context, "ssl_handshake_timeout": 30} if context else {}
        # asyncio accepts up to `backlog` waiting connections each time the socket is readable: on a socket
        # shared by worker processes one process would take a whole burst, so each takes one per wake-up
        # (the busiest process's loop wakes least often, so connections go where there is time for them);
        # asyncio also re-listens with that number, so the kernel's queue is set to its length after.
        accepts = 1 if self._shared else ACCEPTS_PER_WAKE
        self._server = loop.run_until_complete(
            loop.create_server(lambda: HttpConnection(ctx), sock=listener, backlog=accepts, **tls_options)
        )
        listener.listen(BACKLOG)
        self._thread = threading.Thread(target=loop.run_forever, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._requested_port

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{scheme}://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """Client connections open now (for tests and diagnostics)."""
        return len(self._ctx.connections) if self._ctx is not None else 0

    @property
    def waiting(self) -> int:
        """Requests on the waiting pool now (long-polls and streams)."""
        return self._ctx.waits if self._ctx is not None else 0

    def stop(self) -> None:
        loop, ctx, thread = self._loop, self._ctx, self._thread
        if loop is None or ctx is None:
            return
        if thread is not None and thread.is_alive():
            done = threading.Event()
            loop.call_soon_threadsafe(self._close_all, done)
            done.wait(5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
        ctx.workers.shutdown(wait=False, cancel_futures=True)
        ctx.waiters.shutdown(wait=False, cancel_futures=True)
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        self._listener = None
        self._loop = self._ctx = self._thread = self._server = None

    def _close_all(self, done: threading.Event) -> None:
        """On the loop: stop accepting, end every connection (waits see their client gone)."""
        if self._server is not None:
            self._server.close()
        assert self._ctx is not None
        for conn in list(self._ctx.connections):
            conn.abort()
        done.set()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
