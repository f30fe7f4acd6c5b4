"""Control: fault rules per service (list, add, remove), the clock (advance every service's), reset,
and the state of the fakes (export as one file, import it back), all through the control APIs."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, render_template, request

from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.control import json_response
from swoosh.inspector.faults_form import FormError, rule_from_form
from swoosh.inspector.registry import Page
from swoosh.inspector.secrets_out import with_secrets, without_secrets
from swoosh.inspector.services import services

STATEFUL = ("segment", "pushwoosh")  # the bridge's state is its outbox: exported for reading, never imported
METHODS = ("", "GET", "POST", "PUT", "DELETE")

bp = Blueprint("control", __name__)
page = Page(slug="control", title="Control", blueprint=bp, order=50, endpoint="control.index")


@bp.get("/control")
def index() -> Any:
    controls = services().controls()
    return render_template(
        "control.html",
        faults={name: client.faults.list() for name, client in controls.items()},
        clocks={name: client.clock.now() for name, client in controls.items()},
        methods=METHODS,
        stateful=[name for name in STATEFUL if name in controls],
    )


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _refused(exc: Exception) -> Response:
    return json_response({"error": str(exc)}, 400)


@bp.post("/control/faults/<service>")
def add_fault(service: str) -> Response:
    try:
        rule = services().control(service).faults.add(**rule_from_form(_body()))
    except (FormError, ControlAPIError) as exc:
        return _refused(exc)
    return json_response({**rule, "message": f"Fault rule {rule['id']} added to {service}."}, 201)


@bp.delete("/control/faults/<service>/<int:rule_id>")
def remove_fault(service: str, rule_id: int) -> Response:
    try:
        services().control(service).faults.remove(rule_id)
    except ControlAPIError as exc:
        return _refused(exc)
    return json_response({"message": f"Fault rule {rule_id} removed from {service}."})


@bp.post("/control/clock")
def advance_clock() -> Response:
    """Every service's clock moves by the same seconds, so they keep agreeing on the time."""
    raw = str(_body().get("seconds") or "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return json_response({"error": f"seconds must be a number, not {raw!r}"}, 400)
    try:
        for client in services().controls().values():
            client.clock.advance(seconds)
    except ControlAPIError as exc:
        return _refused(exc)
    return json_response({"message": f"Every clock advanced by {seconds:g} s."})


@bp.post("/control/reset")
def reset() -> Response:
    """`{"service": name}` resets one service, `{}` all of them."""
    name = _body().get("service")
    targets = services().controls() if not name else {str(name): services().control(str(name))}
    for client in targets.values():
        client.reset()
    return json_response({"message": f"Reset {', '.join(targets)}."})


@bp.get("/control/state")
def export_state() -> Response:
    """The fakes' state as one JSON file, credentials taken out (swoosh.inspector.secrets_out)."""
    controls = services().controls()
    state = {name: without_secrets(controls[name].export_state()) for name in STATEFUL if name in controls}
    response = Response(orjson.dumps(state, option=orjson.OPT_INDENT_2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="swoosh-state.json"'
    return response


@bp.put("/control/state")
def import_state() -> Response:
    """A file from `export_state`: each service's part goes back to that service."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body or not set(body) <= set(STATEFUL):
        return json_response(
            {"error": f"expected a state file as exported here: an object with {' and/or '.join(STATEFUL)}"}, 400
        )
    controls = services().controls()
    try:
        for name, state in body.items():
            if name not in controls:
                return json_response({"error": f"this stack does not run {name}"}, 400)
            controls[name].import_state(with_secrets(state, controls[name].export_state()))
    except ControlAPIError as exc:
        return _refused(exc)
    return json_response({"message": f"Imported the state of {', '.join(body)}."})
