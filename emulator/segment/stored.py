"""What the fake Segment keeps of each received message: a row for its event table, its statuses, its JSON.

Separate from the ingest rules (backend.py): how a message is judged changes with Segment's edge,
how it is stored, exported, restored and filtered does not.
"""

from __future__ import annotations

from typing import Any

import orjson

from swoosh.emulator.clock import parse_iso

STORED_BAD_PAYLOAD_BYTES = 64 * 1024

GOOD, BAD, DUPLICATE, DROPPED = "good", "bad", "duplicate", "dropped"
STATUSES = (GOOD, BAD, DUPLICATE, DROPPED)


# One stored event as the event table keeps it (event_table.COLUMNS): seq, status, reason, source, type,
# event, userId, anonymousId, messageId (the filter columns, as text), received_at, window_ends (when its
# client-sent messageId stops counting as a duplicate; None otherwise), violations (JSON bytes or None),
# payload (the message's JSON bytes).
Row = tuple[Any, ...]


def _text(value: Any) -> str | None:
    """A filter column's value: what the control API's `field=value` compares with (None never matches)."""
    return value if type(value) is str or value is None else str(value)


def stored_row(
    seq: int,
    status: str,
    reason: str | None,
    source: str | None,
    call_type: str | None,
    message: Any,
    received_at: float,
    violations: list[dict[str, str]] | None = None,
    payload: bytes | None = None,
    window_ends: float | None = None,
) -> Row:
    """The row for one received message; `payload` is its JSON when already serialised (a good event)."""
    fields = message if isinstance(message, dict) else {}
    event = fields.get("event")
    if not isinstance(event, str):
        event = fields.get("name")
    if payload is None:
        payload = serialize(message) or orjson.dumps({"unserializable": "nested deeper than JSON output allows"})
    if status != GOOD and len(payload) > STORED_BAD_PAYLOAD_BYTES:
        payload = orjson.dumps({"truncated": True, "bytes": len(payload)})
    return (
        seq,
        status,
        reason,
        source,
        call_type,
        _text(event),
        _text(fields.get("userId")),
        _text(fields.get("anonymousId")),
        _text(fields.get("messageId")),
        received_at,
        window_ends,
        None if violations is None else orjson.dumps(violations),
        payload,
    )


def row_from_dict(data: dict[str, Any]) -> Row:
    """The row of one event as `event_table.event_dict` shows it (an imported state); refuses an unknown status."""
    status = str(data["status"])
    if status not in STATUSES:
        raise ValueError(f"unknown event status {status!r}")
    return stored_row(
        int(data["seq"]),
        status,
        data.get("reason"),
        data.get("source"),
        data.get("type"),
        data.get("message"),
        float(data["received_at"]),
        data.get("violations"),
    )


def serialize(message: Any) -> bytes | None:
    """The message as JSON bytes; None when it nests deeper than orjson writes (it reads deeper).

    The bytes go straight into the event table (which copies them), so orjson's result is not copied to
    an exact size here: it is not kept.
    """
    try:
        return orjson.dumps(message, default=str, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return None


def since_time(value: str | None, name: str = "since") -> float | None:
    """A time filter's value (unix seconds or ISO-8601) in unix seconds; ValueError naming `name` otherwise."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = parse_iso(value)
        if parsed is None:
            raise ValueError(f"{name} must be a unix time or an ISO-8601 time, got {value!r}") from None
        return parsed.timestamp()


def seq_bound(value: str | None, name: str) -> int | None:
    """A cursor filter's value (`after`, `before`: an event's seq); ValueError naming `name` otherwise."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an event's seq (a whole number), got {value!r}") from None
