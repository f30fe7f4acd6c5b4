"""Bridge: both directions' outbox, dead letters (replay one or all), skipped events, and a chart of
throughput and latency over the last minutes, all read from the bridge's control API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, render_template, request

from swoosh.emulator.control import json_response
from swoosh.emulator.journal import redact_text
from swoosh.inspector.chart import Chart, Line, binned
from swoosh.inspector.registry import Page
from swoosh.inspector.services import services

CHART_SECONDS = 300
CHART_BINS = 60
DIRECTIONS = {"segment": "Segment → Pushwoosh", "pushwoosh": "Pushwoosh → Segment"}

bp = Blueprint("bridge", __name__)
page = Page(slug="bridge", title="Bridge", blueprint=bp, order=30, endpoint="bridge.index")


@bp.get("/bridge")
def index() -> Any:
    bridge = services().need_bridge()
    now = datetime.fromisoformat(bridge.clock.now()).timestamp()  # the bridge's clock, which tests may move
    return render_template(
        "bridge.html",
        directions=DIRECTIONS,
        outbox=[_timed(item, now) for item in bridge.outbox()],
        dead=[_timed(item, now) for item in bridge.dead_letters()],
        skipped=list(reversed(bridge.skipped())),
        **_now(),
    )


@bp.get("/bridge/now")
def now() -> Any:
    """The counts and charts alone: the page refreshes this part every few seconds."""
    return render_template("bridge_now.html", directions=DIRECTIONS, **_now())


def _now() -> dict[str, Any]:
    bridge = services().need_bridge()
    rates = bridge.rates(CHART_SECONDS)
    return {"stats": bridge.stats(), "charts": charts(rates, CHART_SECONDS, CHART_BINS)}


def charts(rates: dict[str, Any], seconds: int, bins: int) -> list[Chart]:
    """Throughput (deliveries and failed attempts per second) and latency, one line per direction."""
    start = int(rates["from"])
    throughput = Chart("Throughput", "events/s", seconds)
    latency = Chart("Latency", "ms", seconds)
    for direction, points in rates["directions"].items():
        label = DIRECTIONS.get(direction, direction)
        throughput.lines.append(
            Line(f"{label} delivered", f"sent {direction}", binned(points, start, seconds, bins, "delivered"))
        )
        throughput.lines.append(
            Line(f"{label} failed", f"failed {direction}", binned(points, start, seconds, bins, "failed"))
        )
        latency.lines.append(
            Line(f"{label}", f"latency {direction}", binned(points, start, seconds, bins, "latency_ms", "delivered"))
        )
    return [throughput, latency]


def _timed(item: dict[str, Any], now: float) -> dict[str, Any]:
    """Times as UTC text for people; in flight when a worker's lease is still running; the event and
    the reply without secrets (a Segment event carries its source's write key)."""
    shown = dict(item)
    for key in ("payload", "last_error"):
        if isinstance(item.get(key), str):
            shown[key] = redact_text(_pretty(item[key]))
    for key in ("created_at", "next_at"):
        if isinstance(item.get(key), int | float):
            shown[key] = datetime.fromtimestamp(item[key], UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    shown["in_flight"] = float(item.get("leased_until") or 0) > now
    return shown


def _pretty(text: str) -> str:
    try:
        return orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return text


@bp.post("/bridge/replay")
def replay() -> Any:
    """`{"id": N}` replays one dead letter, `{}` all of them."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or ("id" in body and not str(body["id"]).isdigit()):
        return json_response({"error": 'send {"id": N} for one dead letter or {} for all'}, 400)
    ids = [int(body["id"])] if "id" in body else None
    count = services().need_bridge().replay(ids)
    which = f"dead letter {ids[0]}" if ids else "all dead letters"
    return json_response({"replayed": count, "message": f"Replayed {which}: {count} queued again."})
