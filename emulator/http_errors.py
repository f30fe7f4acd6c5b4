"""Answers the HTTP layer gives itself (bad framing, limits, time-outs), in the service's own error format.

A Flask app already renders every `HTTPException` its own way (the fake Segment's
`{"success": false, ...}`, the fake Pushwoosh's envelope, the bridge's `{"error": {...}}`), so the
server asks the app's own handler for the body; any other WSGI app gets a generic JSON error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import orjson
from flask import Flask
from werkzeug.exceptions import HTTPException, default_exceptions

log = logging.getLogger("swoosh.serving")

Head = tuple[str, list[tuple[str, str]]]  # ("431 Request Header Fields Too Large", headers)


def reason(status: int) -> str:
    """The status line's reason phrase ("Request Header Fields Too Large")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def render_error(app: Callable[..., Any], status: int, message: str, path: str = "/") -> tuple[Head, bytes]:
    """Status line, headers and body for an error the server answers without running a route."""
    if isinstance(app, Flask):
        try:
            return _flask_error(app, status, message, path)
        except Exception:  # an app's error handler must never turn a 4xx into a dropped connection
            log.exception("error handler of %s failed for %s", app.name, status)
    body = orjson.dumps({"code": reason(status).lower().replace(" ", "_"), "message": message})
    return (f"{status} {reason(status)}", [("Content-Type", "application/json")]), body


def _flask_error(app: Flask, status: int, message: str, path: str) -> tuple[Head, bytes]:
    exc_class = default_exceptions.get(status)
    exc = exc_class(description=message) if exc_class is not None else HTTPException(description=message)
    if exc_class is None:
        exc.code = status
    if not path.startswith("/"):
        path = "/"
    with app.test_request_context(path.split("?", 1)[0]):
        response = app.make_response(app.handle_http_exception(exc))
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    return (f"{response.status_code} {reason(response.status_code)}", headers), response.get_data()
