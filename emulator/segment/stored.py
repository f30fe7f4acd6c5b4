"""What the fake Segment keeps of each received message: a compact record, its statuses, its JSON form.

Separate from the ingest rules (backend.py): how a message is judged changes with Segment's edge,
how it is stored, exported, restored and filtered does not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from swoosh.emulator.clock import parse_iso

STORED_BAD_PAYLOAD_BYTES = 64 * 1024

GOOD, BAD, DUPLICATE, DROPPED = "good", "bad", "duplicate", "dropped"
STATUSES = (GOOD, BAD, DUPLICATE, DROPPED)


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


class StoredEvent:
    """One received message, compact: the payload is kept as JSON bytes."""

    __slots__ = (
        "anonymous_id",
        "call_type",
        "event",
        "message_id",
        "payload",
        "reason",
        "received_at",
        "seq",
        "source",
        "status",
        "user_id",
        "violations",
    )

    def __init__(
        self,
        seq: int,
        status: str,
        reason: str | None,
        source: str | None,
        call_type: str | None,
        message: Any,
        received_at: float,
        violations: list[dict[str, str]] | None = None,
        payload: bytes | None = None,
    ) -> None:
        self.seq = seq
        self.status = status
        self.reason = reason
        self.source = source
        self.call_type = call_type
        self.received_at = received_at
        self.violations = violations
        fields = message if isinstance(message, dict) else {}
        # Interned: names and ids repeat across events, and a million stored events should share them.
        self.event = _interned(fields.get("event") if isinstance(fields.get("event"), str) else fields.get("name"))
        self.user_id = _interned(fields.get("userId"))
        self.anonymous_id = _interned(fields.get("anonymousId"))
        self.message_id = fields.get("messageId")
        if payload is None:
            payload = serialize(message) or orjson.dumps({"unserializable": "nested deeper than JSON output allows"})
        if status != GOOD and len(payload) > STORED_BAD_PAYLOAD_BYTES:
            payload = orjson.dumps({"truncated": True, "bytes": len(payload)})
        self.payload = payload

    def _header(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "status": self.status,
            "reason": self.reason,
            "source": self.source,
            "type": self.call_type,
            "received_at": self.received_at,
            "violations": self.violations,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self._header(), "message": orjson.loads(self.payload)}

    def to_record(self) -> bytes:
        """`to_dict` as JSON bytes, the stored payload spliced in as is (nothing re-serialised)."""
        head = orjson.dumps(self._header())
        return head[:-1] + b',"message":' + self.payload + b"}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredEvent:
        """The inverse of `to_dict`, for an imported state; refuses an unknown status."""
        event = cls(
            int(data["seq"]),
            str(data["status"]),
            data.get("reason"),
            data.get("source"),
            data.get("type"),
            data.get("message"),
            float(data["received_at"]),
            data.get("violations"),
        )
        if event.status not in STATUSES:
            raise ValueError(f"unknown event status {event.status!r}")
        return event


def serialize(message: Any) -> bytes | None:
    """The message as JSON bytes; None when it nests deeper than orjson writes (it reads deeper).

    Copied to an exact-size object: orjson's result keeps its whole output buffer (about 8 KB even for a
    600-byte event), which would make a million stored events cost 8 GB instead of under 1 GB.
    """
    try:
        return bytes(memoryview(orjson.dumps(message, default=str, option=orjson.OPT_NON_STR_KEYS)))
    except TypeError:
        return None


# Filter name (the message's field) -> StoredEvent attribute.
FILTER_ATTRIBUTES = {
    "type": "call_type",
    "event": "event",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "source": "source",
    "status": "status",
    "reason": "reason",
    "messageId": "message_id",
}
ALWAYS_TEXT = frozenset({"call_type", "source", "status", "reason"})  # set by the fake: a str or None

# One query's scan, newest first, stopping at `after` or once `limit` are found. The condition is
# assembled from the fixed fragments below (attribute names from FILTER_ATTRIBUTES, values bound as
# names in the namespace, never written into the code): compiled once per query, a scan runs with no
# Python call per event, so a filter that matches nothing still covers a million events in ~0.1 s.
_SCAN = """
def scan(events, after, limit):
    found = []
    for e in events:
        if e.seq <= after:
            break
        if {condition}:
            found.append(e)
            if len(found) == limit:
                break
    return found
"""


class EventWindow:
    """One events query's filters: field equality (as text, as `match_filters` compares), a time range
    (`since`, `until`), a `seq` range (`after`, `before`: a live view's and a pager's cursors) and
    `user` (userId or anonymousId)."""

    __slots__ = ("after", "scan")

    def __init__(self, filters: dict[str, str]) -> None:
        values: dict[str, Any] = {
            "since": since_time(filters.pop("since", None)),
            "until": since_time(filters.pop("until", None), "until"),
            "before": _seq(filters.pop("before", None), "before"),
            "user": filters.pop("user", None),
        }
        self.after = _seq(filters.pop("after", None), "after")
        unknown = sorted(set(filters) - set(FILTER_ATTRIBUTES))
        if unknown:
            raise ValueError(f"unknown filter {unknown[0]!r}; known: {', '.join(sorted(FILTER_ATTRIBUTES))}")
        conditions = []
        for index, (name, expected) in enumerate(filters.items()):
            attribute, value = FILTER_ATTRIBUTES[name], f"v{index}"
            values[value] = expected
            test = f"e.{attribute} == {value}"
            if attribute not in ALWAYS_TEXT:  # a bad event may carry a number as userId: compare as text
                test = f"({test} or (e.{attribute}.__class__ not in (str, NoneType) and str(e.{attribute}) == {value}))"
            conditions.append(test)
        if values["user"] is not None:
            conditions.append("(e.user_id == user or e.anonymous_id == user)")
        if values["before"] is not None:
            conditions.append("e.seq < before")
        if values["since"] is not None:
            conditions.append("e.received_at >= since")
        if values["until"] is not None:
            conditions.append("e.received_at < until")
        namespace: dict[str, Any] = {**values, "NoneType": type(None)}
        exec(_SCAN.format(condition=" and ".join(conditions) or "True"), namespace)  # fixed fragments only
        self.scan: Callable[[Iterable[StoredEvent], int, int], list[StoredEvent]] = namespace["scan"]

    @classmethod
    def of(cls, filters: Any) -> EventWindow:
        return cls(dict(filters))

    def newest(self, events: Iterable[StoredEvent], limit: int | None) -> list[StoredEvent]:
        """Matching `events` (given newest first), newest first, at most `limit`."""
        return self.scan(events, -1 if self.after is None else self.after, -1 if limit is None else limit)


def _seq(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an event's seq (a whole number), got {value!r}") from None


def since_time(value: str | None, name: str = "since") -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        parsed = parse_iso(value)
        if parsed is None:
            raise ValueError(f"{name} must be a unix time or an ISO-8601 time, got {value!r}") from None
        return parsed.timestamp()
