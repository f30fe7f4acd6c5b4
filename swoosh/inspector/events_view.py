"""The fake Segment's stored events as the Live page shows them: rows, filters, the received form.

Pure functions over the control API's JSON (`GET /_swoosh/events`), so they are tested without a
server and the views stay thin.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from swoosh.emulator.segment.warehouse import CALL_TABLES, event_table

PAGE_SIZE = 50
STATUSES = ("good", "bad", "duplicate", "dropped")
CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# Form field -> the control API's filter; `since`/`until` are datetime-local inputs, read as UTC.
FILTER_NAMES = ("source", "type", "event", "user", "status", "since", "until")
# What Segment adds to an accepted message (emulator/segment/messages.py `Enrichment`); undone to
# show the message as the SDK sent it.
ADDED_BY_SEGMENT = ("receivedAt", "version", "channel", "projectId", "writeKey")


def filters_from(args: Any) -> dict[str, str]:
    """The filters a form or a stream URL carries, blank ones left out, times made explicit UTC."""
    found: dict[str, str] = {}
    for name in FILTER_NAMES:
        value = (args.get(name) or "").strip()
        if value:
            found[name] = _as_utc(value) if name in ("since", "until") else value
    return found


def _as_utc(value: str) -> str:
    """A zone-less date-time (what a datetime-local input gives) read as UTC; anything else as given."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the fake Segment says what is wrong with it
    return value if parsed.tzinfo else f"{value}Z"


def when(received_at: float) -> str:
    return datetime.fromtimestamp(received_at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def row(event: dict[str, Any]) -> dict[str, Any]:
    """One line of the Live table (also what the stream sends)."""
    found = event.get("message")
    message: dict[str, Any] = found if isinstance(found, dict) else {}
    name = message.get("event") if isinstance(message.get("event"), str) else message.get("name")
    return {
        "seq": event["seq"],
        "time": when(float(event["received_at"])),
        "status": event["status"],
        "reason": event.get("reason") or "",
        "type": event.get("type") or "",
        "event": name if isinstance(name, str) else "",
        "user": _text(message.get("userId")) or _text(message.get("anonymousId")),
        "source": event.get("source") or "",
        "message_id": _text(message.get("messageId")),
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def as_received(event: dict[str, Any]) -> dict[str, Any]:
    """The message as the SDK sent it. Only accepted messages are enriched (bad, duplicate and dropped
    ones are stored as received); enrichment is undone: the added keys go, a corrected `timestamp`
    goes back to the `originalTimestamp` it came from. A `messageId` Segment made up (`api-...`) goes."""
    message = event.get("message")
    if event.get("status") != "good" or not isinstance(message, dict):
        return message if isinstance(message, dict) else {"message": message}
    sent = copy.deepcopy(message)
    for key in ADDED_BY_SEGMENT:
        sent.pop(key, None)
    if "originalTimestamp" in sent:
        sent["timestamp"] = sent.pop("originalTimestamp")
    else:
        sent.pop("timestamp", None)
    if _text(sent.get("messageId")).startswith("api-"):
        sent.pop("messageId")
    return sent


def warehouse_tables(message: dict[str, Any]) -> list[str]:
    """The warehouse tables an accepted message landed in (its `id` column is the messageId)."""
    call_type = message.get("type")
    if call_type == "track":
        return ["tracks", event_table(str(message.get("event")))]
    if call_type == "identify":
        return ["identifies"]
    if call_type in CALL_TABLES:
        return [CALL_TABLES[call_type]]
    return []


def quoted(text: str) -> str:
    """An SQL string literal (the warehouse API takes a statement, not parameters)."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
