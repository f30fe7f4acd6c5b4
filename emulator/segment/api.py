"""The Tracking API on the wire: routes, auth headers, gzip, size limits, CORS, answers.

Paths are matched case-insensitively with any trailing slash, as Segment's edge does, so one
catch-all route under /v1 dispatches them.
"""

from __future__ import annotations

import base64
import binascii

import orjson
from flask import Blueprint, Response, request

from swoosh.emulator.segment.backend import MAX_BATCH_BYTES, MAX_CALL_BYTES, IngestError, SegmentBackend
from swoosh.emulator.segment.messages import BATCH, CALL_TYPES, CallType
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


def error_body(code: str, message: str, **extra: object) -> bytes:
    return orjson.dumps({"success": False, "code": code, "message": message, **extra})


def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _json(body: bytes, status: int = 200, close: bool = False) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    if close:
        response.headers["Connection"] = "close"
    return _cors(response)


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


def tracking_blueprint(backend: SegmentBackend) -> Blueprint:
    bp = Blueprint("segment_tracking", __name__)

    def ingest(call_type: CallType, body: object, body_bytes: int) -> Response:
        key, bearer = basic_write_key(request.headers.get("Authorization"))
        try:
            backend.ingest(call_type, body, key, bearer, body_bytes)
        except IngestError as exc:
            extra = {"errors": exc.errors} if exc.errors else {}
            return _json(error_body(exc.code, exc.message, **extra), exc.status)
        return _json(SUCCESS)

    @bp.route("/<version>/<path:rest>", methods=["GET", "POST", "PUT", "OPTIONS"])
    def v1(version: str, rest: str) -> Response:
        if version.lower() != "v1":
            return _json(error_body("not_found", f"No route /{version}/{rest}"), 404)
        route = rest.strip("/").lower()
        if request.method == "OPTIONS":
            return _cors(Response(status=200))
        if request.method == "GET":
            return _get(route)
        if route not in CALL_ROUTES:
            return _json(error_body("not_found", f"No route /v1/{rest}"), 404)
        call_type = CALL_ROUTES[route]
        limit = MAX_BATCH_BYTES if call_type == BATCH else MAX_CALL_BYTES
        encoding = request.headers.get("Content-Encoding")
        raw_limit = limit + 4096 if encoding else limit
        try:
            raw = read_raw(request.environ["wsgi.input"], request.content_length, raw_limit)
            data = decode_body(raw, encoding, limit)
            body = parse_json(data)
        except BodyError as exc:
            return _json(error_body(exc.code, exc.message), exc.status, close=exc.code == "request_too_large")
        return ingest(call_type, body, len(data))

    def _get(route: str) -> Response:
        parts = route.split("/")
        if len(parts) == 2 and parts[0] == "pixel":  # always the GIF, like Segment's, whatever the type or data
            try:
                if parts[1] in PIXEL_TYPES:
                    body = parse_json(base64.b64decode(request.args.get("data", ""), validate=False))
                    backend.ingest(CALL_ROUTES[parts[1]], body, None, False, 0)
            except (BodyError, IngestError, ValueError, binascii.Error):
                pass
            return _cors(Response(GIF, mimetype="image/gif"))
        if len(parts) == 3 and parts[0] == "projects" and parts[2] == "settings":
            write_key = request.view_args["rest"].strip("/").split("/")[1]  # keep the key's case
            host = f"{request.host}/v1"
            settings = {
                "integrations": {"Segment.io": {"apiKey": write_key, "apiHost": host, "protocol": request.scheme}},
                "plan": {"track": {"__default": {"enabled": True}}, "identify": {"__default": {"enabled": True}}},
            }
            return _json(orjson.dumps(settings))
        return _json(error_body("not_found", f"No route GET /v1/{route}"), 404)

    return bp
