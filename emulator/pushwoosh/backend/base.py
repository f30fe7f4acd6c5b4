"""The state every area of the fake Pushwoosh shares, and the lookups they all use.

Errors are `PushwooshError(status_code, message)`, which the /json/1.3 blueprint renders in the real
envelope; the integration API blueprint has its own error bodies.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swoosh.emulator import defaults
from swoosh.emulator.changes import Changes
from swoosh.emulator.pushwoosh.backend.lifecycle import Lifecycle
from swoosh.emulator.pushwoosh.model import (
    Application,
    Delivery,
    Device,
    Message,
    SegmentSettings,
    TagDefinition,
    User,
)
from swoosh.emulator.pushwoosh.posted_table import PostedTable
from swoosh.emulator.pushwoosh.vapid import VapidKeys
from swoosh.emulator.pushwoosh.webhooks import WebhookSender
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.store import Store, open_store

DEVICES, USERS = "devices", "users"  # the kinds of keyed records in the store's change log (backend/durable.py)


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
    api_tokens: list[str] = field(default_factory=lambda: [defaults.API_TOKEN])
    device_tokens: list[str] = field(default_factory=lambda: [defaults.DEVICE_TOKEN])
    applications: list[Application] = field(default_factory=lambda: [Application(defaults.APP_CODE, defaults.APP_NAME)])
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    # The posted events in the store are bounded (oldest evicted, counted); the per-user event history that
    # segments read (the latest time per event name and application) is kept whole, targeting depends on it.
    max_posted_events: int = 1_000_000


class BackendState:
    """Everything the fake Pushwoosh knows; one lock guards all state; time from the runtime's clock.

    Posted events and event histories are rows of `store` (posted_table.py), written inside the request;
    without a store given, a temporary one is opened and removed at `close`. Every other change to what a
    restart brings back is marked in `changes` as it happens (`_device_changed`, a new user,
    `changes.configuration()`); with --data-dir `persist` (backend/durable.py) writes the marks to the
    store before the request's answer leaves.

    Requests arrive in the shape of their JSON Schemas (the remote API checks them at the edge), so the
    areas refuse only what a schema cannot know: unknown applications, devices, users, messages,
    tags and filters, tag values against their declared types, dates that do not exist.
    """

    lifecycle: Lifecycle  # set by the composed backend: delivering needs the messages area

    def __init__(
        self, config: PushwooshConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        self.config = config or PushwooshConfig()
        self.runtime = runtime or Runtime("pushwoosh")
        self.strict = self.config.strict
        self.lock = threading.RLock()
        self.changes = Changes()
        self.applications: dict[str, Application] = {a.code: a for a in self.config.applications}
        self.api_tokens = list(self.config.api_tokens)
        self.device_tokens = list(self.config.device_tokens)
        self.tag_registry: dict[str, TagDefinition] = {}
        self.event_registry: dict[str, dict[str, Any]] = {}
        self.filters: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Device]] = {code: {} for code in self.applications}
        self.users: dict[str, User] = {}
        self._own_store = store is None
        self.store: Store = store or open_store("pushwoosh", None)
        self.posted = PostedTable(self.store)
        self.messages: dict[str, Message] = {}
        self.deliveries: list[Delivery] = []
        self.inboxes: dict[str, list[dict[str, Any]]] = {}
        self.warnings: list[dict[str, Any]] = []
        self.opens: list[dict[str, Any]] = []  # pushStat and messageDeliveryEvent
        self.app_opens: list[dict[str, Any]] = []  # applicationOpen
        self.transactions: dict[str, tuple[float, list[str]]] = {}
        self.stats_requests: dict[str, str] = {}
        self.webhooks = WebhookSender()
        for spec in self.config.webhooks:
            self.webhooks.add(spec)

    # -- applications and tokens --------------------------------------------------------------
    def add_application(
        self,
        code: str,
        name: str = "",
        segment: Mapping[str, Any] | None = None,
        delivery_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        vapid_private_key: str | None = None,
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
        app = Application(code, name or code, settings, rates, int(seed), VapidKeys(vapid_private_key))
        with self.lock:
            self.applications[code] = app
            self.devices.setdefault(code, {})
            self.changes.configuration()
        return app

    def add_webhook(self, spec: Any) -> dict[str, Any]:
        with self.lock:
            hook = self.webhooks.add(spec)
            self.changes.configuration()
        return hook

    def remove_webhook(self, hook_id: int) -> bool:
        with self.lock:
            removed = self.webhooks.remove(hook_id)
            self.changes.configuration()
        return removed

    def app(self, code: Any) -> Application:
        if not isinstance(code, str) or code not in self.applications:
            raise PushwooshError(210, "Application not found")
        return self.applications[code]

    def check_server_token(self, token: Any) -> None:
        if not isinstance(token, str) or token not in self.api_tokens:
            raise PushwooshError(210, "Account not found")

    def default_app(self) -> Application:
        return next(iter(self.applications.values()))

    # -- lookups every area uses ------------------------------------------------------------
    def device(self, app_code: str, hwid: str) -> Device:
        found = self.devices.get(app_code, {}).get(hwid)
        if found is None:
            raise PushwooshError(210, "Device not found")
        return found

    def user(self, user_id: str) -> User:
        existing = self.users.get(user_id)
        if existing is None:
            existing = self.users[user_id] = User(user_id)
            self.changes.mark(USERS, user_id)
        return existing

    def _link_user(self, device: Device, user_id: str | None) -> None:
        if user_id is None or (device.user is not None and device.user.user_id == user_id):
            return
        if device.user is not None:
            device.user.hwids.discard(device.hwid)
        user = self.user(user_id)
        user.hwids.add(device.hwid)
        device.user = user
        self._device_changed(device)

    def _drop_device(self, device: Device) -> None:
        self.devices[device.application].pop(device.hwid, None)
        if device.user is not None:
            device.user.hwids.discard(device.hwid)
        self._device_changed(device)

    def _device_changed(self, device: Device) -> None:
        self.changes.mark(DEVICES, device_key(device.application, device.hwid))

    def all_devices(self) -> list[Device]:
        return [d for devices in self.devices.values() for d in devices.values()]

    def warn(self, kind: str, detail: str) -> None:
        self.warnings.append({"kind": kind, "detail": detail, "timestamp": self.runtime.clock.time()})


def device_key(app_code: str, hwid: str) -> str:
    """A device's key in the store: application codes have no "/", so the first one separates them."""
    return f"{app_code}/{hwid}"
