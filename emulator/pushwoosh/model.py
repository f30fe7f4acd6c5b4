"""The fake Pushwoosh's records: applications, devices, users, messages, deliveries.

Devices and users are rows of the store (device_table.py), made into these objects as a request or a
scan reads them; posted events are rows only (posted_table.py). Compact `__slots__` classes, since a
send reads every device of its application: devices evaluate segment filters directly (they are the
`filter_tree.Facts` the filters see).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from swoosh.contracts.shared_names import DEVICE_TYPES, Platform
from swoosh.emulator.pushwoosh.tags import TagType
from swoosh.emulator.pushwoosh.vapid import VapidKeys


@dataclass
class SegmentSettings:
    """An application's Pushwoosh -> Segment source settings (what Pushwoosh's UI configures)."""

    write_key: str
    url: str = ""
    events: str = ""  # comma-separated allow-list, blank = all

    def describe(self) -> dict[str, Any]:
        return {"write_key": self.write_key, "url": self.url, "events": self.events}


@dataclass
class Application:
    code: str
    name: str
    segment: SegmentSettings | None = None
    delivery_rates: dict[str, float] = field(default_factory=dict)  # channel -> probability delivered
    seed: int = 0
    vapid: VapidKeys = field(default_factory=VapidKeys)  # web push; the private half only in exports

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "segment": self.segment.describe() if self.segment else None,
            "delivery_rates": self.delivery_rates,
            "seed": self.seed,
            "vapid_public_key": self.vapid.public_key,
        }


@dataclass
class TagDefinition:
    name: str
    type: TagType
    application_specific: bool = False
    user_specific: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": int(self.type),
            "isApplicationSpecific": self.application_specific,
            "isUserSpecific": self.user_specific,
        }


class EventHistory:
    """What segments ask of the events of one user (or one user-less device): per event name and application,
    the latest time it was posted. "Triggered since t" is "the latest time is at or after t", so the history
    grows with the names and applications, not with the events (the events themselves are in the store)."""

    __slots__ = ("by_name",)

    def __init__(self) -> None:
        self.by_name: dict[str, dict[str, float]] = {}

    def add(self, name: str, at: float, application: str) -> None:
        latest = self.by_name.setdefault(name, {})
        if at > latest.get(application, float("-inf")):
            latest[application] = at

    def triggered(self, name: str, since: float | None, application: str | None) -> bool:
        latest = self.by_name.get(name)
        if not latest:
            return False
        times = latest.values() if application is None else [latest[application]] if application in latest else []
        return any(since is None or at >= since for at in times)


class User:
    """A user; its devices are those whose `user` it is (their rows link to it: device_table.py)."""

    __slots__ = ("events", "profile", "tags", "user_id")

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.tags: dict[str, Any] = {}
        self.profile: dict[str, Any] = {}
        self.events = EventHistory()

    def describe(self, hwids: list[str]) -> dict[str, Any]:
        return {"user_id": self.user_id, "hwids": hwids, "profile": self.profile}


class Device:
    """One registered device; implements `filter_tree.Facts`."""

    __slots__ = (
        "app_version",
        "application",
        "badge",
        "device_model",
        "device_type",
        "email",
        "events",
        "extra",
        "hwid",
        "language",
        "os_version",
        "push_token",
        "registry",
        "tags",
        "timezone",
        "unsubscribed",
        "user",
        "web_push",
    )

    def __init__(
        self, application: str, hwid: str, device_type: int | None, registry: dict[str, TagDefinition]
    ) -> None:
        self.application = application
        self.hwid = hwid
        self.device_type = device_type  # None: a platform Pushwoosh does not know (Segment's track-user)
        self.registry = registry
        self.push_token: str | None = None
        self.unsubscribed = False  # unregisterDevice: the token is gone, no push reaches it until it registers
        self.web_push: dict[str, str] | None = None  # a browser's subscription: endpoint, p256dh, auth
        self.user: User | None = None
        self.language: str | None = None
        self.timezone: Any = None
        self.app_version: str | None = None
        self.device_model: str | None = None
        self.os_version: str | None = None
        self.email: str | None = None
        self.badge = 0
        self.tags: dict[str, Any] = {}
        self.events = EventHistory()
        self.extra: dict[str, Any] = {}

    @property
    def user_id(self) -> str | None:
        return self.user.user_id if self.user else None

    @property
    def platform(self) -> Platform | None:
        return DEVICE_TYPES.get(self.device_type) if self.device_type is not None else None

    @property
    def reachable_by_push(self) -> bool:
        """A push needs a platform to go through and a device that has not unregistered."""
        return self.platform is not None and not self.unsubscribed

    def tag(self, name: str, application: str | None = None) -> tuple[TagType, Any] | None:
        if application is not None and application != self.application:
            return None
        definition = self.registry.get(name)
        if definition is None:
            return None
        value = self.tags.get(name)
        if value is None and self.user is not None:
            value = self.user.tags.get(name)
        return None if value is None else (definition.type, value)

    def triggered(self, event: str, since: float | None, application: str | None = None) -> bool:
        history = self.user.events if self.user is not None else self.events
        return history.triggered(event, since, application)

    def tag_values(self) -> dict[str, Any]:
        """Tags as they apply to this device: the user's, overridden by the device's own."""
        merged = dict(self.user.tags) if self.user else {}
        merged.update(self.tags)
        return merged

    def describe(self) -> dict[str, Any]:
        platform = self.platform
        return {
            "hwid": self.hwid,
            "application": self.application,
            "device_type": self.device_type,
            "platform": platform.name if platform else None,
            "push_token": self.push_token,
            "unsubscribed": self.unsubscribed,
            "user_id": self.user_id,
            "language": self.language,
            "timezone": self.timezone,
            "app_version": self.app_version,
            "device_model": self.device_model,
            "os_version": self.os_version,
            "email": self.email,
            "badge": self.badge,
            **({"web_push": self.web_push} if self.web_push else {}),
            **({"extra": self.extra} if self.extra else {}),
        }


class Delivery:
    __slots__ = ("at", "channel", "content", "hwid", "message_code", "status", "title", "user_id")

    def __init__(
        self,
        message_code: str,
        hwid: str,
        user_id: str | None,
        channel: str,
        content: str,
        title: str | None,
        at: float,
    ) -> None:
        self.message_code = message_code
        self.hwid = hwid
        self.user_id = user_id
        self.channel = channel
        self.content = content
        self.title = title
        self.at = at
        self.status = "sent"

    def describe(self) -> dict[str, Any]:
        return {
            "message_code": self.message_code,
            "hwid": self.hwid,
            "user_id": self.user_id,
            "channel": self.channel,
            "status": self.status,
            "content": self.content,
            "title": self.title,
            "timestamp": self.at,
        }


@dataclass
class Message:
    code: str
    application: str
    kind: str  # "push" (createMessage / createTargetedMessage) or "email" (createEmailMessage)
    notification: dict[str, Any]
    send_at: float
    created_at: float
    campaign: str | None
    status: str = "scheduled"  # scheduled | sent | cancelled
    targets: int = 0
    skipped: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "application": self.application,
            "kind": self.kind,
            "status": self.status,
            "send_at": self.send_at,
            "created_at": self.created_at,
            "campaign": self.campaign,
            "targets": self.targets,
            "skipped_personalisation": self.skipped,
            "notification": self.notification,
        }
