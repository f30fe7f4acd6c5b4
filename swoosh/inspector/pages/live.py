"""Live: every message the fake Segment receives, newest first, updated by server-sent events.

Paging and filtering happen in the fake Segment (`GET /_swoosh/events` with `limit`, `before`,
`after` and the filters), so a page costs its rows whatever the store holds; the browser keeps at
most `MAX_LIVE_ROWS` rows.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, render_template, request

from swoosh.emulator.client import ControlAPIError
from swoosh.inspector import events_view as view
from swoosh.inspector.registry import Page
from swoosh.inspector.services import services
from swoosh.inspector.sse import STREAM_PREFIX, event_stream

MAX_LIVE_ROWS = 200
STREAM_BATCH = MAX_LIVE_ROWS  # a burst beyond this sends only its newest rows: the page keeps no more

bp = Blueprint("live", __name__)
page = Page(slug="live", title="Live", blueprint=bp, order=10, endpoint="live.index")


@bp.get("/live")
def index() -> Any:
    segment = services().need_segment()
    filters = view.filters_from(request.args)
    before = request.args.get("before", "").strip()
    query: dict[str, Any] = dict(filters)
    if before:
        query["before"] = before
    try:
        events = segment.items("events", limit=view.PAGE_SIZE, **query)
        sources = [s["name"] for s in segment.config()["sources"]]
    except ControlAPIError as exc:  # a filter the fake Segment refused (a bad time, say): show why
        return render_template("live.html", **_context([], filters, before, [], str(exc))), 400
    rows = [view.row(e) for e in reversed(events)]
    return render_template("live.html", **_context(rows, filters, before, sources, ""))


def _context(
    rows: list[dict[str, Any]], filters: dict[str, str], before: str, sources: list[str], error: str
) -> dict[str, Any]:
    return {
        "rows": rows,
        "filters": {name: request.args.get(name, "") for name in view.FILTER_NAMES},
        "query": filters,
        "paging": bool(before),
        "older": rows[-1]["seq"] if len(rows) == view.PAGE_SIZE else None,
        "newest": rows[0]["seq"] if rows else 0,
        "sources": sources,
        "statuses": view.STATUSES,
        "call_types": view.CALL_TYPES,
        "max_rows": MAX_LIVE_ROWS,
        "error": error,
    }


@bp.get("/live/event/<int:seq>")
def event(seq: int) -> Any:
    segment = services().need_segment()
    found = segment.items("events", limit=1, before=seq + 1)
    if not found or found[0]["seq"] != seq:
        abort(404, f"no stored event {seq} (evicted, reset, or never received)")
    stored = found[0]
    message = stored["message"] if isinstance(stored.get("message"), dict) else {}
    warehouse = _warehouse_rows(stored, message) if stored["status"] == "good" else []
    return render_template(
        "live_event.html",
        row=view.row(stored),
        stored=stored,
        received=view.as_received(stored),
        enriched=message if stored["status"] == "good" else None,
        warehouse=warehouse,
    )


def _warehouse_rows(stored: dict[str, Any], message: dict[str, Any]) -> list[dict[str, Any]]:
    """(table, row) of the accepted message in its source's warehouse schema; none yet when not loaded."""
    segment = services().need_segment()
    schemas = {s["name"]: s["schema"] for s in segment.config()["sources"]}
    schema, message_id = schemas.get(stored.get("source") or ""), message.get("messageId")
    if not schema or not isinstance(message_id, str):
        return []
    found = []
    for table in view.warehouse_tables(message):
        where = f"{view.identifier(schema)}.{view.identifier(table)} where id = {view.quoted(message_id)}"
        statement = f"select * from {where}"
        try:
            rows = segment.sql(statement)
        except ControlAPIError:  # the table does not exist yet: nothing of this kind loaded
            continue
        found += [{"table": f"{schema}.{table}", "row": r} for r in rows]
    return found


@bp.get(f"{STREAM_PREFIX}/live")
def stream() -> Any:
    """New events after `after` (or the browser's Last-Event-ID), matching the page's filters."""
    segment = services().need_segment()
    filters = view.filters_from(request.args)
    cursor = [_seq(request.headers.get("Last-Event-ID") or request.args.get("after"))]

    def next_round(seconds: float) -> list[tuple[str, str, Any]]:
        params = {**filters, "after": str(cursor[0]), "count": "1", "timeout": str(seconds)}
        found = segment.call("GET", "/wait/events", params=params, timeout=seconds + 10)["items"]
        if not found:
            return []
        cursor[0] = max(int(e["seq"]) for e in found)
        return [(str(e["seq"]), "event", view.row(e)) for e in found[-STREAM_BATCH:]]

    return event_stream(next_round, time.monotonic)


def _seq(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        abort(400, "after (or Last-Event-ID) must be an event's seq")
