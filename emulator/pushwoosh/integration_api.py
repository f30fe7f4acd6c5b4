"""The Segment integration API (/integration-segment/v1/*), as Segment's Pushwoosh destination calls it.

`Authorization: Token <API token>` and `X-PW-Appcode`; 200 with an empty body on success; 401
`{"message": "unauthorized"}`; 400 `{"message": "missing application code"}`; a timestamp that is not
an RFC 3339 string rejects the whole post-events batch with the post-event failure body. Items may
carry `app_code` or (the upstream batched-mode quirk) `app_id`, accepted like the real service does
and recorded as a warning; strict mode refuses more than 100 events per request. The request shapes
are the JSON Schemas `pushwoosh/track-user`, `pushwoosh/post-events` and `pushwoosh/delete-user`,
which carry the texts the fake replies with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response, request

from swoosh import contracts
from swoosh.emulator.clock import parse_iso
from swoosh.emulator.pushwoosh.api import device_token
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshError
from swoosh.emulator.runtime import note_refusal
from swoosh.emulator.wire import BodyError, parse_json, read_raw, shown

MAX_BODY = 5 * 1024 * 1024
MAX_EVENTS = 100
_RFC3339_HINT = "Time.UnmarshalJSON: input is not a JSON string"
_TOO_MANY = f"at most {MAX_EVENTS} events per request"
# Within one event, the order the fake reports problems in: the timestamp first (the order it always had).
_FIELD_ORDER = ("", "timestamp", "name", "user_id", "attributes")


def _item_order(problem: contracts.ValidationProblem) -> tuple[int, int]:
    """(event index, field rank) of a post-events problem: the first event's first problem is the reply."""
    head, _, field = problem.path.removeprefix("$.events").partition("].")
    index = int(head.strip("[]")) if head.startswith("[") else -1
    return index, _FIELD_ORDER.index(field) if field in _FIELD_ORDER else len(_FIELD_ORDER)


def _message(text: str, status: int) -> Response:
    """A refusal in the integration API's shape, noted for the request's log line."""
    note_refusal(request.environ, text)
    return Response(orjson.dumps({"message": text}), status=status, mimetype="application/json")


def _post_event_failure(text: str) -> Response:
    note_refusal(request.environ, text)
    body = {"action": "post event", "status": "failure", "error": {"message": text}}
    return Response(orjson.dumps(body), status=400, mimetype="application/json")


def _refusal(problems: list[contracts.ValidationProblem]) -> str | None:
    """The reply text for a request that breaks its schema: its first problem."""
    return problems[0].reply() if problems else None


def _rfc3339(value: str) -> float | None:
    """Unix time of a timestamp the schema already found RFC 3339 in form (with an offset); None when it
    names no real moment (month 13). One `fromisoformat` in the common case: it runs once per event."""
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:  # forms fromisoformat does not read (e.g. a lower-case "z"); parse_iso normalises them
        parsed = parse_iso(value)
        return parsed.timestamp() if parsed is not None else None


def integration_blueprint(backend: PushwooshBackend) -> Blueprint:
    bp = Blueprint("pushwoosh_integration", __name__, url_prefix="/integration-segment/v1")

    def authorised() -> tuple[str | None, Response | None, Any]:
        token = device_token(request.headers.get("Authorization"))
        if token is None or token not in backend.api_tokens:
            return None, _message("unauthorized", 401), None
        code = (request.headers.get("X-PW-Appcode") or "").strip()
        if not code:
            return None, _message("missing application code", 400), None
        if code not in backend.applications:
            return None, _message(f"application {code} not found", 400), None
        try:
            body = parse_json(read_raw(request.environ["wsgi.input"], request.content_length, MAX_BODY) or b"{}")
        except BodyError as exc:
            return None, _message(f"invalid request body: {exc.message}", 400), None
        if not isinstance(body, dict):
            return None, _message("invalid request body: expected a JSON object", 400), None
        return code, None, body

    @bp.post("/ping")
    def ping() -> Response:
        _code, refused, _body = authorised()
        return refused or Response(status=200)

    def checked(schema_name: str) -> tuple[str, Response | None, Any]:
        """`authorised()`, then the body against its schema: 400 `{"message": ...}` when it breaks it."""
        code, refused, body = authorised()
        if refused:
            return "", refused, None
        refused_text = _refusal(contracts.validate(schema_name, body))
        return code or "", _message(refused_text, 400) if refused_text else None, body

    @bp.post("/track-user")
    def track_user() -> Response:
        code, refused, body = checked("pushwoosh/track-user")
        if refused:
            return refused
        backend.track_user(code, body)
        return Response(status=200)

    @bp.post("/post-events")
    def post_events() -> Response:
        code, refused, body = authorised()
        if refused:
            return refused
        problems = contracts.validate("pushwoosh/post-events", body)
        if not backend.strict:  # Segment promises at most 100; only a strict fake holds it to that
            problems = [p for p in problems if p.message != _TOO_MANY]
        refused_text = _refusal(sorted(problems, key=_item_order))
        if refused_text:  # one bad event rejects the batch
            return _post_event_failure(refused_text)
        by_app: dict[str, list[tuple[str, str | None, str | None, float, dict[str, Any]]]] = {}
        quirks: list[str] = []  # recorded only once the whole batch is taken
        for item in body["events"]:
            at = _rfc3339(item["timestamp"])
            if at is None:  # RFC 3339 in form, but not a real date (month 13)
                return _post_event_failure(_RFC3339_HINT)
            name = item["name"]
            if "app_id" in item and "app_code" not in item:  # the real service accepts it: a warning only
                quirks.append(f"event {shown(name)} carries app_id instead of app_code")
            item_code = item.get("app_code") or item.get("app_id") or code
            if item_code not in backend.applications:
                return _post_event_failure(f"application {item_code} not found")
            device_id = item.get("device_id")
            device_id = device_id if isinstance(device_id, str) else None
            entry = (name, item["user_id"], device_id, at, item.get("attributes") or {})
            by_app.setdefault(item_code, []).append(entry)
        try:
            for item_code, items in by_app.items():
                backend.post_events(item_code, items, auto_create=True)
        except PushwooshError as exc:
            return _post_event_failure(exc.message)
        for quirk in quirks:
            backend.warn("app_id", quirk)
        return Response(status=200)

    @bp.post("/delete-user")
    def delete_user() -> Response:
        code, refused, body = checked("pushwoosh/delete-user")
        if refused:
            return refused
        backend.delete_user(code, body["external_id"])
        return Response(status=200)

    return bp
