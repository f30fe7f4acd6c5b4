"""The fake Segment's Flask app: Tracking API + the shared control API + Segment's own control routes."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from swoosh.emulator.control import ControlError, control_blueprint, json_response, request_json
from swoosh.emulator.cors import CorsMiddleware
from swoosh.emulator.provider_states import register_routes
from swoosh.emulator.runtime import install
from swoosh.emulator.segment.api import ClientMetrics, cors_headers, error_body, tracking_blueprint
from swoosh.emulator.segment.backend import SegmentBackend, Source
from swoosh.emulator.segment.delivery import SubscriptionError
from swoosh.emulator.segment.protocols import TrackingPlan, TrackingPlanError
from swoosh.emulator.segment.provider_states import segment_states
from swoosh.emulator.segment.warehouse import WarehouseError


def create_app(backend: SegmentBackend) -> Flask:
    app = Flask("swoosh.segment")
    metrics = ClientMetrics()
    app.register_blueprint(tracking_blueprint(backend, metrics))
    control = control_blueprint(backend)
    _add_segment_routes(control, backend)
    _add_metrics_routes(control, metrics)
    register_routes(control, segment_states(backend))
    app.register_blueprint(control)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = Response(
            error_body(code, exc.description or exc.name), status=exc.code or 500, mimetype="application/json"
        )
        # The HTTP layer's own refusals (emulator/http_errors.py) are rendered here without passing the
        # CORS wrapper: they carry the headers too (`*`: the refused request's Origin is not known).
        response.headers.extend(cors_headers(request.environ))
        return response

    install(app, backend.runtime, fault_body=_fault_body)
    # Outermost, so injected faults and errors answered below the routes reach a page on another origin too.
    app.wsgi_app = CorsMiddleware(app.wsgi_app, cors_headers)  # type: ignore[method-assign]
    return app


def _fault_body(status: int, path: str, text: str) -> Any:
    """An injected fault in the Tracking API's error shape."""
    return {"success": False, "code": "fault_injected", "message": text}


def _add_metrics_routes(bp: Any, metrics: ClientMetrics) -> None:
    """analytics.js's usage counters (`POST /v1/m`), read and cleared here and forgotten on reset."""

    @bp.get("/metrics")
    def read_metrics() -> Response:
        return json_response(metrics.describe())

    @bp.delete("/metrics")
    def clear_metrics() -> Response:
        metrics.clear()
        return json_response({"cleared": True})

    @bp.after_request
    def _forget_on_reset(response: Response) -> Response:
        if request.endpoint == f"{bp.name}.reset" and response.status_code == 200:
            metrics.clear()
        return response


def _add_segment_routes(bp: Any, backend: SegmentBackend) -> None:
    @bp.get("/counts")
    def counts() -> Response:
        return json_response(backend.counts())

    @bp.post("/sources")
    def add_source() -> Response:
        body = request_json()
        if not isinstance(body, dict):
            raise ControlError('send {"name", "write_key", "source_id"?, "tracking_plan"?}')
        try:
            plan = TrackingPlan(body["tracking_plan"], body.get("name", "plan")) if body.get("tracking_plan") else None
            source = Source(
                str(body.get("name", "")),
                str(body.get("write_key", "")),
                str(body.get("source_id") or f"src_{body.get('name', '')}"),
                plan,
            )
            backend.add_source(source)
        except (ValueError, TrackingPlanError) as exc:
            raise ControlError(str(exc)) from exc
        backend.runtime.notify()
        return json_response(source.describe(), 201)

    @bp.put("/sources/<name>/tracking-plan")
    def set_plan(name: str) -> Response:
        source = backend.sources.get(name)
        if source is None:
            raise ControlError(f"unknown source {name!r}", 404)
        body = request_json()
        try:
            backend.set_tracking_plan(source, TrackingPlan(body, name) if body else None)
        except TrackingPlanError as exc:
            raise ControlError(str(exc)) from exc
        return json_response(source.describe())

    @bp.post("/destinations")
    def add_destination() -> Response:
        spec = request_json()
        if not isinstance(spec, dict) or not isinstance(spec.get("source", "app"), str):
            raise ControlError('send {"source": "<source name>", "url": "https://...", "secret"?, "max_batch"?, ...}')
        try:
            destination = backend.add_destination(spec)
        except (ValueError, SubscriptionError) as exc:
            raise ControlError(str(exc)) from exc
        return json_response(destination.describe(), 201)

    @bp.delete("/destinations/<int:destination_id>")
    def remove_destination(destination_id: int) -> Response:
        if not backend.remove_destination(destination_id):
            raise ControlError(f"no destination {destination_id}", 404)
        return json_response({"removed": destination_id})

    @bp.route("/sql", methods=["GET", "POST"])
    def sql() -> Response:
        body = request_json() if request.method == "POST" else {"sql": request.args.get("q", "")}
        statement = body.get("sql") if isinstance(body, dict) else None
        if not isinstance(statement, str) or not statement.strip():
            raise ControlError('send {"sql": "select ..."} (or GET ?q=...)')
        backend.follow()  # with workers: what any process stored before this request is queryable now
        try:
            columns, rows = backend.warehouse.query(statement)
        except WarehouseError as exc:
            raise ControlError(str(exc)) from exc
        return json_response({"columns": columns, "rows": rows})

    @bp.get("/warehouse")
    def warehouse() -> Response:
        backend.follow()
        return json_response(
            {
                "folder": str(backend.warehouse.folder),
                "schemas": backend.warehouse.tables(),
                "errors": backend.warehouse.errors[-20:],
            }
        )
