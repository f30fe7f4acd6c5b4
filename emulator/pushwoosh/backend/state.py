"""The whole state at once: reset, export and import, and the control API's collections and config view."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from swoosh.emulator.control import match_filters
from swoosh.emulator.journal import REDACTED
from swoosh.emulator.json_stream import Lazy
from swoosh.emulator.pushwoosh import seglang
from swoosh.emulator.pushwoosh.backend.events import Events
from swoosh.emulator.pushwoosh.backend.tagging import Tags
from swoosh.emulator.pushwoosh.device_table import Linked
from swoosh.emulator.pushwoosh.model import Device, Message, User
from swoosh.emulator.pushwoosh.posted_table import EVICTED, posted_row
from swoosh.emulator.wire import MAX_STORED_DEPTH, shown, storable


class State(Events, Tags):
    """The state as a whole: what reset forgets, what export carries, what the control API lists."""

    collections = (
        "devices",
        "users",
        "events",
        "messages",
        "deliveries",
        "inbox",
        "app-opens",
        "message-events",
        "warnings",
        "applications",
        "tags",
        "webhooks",
    )

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        """Records oldest first; `limit` keeps the newest ones, after skipping the newest `offset` (a filter
        here: `?offset=50&limit=50` is the second page of 50, newest first). A page is cut before its records
        are described, and a filtered one is looked for from the newest back, stopping once it is full, so
        a page costs about its own size whatever the collection holds (a filter matching few records still
        reads them all)."""
        filters = dict(filters)
        offset = _offset(filters.pop("offset", None))
        if collection == "events":  # rows of the store, filtered by its indexes (posted_table.py)
            return self.posted.select(filters, limit, offset)
        wanted = None if limit is None else limit + offset
        if collection == "devices":  # rows of the store, narrowed by their indexes (device_table.py)
            devices = self.rows.newest_devices(filters, wanted)
            return _page(map(Device.describe, devices), filters, limit, offset)
        if collection == "users":
            return _page(self._users_view(self.rows.newest_users(filters, wanted)), filters, limit, offset)
        with self.lock:
            items, describe = self._collection(collection, filters)
            if collection in ("tags", "inbox") or not filters:
                return [describe(item) for item in newest(items, limit, offset)]
            return _page(map(describe, reversed(items)), filters, limit, offset)

    def _collection(self, collection: str, filters: Mapping[str, str]) -> tuple[Sequence[Any], Describe]:
        """The collection's items (oldest first) and how each is shown."""
        if collection == "messages":
            return list(self.messages.values()), _message_view
        if collection == "deliveries":
            return list(self.deliveries), lambda d: d.describe()
        if collection == "inbox":
            hwid = filters.get("hwid")
            if hwid is None:
                raise ValueError("inbox needs ?hwid=")
            return self.inboxes.get(hwid, []), dict
        listed = {
            "app-opens": lambda: list(self.app_opens),
            "message-events": lambda: list(self.lifecycle.events),
            "warnings": lambda: list(self.warnings),
            "applications": lambda: [a.describe() for a in self.applications.values()],
            "webhooks": self.webhooks.describe,
            "tags": lambda: self._tags_view(filters),
        }
        if collection not in listed:
            raise ValueError(f"unknown collection {shown(collection)}")
        return listed[collection](), dict

    def _users_view(self, chunks: Iterable[Sequence[tuple[User, Linked]]]) -> Iterator[dict[str, Any]]:
        """Users as the control API shows them: the hwids of their devices and every tag that applies (theirs,
        overridden by their devices' own), a chunk of users with their devices read at a time."""
        for chunk in chunks:
            for user, linked in chunk:
                merged = dict(user.tags)
                for _hwid, tags in linked:
                    merged.update(tags)
                hwids = sorted({hwid for hwid, _tags in linked})
                yield {**user.describe(hwids), "tags": {k: self._render_tag(k, v) for k, v in merged.items()}}

    def _tags_view(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        if "hwid" in filters:
            devices = self.rows.scan(where="d.hwid = ?", params=[filters["hwid"]])
            return [
                {
                    "hwid": d.hwid,
                    "application": d.application,
                    "tags": {k: self._render_tag(k, v) for k, v in d.tag_values().items()},
                }
                for d in devices
            ]
        if "user_id" in filters:
            user = self.find_user(filters["user_id"])
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
            "max_posted_events": self.config.max_posted_events,
            "evicted_posted_events": self.posted.count(EVICTED),
        }

    def reset(self) -> None:
        """Forget devices, users, events, messages, deliveries and unsent message events; keep applications,
        tokens, tag and event definitions, filters and webhooks (configuration)."""
        with self.lock:
            self._forget()
            self.posted.replace((), self.config.max_posted_events)
        self.webhooks.clear()  # message events not yet posted are data too; waits for a post on the wire
        self.runtime.notify()

    def _forget(self) -> None:
        """What a reset forgets (under the lock): the devices and users, and what a run observed."""
        self._forget_rows()
        self._forget_run()

    def _forget_rows(self) -> None:
        self.rows.clear()
        self.lock.forget()

    def _forget_run(self) -> None:
        """Messages, deliveries, inboxes, opens, warnings: what a run observed, which no export carries."""
        self.messages.clear()
        self.deliveries.clear()
        self.inboxes.clear()
        self.warnings.clear()
        self.opens.clear()
        self.app_opens.clear()
        self.transactions.clear()
        self.stats_requests.clear()
        self.lifecycle.clear()

    def configuration(self) -> dict[str, Any]:
        """The part of an export that is configuration: applications, tokens, definitions, filters, webhooks."""
        return {
            "applications": [
                {**a.describe(), "vapid_private_key": a.vapid.private_key} for a in self.applications.values()
            ],
            "api_tokens": self.api_tokens,
            "device_tokens": self.device_tokens,
            "tag_registry": [t.describe() for t in self.tag_registry.values()],
            "event_registry": list(self.event_registry.values()),
            "filters": [{k: v for k, v in f.items() if k != "filter"} for f in self.filters.values()],
            "webhooks": self.webhooks.specs(),
        }

    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        with self.lock:
            return {
                **self.configuration(),
                "devices": _listed((device_record(d) for d in self.scan_devices()), lazy),
                "users": _listed((user_record(u) for u in self.rows.users()), lazy),
                "events": _listed(self.posted.rows(), lazy),
            }

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace everything with `state` (as export_state gives); messages and deliveries are not carried."""
        if not storable(state):
            raise ValueError(f"the state nests more than {MAX_STORED_DEPTH} levels deep")
        rows = [
            posted_row(
                e["name"],
                str(e["subject"]),
                e["application"],
                float(e["timestamp"]),
                float(e["timestamp"] if e.get("stored_at") is None else e["stored_at"]),
                e.get("attributes", {}),
            )
            for e in state.get("events", [])
        ]
        with self.lock:
            self._configure(state)
            self._forget_rows()
            self._add_records(state)
            self.posted.replace(rows, self.config.max_posted_events)
        self.runtime.notify()

    def restore_state(self, configuration: dict[str, Any], legacy: dict[str, Any]) -> None:
        """Load the configuration a restart reads from the change log; devices, users, posted events and
        histories are rows of the store already. `legacy`: devices and users from the change log of a
        version that kept them there, added as rows once."""
        with self.lock:
            self._configure(configuration)
            self._add_records(legacy)
        self.runtime.notify()

    def _configure(self, state: dict[str, Any]) -> None:
        """Take the configuration of `state` and forget what a run observed (under the lock)."""
        self.applications = {}
        for app in state.get("applications", []):
            self.add_application(
                app["code"],
                app.get("name", ""),
                app.get("segment"),
                app.get("delivery_rates"),
                app.get("seed", 0),
                _private_key(app.get("vapid_private_key")),
            )
        self.api_tokens = [str(t) for t in state.get("api_tokens", self.api_tokens)]
        self.device_tokens = [str(t) for t in state.get("device_tokens", self.device_tokens)]
        self._forget_run()
        self.webhooks.clear()
        self.tag_registry.clear()
        for tag in state.get("tag_registry", []):
            self.define_tag(
                tag["name"], tag["type"], tag.get("isApplicationSpecific", False), tag.get("isUserSpecific", False)
            )
        self.event_registry = {e["name"]: e for e in state.get("event_registry", [])}
        self.filters = {}
        for item in state.get("filters", []):
            self.filters[item["name"]] = {**item, "filter": seglang.parse(item["expression"])}
        tokens = {spec["url"]: spec["token"] for spec in self.webhooks.specs()}
        self.webhooks.replace([_webhook(spec, tokens) for spec in state.get("webhooks", [])])

    def _add_records(self, state: dict[str, Any]) -> None:
        """Add the devices and users of `state` (an export's records), written when the hold ends."""
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
            device.web_push = item.get("web_push")
            device.tags.update(item.get("tags", {}))
            self.add_device(device)
            self._link_user(device, item.get("user_id"))

    def close(self) -> None:
        self.webhooks.close()
        if self._own_store:
            self.store.close()


def device_record(device: Device) -> dict[str, Any]:
    """A device as an export (and the store) carries it: its description and its own tags."""
    return {**device.describe(), "tags": device.tags}


def user_record(user: User) -> dict[str, Any]:
    return {"user_id": user.user_id, "tags": user.tags, "profile": user.profile}


def _webhook(spec: Any, tokens: Mapping[str, str | None]) -> Any:
    """A webhook from an export, whose token is redacted: it keeps the token of the webhook with the same URL
    it replaces (an export imported back into its stack), else it posts without one."""
    if isinstance(spec, dict) and spec.get("token") == REDACTED:
        return {**spec, "token": tokens.get(str(spec.get("url")))}
    return spec


def _private_key(exported: Any) -> str | None:
    """An application's VAPID private key from an export; a shared export has it redacted, and the
    application then gets a new pair (browsers subscribed with the old key resubscribe)."""
    return None if exported in (None, REDACTED) else str(exported)


Describe = Callable[[Any], dict[str, Any]]


def _page(
    records: Iterable[dict[str, Any]], filters: Mapping[str, str], limit: int | None, offset: int
) -> list[dict[str, Any]]:
    """The page of `records` (newest first) matching every filter, oldest first: the newest `limit` once the
    newest `offset` are skipped. The filters are the fields of the newest record (each compared as text)."""
    wanted = None if limit is None else limit + offset
    if wanted == 0:
        return []
    found: list[dict[str, Any]] = []
    keys: dict[str, str] = {}
    for record in records:
        if not keys:
            keys = {k: k for k in record}
            _known(filters, keys)
        if match_filters(record, filters, keys):
            found.append(record)
            if len(found) == wanted:  # stops before the next record is read
                break
    found.reverse()
    return list(newest(found, limit, offset))


def _known(filters: Mapping[str, str], keys: Mapping[str, str]) -> None:
    unknown = sorted(set(filters) - set(keys))
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r}; known: {', '.join(sorted(keys))}")


def _message_view(message: Message) -> dict[str, Any]:
    return {**message.describe(), "notification": {k: v for k, v in message.notification.items() if k != "_filter"}}


def newest(items: Sequence[Any], limit: int | None, offset: int) -> Sequence[Any]:
    """The newest `limit` of `items` (oldest first) once the newest `offset` are skipped; all when `limit` is None."""
    end = max(len(items) - offset, 0)
    return items[0 if limit is None else max(end - limit, 0) : end]


def _offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit():
        raise ValueError("offset must be a whole number of records to skip (0 or more)")
    return int(raw)


def _listed(records: Iterator[dict[str, Any]], lazy: bool) -> Lazy | list[dict[str, Any]]:
    """The store's records as an export gives them: read as the answer is written, or listed (in-process)."""
    return Lazy(records) if lazy else list(records)
