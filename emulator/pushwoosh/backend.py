"""The fake Pushwoosh's state and operations. No HTTP: the blueprints call these and render the result.

Errors are `PushwooshError(status_code, message)`, which the /json/1.3 blueprint renders in the real
envelope; the integration API blueprint has its own error bodies.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from swoosh.emulator.control import match_filters
from swoosh.emulator.pushwoosh import seglang, tags
from swoosh.emulator.pushwoosh.lifecycle import Lifecycle
from swoosh.emulator.pushwoosh.model import (
    Application,
    Delivery,
    Device,
    EventHistory,
    Message,
    PostedEvent,
    SegmentSettings,
    TagDefinition,
    User,
)
from swoosh.emulator.pushwoosh.templating import compile_template
from swoosh.emulator.pushwoosh.webhooks import WebhookSender
from swoosh.emulator.runtime import Runtime

TRANSACTION_WINDOW = 24 * 3600
# The device platforms Segment's track-user carries that Pushwoosh understands; others get no platform.
INTEGRATION_PLATFORMS = {"ios": 1, "android": 3, "web": 11}


class PushwooshError(Exception):
    """A logical error: HTTP 200 with this `status_code` and `status_message` in the envelope."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass
class PushwooshConfig:
    strict: bool = False
    auto_create_tags: bool = False
    api_tokens: list[str] = field(default_factory=lambda: ["KEY123"])
    device_tokens: list[str] = field(default_factory=lambda: ["DEVICE-TOKEN"])
    applications: list[Application] = field(default_factory=lambda: [Application("ABCDE-12345", "swoosh demo app")])
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    # The inspection log of posted events is bounded (oldest evicted, counted); the per-user event history
    # that segments read is kept whole, it is what targeting depends on.
    max_posted_events: int = 1_000_000


class PushwooshBackend:
    """Everything the fake Pushwoosh knows; one lock guards all state; time from the runtime's clock.

    Requests arrive in the shape of their JSON Schemas (the remote API checks them at the edge), so the
    methods here refuse only what a schema cannot know: unknown applications, devices, users, messages,
    tags and filters, tag values against their declared types, dates that do not exist.
    """

    collections = (
        "devices",
        "users",
        "events",
        "messages",
        "deliveries",
        "inbox",
        "message-events",
        "warnings",
        "applications",
        "tags",
        "webhooks",
    )

    def __init__(self, config: PushwooshConfig | None = None, runtime: Runtime | None = None) -> None:
        self.config = config or PushwooshConfig()
        self.runtime = runtime or Runtime("pushwoosh")
        self.strict = self.config.strict
        self.lock = threading.RLock()
        self.applications: dict[str, Application] = {a.code: a for a in self.config.applications}
        self.api_tokens = list(self.config.api_tokens)
        self.device_tokens = list(self.config.device_tokens)
        self.tag_registry: dict[str, TagDefinition] = {}
        self.event_registry: dict[str, dict[str, Any]] = {}
        self.filters: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Device]] = {code: {} for code in self.applications}
        self.users: dict[str, User] = {}
        self.posted: deque[PostedEvent] = deque(maxlen=self.config.max_posted_events)
        self.evicted_posted = 0
        self.messages: dict[str, Message] = {}
        self.deliveries: list[Delivery] = []
        self.inboxes: dict[str, list[dict[str, Any]]] = {}
        self.warnings: list[dict[str, Any]] = []
        self.opens: list[dict[str, Any]] = []
        self.transactions: dict[str, tuple[float, list[str]]] = {}
        self.stats_requests: dict[str, str] = {}
        self.webhooks = WebhookSender()
        for spec in self.config.webhooks:
            self.webhooks.add(spec)
        self.lifecycle = Lifecycle(self)
        self._codes = itertools.count(1)

    # -- configuration -------------------------------------------------------------------------
    def add_application(
        self,
        code: str,
        name: str = "",
        segment: Mapping[str, Any] | None = None,
        delivery_rates: Mapping[str, float] | None = None,
        seed: int = 0,
    ) -> Application:
        if not isinstance(code, str) or len(code) != 11 or code[5] != "-" or not code.replace("-", "").isalnum():
            raise ValueError("application code must look like XXXXX-XXXXX (letters and digits)")
        settings = None
        if segment:
            if not isinstance(segment, Mapping) or not isinstance(segment.get("write_key"), str):
                raise ValueError('segment settings need {"write_key": ..., "url"?, "events"?}')
            settings = SegmentSettings(
                segment["write_key"], str(segment.get("url", "")), str(segment.get("events", ""))
            )
        rates = {str(k): float(v) for k, v in (delivery_rates or {}).items()}
        if any(not 0 <= v <= 1 for v in rates.values()):
            raise ValueError("delivery rates are probabilities between 0 and 1")
        app = Application(code, name or code, settings, rates, int(seed))
        with self.lock:
            self.applications[code] = app
            self.devices.setdefault(code, {})
        return app

    def app(self, code: Any) -> Application:
        if not isinstance(code, str) or code not in self.applications:
            raise PushwooshError(210, "Application not found")
        return self.applications[code]

    def check_server_token(self, token: Any) -> None:
        if not isinstance(token, str) or token not in self.api_tokens:
            raise PushwooshError(210, "Account not found")

    def default_app(self) -> Application:
        return next(iter(self.applications.values()))

    # -- devices and users -----------------------------------------------------------------------
    def device(self, app_code: str, hwid: str) -> Device:
        found = self.devices.get(app_code, {}).get(hwid)
        if found is None:
            raise PushwooshError(210, "Device not found")
        return found

    def user(self, user_id: str) -> User:
        existing = self.users.get(user_id)
        if existing is None:
            existing = self.users[user_id] = User(user_id)
        return existing

    def _link_user(self, device: Device, user_id: str | None) -> None:
        if user_id is None or (device.user is not None and device.user.user_id == user_id):
            return
        if device.user is not None:
            device.user.hwids.discard(device.hwid)
        user = self.user(user_id)
        user.hwids.add(device.hwid)
        device.user = user

    def register_device(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        hwid, device_type = request["hwid"], int(request["device_type"])  # JSON Schema's integer admits 3.0
        with self.lock:
            device = self.devices[app.code].get(hwid)
            if device is None:
                device = Device(app.code, hwid, device_type, self.tag_registry)
            device.device_type = device_type
            if request.get("push_token"):
                device.push_token, device.unsubscribed = request["push_token"], False
            for key in ("language", "app_version", "device_model", "os_version"):
                if request.get(key) is not None:
                    setattr(device, key, str(request[key]))
            if request.get("timezone") is not None:
                device.timezone = request["timezone"]
            if device.platform and device.platform.channel == "email":
                device.email = hwid
            self._apply_tags(device, request.get("tags") or {}, app.code, strict_types=False)
            self.devices[app.code][device.hwid] = device
            self._link_user(device, request.get("userId") or None)
        self.runtime.notify()

    def unregister_device(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            device.push_token, device.unsubscribed = None, True
        self.runtime.notify()

    def delete_device(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            self._drop_device(device)
        self.runtime.notify()

    def _drop_device(self, device: Device) -> None:
        self.devices[device.application].pop(device.hwid, None)
        if device.user is not None:
            device.user.hwids.discard(device.hwid)

    def register_user(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        user_id = request["userId"]
        with self.lock:
            hwid = request.get("hwid")
            if hwid is not None:
                device = self.devices[app.code].get(hwid)
                if device is None:
                    device = Device(app.code, hwid, int(request.get("device_type", 3)), self.tag_registry)
                    self.devices[app.code][device.hwid] = device
                self._link_user(device, user_id)
            else:
                self.user(user_id)
        self.runtime.notify()

    def register_email(self, request: Mapping[str, Any]) -> None:
        self.register_device({**request, "hwid": request["email"], "device_type": 14})

    # -- tags -------------------------------------------------------------------------------------
    def define_tag(
        self, name: str, tag_type: int, application_specific: bool = False, user_specific: bool = False
    ) -> TagDefinition:
        kind = tags.TagType(tag_type)
        with self.lock:
            existing = self.tag_registry.get(name)
            if existing is not None and existing.type != kind:
                raise PushwooshError(210, f"Tag {name!r} already exists with another type")
            definition = TagDefinition(name, kind, application_specific, user_specific)
            self.tag_registry[name] = definition
        return definition

    def delete_tag(self, name: str) -> None:
        with self.lock:
            if self.tag_registry.pop(name, None) is None:
                raise PushwooshError(210, f"Tag {name!r} not found")
            for devices in self.devices.values():
                for device in devices.values():
                    device.tags.pop(name, None)
            for user in self.users.values():
                user.tags.pop(name, None)

    def _apply_tags(
        self,
        device: Device | None,
        values: Mapping[str, Any],
        app_code: str,
        strict_types: bool = True,
        user: User | None = None,
        auto_create: bool | None = None,
    ) -> list[dict[str, str]]:
        """Write tag values (null removes, operations apply); unknown tags are skipped unless auto-created.

        Validates every value before writing any, so a bad value leaves the tags untouched.
        """
        create = self.config.auto_create_tags if auto_create is None else auto_create
        target = device.tags if device is not None else user.tags  # type: ignore[union-attr]
        skipped: list[dict[str, str]] = []
        writes: dict[str, Any] = {}
        for name, value in values.items():
            definition = self.tag_registry.get(name)
            if definition is None:
                if not create or value is None or isinstance(value, dict):
                    skipped.append({"tag": name, "reason": "Not found"})
                    continue
                definition = TagDefinition(name, tags.infer_type(value))
            try:
                if value is None:
                    writes[name] = None
                elif isinstance(value, dict):
                    writes[name] = tags.apply_operation(target.get(name), value, definition.type)
                else:
                    writes[name] = tags.coerce(value, definition.type)
            except tags.TagValueError as exc:
                if strict_types:
                    raise PushwooshError(210, f"Invalid value for tag {name!r}: {exc}") from exc
                skipped.append({"tag": name, "reason": str(exc)})
                continue
            self.tag_registry.setdefault(name, definition)
        for name, value in writes.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        return skipped

    def set_tags(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            skipped = self._apply_tags(device, request["tags"], app.code)
            self._link_user(device, request.get("userId") or None)
        self.runtime.notify()
        return {"skipped": skipped} if skipped else None

    def set_email_tags(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.set_tags({**request, "hwid": request.get("email")})

    def get_tags(self, request: Mapping[str, Any]) -> dict[str, Any]:
        app = self.app(request.get("application"))
        with self.lock:
            if "hwid" in request:
                values = self.device(app.code, request["hwid"]).tag_values()
            else:
                user = self.users.get(request["userId"])
                if user is None:
                    raise PushwooshError(210, "User not found")
                values = self.user_tag_values(user)
            return {"result": {k: self._render_tag(k, v) for k, v in values.items()}}

    def user_tag_values(self, user: User) -> dict[str, Any]:
        merged = dict(user.tags)
        for devices in self.devices.values():
            for hwid in user.hwids:
                device = devices.get(hwid)
                if device is not None:
                    merged.update(device.tags)
        return merged

    def _render_tag(self, name: str, value: Any) -> Any:
        definition = self.tag_registry.get(name)
        return tags.render_value(value, definition.type) if definition else value

    # -- events -------------------------------------------------------------------------------------
    def create_event(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name, attributes = request["name"], request.get("eventAttributes", [])
        with self.lock:
            entry = self.event_registry.setdefault(name, {"id": len(self.event_registry) + 1})
            entry.update({"name": name, "description": request.get("description", ""), "attributes": attributes})
        return {"event": entry["id"]}

    def post_event(
        self,
        app_code: str,
        event: str,
        user_id: str | None,
        hwid: str | None,
        at: float,
        attributes: dict[str, Any],
        auto_create: bool,
    ) -> None:
        """Record that a user (or a device) triggered an event; the event must exist unless auto-created."""
        self.post_events(app_code, [(event, user_id, hwid, at, attributes)], auto_create)

    def post_events(
        self,
        app_code: str,
        events: list[tuple[str, str | None, str | None, float, dict[str, Any]]],
        auto_create: bool,
    ) -> None:
        """Record a run of (event, user_id, hwid, at, attributes) under one lock: one request, one hand-off.

        Every event is checked before any is recorded, so a bad one records nothing.
        """
        with self.lock:
            devices = self.devices[app_code]
            for event, user_id, hwid, _at, _attributes in events:
                if event not in self.event_registry and not auto_create:
                    raise PushwooshError(210, f"Event {event!r} not found")
                if user_id is None and (hwid is None or hwid not in devices):
                    raise PushwooshError(210, "Device not found")
            stored_at = self.runtime.clock.time()
            for event, user_id, hwid, at, attributes in events:
                if event not in self.event_registry:
                    self.event_registry[event] = {
                        "id": len(self.event_registry) + 1,
                        "name": event,
                        "description": "",
                        "attributes": [],
                    }
                history: EventHistory
                if user_id is not None:
                    user = self.user(user_id)
                    if hwid is not None and hwid in devices:
                        self._link_user(devices[hwid], user_id)
                    history, subject = user.events, f"user:{user_id}"
                else:
                    history, subject = devices[hwid].events, f"device:{hwid}"  # type: ignore[index]
                history.add(event, at, app_code)
                self._log_posted(PostedEvent(event, at, app_code, attributes, subject, stored_at))
        self.runtime.notify()

    def post_event_request(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        stamp = request.get("timestampUTC")
        at = float(stamp) if stamp is not None else self.runtime.clock.time()
        user_id, hwid = request.get("userId") or None, request.get("hwid")
        self.post_event(
            app.code, request["event"], user_id, hwid, at, request["attributes"], self.config.auto_create_tags
        )

    # -- the integration API (Segment destination) ------------------------------------------------------
    def track_user(self, app_code: str, profile: Mapping[str, Any]) -> None:
        """Upsert the user and its device; attributes become tags (created as needed) with the mapped fields."""
        user_id = profile.get("user_id")
        device_id = profile.get("device_id")
        with self.lock:
            device = None
            if device_id:
                device = self.devices[app_code].get(str(device_id))
                if device is None:
                    device_type = INTEGRATION_PLATFORMS.get((profile.get("device_platform") or "").lower())
                    device = Device(app_code, str(device_id), device_type, self.tag_registry)
                    self.devices[app_code][device.hwid] = device
                for source, target in (
                    ("device_token", "push_token"),
                    ("language", "language"),
                    ("app_version", "app_version"),
                    ("device_model", "device_model"),
                    ("device_os_version", "os_version"),
                    ("timezone", "timezone"),
                ):
                    if profile.get(source) is not None:
                        setattr(device, target, profile[source])
            user = self.user(str(user_id)) if user_id else None
            if device is not None and user is not None:
                self._link_user(device, user.user_id)
            fields = {
                k: profile[k]
                for k in (
                    "email",
                    "language",
                    "country",
                    "city",
                    "current_location",
                    "timezone",
                    "app_version",
                    "device_model",
                    "device_os_version",
                    "user_agent",
                )
                if profile.get(k) is not None
            }
            if user is not None:
                user.profile.update(fields)
            attributes = profile.get("attributes") or {}
            self._apply_tags(
                device if user is None else None, attributes, app_code, strict_types=False, user=user, auto_create=True
            )
        self.runtime.notify()

    def delete_user(self, app_code: str, user_id: str) -> bool:
        with self.lock:
            user = self.users.pop(user_id, None)
            if user is None:
                return False
            for hwid in list(user.hwids):
                device = self.devices[app_code].get(hwid)
                if device is not None:
                    self._drop_device(device)
            subject = f"user:{user_id}"
            self.posted = deque((e for e in self.posted if e.subject != subject), maxlen=self.posted.maxlen)
        self.runtime.notify()
        return True

    def _log_posted(self, event: PostedEvent) -> None:
        if len(self.posted) == self.posted.maxlen:
            self.evicted_posted += 1
        self.posted.append(event)

    def warn(self, kind: str, detail: str) -> None:
        self.warnings.append({"kind": kind, "detail": detail, "timestamp": self.runtime.clock.time()})

    # -- filters --------------------------------------------------------------------------------------
    def compile_filter(self, expression: Any = None, conditions: Any = None, operator: Any = "AND") -> seglang.Filter:
        try:
            if expression is not None:
                if conditions is not None:
                    raise PushwooshError(210, "Use either filter_expression or conditions, not both")
                return seglang.parse(expression)
            return seglang.from_conditions(conditions, operator or "AND")
        except seglang.SeglangError as exc:
            raise PushwooshError(210, str(exc)) from exc

    def create_filter(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = request["name"]
        compiled = self.compile_filter(
            request.get("filter_expression"),
            request.get("conditions") if request.get("filter_expression") is None else None,
            request.get("operator", "AND"),
        )
        with self.lock:
            self.filters[name] = {
                "name": name,
                "expression": str(compiled),
                "application": request.get("application"),
                "filter": compiled,
            }
        return {"name": name}

    def matching_devices(self, compiled: seglang.Filter, apps: Iterable[str] | None = None) -> list[Device]:
        now = self.runtime.clock.time()
        scope = compiled.scope()
        codes = [c for c in (apps or self.devices) if scope is None or c in scope]
        return [d for code in codes for d in self.devices.get(code, {}).values() if compiled.matches(d, now)]

    # -- messaging -------------------------------------------------------------------------------------
    def new_message_code(self) -> str:
        token = secrets.token_hex(10).upper()
        return f"{token[:4]}-{token[4:12]}-{token[12:20]}"

    def send_time(self, send_date: Any, timezone: str | None = None) -> float:
        """When a notification goes out: now, or `YYYY-MM-DD HH:mm` read in `timezone` (an IANA name; UTC
        when absent). Sending at each user's own local time (`ignore_user_timezone: false`) is not modelled."""
        now = self.runtime.clock.time()
        if send_date is None or send_date == "now":
            return now
        try:
            zone = ZoneInfo(timezone) if timezone else UTC
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PushwooshError(210, f"Unknown timezone {timezone!r}") from exc
        if isinstance(send_date, str):
            try:
                return datetime.strptime(send_date.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=zone).timestamp()
            except ValueError:
                pass
        raise PushwooshError(210, "Cannot parse date")

    def create_messages(self, request: Mapping[str, Any], kind: str = "push") -> dict[str, Any]:
        app = self.app(request.get("application"))
        plans = [self._plan(n) for n in request["notifications"]]  # check all before creating any
        codes: list[str] = []
        unknown: list[str] = []
        with self.lock:
            for notification, send_at in plans:
                transaction = notification.get("transactionId")
                if transaction in self.transactions:
                    seen_at, seen_codes = self.transactions[transaction]
                    if self.runtime.clock.time() - seen_at < TRANSACTION_WINDOW:
                        codes.extend(seen_codes)
                        continue
                message = self._create(app, notification, kind, send_at)
                codes.append(message.code)
                if transaction is not None:
                    self.transactions[transaction] = (self.runtime.clock.time(), [message.code])
                if send_at <= self.runtime.clock.time():
                    unknown.extend(self.lifecycle.deliver(message))
        self.runtime.notify()
        reply: dict[str, Any] = {"Messages": codes}
        if unknown:
            reply["UnknownDevices"] = {"": unknown}
        return reply

    def _create(self, app: Application, notification: Mapping[str, Any], kind: str, send_at: float) -> Message:
        message = Message(
            self.new_message_code(),
            app.code,
            kind,
            dict(notification),
            send_at,
            self.runtime.clock.time(),
            notification.get("campaign"),
        )
        self.messages[message.code] = message
        return message

    def _plan(self, notification: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
        """Check one notification (its date, its filter, compiled) before any message is created."""
        send_at = self.send_time(notification.get("send_date", "now"), notification.get("timezone"))
        if notification.get("filter") is not None and notification.get("conditions") is not None:
            raise PushwooshError(210, "Use either filter or conditions, not both")
        filter_name = notification.get("filter")
        if filter_name is not None and filter_name not in self.filters:
            raise PushwooshError(210, f"Filter {filter_name!r} not found")
        compiled = None
        if notification.get("conditions") is not None:
            compiled = self.compile_filter(
                None, notification["conditions"], notification.get("conditions_operator", "AND")
            )
        elif notification.get("devices_filter") is not None:
            compiled = self.compile_filter(notification["devices_filter"])
        return {**notification, "_filter": compiled}, send_at

    def targets(self, message: Message) -> tuple[list[Device], list[str]]:
        """Targeting precedence: devices > users > filter | conditions > the whole app; platforms narrow."""
        notification = message.notification
        app_devices = self.devices.get(message.application, {})
        unknown: list[str] = []
        if notification.get("devices"):
            by_token = {d.push_token: d for d in app_devices.values() if d.push_token}
            found = []
            for key in notification["devices"]:
                device = app_devices.get(key) or by_token.get(key)
                if device is None:
                    unknown.append(key)
                else:
                    found.append(device)
        elif notification.get("users"):
            found = [
                app_devices[h]
                for u in notification["users"]
                if u in self.users
                for h in sorted(self.users[u].hwids)
                if h in app_devices
            ]
        elif notification.get("filter") is not None or notification.get("_filter") is not None:
            compiled = notification.get("_filter") or self.filters[notification["filter"]]["filter"]
            found = self.matching_devices(compiled, [message.application])
        else:
            found = list(app_devices.values())
        platforms = notification.get("platforms")
        if platforms:
            allowed = set(platforms)
            found = [d for d in found if d.device_type in allowed]
        channel = "email" if message.kind == "email" else None
        if channel:
            found = [d for d in found if d.platform is not None and d.platform.channel == "email"]
        return found, unknown

    def delete_message(self, code: str) -> None:
        with self.lock:
            message = self.messages.get(code)
            if message is None:
                raise PushwooshError(210, "Message not found")
            if message.status != "scheduled":
                raise PushwooshError(210, "Only scheduled messages can be deleted")
            message.status = "cancelled"
        self.runtime.notify()

    def tick(self) -> None:
        """Deliver every scheduled message whose send time the clock has reached."""
        now = self.runtime.clock.time()
        with self.lock:
            due = [m for m in self.messages.values() if m.status == "scheduled" and m.send_at <= now]
            for message in sorted(due, key=lambda m: m.send_at):
                self.lifecycle.deliver(message)
        if due:
            self.runtime.notify()

    def render(self, message: Message, device: Device, key: str) -> str | None:
        """A message text personalised for one device; None when a placeholder without default is missing."""
        text = message.notification.get(key)
        if isinstance(text, dict):
            text = text.get(device.language or "") or text.get("en") or next(iter(text.values()), None)
        if not isinstance(text, str):
            return "" if key == "content" else None
        template = compile_template(text)
        names = template.placeholders()
        if not names:
            return text
        values = {k: self._render_tag(k, v) for k, v in device.tag_values().items() if k in names}
        placeholders = message.notification.get("dynamic_content_placeholders")
        if isinstance(placeholders, dict):
            values.update(placeholders)
        return template.render(values)

    # -- smaller device and server methods ---------------------------------------------------------------
    def application_open(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        if request.get("hwid") is not None:
            self.device(app.code, request["hwid"])

    def set_badge(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        with self.lock:
            self.device(app.code, request["hwid"]).badge = request["badge"]
        self.runtime.notify()

    def message_action(self, request: Mapping[str, Any], action: str) -> None:
        """pushStat (opened) and messageDeliveryEvent (delivered, as the device reports it); `hash` = `p`."""
        app = self.app(request.get("application"))
        code = request["hash"]
        with self.lock:
            if code not in self.messages:
                raise PushwooshError(210, "Message not found")
            self.opens.append(
                {
                    "action": action,
                    "message_code": code,
                    "hwid": request.get("hwid"),
                    "application": app.code,
                    "timestamp": self.runtime.clock.time(),
                }
            )
        self.runtime.notify()

    def delete_email(self, request: Mapping[str, Any]) -> None:
        self.delete_device({**request, "hwid": request.get("email")})

    def targeted_message(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """createTargetedMessage: one notification whose audience is a segmentation-language expression."""
        compiled = self.compile_filter(request.get("devices_filter"))
        scope = compiled.scope()
        code = request.get("application") or (sorted(scope)[0] if scope else self.default_app().code)
        notification = {k: v for k, v in request.items() if k not in ("auth", "application")}
        reply = self.create_messages({"application": code, "notifications": [notification]})
        return {"messageCode": reply["Messages"][0]}

    def message_details(self, code: str) -> dict[str, Any]:
        message = self.messages.get(code)
        if message is None:
            raise PushwooshError(210, "Message not found")
        return {
            "message": {
                **message.describe(),
                "notification": {k: v for k, v in message.notification.items() if k != "_filter"},
            }
        }

    def list_filters(self) -> dict[str, Any]:
        return {"filters": [{k: v for k, v in f.items() if k != "filter"} for f in self.filters.values()]}

    def delete_filter(self, name: str) -> None:
        with self.lock:
            if self.filters.pop(name, None) is None:
                raise PushwooshError(210, "Filter not found")

    def count_filter(self, expression: Any) -> dict[str, Any]:
        compiled = self.compile_filter(expression)
        with self.lock:
            return {"devices_count": len(self.matching_devices(compiled))}

    def request_stats(self, code: str) -> dict[str, Any]:
        if code not in self.messages:
            raise PushwooshError(210, "Message not found")
        request_id = f"stats-{len(self.stats_requests) + 1}-{code}"
        self.stats_requests[request_id] = code
        return {"request_id": request_id}

    def stats_results(self, request_id: str) -> dict[str, Any]:
        code = self.stats_requests.get(request_id)
        if code is None:
            raise PushwooshError(210, "Request not found")
        counts: dict[tuple[str, str], int] = {}
        with self.lock:
            for delivery in self.deliveries:
                if delivery.message_code == code:
                    day = datetime.fromtimestamp(delivery.at, tz=UTC).strftime("%Y-%m-%d %H:00:00")
                    counts[(day, "send")] = counts.get((day, "send"), 0) + 1
                    if delivery.status == "delivered":
                        counts[(day, "delivery")] = counts.get((day, "delivery"), 0) + 1
            for record in self.opens:
                if record["message_code"] == code:
                    day = datetime.fromtimestamp(record["timestamp"], tz=UTC).strftime("%Y-%m-%d %H:00:00")
                    counts[(day, record["action"])] = counts.get((day, record["action"]), 0) + 1
        return {"rows": [{"datetime": d, "action": a, "count": n} for (d, a), n in sorted(counts.items())]}

    # -- inspection -----------------------------------------------------------------------------------
    def all_devices(self) -> list[Device]:
        return [d for devices in self.devices.values() for d in devices.values()]

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        with self.lock:
            items = self._collection(collection, filters)
        if collection not in ("tags", "inbox") and filters and items:
            keys = {k: k for k in items[0]}
            items = [i for i in items if match_filters(i, filters, keys)]
        if limit is not None:
            items = items[-limit:] if limit else []
        return items

    def _collection(self, collection: str, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        if collection == "devices":
            return [d.describe() for d in self.all_devices()]
        if collection == "users":
            return [
                {**u.describe(), "tags": {k: self._render_tag(k, v) for k, v in self.user_tag_values(u).items()}}
                for u in self.users.values()
            ]
        if collection == "events":
            return [e.describe() for e in self.posted]
        if collection == "messages":
            return [
                {**m.describe(), "notification": {k: v for k, v in m.notification.items() if k != "_filter"}}
                for m in self.messages.values()
            ]
        if collection == "deliveries":
            return [d.describe() for d in self.deliveries]
        if collection == "inbox":
            hwid = filters.get("hwid")
            if hwid is None:
                raise ValueError("inbox needs ?hwid=")
            return list(self.inboxes.get(hwid, []))
        if collection == "message-events":
            return list(self.lifecycle.events)
        if collection == "warnings":
            return list(self.warnings)
        if collection == "applications":
            return [a.describe() for a in self.applications.values()]
        if collection == "webhooks":
            return self.webhooks.describe()
        if collection == "tags":
            return self._tags_view(filters)
        raise ValueError(f"unknown collection {collection!r}")

    def _tags_view(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        if "hwid" in filters:
            devices = [d for d in self.all_devices() if d.hwid == filters["hwid"]]
            return [
                {
                    "hwid": d.hwid,
                    "application": d.application,
                    "tags": {k: self._render_tag(k, v) for k, v in d.tag_values().items()},
                }
                for d in devices
            ]
        if "user_id" in filters:
            user = self.users.get(filters["user_id"])
            if user is None:
                return []
            return [
                {
                    "user_id": user.user_id,
                    "tags": {k: self._render_tag(k, v) for k, v in self.user_tag_values(user).items()},
                }
            ]
        return [d.describe() for d in self.tag_registry.values()]

    def config_view(self) -> dict[str, Any]:
        return {
            "strict": self.strict,
            "auto_create_tags": self.config.auto_create_tags,
            "api_tokens": list(self.api_tokens),
            "device_tokens": list(self.device_tokens),
            "applications": [a.describe() for a in self.applications.values()],
            "webhooks": self.webhooks.describe(),
            "max_posted_events": self.posted.maxlen,
            "evicted_posted_events": self.evicted_posted,
        }

    # -- lifecycle --------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget devices, users, events, messages, deliveries and unsent message events; keep applications,
        tokens, tag and event definitions, filters and webhooks (configuration)."""
        with self.lock:
            self.devices = {code: {} for code in self.applications}
            self.users.clear()
            self.posted.clear()
            self.evicted_posted = 0
            self.messages.clear()
            self.deliveries.clear()
            self.inboxes.clear()
            self.warnings.clear()
            self.opens.clear()
            self.transactions.clear()
            self.stats_requests.clear()
            self.lifecycle.clear()
        self.webhooks.clear()  # message events not yet posted are data too; waits for a post on the wire
        self.runtime.notify()

    def export_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "applications": [a.describe() for a in self.applications.values()],
                "api_tokens": self.api_tokens,
                "device_tokens": self.device_tokens,
                "tag_registry": [t.describe() for t in self.tag_registry.values()],
                "event_registry": list(self.event_registry.values()),
                "filters": [{k: v for k, v in f.items() if k != "filter"} for f in self.filters.values()],
                "devices": [{**d.describe(), "tags": d.tags} for d in self.all_devices()],
                "users": [{"user_id": u.user_id, "tags": u.tags, "profile": u.profile} for u in self.users.values()],
                "events": [e.describe() for e in self.posted],
                "webhooks": self.webhooks.specs(),
            }

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace everything with `state` (as export_state gives); messages and deliveries are not carried."""
        with self.lock:
            self.applications = {}
            for app in state.get("applications", []):
                self.add_application(
                    app["code"], app.get("name", ""), app.get("segment"), app.get("delivery_rates"), app.get("seed", 0)
                )
            self.api_tokens = [str(t) for t in state.get("api_tokens", self.api_tokens)]
            self.device_tokens = [str(t) for t in state.get("device_tokens", self.device_tokens)]
            self.reset()
            self.tag_registry.clear()
            for tag in state.get("tag_registry", []):
                self.define_tag(
                    tag["name"], tag["type"], tag.get("isApplicationSpecific", False), tag.get("isUserSpecific", False)
                )
            self.event_registry = {e["name"]: e for e in state.get("event_registry", [])}
            self.filters = {}
            for item in state.get("filters", []):
                self.filters[item["name"]] = {**item, "filter": seglang.parse(item["expression"])}
            for user in state.get("users", []):
                record = self.user(user["user_id"])
                record.tags.update(user.get("tags", {}))
                record.profile.update(user.get("profile", {}))
            for item in state.get("devices", []):
                code = item.get("device_type")
                device_type = None if code is None else int(code)
                device = Device(item["application"], item["hwid"], device_type, self.tag_registry)
                for key in ("push_token", "language", "timezone", "app_version", "device_model", "os_version", "email"):
                    setattr(device, key, item.get(key))
                device.unsubscribed = bool(item.get("unsubscribed", False))
                device.badge = int(item.get("badge", 0))
                device.tags.update(item.get("tags", {}))
                self.devices.setdefault(device.application, {})[device.hwid] = device
                self._link_user(device, item.get("user_id"))
            for event in state.get("events", []):
                kind, _, who = str(event["subject"]).partition(":")
                if kind == "user":
                    self.user(who).events.add(event["name"], float(event["timestamp"]), event["application"])
                elif who in self.devices.get(event["application"], {}):
                    self.devices[event["application"]][who].events.add(
                        event["name"], float(event["timestamp"]), event["application"]
                    )
                self._log_posted(
                    PostedEvent(
                        event["name"],
                        float(event["timestamp"]),
                        event["application"],
                        event.get("attributes", {}),
                        event["subject"],
                    )
                )
            self.webhooks.replace(state.get("webhooks", []))
        self.runtime.notify()

    def close(self) -> None:
        self.webhooks.close()
