"""Trace: one messageId, push message code or userId followed across every hop, as a timeline.

The same trace as JSON at `GET /_swoosh/trace/<id>` on the inspector (docs/decisions.md says why
there); `swoosh trace ID` prints it in the terminal. All of it is swoosh/inspector/trace.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from swoosh.emulator.control import json_response
from swoosh.inspector.registry import Page
from swoosh.inspector.services import services
from swoosh.inspector.trace import TraceNotFound, collect

BAR_ROW = 14  # the waterfall's height per hop, in its own units (it scales to the page's width)
BAR_WIDTH = 1000
MIN_BAR = 4.0  # an instant still shows

bp = Blueprint("trace", __name__)
page = Page(slug="trace", title="Trace", blueprint=bp, order=40, endpoint="trace.index")


@bp.get("/trace")
def index() -> Any:
    wanted = request.args.get("id", "").strip()
    if not wanted:
        return render_template("trace.html", wanted="", trace=None, error="")
    try:
        found = collect(services(), wanted).to_dict()
    except TraceNotFound as exc:
        return render_template("trace.html", wanted=wanted, trace=None, error=str(exc)), 404
    for chain in found["chains"]:
        chain["bars"] = waterfall(chain)
    return render_template("trace.html", wanted=wanted, trace=found, error="", bar_row=BAR_ROW, bar_width=BAR_WIDTH)


@bp.get("/_swoosh/trace/<path:wanted>")
def as_json(wanted: str) -> Any:
    """The trace as JSON (what `swoosh trace ID --json` prints); 404 with the reason when no service saw the id."""
    try:
        return json_response(collect(services(), wanted).to_dict())
    except TraceNotFound as exc:
        return json_response({"error": str(exc)}, 404)


def waterfall(chain: dict[str, Any]) -> list[dict[str, Any]]:
    """One bar per timed hop: where it starts and how long it lasts, in BAR_WIDTH units of the chain's span."""
    span = max(chain.get("took_ms") or 0.0, 1.0)
    bars = []
    for row, hop in enumerate(chain["hops"]):
        if hop["offset_ms"] is None:
            continue
        x = min(hop["offset_ms"] / span, 1.0) * BAR_WIDTH
        width = max((hop["duration_ms"] or 0.0) / span * BAR_WIDTH, MIN_BAR)
        x = min(x, BAR_WIDTH - MIN_BAR)
        bars.append({"x": round(x, 1), "y": row * BAR_ROW, "width": round(min(width, BAR_WIDTH - x), 1), **hop})
    return bars
