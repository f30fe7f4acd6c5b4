"""Pushwoosh -> Segment: message events become Segment track messages in /v1/batch bodies. Pure, no I/O.

userId = the Pushwoosh user id, else anonymousId = the HWID; properties `message_type`,
`campaign_code`, `device_type` (the platform name, e.g. "Android"; the numeric code is kept in
`context.pushwoosh.device_type`); `timestamp` = when Pushwoosh recorded the outcome; `messageId`
derived from (message code, hwid, event) so a resent event is deduplicated by Segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from swoosh import contracts
from swoosh.contracts.shared_names import DEVICE_TYPES, MESSAGE_EVENT_NAMES, platform_by_name

SOURCE_EVENTS = MESSAGE_EVENT_NAMES  # the source sends on every message event Pushwoosh emits
MAX_BATCH_BYTES = 500 * 1000
MAX_EVENT_BYTES = 32 * 1024
ENVELOPE_OVERHEAD = 256
LIBRARY = {"name": "swoosh-bridge", "version": "0.1.0"}


class InvalidMessageEvent(ValueError):
    """A message event the bridge cannot turn into a track call; the message says why."""


@dataclass(frozen=True)
class MessageEvent:
    event: str
    message_code: str
    campaign_code: str | None
    message_type: str | None
    hwid: str
    user_id: str | None
    device_type: int | None
    platform: str | None
    timestamp: str | None
    application: str | None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_message_event(raw: Any) -> MessageEvent:
    """Read the fake Pushwoosh's message event or Pushwoosh's generic webhook JSON.

    The shape rules (and the rejection reasons) are the schema `events/bridge-message-event`.
    """
    problems = contracts.validate("events/bridge-message-event", raw)
    if problems:
        raise InvalidMessageEvent(problems[0].message)
    name = _text(raw.get("event")) or raw["event_name"]
    hwid = raw["hwid"]
    code = _text(raw.get("message_code")) or raw["message_id"]
    device_type = raw.get("device_type")
    platform = _text(raw.get("platform"))
    if not isinstance(device_type, int) or isinstance(device_type, bool):
        device_type = None
        if platform is not None:
            try:
                device_type = platform_by_name(platform).code
            except KeyError:
                device_type = None
    if platform is None and device_type in DEVICE_TYPES:
        platform = DEVICE_TYPES[device_type].name
    campaign = raw.get("campaign_code", raw.get("campaign_id"))
    return MessageEvent(
        name,
        code,
        str(campaign) if campaign not in (None, "") else None,
        _text(raw.get("message_type")) or name.split(" ")[0],
        hwid,
        _text(raw.get("user_id")),
        device_type,
        platform,
        _text(raw.get("timestamp")),
        _text(raw.get("application")) or _text(raw.get("application_code")),
    )


def allowed_events(allow_list: str | None) -> frozenset[str] | None:
    """The comma-separated allow-list as a set; None (= every event) when blank."""
    names = [name.strip() for name in (allow_list or "").split(",") if name.strip()]
    return frozenset(names) if names else None


def message_id(event: MessageEvent) -> str:
    digest = hashlib.sha256(f"{event.message_code}\x1f{event.hwid}\x1f{event.event}".encode()).hexdigest()
    return f"pw-{digest[:40]}"


def track_message(event: MessageEvent) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "track",
        "event": event.event,
        "messageId": message_id(event),
        "properties": {
            "message_type": event.message_type,
            "campaign_code": event.campaign_code,
            "device_type": event.platform,
        },
        "context": {
            "library": LIBRARY,
            "pushwoosh": {
                "hwid": event.hwid,
                "message_code": event.message_code,
                "device_type": event.device_type,
                "application": event.application,
            },
        },
    }
    if event.user_id:
        message["userId"] = event.user_id
    else:
        message["anonymousId"] = event.hwid
    if event.timestamp:
        message["timestamp"] = event.timestamp
    return message


def batch_bodies(messages: Iterable[dict[str, Any]], sent_at: str) -> list[tuple[bytes, list[str]]]:
    """/v1/batch bodies within Segment's limits (500 KB per request); returns (body, messageIds)."""
    bodies: list[tuple[bytes, list[str]]] = []
    chunk: list[bytes] = []
    ids: list[str] = []
    size = ENVELOPE_OVERHEAD
    for message in messages:
        encoded = orjson.dumps(message)
        if len(encoded) > MAX_EVENT_BYTES:
            raise InvalidMessageEvent(f"event {message.get('messageId')} is over 32 KB")
        if chunk and size + len(encoded) + 1 > MAX_BATCH_BYTES:
            bodies.append((_envelope(chunk, sent_at), ids))
            chunk, ids, size = [], [], ENVELOPE_OVERHEAD
        chunk.append(encoded)
        ids.append(message["messageId"])
        size += len(encoded) + 1
    if chunk:
        bodies.append((_envelope(chunk, sent_at), ids))
    return bodies


def _envelope(items: list[bytes], sent_at: str) -> bytes:
    return b'{"batch":[' + b",".join(items) + b'],"sentAt":' + orjson.dumps(sent_at) + b"}"
