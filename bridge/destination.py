"""Segment -> Pushwoosh: Segment events become Pushwoosh integration API requests. Pure, no I/O.

The mapping tables below read like the destination's field-mapping table: (Pushwoosh field, the
destination's field: its label, path into the Segment event, type and nullability). Values are
resolved and coerced as Segment's action runtime does (bridge/fields.py). The paths are data, so a
deployment can override them (see `Mappings.load`); the defaults are identical to Segment's
"Pushwoosh (Actions)" destination.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from swoosh import contracts
from swoosh.bridge.fields import UNDEFINED, Field, Refused, payload_for
from swoosh.bridge.fields import resolve as resolve_field

PROFILE_ACTION = "Create or Update User Profile"
EVENTS_ACTION = "Track Events"
MAX_EVENTS_PER_REQUEST = 100


def _text(key: str, label: str, path: str, required: bool = False) -> Field:
    """A string field; the destination lets every optional one carry an explicit null."""
    return Field(key, label, path, "string", nullable=not required, required=required)


# (integration API name, the destination's field), in the order the destination defines its fields:
# its refusals list problems in that order.
# identify -> POST /integration-segment/v1/track-user (one flat object per event)
TRACK_USER_FIELDS: tuple[tuple[str, Field], ...] = (
    ("user_id", Field("external_id", "External User ID", "userId")),
    ("email", _text("email", "Email", "traits.email")),
    ("app_version", _text("app_version", "App Version", "context.app.version")),
    ("device_id", _text("device_id", "Device ID", "context.device.id")),
    ("device_model", _text("device_model", "Device Model", "context.device.model")),
    ("device_platform", _text("device_platform", "Device Platform", "context.device.type")),
    ("device_token", _text("device_token", "Device Token", "context.device.token")),
    ("language", _text("language", "Language", "context.locale")),
    ("country", _text("country", "Country", "context.location.country")),
    ("city", _text("city", "City", "context.location.city")),
    (
        "current_location",
        Field(
            "current_location",
            "Current Location",
            "",
            "object",
            nullable=True,
            members=(
                Field("latitude", "Latitude", "context.location.latitude", "number"),
                Field("longitude", "Longitude", "context.location.longitude", "number"),
            ),
        ),
    ),
    ("device_os_version", _text("device_os_version", "Device OS Version", "context.os.version")),
    ("timezone", _text("timezone", "Timezone", "context.timezone")),
    ("user_agent", _text("user_agent", "User Agent", "context.userAgent")),
    ("attributes", Field("custom_attributes", "Custom Attributes", "traits", "object")),
)
TRACK_USER_BODY_ORDER = (
    "attributes",
    "user_id",
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
)
# track/page/screen -> one item of POST /integration-segment/v1/post-events
POST_EVENT_FIELDS: tuple[tuple[str, Field], ...] = (
    ("user_id", _text("external_id", "External User ID", "userId", required=True)),
    ("device_id", _text("device_id", "Device ID", "context.device.id")),
    ("device_platform", _text("device_platform", "Device Platform", "context.device.type")),
    ("name", _text("name", "Name", "event|name", required=True)),  # `a|b`: a when it exists, else b
    ("timestamp", Field("timestamp", "Timestamp", "timestamp", "datetime", required=True)),
    ("attributes", Field("properties", "Event Properties", "properties", "object")),
)
POST_EVENT_BODY_ORDER = ("user_id", "device_id", "device_platform", "app_code", "name", "timestamp", "attributes")
# Keys removed from identify traits before they become `attributes`: the action's own field names.
RESERVED_TRAIT_KEYS = frozenset(field.key for _, field in TRACK_USER_FIELDS)
DEFAULT_SUBSCRIPTIONS = {PROFILE_ACTION: ("identify",), EVENTS_ACTION: ("track", "page", "screen")}
CONTRACTS = {"track-user": "pushwoosh/track-user", "post-events": "pushwoosh/post-events-item"}


def resolve(event: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`context.device.id`) as the destination reads it; None when absent.

    `a|b` is `a` when it exists (neither missing nor null), else `b`.
    """
    value = resolve_field(event, Field("", "", path))
    return None if value is UNDEFINED else value


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
    """An event not sent. `kind` "skipped": the destination itself refuses it (its reason text);
    "invalid": the integration API's contract refuses it (the text Pushwoosh would reply with)."""

    message_id: str | None
    reason: str
    index: int = 0  # the event's position in the events given to `requests_for`
    kind: Literal["skipped", "invalid"] = "skipped"


@dataclass
class Mappings:
    """The destination's settings that shape requests; defaults equal the real destination's."""

    app_code: str
    track_user_fields: tuple[tuple[str, Field], ...] = TRACK_USER_FIELDS
    post_event_fields: tuple[tuple[str, Field], ...] = POST_EVENT_FIELDS
    subscriptions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SUBSCRIPTIONS))
    batching: bool = False
    batch_size: int = MAX_EVENTS_PER_REQUEST
    check_contract: bool = False  # hold back events the integration API's contract refuses (the Bridge does)

    @classmethod
    def load(cls, app_code: str, path: Path | None = None, **settings: Any) -> Mappings:
        """Defaults, overridden by a JSON file `{"track_user_fields": [[field, path], ...], ...}`.

        An override names the integration API field and the path it is read from; the field keeps
        the destination's type and nullability. Fields left out of an override list are not sent.
        """
        overrides: dict[str, Any] = json.loads(Path(path).read_text()) if path else {}
        mappings = cls(app_code, **settings)
        for key, defaults in (("track_user_fields", TRACK_USER_FIELDS), ("post_event_fields", POST_EVENT_FIELDS)):
            if key in overrides:
                setattr(mappings, key, _overridden(dict(defaults), overrides[key], key))
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


def _overridden(defaults: dict[str, Field], pairs: Any, key: str) -> tuple[tuple[str, Field], ...]:
    fields = []
    for wire, path in pairs:
        if wire not in defaults or defaults[wire].members:
            raise ValueError(f"{key}: {wire} is not a field whose path can be set")
        fields.append((str(wire), replace(defaults[wire], path=str(path))))
    return tuple(fields)


def _ordered(values: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {name: values[name] for name in order if name in values}


def track_user_body(event: Mapping[str, Any], mappings: Mappings) -> dict[str, Any]:
    """The track-user body, as the destination's "Create or Update User Profile" builds it; Refused if it
    refuses the event."""
    payload = payload_for(event, tuple(f for _, f in mappings.track_user_fields))
    values = {wire: payload[f.key] for wire, f in mappings.track_user_fields if f.key in payload}
    traits = values.get("attributes")
    values["attributes"] = {k: v for k, v in (traits or {}).items() if k not in RESERVED_TRAIT_KEYS}
    location = values.get("current_location")
    if location == {}:  # an empty location is left out; an explicit null is sent
        del values["current_location"]
    return _ordered(values, TRACK_USER_BODY_ORDER)


def post_event_item(event: Mapping[str, Any], mappings: Mappings) -> dict[str, Any] | str:
    """One post-events item, or the destination's reason for refusing the event."""
    try:
        payload = payload_for(event, tuple(f for _, f in mappings.post_event_fields), batched=mappings.batching)
    except Refused as refusal:
        return str(refusal)
    values = {wire: payload[f.key] for wire, f in mappings.post_event_fields if f.key in payload}
    values["app_code"] = mappings.app_code
    return _ordered(values, POST_EVENT_BODY_ORDER)


def _contract_problem(endpoint: str, body: dict[str, Any]) -> str | None:
    """What the integration API would refuse `body` with (its reply text), or None."""
    problems = contracts.validate(CONTRACTS[endpoint], body)
    return problems[0].reply() if problems else None


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
            continue
        endpoint = "track-user" if action == PROFILE_ACTION else "post-events"
        try:
            body = track_user_body(event, mappings) if endpoint == "track-user" else post_event_item(event, mappings)
        except Refused as refusal:
            body = str(refusal)
        if isinstance(body, str):
            skipped.append(Skipped(message_id, body, index))
        elif mappings.check_contract and (problem := _contract_problem(endpoint, body)):
            skipped.append(Skipped(message_id, problem, index, "invalid"))
        elif endpoint == "track-user":
            single("track-user", body, message_id, index)
        else:
            pending.append((body, message_id, index))
    flush_events()
    return requests, skipped


PING = Request("ping", {"body": {"name": "test_segment_auth"}})
