"""With --data-dir: what a request changed is in the store before its answer leaves; read back at start.

Devices, users and their tags (device_table.py), posted events and event histories (posted_table.py)
are rows of the store, written inside the request. The configuration (applications with their VAPID
keys, tokens, tag and event definitions, filters, webhooks) is one value in the store: the areas mark it
changed (`changes` in base.py) and `persist`, which the app calls after every request, puts it
(emulator.changes). Messages, deliveries, inboxes, opens and warnings are what a run observed, not state
a restart brings back (an export does not carry them either).
"""

from __future__ import annotations

import threading

from swoosh.emulator.changes import CONFIG, items, latest
from swoosh.emulator.pushwoosh.backend.state import State
from swoosh.emulator.pushwoosh.posted_table import posted_row
from swoosh.emulator.store import StoreError

# Posted events in the change log, and the count the cap evicted, as versions before the events table wrote them
LEGACY_POSTED, LEGACY_EVICTED = "events", "evicted_posted"
# Devices and users in the change log (keyed records), as versions before the device tables wrote them
LEGACY_DEVICES, LEGACY_USERS = "devices", "users"


class Durable(State):
    """Committing each request's configuration change to the store."""

    persisting = False

    def start_persisting(self) -> None:
        """From now on every change is in the store before it is answered; the configuration is put now."""
        self._commit_lock = threading.Lock()  # one batch written at a time, in the order drained
        with self.lock:
            self.persisting = True
            self.changes.active = True
            self.changes.configuration()
        self.persist()

    def persist(self) -> None:
        """Put the configuration if it changed since the last commit; `StoreError` when the store refuses it
        (it stays marked, so the next commit puts it).

        The batch is taken under the backend's lock and written outside it: other requests keep being
        served while SQLite writes, and a request that finds its change already taken by the batch in
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
                    self.changes.configuration()
                raise


def restore(backend: Durable) -> bool:
    """Load what the backend's store holds before it serves; False when the store is new. What an earlier
    version logged (posted events, devices, users) moves into the tables once and leaves the log."""
    store = backend.store
    config = store.get(CONFIG)
    if config is None:
        return False
    legacy = items(store.load(LEGACY_POSTED))
    if legacy:
        rows = [
            posted_row(e["name"], e["subject"], e["application"], e["timestamp"], e["stored_at"], e["attributes"])
            for e in legacy
        ]
        backend.posted.write(rows, backend.config.max_posted_events)
        backend.posted.count_evicted(int(store.get(LEGACY_EVICTED) or 0))
        store.clear(LEGACY_POSTED)
    devices, users = latest(store.load(LEGACY_DEVICES)), latest(store.load(LEGACY_USERS))
    backend.restore_state(config, {"devices": list(devices.values()), "users": list(users.values())})
    store.write({}, cleared=(LEGACY_DEVICES, LEGACY_USERS))
    return True
