"""The inspector's Flask app: the base layout, the registered pages, errors as pages (or JSON for actions)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.control import json_response
from swoosh.inspector.guard import guard
from swoosh.inspector.pages import registered_pages
from swoosh.inspector.services import SERVICES_EXTENSION, ServiceMissing, Services


def wants_json() -> bool:
    """Actions (anything but GET), streams and fetches asking for JSON get errors as JSON; pages get a page."""
    return (
        request.method not in ("GET", "HEAD")
        or request.path.startswith("/_swoosh/")
        or request.accept_mimetypes.best == "application/json"
    )


def create_app(stack_services: Services) -> Flask:
    app = Flask(__name__)
    app.extensions[SERVICES_EXTENSION] = stack_services
    pages = registered_pages()
    for page in pages:
        app.register_blueprint(page.blueprint)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        return {"nav_pages": pages, "current_blueprint": request.blueprint}

    @app.get("/")
    def index() -> Response:
        return redirect(url_for(pages[0].endpoint))  # type: ignore[return-value]  # werkzeug's Response is Flask's base

    @app.get("/_swoosh/health")
    def health() -> Response:
        """As every service of the stack answers it (the container's HEALTHCHECK asks each one)."""
        return json_response({"status": "ok", "service": "inspector"})

    @app.errorhandler(ServiceMissing)
    def _missing(exc: ServiceMissing) -> Any:
        return _error(503, "Service not running", str(exc))

    @app.errorhandler(ControlAPIError)
    def _refused(exc: ControlAPIError) -> Any:
        return _error(502, "The service refused", str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        return _error(exc.code or 500, exc.name, exc.description or "")

    @app.after_request
    def _headers(response: Response) -> Response:
        # Everything is served from here: nothing else may load into or frame these pages.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return guard(app)


def _error(status: int, title: str, message: str) -> Any:
    if wants_json():
        return json_response({"error": message}, status)
    return render_template("error.html", title=title, message=message), status
