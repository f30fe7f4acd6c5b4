"""Segment -> Pushwoosh: Segment events become Pushwoosh integration API requests. Pure, no I/O.

The mapping tables below read like the destination's field-mapping table: (Pushwoosh field, path
into the Segment event). They are data, so a deployment can override them (see `Mappings.load`);
the defaults are identical to Segment's "Pushwoosh (Actions)" destination.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROFILE_ACTION = "Create or Update User Profile"
EVENTS_ACTION = "Track Events"
MAX_EVENTS_PER_REQUEST = 100

# identify -> POST /integration-segment/v1/track-user (one flat object per event)
TRACK_USER_FIELDS: tuple[tuple[str, str], ...] = (
    ("user_id", "userId"),
    ("device_id", "context.device.id"),
    ("device_platform", "context.device.type"),
    ("email", "traits.email"),
    ("app_version", "context.app.version"),
    ("device_model", "context.device.model"),
    ("device_token", "context.device.token"),
    ("language", "context.locale"),
    ("country", "context.location.country"),
    ("city", "context.location.city"),
    ("device_os_version", "context.os.version"),
    ("timezone", "context.timezone"),
    ("user_agent", "context.userAgent"),
)
# track/page/screen -> one item of POST /integration-segment/v1/post-events
POST_EVENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("user_id", "userId"),
    ("device_id", "context.device.id"),
    ("device_platform", "context.device.type"),
    ("name", "event|name"),  # `a|b`: the first path that resolves
    ("timestamp", "timestamp"),
    ("attributes", "properties"),
)
POST_EVENT_REQUIRED = ("user_id", "name", "timestamp")
# Keys removed from identify traits before they become `attributes`: the mapping field names themselves.
RESERVED_TRAIT_KEYS = frozenset(
    {
        "external_id",
        "email",
        "app_version",
        "device_id",
        "device_model",
        "device_platform",
        "device_token",
        "language",
        "country",
        "city",
        "current_location",
        "device_os_version",
        "timezone",
        "user_agent",
        "custom_attributes",
    }
)
DEFAULT_SUBSCRIPTIONS = {PROFILE_ACTION: ("identify",), EVENTS_ACTION: ("track", "page", "screen")}


def resolve(event: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`context.device.id`); `a|b` tries each alternative in turn."""
    for alternative in path.split("|"):
        current: Any = event
        for part in alternative.split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
            if current is None:
                break
        if current is not None and current != "":
            return current
    return None


@dataclass(frozen=True)
class Request:
    """One request to the Pushwoosh integration API, without credentials (transport adds those).

    `sources` are the positions, in the events given to `requests_for`, of the events it carries.
    """

    endpoint: str  # ping | track-user | post-events | delete-user
    body: dict[str, Any]
    message_ids: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()


@dataclass(frozen=True)
class Skipped:
    message_id: str | None
    reason: str
    index: int = 0  # the event's position in the events given to `requests_for`


@dataclass
class Mappings:
    """The destination's settings that shape requests; defaults equal the real destination's."""

    app_code: str
    track_user_fields: tuple[tuple[str, str], ...] = TRACK_USER_FIELDS
    post_event_fields: tuple[tuple[str, str], ...] = POST_EVENT_FIELDS
    subscriptions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SUBSCRIPTIONS))
    batching: bool = False
    batch_size: int = MAX_EVENTS_PER_REQUEST

    @classmethod
    def load(cls, app_code: str, path: Path | None = None, **settings: Any) -> Mappings:
        """Defaults, overridden by a JSON file `{"track_user_fields": [[field, path], ...], ...}`."""
        overrides: dict[str, Any] = json.loads(Path(path).read_text()) if path else {}
        mappings = cls(app_code, **settings)
        for key in ("track_user_fields", "post_event_fields"):
            if key in overrides:
                setattr(mappings, key, tuple((str(a), str(b)) for a, b in overrides[key]))
        if "subscriptions" in overrides:
            mappings.subscriptions = {str(k): tuple(v) for k, v in overrides["subscriptions"].items()}
        if not 1 <= mappings.batch_size <= MAX_EVENTS_PER_REQUEST:
            raise ValueError(f"batch_size must be between 1 and {MAX_EVENTS_PER_REQUEST}")
        return mappings

    def action_for(self, event_type: Any) -> str | None:
        for action, types in self.subscriptions.items():
            if event_type in types:
                return action
        return None


def track_user_body(event: Mapping[str, Any], mappings: Mappings) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, path in mappings.track_user_fields:
        value = resolve(event, path)
        if value is not None:
            body[name] = value
    location = resolve(event, "context.location")
    if isinstance(location, Mapping):
        point = {k: location[k] for k in ("latitude", "longitude") if location.get(k) is not None}
        if point:
            body["current_location"] = point
    traits = event.get("traits") if isinstance(event.get("traits"), Mapping) else {}
    body["attributes"] = {k: v for k, v in traits.items() if k not in RESERVED_TRAIT_KEYS}
    return body


def post_event_item(event: Mapping[str, Any], mappings: Mappings) -> dict[str, Any] | str:
    """One post-events item, or the reason the event cannot be sent."""
    item: dict[str, Any] = {}
    for name, path in mappings.post_event_fields:
        value = resolve(event, path)
        if value is not None:
            item[name] = value
    for required in POST_EVENT_REQUIRED:
        if required not in item:
            return f"missing {required}"
    item["app_code"] = mappings.app_code
    item.setdefault("attributes", {})
    return item


def requests_for(events: Iterable[Mapping[str, Any]], mappings: Mappings) -> tuple[list[Request], list[Skipped]]:
    """The integration API requests for a run of Segment events, in order, and what was skipped and why.

    The one place events are batched: consecutive track/page/screen events share a post-events
    request (up to `batch_size` when batching, else one each); any other request ends the run.
    """
    requests: list[Request] = []
    skipped: list[Skipped] = []
    pending: list[tuple[dict[str, Any], str | None, int]] = []

    def flush_events() -> None:
        size = mappings.batch_size if mappings.batching else 1
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            requests.append(
                Request(
                    "post-events",
                    {"events": [item for item, _, _ in chunk]},
                    tuple(mid for _, mid, _ in chunk if mid),
                    tuple(index for _, _, index in chunk),
                )
            )
        pending.clear()

    def single(endpoint: str, body: dict[str, Any], message_id: str | None, index: int) -> None:
        flush_events()
        requests.append(Request(endpoint, body, (message_id,) if message_id else (), (index,)))

    for index, event in enumerate(events):
        message_id = event.get("messageId") if isinstance(event.get("messageId"), str) else None
        if event.get("type") == "delete" or event.get("type") == "delete_user":
            user_id = resolve(event, "userId")
            if user_id is None:
                skipped.append(Skipped(message_id, "missing userId", index))
            else:
                single("delete-user", {"external_id": user_id}, message_id, index)
            continue
        action = mappings.action_for(event.get("type"))
        if action is None:
            skipped.append(Skipped(message_id, f"no action subscribed to type {event.get('type')!r}", index))
        elif action == PROFILE_ACTION:
            single("track-user", track_user_body(event, mappings), message_id, index)
        else:
            item = post_event_item(event, mappings)
            if isinstance(item, str):
                skipped.append(Skipped(message_id, item, index))
            else:
                pending.append((item, message_id, index))
    flush_events()
    return requests, skipped


PING = Request("ping", {"body": {"name": "test_segment_auth"}})
