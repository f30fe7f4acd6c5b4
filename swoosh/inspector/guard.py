"""The inspector's guard: the control API's rules (emulator.guard) on every path, not only `/_swoosh/`.

Its pages show the stack's data, so a page on another site whose name rebinds to 127.0.0.1 must not
read them (Host check), and its actions change state, so they need JSON and the same origin. It
listens on loopback only and never asks for the control token: it holds it, and sends it to the
services itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson
from flask import Flask

from swoosh.emulator.guard import ACCESS_EXTENSION, ControlAccess

_REASONS = {401: "Unauthorized", 403: "Forbidden", 415: "Unsupported Media Type"}


class InspectorGuard:
    def __init__(self, app: Callable[..., Iterable[bytes]], access: ControlAccess) -> None:
        self.app = app
        self.access = access

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refused = self.access.refusal(environ)
        if refused is None:
            return self.app(environ, start_response)
        status, code, message = refused
        body = orjson.dumps({"error": message, "code": code})
        start_response(
            f"{status} {_REASONS[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]


def guard(app: Flask) -> Flask:
    """Wrap `app` outermost; the stack configures the access (listening address, names) like a service's."""
    access = ControlAccess()
    app.wsgi_app = InspectorGuard(app.wsgi_app, access)  # type: ignore[method-assign]  # Flask's documented way to wrap its WSGI callable
    app.extensions[ACCESS_EXTENSION] = access
    return app
