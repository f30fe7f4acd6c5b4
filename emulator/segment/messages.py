"""Per-message rules of Segment's edge: what makes a message bad, and what Segment adds to a good one.

Pure functions over plain dicts; the backend decides where results go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from swoosh.emulator.clock import iso_millis, parse_iso
from swoosh.emulator.ksuid import ksuid

CALL_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# What one request to the Tracking API carries: a single call, or a batch envelope of calls.
CallType = Literal["identify", "track", "page", "screen", "group", "alias", "batch"]
BATCH: CallType = "batch"
MAX_MESSAGE_ID = 100
DEFAULT_LIBRARY = {"name": "unknown", "version": "unknown"}
# Libraries that run on the user's device: Segment records their events with `channel: "client"` and
# fills `context.ip` from the connection (docs/segment.md has the evidence).
CLIENT_LIBRARIES = frozenset({"analytics.js"})

# Reasons a message is kept in the "bad" set (HTTP stays 200 unless strict).
NO_USER_ANON_ID = "no_user_anon_id"
MISSING_EVENT_NAME = "missing_event_name"
MISSING_GROUP_ID = "missing_group_id"
MISSING_PREVIOUS_ID = "missing_previous_id"
MISSING_USER_ID = "missing_user_id"
INVALID_TYPE = "invalid_type"
INVALID_MESSAGE = "invalid_message"
MESSAGE_TOO_LARGE = "message_too_large"
MESSAGE_ID_TOO_LONG = "message_id_too_long"
TOO_MANY_EVENTS = "too_many_events"
INVALID_BATCH = "invalid_batch"
UNKNOWN_WRITE_KEY = "unknown_write_key"
BLOCKED_BY_TRACKING_PLAN = "blocked_by_tracking_plan"
TOO_DEEPLY_NESTED = "too_deeply_nested"


def _identity(value: Any) -> str | None:
    """userId/anonymousId as Segment keeps them: non-empty strings (numbers are stringified)."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def problem(message: Any, call_type: str | None) -> str | None:
    """The reason this message is rejected, or None when Segment accepts it."""
    if not isinstance(message, dict):
        return INVALID_MESSAGE
    if call_type not in CALL_TYPES:
        return INVALID_TYPE
    user_id = _identity(message.get("userId"))
    if user_id is None and _identity(message.get("anonymousId")) is None:
        return NO_USER_ANON_ID
    message_id = message.get("messageId")
    if isinstance(message_id, str) and len(message_id) > MAX_MESSAGE_ID:
        return MESSAGE_ID_TOO_LONG
    if call_type == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            return MISSING_EVENT_NAME
    elif call_type == "group":
        if _identity(message.get("groupId")) is None:
            return MISSING_GROUP_ID
    elif call_type == "alias":
        if _identity(message.get("previousId")) is None:
            return MISSING_PREVIOUS_ID
        if user_id is None:
            return MISSING_USER_ID
    return None


def merge_envelope(item: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """Batch envelope `context` and `integrations` merge into the item; the item's keys win."""
    for key in ("context", "integrations"):
        outer = envelope.get(key)
        if isinstance(outer, dict) and outer:
            inner = item.get(key)
            item[key] = {**outer, **inner} if isinstance(inner, dict) else dict(outer)
    if "sentAt" not in item and envelope.get("sentAt") is not None:
        item["sentAt"] = envelope["sentAt"]
    return item


def corrected_timestamp(received: datetime, original: datetime | None, sent: datetime | None) -> datetime:
    """Segment's clock-skew correction: timestamp = receivedAt - (sentAt - originalTimestamp)."""
    if original is None:
        return received
    if sent is None:
        return original
    try:
        return received - (sent - original)
    except OverflowError:
        return original


class Enrichment:
    """What Segment adds to each accepted message of one request, in place.

    Per request, not per message: the received time is formatted once and the batch's `sentAt` (the
    same string on every message of an SDK batch) is parsed once, which is most of the per-message cost.
    """

    __slots__ = ("_sent", "received", "received_iso", "source_id", "write_key")

    def __init__(self, received: datetime, write_key: str, source_id: str) -> None:
        self.received = received
        self.received_iso = iso_millis(received)
        self.write_key = write_key
        self.source_id = source_id
        self._sent: dict[object, tuple[datetime | None, str | None]] = {}

    def _sent_at(self, value: object) -> tuple[datetime | None, str | None]:
        key = value if isinstance(value, str) else None
        known = self._sent.get(key)
        if known is None:
            parsed = parse_iso(value)
            known = self._sent[key] = (parsed, iso_millis(parsed) if parsed is not None else None)
        return known

    def apply(self, message: dict[str, Any], call_type: str) -> None:
        message["type"] = call_type
        if not isinstance(message.get("messageId"), str) or not message["messageId"]:
            message["messageId"] = "api-" + ksuid(self.received.timestamp())
        for key in ("userId", "anonymousId", "groupId", "previousId"):
            if key in message and not isinstance(message[key], str) and message[key] is not None:
                message[key] = _identity(message[key])
        original = parse_iso(message.get("timestamp"))
        sent, sent_iso = self._sent_at(message.get("sentAt"))
        message["receivedAt"] = self.received_iso
        if original is not None:
            message["originalTimestamp"] = message["timestamp"]
        message["timestamp"] = iso_millis(corrected_timestamp(self.received, original, sent))
        if sent_iso is not None:
            message["sentAt"] = sent_iso
        message["version"] = 2
        if not isinstance(message.get("integrations"), dict):
            message["integrations"] = {}
        context = message.get("context")
        if not isinstance(context, dict):
            context = message["context"] = {}
        if not isinstance(context.get("library"), dict):
            context["library"] = dict(DEFAULT_LIBRARY)
        message["channel"] = "client" if context["library"].get("name") in CLIENT_LIBRARIES else "server"
        message["projectId"] = self.source_id
        message["writeKey"] = self.write_key


DEDUPE_WINDOW = timedelta(hours=24).total_seconds()


def described(item: Any, item_type: str | None) -> dict[str, Any] | None:
    """A message as its log line names it: type, event (or page/screen name) and userId or anonymousId."""
    if not isinstance(item, dict):
        return None
    name = item.get("event") if item_type == "track" else item.get("name")
    user = item.get("userId") or item.get("anonymousId")
    return {
        "type": item_type,
        "event": name if isinstance(name, str) else None,
        "user": user if isinstance(user, str | int) and not isinstance(user, bool) else None,
    }
