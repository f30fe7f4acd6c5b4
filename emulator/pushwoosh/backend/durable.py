"""With --data-dir: what a request changed is in the store before its answer leaves; read back at start.

Posted events and event histories are rows of the store, written inside the request (posted_table.py).
The rest is a change log: the areas mark what they change as they change it (`changes` in base.py);
`persist`, which the app calls after every request, commits the marks in one transaction
(emulator.changes). Devices and users are keyed records (the latest one of a key wins), the
configuration (applications with their VAPID keys, tokens, tag and event definitions, filters, webhooks)
is one value. Messages, deliveries, inboxes, opens and warnings are what a run observed, not state a
restart brings back (an export does not carry them either).
"""

from __future__ import annotations

import threading
from typing import Any

from swoosh.emulator.changes import CONFIG, items, keyed, latest
from swoosh.emulator.pushwoosh.backend.base import DEVICES, USERS, device_key
from swoosh.emulator.pushwoosh.backend.state import State, device_record, user_record
from swoosh.emulator.pushwoosh.posted_table import posted_row
from swoosh.emulator.store import StoreError

# Posted events in the change log, and the count the cap evicted, as versions before the events table wrote them
LEGACY_POSTED, LEGACY_EVICTED = "events", "evicted_posted"


class Durable(State):
    """Committing each request's changes to the store, and the records the change log holds."""

    persisting = False

    def start_persisting(self) -> None:
        """From now on every change is in the store before it is answered. The change log is rewritten from
        the current state first: after `restore` that compacts it to one record per device and user."""
        self._commit_lock = threading.Lock()  # one batch written at a time, in the order drained
        with self.lock:
            self.persisting = True
            self.changes.active = True
            self.changes.rewrite()
        self.persist()

    def persist(self) -> None:
        """Commit what was marked since the last commit, in one transaction; `StoreError` when the store
        refuses it (the next commit then rewrites the whole log, so nothing marked is forgotten).

        The batch is taken under the backend's lock and written outside it: other requests keep being
        served while SQLite writes, and a request that finds its changes already taken by the batch in
        flight waits for that batch (the commit lock) before it answers."""
        if not self.persisting:
            return
        with self._commit_lock:
            with self.lock:
                batch = self.changes.drain(self)
            if batch is None:
                return
            try:
                batch.write(self.store)
            except StoreError:
                with self.lock:
                    self.changes.rewrite()
                raise

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
        }


def restore(backend: Durable) -> bool:
    """Load what the backend's store holds before it serves; False when the store is new."""
    store = backend.store
    config = store.get(CONFIG)
    if config is None:
        return False
    legacy = items(store.load(LEGACY_POSTED))
    if legacy:  # moved into the events table once, then gone from the log
        rows = [
            posted_row(e["name"], e["subject"], e["application"], e["timestamp"], e["stored_at"], e["attributes"])
            for e in legacy
        ]
        backend.posted.write(rows, backend.config.max_posted_events)
        backend.posted.count_evicted(int(store.get(LEGACY_EVICTED) or 0))
        store.clear(LEGACY_POSTED)
    devices, users = latest(store.load(DEVICES)), latest(store.load(USERS))
    backend.restore_state({**config, "devices": list(devices.values()), "users": list(users.values())})
    return True
