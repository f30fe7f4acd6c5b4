"""Serve a WSGI app on cheroot (a production, thread-pooled server) in a background thread.

Used identically by `swoosh up`, the pytest plugin and the tests: ephemeral ports (port 0),
loopback by default, clean stop, optional TLS, and support for the connection-drop fault.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from swoosh.emulator.faults import DROP_ENVIRON_KEY


class _DroppingGateway(wsgi.Gateway_10):
    """Adds a callable to the environ that closes the client socket without any response."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        req = self.req

        def drop() -> None:
            req.sent_headers = True  # nothing is ever written for this request
            req.close_connection = True
            with contextlib.suppress(OSError):
                req.conn.socket.shutdown(socket.SHUT_RDWR)

        environ[DROP_ENVIRON_KEY] = drop
        return environ


class _AbsoluteFormRequest(cheroot_server.HTTPRequest):
    """Accepts absolute-form request lines (`POST http://host/path HTTP/1.1`) and routes on the path.

    RFC 7230 section 5.3.2 says servers must accept them; cheroot only does in proxy mode, and the
    PyPI `pushwoosh` client sends them.
    """

    def __init__(self, server: Any, conn: Any, proxy_mode: bool = True, strict_mode: bool = True) -> None:
        super().__init__(server, conn, proxy_mode=True, strict_mode=strict_mode)


class _Connection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _AbsoluteFormRequest


class ServerThread:
    """One WSGI app on one port; `start()` returns once the socket is bound and listening."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 32,
        name: str = "swoosh",
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self._server = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            server_name=name,
            request_queue_size=256,
            timeout=30,
            shutdown_timeout=2,
        )
        # No cap on idle keep-alive connections (cheroot's default is 10): past the cap every response
        # closes its connection, and counting against it takes the selector's lock on every response;
        # under 16 keep-alive clients that was a quarter of the server's samples. Idle ones still time out.
        self._server.keep_alive_conn_limit = None
        self._server.gateway = _DroppingGateway
        self._server.ConnectionClass = _Connection
        self._tls = tls is not None
        if tls is not None:
            self._server.ssl_adapter = BuiltinSSLAdapter(tls[0], tls[1])
        self._thread: threading.Thread | None = None
        self.name = name

    def start(self) -> ServerThread:
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{scheme}://{host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
