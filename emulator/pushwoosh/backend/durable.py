"""With --data-dir: what a request changed is in the store before its answer leaves; read back at start.

The areas mark what they change as they change it (`changes` in base.py); `persist`, which the app
calls after every request, commits the marks in one transaction (emulator.changes). Devices and users
are keyed records (the latest one of a key wins), posted events are appended, the configuration
(applications with their VAPID keys, tokens, tag and event definitions, filters, webhooks) is one
value. Messages, deliveries, inboxes, opens and warnings are what a run observed, not state a restart
brings back (an export does not carry them either).
"""

from __future__ import annotations

from typing import Any

import orjson

from swoosh.emulator.changes import CONFIG, keyed, latest
from swoosh.emulator.pushwoosh.backend.base import DEVICES, POSTED, USERS, device_key
from swoosh.emulator.pushwoosh.backend.state import State, device_record, user_record
from swoosh.emulator.store import Store

EVICTED = "evicted_posted"  # how many posted events the cap evicted before the last trim


class Durable(State):
    """Attaching the store, committing each request's changes to it, and the records it holds."""

    store: Store | None = None
    _trimmed_at = 0  # `evicted_posted` when the store's posted events were last trimmed to the cap

    def attach_store(self, store: Store) -> None:
        """From now on every change is in `store` before it is answered. The store is rewritten from the
        current state first: after `restore` that compacts it to one record per device and user."""
        with self.lock:
            self.store = store
            self.changes.active = True
            self.changes.rewrite()
            self.changes.put(EVICTED, self.evicted_posted)
            self.changes.commit(store, self)
            self._trimmed_at = self.evicted_posted

    def persist(self) -> None:
        """Commit what was marked since the last commit; `StoreError` when the store refuses (the marks
        stay, so the next commit retries them)."""
        store = self.store
        if store is None:
            return
        with self.lock:
            trim = self.evicted_posted - self._trimmed_at >= max(1, (self.posted.maxlen or 0) // 10)
            if trim:
                self.changes.put(EVICTED, self.evicted_posted)
            self.changes.commit(store, self)
            if trim:  # in steps of a tenth of the cap: a trim scans the cap's records
                store.trim(POSTED, self.posted.maxlen or 0)
                self._trimmed_at = self.evicted_posted

    def current(self, kind: str, key: str) -> dict[str, Any] | None:
        if kind == DEVICES:
            app_code, _, hwid = key.partition("/")
            device = self.devices.get(app_code, {}).get(hwid)
            return None if device is None else device_record(device)
        user = self.users.get(key)
        return None if user is None else user_record(user)

    def snapshot(self) -> dict[str, list[bytes]]:
        return {
            DEVICES: [keyed(device_key(d.application, d.hwid), device_record(d)) for d in self.all_devices()],
            USERS: [keyed(u.user_id, user_record(u)) for u in self.users.values()],
            POSTED: [orjson.dumps(e.describe()) for e in self.posted],
        }


def restore(backend: Durable, store: Store) -> bool:
    """Load what `store` holds into `backend` before it serves; False when the store is new."""
    config = store.get(CONFIG)
    if config is None:
        return False
    backend.import_state(
        {
            **config,
            "devices": list(latest(store.load(DEVICES)).values()),
            "users": list(latest(store.load(USERS)).values()),
            "events": [orjson.loads(record) for record in store.load(POSTED)],
        }
    )
    backend.evicted_posted += int(store.get(EVICTED) or 0)
    return True
