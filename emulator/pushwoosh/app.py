"""The fake Pushwoosh's Flask app: /json/1.3, the Segment integration API, and the control API."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from swoosh.emulator.control import ControlError, control_blueprint, json_response, request_json
from swoosh.emulator.cors import CorsMiddleware
from swoosh.emulator.provider_states import register_routes
from swoosh.emulator.pushwoosh.api import cors_headers, envelope, remote_api_blueprint
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.pushwoosh.integration_api import integration_blueprint
from swoosh.emulator.pushwoosh.provider_states import pushwoosh_states, register_message_producer
from swoosh.emulator.runtime import install
from swoosh.emulator.store import StoreError


def create_app(backend: PushwooshBackend) -> Flask:
    app = Flask("swoosh.pushwoosh")
    app.register_blueprint(remote_api_blueprint(backend))
    app.register_blueprint(integration_blueprint(backend))
    control = control_blueprint(backend)
    _add_pushwoosh_routes(control, backend)
    register_routes(control, pushwoosh_states(backend))
    register_message_producer(control, backend)
    app.register_blueprint(control)

    @app.after_request
    def _persist(response: Response) -> Response:
        """With --data-dir, what this request changed (beyond the rows it wrote itself) is committed before its
        answer leaves."""
        try:
            backend.persist()
        except StoreError as exc:  # not durable, so not acknowledged: the client retries
            return json_response(_fault_body(503, request.path, str(exc)), 503)
        return response

    @app.errorhandler(StoreError)
    def _store_error(exc: StoreError) -> Response:
        """A write inside the request (posted events) the store refused: not acknowledged, the client retries."""
        return json_response(_fault_body(503, request.path, str(exc)), 503)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return envelope(exc.code or 500, exc.description or exc.name, http_status=exc.code or 500)

    install(app, backend.runtime, fault_body=_fault_body)
    # Outermost, so injected faults and errors answered below the routes reach the Web SDK's page too.
    app.wsgi_app = CorsMiddleware(app.wsgi_app, cors_headers)  # type: ignore[method-assign]
    return app


def _fault_body(status: int, path: str, text: str) -> Any:
    """An injected fault in the shape the route's clients parse: the envelope on /json/1.3 (pypushwoosh
    reads `status_code` from every reply), `{"message": ...}` on the integration API."""
    if path.startswith("/integration-segment/"):
        return {"message": text}
    return {"status_code": status, "status_message": text, "response": None}


def _add_pushwoosh_routes(bp: Any, backend: PushwooshBackend) -> None:
    @bp.post("/applications")
    def add_application() -> Response:
        body = request_json()
        if not isinstance(body, dict):
            raise ControlError('send {"code": "XXXXX-XXXXX", "name"?, "segment"?, "delivery_rates"?, "seed"?}')
        try:
            app = backend.add_application(
                str(body.get("code", "")),
                str(body.get("name", "")),
                body.get("segment"),
                body.get("delivery_rates"),
                int(body.get("seed", 0)),
            )
        except (ValueError, TypeError) as exc:
            raise ControlError(str(exc)) from exc
        backend.runtime.notify()
        return json_response(app.describe(), 201)

    @bp.post("/webhooks")
    def add_webhook() -> Response:
        try:
            hook = backend.add_webhook(request_json())
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return json_response(hook, 201)

    @bp.delete("/webhooks/<int:hook_id>")
    def remove_webhook(hook_id: int) -> Response:
        if not backend.remove_webhook(hook_id):
            raise ControlError(f"no webhook {hook_id}", 404)
        return json_response({"removed": hook_id})

    @bp.get("/inbox/<hwid>")
    def inbox(hwid: str) -> Response:
        items = backend.query("inbox", {"hwid": hwid}, None)
        return json_response({"count": len(items), "items": items})
