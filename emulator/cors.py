"""CORS on every answer a browser can receive from a fake, whatever produced it.

Route answers, injected faults (emulator.faults) and errors raised below the routes all pass through
`CorsMiddleware`, installed outermost, so a page on another origin reads each of them as the app would
from the real service; a dropped connection has no answer and stays dropped. Each service says, per
request, which headers apply (none for its control namespace).

A browser's preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here, before
fault rules and the journal: a rule is about the request the app makes, and a faulted preflight would
turn every injected status into the same opaque CORS failure, which is what the app never sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# environ -> the CORS headers of this request's answer; [] leaves the answer as it is.
CorsHeaders = Callable[[dict[str, Any]], list[tuple[str, str]]]


class CorsMiddleware:
    """Replaces whatever CORS headers an answer carries with the service's own, on every answer."""

    def __init__(self, app: Callable[..., Iterable[bytes]], headers_for: CorsHeaders) -> None:
        self.app = app
        self.headers_for = headers_for

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        extra = self.headers_for(environ)
        if not extra:
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("200 OK", [("Content-Length", "0"), *extra])
            return [b""]
        replaced = {name.lower() for name, _ in extra}

        def cors_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() not in replaced]
            return start_response(status, kept + extra, exc_info)

        return self.app(environ, cors_start_response)
