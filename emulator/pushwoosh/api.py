"""The /json/1.3 remote API on the wire: `{"request": {...}}` in, the status envelope out.

Logical errors stay HTTP 200 with the outcome in `status_code` (210 argument error, ...); a body that is
not JSON or has no `request` object is HTTP 400; every reply, errors included, is JSON (pypushwoosh
calls `r.json()` on everything) and never carries `base_url`. Method names match case-insensitively;
every answer carries CORS headers for the page that asked (`cors_headers`), and a text/plain body (the
Web SDK's, which so avoids a preflight) is read as JSON like any other. Each method's request shape is
the JSON Schema `pushwoosh/<method-in-kebab-case>`, which carries the texts the fake answers with; the
backend is left with what a schema cannot know (unknown application, device, message, tag or filter; a
tag value against its declared type).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from flask import Blueprint, Response, request

from swoosh import contracts
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshError
from swoosh.emulator.runtime import note_refusal
from swoosh.emulator.wire import BodyError, parse_json, read_raw, shown

MAX_BODY = 10 * 1024 * 1024
Handler = Callable[[PushwooshBackend, Mapping[str, Any]], Any]

DEVICE_METHODS: dict[str, Handler] = {
    "registerDevice": lambda b, r: b.register_device(r),
    "unregisterDevice": lambda b, r: b.unregister_device(r),
    "deleteDevice": lambda b, r: b.delete_device(r),
    "setTags": lambda b, r: b.set_tags(r),
    "getTags": lambda b, r: b.get_tags(r),
    "registerUser": lambda b, r: b.register_user(r),
    "postEvent": lambda b, r: b.post_event_request(r),
    "applicationOpen": lambda b, r: b.application_open(r),
    "setBadge": lambda b, r: b.set_badge(r),
    "pushStat": lambda b, r: b.message_action(r, "open"),
    "messageDeliveryEvent": lambda b, r: b.message_action(r, "delivery_confirmed"),
    "registerEmail": lambda b, r: b.register_email(r),
    "registerEmailUser": lambda b, r: b.register_user({**r, "hwid": r.get("email"), "device_type": 14}),
    "setEmailTags": lambda b, r: b.set_email_tags(r),
    "deleteEmail": lambda b, r: b.delete_email(r),
    "getConfig": lambda b, r: b.get_config(r),
    "checkDevice": lambda b, r: b.check_device(r),
    "getInboxMessages": lambda b, r: b.inbox_messages(r),
    "inboxStatus": lambda b, r: b.inbox_status(r),
}

SERVER_METHODS: dict[str, Handler] = {
    "createMessage": lambda b, r: b.create_messages(r, "push"),
    "createEmailMessage": lambda b, r: b.create_messages(r, "email"),
    "createTargetedMessage": lambda b, r: b.targeted_message(r),
    "deleteMessage": lambda b, r: b.delete_message(r["message"]),
    "getMessageDetails": lambda b, r: b.message_details(r["message"]),
    "addTag": lambda b, r: _add_tag(b, r),
    "listTags": lambda b, r: {"tags": [t.describe() for t in b.tag_registry.values()]},
    "deleteTag": lambda b, r: _delete_tag(b, r),
    "createEvent": lambda b, r: b.create_event(r),
    "createFilter": lambda b, r: b.create_filter(r),
    "listFilters": lambda b, r: b.list_filters(),
    "deleteFilter": lambda b, r: b.delete_filter(r["name"]),
    "compileFilter": lambda b, r: b.count_filter(r.get("devices_filter", r.get("filter_expression"))),
    "getMsgStats": lambda b, r: b.request_stats(r["message"]),
    "getResults": lambda b, r: b.stats_results(r["request_id"]),
}


def request_schema(method: str) -> str:
    """The schema of a method's body: registerEmailUser -> pushwoosh/register-email-user."""
    return "pushwoosh/" + re.sub(r"(?<!^)(?=[A-Z])", "-", method).lower()


_BY_LOWER = {
    name.lower(): (name, handler, name in SERVER_METHODS, request_schema(name))
    for name, handler in {**DEVICE_METHODS, **SERVER_METHODS}.items()
}


def shape_refusal(schema_name: str, body: Any) -> str | None:
    """Why a body breaks its method's schema, as the fake answers it; None when it fits.

    Of several problems the first reported is the one about the earliest field in the schema's own order
    (the application before the hwid before the rest), then problems about the request as a whole.
    """
    if contracts.is_valid(schema_name, body):
        return None
    fields = list(contracts.schema(schema_name)["properties"]["request"]["properties"])

    def rank(problem: contracts.ValidationProblem) -> int:
        field = re.split(r"[.\[]", problem.subject.removeprefix("$.request").lstrip("."), maxsplit=1)[0]
        if not field:
            return len(fields) + 1
        return fields.index(field) if field in fields else len(fields)

    return min(contracts.validate(schema_name, body), key=rank).reply("$.request")


def _add_tag(backend: PushwooshBackend, req: Mapping[str, Any]) -> dict[str, Any]:
    tag = req["tag"]
    scope = tag.get("application_specific", False), tag.get("user_specific", False)
    backend.define_tag(tag["name"], tag["type"], *scope)
    return {"result": True}


def _delete_tag(backend: PushwooshBackend, req: Mapping[str, Any]) -> dict[str, Any]:
    tag = req["tag"]
    backend.delete_tag(tag["name"] if isinstance(tag, dict) else tag)
    return {"result": True}


def cors_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """CORS on every /json/1.3 answer (see emulator.cors), as the Web SDK needs it: the page's origin
    echoed with credentials allowed (with an `apiToken` the SDK sends `Authorization` and cookies, so `*`
    would not do), and preflights allowed `Authorization` and `Content-Type`."""
    if not environ.get("PATH_INFO", "").startswith("/json/1.3/"):
        return []
    origin = environ.get("HTTP_ORIGIN")
    if not origin:
        return [("Access-Control-Allow-Origin", "*")]
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
        ("Access-Control-Allow-Methods", "POST, GET, PUT, OPTIONS"),
        ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
        ("Access-Control-Max-Age", "86400"),
    ]


def envelope(status_code: int, message: str, response: Any = None, http_status: int = 200) -> Response:
    body = orjson.dumps({"status_code": status_code, "status_message": message, "response": response}, default=str)
    return Response(body, status=http_status, mimetype="application/json")


def device_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "token" else None


def refuse(status_code: int, message: str, http_status: int = 200) -> Response:
    """The envelope of a refusal, noted for the request's log line (an HTTP 200 for most of them)."""
    note_refusal(request.environ, f"{status_code} {message}")
    return envelope(status_code, message, http_status=http_status)


def remote_api_blueprint(backend: PushwooshBackend) -> Blueprint:
    bp = Blueprint("pushwoosh_remote_api", __name__)

    @bp.route("/json/1.3/<method>", methods=["POST", "GET", "PUT"])
    def call(method: str) -> Response:
        found = _BY_LOWER.get(method.strip("/").lower())
        if found is None:
            return refuse(404, f"Unknown method {shown(method)}")
        name, handler, is_server, schema_name = found
        if request.method != "POST":
            return refuse(400, f"{name} must be called with POST", http_status=400)
        try:
            body = parse_json(read_raw(request.environ["wsgi.input"], request.content_length, MAX_BODY))
        except BodyError as exc:
            return refuse(400, f"Malformed request: {exc.message}", http_status=400)
        req = body.get("request") if isinstance(body, dict) else None
        if not isinstance(req, dict):
            return refuse(400, 'Malformed request: the body must be {"request": {...}}', http_status=400)
        header_token = device_token(request.headers.get("Authorization"))
        try:
            if is_server:
                backend.check_server_token(req.get("auth") or header_token)
            elif backend.strict and header_token not in backend.device_tokens:
                return refuse(401, "Unauthorized: a valid device API token is required", http_status=401)
            refused = shape_refusal(schema_name, body)
            if refused:
                return refuse(210, refused)
            with backend.lock:
                result = handler(backend, req)
        except PushwooshError as exc:
            return refuse(exc.status_code, exc.message)
        return envelope(200, "OK", result)

    return bp
