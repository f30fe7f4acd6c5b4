"""The Tracking API on the wire: routes, auth headers, gzip, size limits, CORS, answers.

Paths are matched case-insensitively with any trailing slash, as Segment's edge does, so one
catch-all route under /v1 dispatches them.
"""

from __future__ import annotations

import base64
import binascii
import threading
from typing import Any

import orjson
from flask import Blueprint, Response, request

from swoosh.emulator.faults import CONTROL_PREFIX
from swoosh.emulator.runtime import note_logged, note_refusal
from swoosh.emulator.segment.backend import MAX_BATCH_BYTES, MAX_CALL_BYTES, IngestError, SegmentBackend
from swoosh.emulator.segment.messages import BATCH, CALL_TYPES, CLIENT_LIBRARIES, CallType
from swoosh.emulator.wire import BodyError, decode_body, parse_json, read_raw

CALL_ROUTES: dict[str, CallType] = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "batch": "batch",
    "import": "batch",
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "b": "batch",
}
PIXEL_TYPES = frozenset(CALL_TYPES)
SUCCESS = b'{"success":true}'
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Retry-Count, Content-Encoding"
# A page's script reads only the headers listed here: analytics.js waits `Retry-After` seconds after a 429.
CORS_EXPOSE_HEADERS = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


def error_body(code: str, message: str, **extra: object) -> bytes:
    return orjson.dumps({"success": False, "code": code, "message": message, **extra})


def cors_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The Tracking API's CORS headers, for every answer outside the control namespace (see emulator.cors)."""
    if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
        return []
    origin = environ.get("HTTP_ORIGIN")
    headers = [("Access-Control-Allow-Origin", origin or "*")]
    if origin:
        headers += [("Access-Control-Allow-Credentials", "true"), ("Vary", "Origin")]
    return [
        *headers,
        ("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS"),
        ("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS),
        ("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS),
        ("Access-Control-Max-Age", "86400"),
    ]


def _json(body: bytes, status: int = 200, close: bool = False) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    if close:
        response.headers["Connection"] = "close"
    return response


class ClientMetrics:
    """The usage counters analytics.js posts to `/v1/m` every 30 s, summed per metric and tags."""

    def __init__(self) -> None:
        self._totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._lock = threading.Lock()
        self.posts = 0

    def record(self, body: object) -> None:
        """Adds one post's series; raises BodyError (nothing counted) unless every item is a counter."""
        series = body.get("series") if isinstance(body, dict) else None
        if not isinstance(series, list):
            raise BodyError("invalid_request", 'send {"series": [{"type", "metric", "value", "tags"}]}')
        counted = []
        for item in series:
            if not (
                isinstance(item, dict)
                and item.get("type") == "Counter"
                and isinstance(item.get("metric"), str)
                and isinstance(item.get("value"), int | float)
                and not isinstance(item.get("value"), bool)
                and isinstance(item.get("tags"), dict)
            ):
                raise BodyError("invalid_request", "each series item needs type Counter, metric, value and tags")
            tags = tuple(sorted((str(k), str(v)) for k, v in item["tags"].items()))
            counted.append(((item["metric"], tags), float(item["value"])))
        with self._lock:
            self.posts += 1
            for key, value in counted:
                self._totals[key] = self._totals.get(key, 0.0) + value

    def describe(self) -> dict[str, Any]:
        with self._lock:
            counters = [{"metric": m, "tags": dict(t), "value": v} for (m, t), v in sorted(self._totals.items())]
            return {"posts": self.posts, "counters": counters}

    def clear(self) -> None:
        with self._lock:
            self._totals.clear()
            self.posts = 0


def add_client_ip(body: object, remote_addr: str | None) -> None:
    """Segment fills `context.ip` from the connection for events of client-side libraries, unless set."""
    if not remote_addr or not isinstance(body, dict):
        return
    batch = body.get("batch")
    items: list[object] = batch if isinstance(batch, list) else [body]
    for item in items:
        context = item.get("context") if isinstance(item, dict) else None
        if not isinstance(context, dict) or "ip" in context:
            continue
        library = context.get("library")
        if isinstance(library, dict) and library.get("name") in CLIENT_LIBRARIES:
            context["ip"] = remote_addr


def basic_write_key(authorization: str | None) -> tuple[str | None, bool]:
    """(write key from `Basic base64(key:)`, whether a Bearer token was sent)."""
    if not authorization:
        return None, False
    scheme, _, credentials = authorization.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return None, True
    if scheme != "basic":
        return None, False
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, False
    return decoded.partition(":")[0] or None, False


def tracking_blueprint(backend: SegmentBackend, metrics: ClientMetrics) -> Blueprint:
    bp = Blueprint("segment_tracking", __name__)

    def ingest(call_type: CallType, body: object, body_bytes: int) -> Response:
        key, bearer = basic_write_key(request.headers.get("Authorization"))
        add_client_ip(body, request.remote_addr)
        try:
            backend.ingest(call_type, body, key, bearer, body_bytes)
        except IngestError as exc:
            note_refusal(request.environ, exc.code)  # the code only: a message can quote the write key
            extra = {"errors": exc.errors} if exc.errors else {}
            return _json(error_body(exc.code, exc.message, **extra), exc.status)
        note_logged(request.environ)  # the backend logged its messages
        return _json(SUCCESS)

    @bp.route("/<version>/<path:rest>", methods=["GET", "POST", "PUT", "OPTIONS"])
    def v1(version: str, rest: str) -> Response:
        if version.lower() != "v1":
            return _json(error_body("not_found", f"No route /{version}/{rest}"), 404)
        route = rest.strip("/").lower()
        if request.method == "OPTIONS":
            return Response(status=200)
        if request.method == "GET":
            return _get(route)
        if route == "m":
            try:
                metrics.record(_read_json(MAX_CALL_BYTES)[0])
            except BodyError as exc:
                return _body_error(exc)
            return _json(SUCCESS)
        if route not in CALL_ROUTES:
            return _json(error_body("not_found", f"No route /v1/{rest}"), 404)
        call_type = CALL_ROUTES[route]
        try:
            body, size = _read_json(MAX_BATCH_BYTES if call_type == BATCH else MAX_CALL_BYTES)
        except BodyError as exc:
            return _body_error(exc)
        return ingest(call_type, body, size)

    def _read_json(limit: int) -> tuple[object, int]:
        """The request's JSON body and its decoded size; BodyError past `limit` or when unreadable."""
        encoding = request.headers.get("Content-Encoding")
        raw_limit = limit + 4096 if encoding else limit
        raw = read_raw(request.environ["wsgi.input"], request.content_length, raw_limit)
        data = decode_body(raw, encoding, limit)
        return parse_json(data), len(data)

    def _body_error(exc: BodyError) -> Response:
        note_refusal(request.environ, exc.code)
        return _json(error_body(exc.code, exc.message), exc.status, close=exc.code == "request_too_large")

    def _get(route: str) -> Response:
        parts = route.split("/")
        if len(parts) == 2 and parts[0] == "pixel":  # always the GIF, like Segment's, whatever the type or data
            try:
                if parts[1] in PIXEL_TYPES:
                    body = parse_json(base64.b64decode(request.args.get("data", ""), validate=False))
                    backend.ingest(CALL_ROUTES[parts[1]], body, None, False, 0)
                    note_logged(request.environ)
            except (BodyError, IngestError, ValueError, binascii.Error):
                pass
            return Response(GIF, mimetype="image/gif")
        if len(parts) == 3 and parts[0] == "projects" and parts[2] == "settings":
            write_key = (request.view_args or {})["rest"].strip("/").split("/")[1]  # keep the key's case
            host = f"{request.host}/v1"
            settings = {
                "integrations": {"Segment.io": {"apiKey": write_key, "apiHost": host, "protocol": request.scheme}},
                "plan": {"track": {"__default": {"enabled": True}}, "identify": {"__default": {"enabled": True}}},
            }
            return _json(orjson.dumps(settings))
        return _json(error_body("not_found", f"No route GET /v1/{route}"), 404)

    return bp
