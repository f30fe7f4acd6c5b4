"""The `/_swoosh/` control and inspection API every fake mounts (as WireMock has `/__admin/`).

Shared routes: health, reset, config, journal, faults, clock, state export/import, and generic
inspection `/_swoosh/<collection>` plus long-poll `/_swoosh/wait/<collection>` over whatever
collections the service's backend exposes. A service adds its own routes to the same blueprint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import orjson
from flask import Blueprint, Response, request

from swoosh.emulator.faults import FaultRuleError
from swoosh.emulator.journal import EXPORTED_SECRET_FIELDS, redact_stored
from swoosh.emulator.json_stream import document_chunks
from swoosh.emulator.runtime import CLIENT_GONE_KEY, Runtime

MAX_WAIT_SECONDS = 300.0
MAX_UNIX_TIME = 1e11  # journal `since`/`until`: seconds since the epoch, well past any clock offset


class UnknownCollection(KeyError):
    """Asked to inspect something the service does not keep."""


class ControlledBackend(Protocol):
    """What the control API needs from a fake's backend (which knows nothing of HTTP)."""

    @property
    def runtime(self) -> Runtime: ...

    @property
    def collections(self) -> tuple[str, ...]: ...

    def reset(self) -> None: ...

    def config_view(self) -> dict[str, Any]: ...

    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        """Everything an import needs; with `lazy`, its long lists may be `json_stream.Lazy` (read as written)."""
        ...

    def import_state(self, state: dict[str, Any]) -> None: ...

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        """Records of `collection` matching `filters` (field=value, all strings), oldest first."""
        ...


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def json_response(value: Any, status: int = 200) -> Response:
    return Response(_dumps(value), status=status, mimetype="application/json")


def request_json() -> Any:
    data = request.get_data(cache=False)
    if not data.strip():
        return {}
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ControlError(f"body is not valid JSON: {exc}") from exc


def _number_arg(name: str, default: float | None, low: float, high: float) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ControlError(f"{name} must be a number") from exc
    if not low <= value <= high:
        raise ControlError(f"{name} must be between {low:g} and {high:g}")
    return value


RESERVED_ARGS = frozenset({"limit", "count", "timeout"})


def collection_filters() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k not in RESERVED_ARGS}


def control_blueprint(backend: ControlledBackend) -> Blueprint:
    """The shared `/_swoosh/` routes bound to one backend; services may add more routes to it."""
    bp = Blueprint("swoosh_control", __name__, url_prefix="/_swoosh")
    runtime = backend.runtime

    @bp.errorhandler(ControlError)
    def _control_error(exc: ControlError) -> Response:
        return json_response({"error": exc.message}, exc.status)

    @bp.get("/health")
    def health() -> Response:
        ready = runtime.ready.is_set()
        uptime = round(time.time() - runtime.started_at, 3)
        status = {"status": "ok" if ready else "starting", "service": runtime.service, "uptime_seconds": uptime}
        return json_response(status, 200 if ready else 503)

    @bp.post("/reset")
    def reset() -> Response:
        backend.reset()
        runtime.reset()
        return json_response({"reset": True})

    @bp.get("/config")
    def config() -> Response:
        return json_response(backend.config_view())

    @bp.get("/journal")
    def journal() -> Response:
        status = _number_arg("status", None, 0, 999)
        limit = _number_arg("limit", None, 0, 10**9)
        entries = runtime.journal.entries(
            request.args.get("method"),
            request.args.get("path"),
            None if status is None else int(status),
            None if limit is None else int(limit),
            _number_arg("since", None, 0, MAX_UNIX_TIME),
            _number_arg("until", None, 0, MAX_UNIX_TIME),
        )
        return json_response({"count": len(entries), "requests": [e.to_dict() for e in entries]})

    @bp.delete("/journal")
    def clear_journal() -> Response:
        runtime.journal.clear()
        return json_response({"cleared": True})

    @bp.get("/faults")
    def list_faults() -> Response:
        return json_response({"faults": runtime.faults.export()})

    @bp.post("/faults")
    def add_fault() -> Response:
        try:
            rule = runtime.faults.add(request_json())
        except FaultRuleError as exc:
            raise ControlError(str(exc)) from exc
        return json_response(rule.describe(), 201)

    @bp.delete("/faults")
    def clear_faults() -> Response:
        runtime.faults.clear()
        return json_response({"cleared": True})

    @bp.delete("/faults/<int:rule_id>")
    def remove_fault(rule_id: int) -> Response:
        if not runtime.faults.remove(rule_id):
            raise ControlError(f"no fault rule {rule_id}", 404)
        return json_response({"removed": rule_id})

    @bp.get("/clock")
    def clock() -> Response:
        return json_response({"now": runtime.clock.now().isoformat(), "offset_seconds": runtime.clock.offset})

    @bp.post("/clock")
    def move_clock() -> Response:
        body = request_json()
        if not isinstance(body, dict) or not ({"advance", "offset"} & set(body)):
            raise ControlError('send {"advance": seconds} or {"offset": seconds}')
        try:
            if "advance" in body:
                runtime.clock.advance(float(body["advance"]))
            else:
                runtime.clock.set_offset(float(body["offset"]))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ControlError(f"bad clock value: {exc}") from exc
        tick = getattr(backend, "tick", None)
        if tick is not None:
            tick()
        runtime.notify()
        return json_response({"now": runtime.clock.now().isoformat(), "offset_seconds": runtime.clock.offset})

    @bp.get("/state")
    def export_state() -> Response:
        # an export may be shared: no write key, token or signing secret in it; a million stored events are
        # read and written a chunk at a time
        backend_state = redact_stored(backend.export_state(lazy=True), EXPORTED_SECRET_FIELDS)
        document = {"service": runtime.service, "runtime": runtime.export_state(), "backend": backend_state}
        chunks = document_chunks(document, lambda record: redact_stored(record, EXPORTED_SECRET_FIELDS))
        return Response(chunks, mimetype="application/json")

    @bp.route("/state", methods=["PUT", "POST"])
    def import_state() -> Response:
        body = request_json()
        if not isinstance(body, dict) or not isinstance(body.get("backend"), dict):
            raise ControlError('state must be an object with a "backend" object (as GET /_swoosh/state gives)')
        if "error" in body:
            raise ControlError(f"this export is incomplete and is not imported: {body['error']}")
        if body.get("service", runtime.service) != runtime.service:
            raise ControlError(f"state is for {body.get('service')!r}, this is {runtime.service!r}")
        try:
            backend.import_state(body["backend"])
            runtime.import_state(body.get("runtime") or {})
        except (KeyError, TypeError, ValueError, FaultRuleError) as exc:
            raise ControlError(f"state could not be imported: {exc}") from exc
        runtime.notify()
        return json_response({"imported": True})

    def _query(name: str, limit: int | None) -> list[dict[str, Any]]:
        if name not in backend.collections:
            raise ControlError(f"unknown collection {name!r}; known: {', '.join(backend.collections)}", 404)
        try:
            return redact_stored(backend.query(name, collection_filters(), limit))
        except (UnknownCollection, ValueError) as exc:
            raise ControlError(str(exc)) from exc

    def _streamed(name: str) -> tuple[int, Iterator[list[dict[str, Any]]]] | None:
        """(count, chunks) when the backend streams `name` (its store counts without building records)."""
        stream = getattr(backend, "stream", None)
        if stream is None or name not in backend.collections:
            return None
        try:
            counted: tuple[int, Iterator[list[dict[str, Any]]]] | None = stream(name, collection_filters())
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return counted

    @bp.get("/wait/<name>")
    def wait(name: str) -> Response:
        """Long-poll until `count` records match. A streamed collection is counted on each wake and its
        records are read only for the answer, so a wait beside a million stored events stays cheap."""
        wanted = int(_number_arg("count", 1, 0, 10**9) or 0)
        timeout = _number_arg("timeout", 5.0, 0, MAX_WAIT_SECONDS) or 0.0
        found: list[list[dict[str, Any]]] = [[]]
        counted: list[tuple[int, Iterator[list[dict[str, Any]]]] | None] = [_streamed(name)]

        def enough() -> bool:
            if counted[0] is not None:
                counted[0] = _streamed(name)
                return counted[0] is not None and counted[0][0] >= wanted
            found[0] = _query(name, None)
            return len(found[0]) >= wanted

        matched = runtime.wait_until(enough, timeout, request.environ.get(CLIENT_GONE_KEY))
        head = {"matched": matched, "wanted": wanted}
        if counted[0] is not None:
            return Response(streamed_items(*counted[0], head=head), mimetype="application/json")
        return json_response({**head, "count": len(found[0]), "items": found[0]})

    @bp.get("/<name>")
    def inspect(name: str) -> Response:
        limit = _number_arg("limit", None, 0, 10**9)
        counted = _streamed(name) if limit is None else None
        if counted is not None:
            return Response(streamed_items(*counted), mimetype="application/json")
        items = _query(name, None if limit is None else int(limit))
        return json_response({"count": len(items), "items": items})

    return bp


def streamed_items(
    count: int, chunks: Iterator[list[dict[str, Any]]], head: Mapping[str, Any] | None = None
) -> Iterator[bytes]:
    """`{**head, "count": N, "items": [...]}` written a chunk of records at a time, the same bytes
    `json_response` gives for the whole list, so an answer of a million records never sits in memory. The status line is
    sent before the records are read: when fewer than `count` arrive (the store failed, or records were
    evicted or reset meanwhile) the document still closes, with an `"error"` member after `items` saying
    so (ControlClient.items raises on it), never a cut-off body. Extra records past `count` are left out."""
    yield _dumps(dict(head or {}))[:-1] + (b"," if head else b"") + b'"count":%d,"items":[' % count
    sent = 0
    problem = ""
    try:
        for chunk in chunks:
            shown = chunk[: count - sent]
            if shown:
                yield (b"," if sent else b"") + b",".join(_dumps(redact_stored(item)) for item in shown)
                sent += len(shown)
            if len(shown) < len(chunk):
                problem = "the records changed while they were listed"
                break
    except Exception as exc:  # the status line is out: the body is the only place to say it
        problem = f"the store failed: {exc}"
    if sent < count and not problem:
        problem = "the records changed while they were listed (evicted or reset)"
    tail = b"]}" if not problem else b'],"error":' + _dumps(f"{problem}; {sent} of {count} listed") + b"}"
    yield tail


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)


def match_filters(record: Mapping[str, Any], filters: Mapping[str, str], fields: Mapping[str, str]) -> bool:
    """True when every filter (public name -> record key in `fields`) equals the record's value as text."""
    for name, expected in filters.items():
        key = fields.get(name)
        if key is None:
            raise ValueError(f"unknown filter {name!r}; known: {', '.join(sorted(fields))}")
        value = record.get(key)
        if value is None or str(value) != expected:
            return False
    return True
