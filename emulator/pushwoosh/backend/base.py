"""The state every area of the fake Pushwoosh shares, and the lookups they all use.

Errors are `PushwooshError(status_code, message)`, which the /json/1.3 blueprint renders in the real
envelope; the integration API blueprint has its own error bodies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from swoosh.emulator import defaults
from swoosh.emulator.changes import Changes
from swoosh.emulator.pushwoosh.backend.lifecycle import Lifecycle
from swoosh.emulator.pushwoosh.device_table import DeviceKey, DeviceTable
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

K = TypeVar("K")
V = TypeVar("V")


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


class StateLock:
    """The one lock over a fake Pushwoosh's state, and the devices and users one hold of it works on.

    Devices and users are rows of the store (device_table.py). Within a hold each one read becomes an
    object once (later reads in the hold get the same object, so changes add up); when the outermost
    hold ends without an exception, the ones marked changed or deleted are written in one transaction
    before the lock is released: the request's changes are durable before it answers, and a StoreError
    (503) leaves every row as it was. A hold that raises writes nothing. Outside a hold every read is
    a fresh object from the last commit.
    """

    def __init__(self, table: DeviceTable) -> None:
        self.table = table
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._depth = 0
        self.devices: dict[DeviceKey, Device | None] = {}  # None: deleted in this hold
        self.users: dict[str, User | None] = {}
        # changed in this hold, in the order first changed (a user's rows keep the order users appeared in)
        self.changed_devices: dict[DeviceKey, None] = {}
        self.changed_users: dict[str, None] = {}

    def held(self) -> bool:
        return self._owner == threading.get_ident()

    def __enter__(self) -> StateLock:
        self._lock.acquire()
        self._owner = threading.get_ident()
        self._depth += 1
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self._depth == 1 and exc_type is None:
                self._write()
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.forget()
                self._owner = None
            self._lock.release()

    def _write(self) -> None:
        devices = [self.devices[k] for k in self.changed_devices]
        users = [self.users[u] for u in self.changed_users]
        if devices or users:
            self.table.write(
                [d for d in devices if d is not None],
                [k for k in self.changed_devices if self.devices[k] is None],
                [u for u in users if u is not None],
                [u for u in self.changed_users if self.users[u] is None],
            )

    def once(self, read_in_hold: dict[K, V | None], key: K, read: Callable[[], V | None]) -> V | None:
        """`read()` outside a hold; inside one, read once (later reads get the same object, so changes add up)."""
        if not self.held():
            return read()
        if key not in read_in_hold:
            read_in_hold[key] = read()
        return read_in_hold[key]

    def forget(self) -> None:
        """Drop the objects of this hold (the end of a hold, or the rows were replaced wholesale)."""
        self.devices.clear()
        self.users.clear()
        self.changed_devices.clear()
        self.changed_users.clear()


class BackendState:
    """Everything the fake Pushwoosh knows; one lock guards all state; time from the runtime's clock.

    Devices, users and their tags (device_table.py), posted events and event histories (posted_table.py)
    are rows of `store`, written inside the request; without a store given, a temporary one is opened
    and removed at `close`. A change to the configuration is marked in `changes` as it happens; with
    --data-dir `persist` (backend/durable.py) writes it to the store before the request's answer leaves.

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
        self.changes = Changes()
        self.applications: dict[str, Application] = {a.code: a for a in self.config.applications}
        self.api_tokens = list(self.config.api_tokens)
        self.device_tokens = list(self.config.device_tokens)
        self.tag_registry: dict[str, TagDefinition] = {}
        self.event_registry: dict[str, dict[str, Any]] = {}
        self.filters: dict[str, dict[str, Any]] = {}
        self._own_store = store is None
        self.store: Store = store or open_store("pushwoosh", None)
        self.posted = PostedTable(self.store)
        self.rows = DeviceTable(self.store, self.tag_registry)
        self.lock = StateLock(self.rows)
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

    # -- lookups every area uses (devices and users are rows: `StateLock`) ---------------------------
    def find_device(self, app_code: str, hwid: str) -> Device | None:
        return self.lock.once(
            self.lock.devices, (app_code, hwid), lambda: self.rows.device(app_code, hwid, self._user_of)
        )

    def device(self, app_code: str, hwid: str) -> Device:
        found = self.find_device(app_code, hwid)
        if found is None:
            raise PushwooshError(210, "Device not found")
        return found

    def find_user(self, user_id: str) -> User | None:
        return self.lock.once(self.lock.users, user_id, lambda: self.rows.user(user_id))

    def _user_of(self, user_id: str | None) -> User | None:
        """A device's user: a user deleted while devices of other applications kept its id is shown as
        one without tags."""
        if user_id is None:
            return None
        return self.find_user(user_id) or User(user_id)

    def user(self, user_id: str) -> User:
        """The user, created when new (under the lock)."""
        existing = self.find_user(user_id)
        if existing is None:
            existing = self.lock.users[user_id] = User(user_id)
            self._user_changed(existing)
        return existing

    def ensure_users(self, user_ids: Iterable[str]) -> None:
        """Create the users not known yet, in the order given (under the lock): one query for all of them,
        as a post-events request names up to a hundred."""
        unread = [u for u in dict.fromkeys(user_ids) if u not in self.lock.users]
        known = self.rows.known_users(unread)
        for user_id in unread:
            if user_id not in known:
                self.user(user_id)

    def add_device(self, device: Device) -> None:
        """A new device (under the lock)."""
        self.lock.devices[(device.application, device.hwid)] = device
        self._device_changed(device)

    def _link_user(self, device: Device, user_id: str | None) -> None:
        if user_id is None or (device.user is not None and device.user.user_id == user_id):
            return
        device.user = self.user(user_id)
        self._device_changed(device)

    def _drop_device(self, device: Device) -> None:
        key = (device.application, device.hwid)
        self.lock.devices[key] = None
        self.lock.changed_devices[key] = None

    def _drop_user(self, user_id: str) -> None:
        self.lock.users[user_id] = None
        self.lock.changed_users[user_id] = None

    def _device_changed(self, device: Device) -> None:
        self.lock.changed_devices[(device.application, device.hwid)] = None

    def _user_changed(self, user: User) -> None:
        self.lock.changed_users[user.user_id] = None

    def user_devices(self, user: User, app_code: str | None = None) -> list[Device]:
        """The devices linked to `user` (of one application, or of all), in registration order."""
        found = (self.find_device(app, hwid) for app, hwid in self.rows.devices_of(user.user_id, app_code))
        return [d for d in found if d is not None]

    def scan_devices(self, apps: list[str] | None = None, history: bool = False) -> Iterator[Device]:
        """Every device (of `apps`), read a chunk at a time, each with its user's tags and, with `history`,
        its events: for a send's audience and a segment's count, which read but never change them."""
        return self.rows.scan(apps, self.posted.histories if history else None)

    def warn(self, kind: str, detail: str) -> None:
        self.warnings.append({"kind": kind, "detail": detail, "timestamp": self.runtime.clock.time()})
