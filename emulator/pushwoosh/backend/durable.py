"""With --data-dir: what a request changed is in the store before its answer leaves; read back at start.

The areas mark what they change as they change it (`changes` in base.py); `persist`, which the app
calls after every request, commits the marks in one transaction (emulator.changes). Devices and users
are keyed records (the latest one of a key wins), posted events are appended, the configuration
(applications with their VAPID keys, tokens, tag and event definitions, filters, webhooks) is one
value. Messages, deliveries, inboxes, opens and warnings are what a run observed, not state a restart
brings back (an export does not carry them either).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import orjson

from swoosh.emulator.changes import CONFIG, items, keyed, latest
from swoosh.emulator.pushwoosh.backend.base import DEVICES, POSTED, USERS, device_key
from swoosh.emulator.pushwoosh.backend.state import State, device_record, user_record
from swoosh.emulator.store import Store, StoreError

EVICTED = "evicted_posted"  # posted events the cap evicted that the store no longer holds


class Durable(State):
    """Attaching the store, committing each request's changes to it, and the records it holds."""

    store: Store | None = None

    def attach_store(self, store: Store) -> None:
        """From now on every change is in `store` before it is answered. The store is rewritten from the
        current state first: after `restore` that compacts it to one record per device and user."""
        self._commit_lock = threading.Lock()  # one batch written at a time, in the order drained
        self._posted_counts: deque[int] = deque()  # posted events per stored record, oldest first
        self._trimmed_at = self.evicted_posted  # `evicted_posted` when the store was last trimmed
        with self.lock:
            self.store = store
            self.changes.active = True
            self.changes.rewrite()
        self.persist()

    def persist(self) -> None:
        """Commit what was marked since the last commit, in one transaction; `StoreError` when the store
        refuses it (the next commit then rewrites the whole state, so nothing marked is forgotten).

        The batch is taken under the backend's lock and written outside it: other requests keep being
        served while SQLite writes, and a request that finds its changes already taken by the batch in
        flight waits for that batch (the commit lock) before it answers."""
        store = self.store
        if store is None:
            return
        with self._commit_lock:
            with self.lock:
                if self.changes.rewriting:
                    self.changes.put(EVICTED, self.evicted_posted)
                batch = self.changes.drain(self)
                cap, evicted, kept = self.posted.maxlen or 0, self.evicted_posted, len(self.posted)
            if batch is None:
                return
            try:
                batch.write(store)
            except StoreError:
                with self.lock:
                    self.changes.rewrite()
                raise
            if POSTED in batch.cleared:
                self._posted_counts.clear()
            self._posted_counts.extend(batch.counts.get(POSTED, ()))
            if evicted - self._trimmed_at >= max(1, cap // 10):  # in steps: a trim scans the kept records
                self._trim(store, cap, evicted, kept)

    def _trim(self, store: Store, cap: int, evicted: int, kept: int) -> None:
        """Drop the oldest records of posted events the cap evicted (whole records: each holds one request's)."""
        records = stored = 0
        for count in reversed(self._posted_counts):
            if stored >= cap:
                break
            records, stored = records + 1, stored + count
        store.write({}, {EVICTED: evicted - (stored - kept)})  # the stored ones past the cap count at restore
        store.trim(POSTED, records)
        for _ in range(len(self._posted_counts) - records):
            self._posted_counts.popleft()
        self._trimmed_at = evicted

    def current(self, kind: str, key: str) -> dict[str, Any] | None:
        if kind == DEVICES:
            app_code, _, hwid = key.partition("/")
            device = self.devices.get(app_code, {}).get(hwid)
            return None if device is None else device_record(device)
        user = self.users.get(key)
        return None if user is None else user_record(user)

    def snapshot(self) -> tuple[dict[str, list[bytes]], dict[str, list[bytes]]]:
        keyed_records = {
            DEVICES: [keyed(device_key(d.application, d.hwid), device_record(d)) for d in self.all_devices()],
            USERS: [keyed(u.user_id, user_record(u)) for u in self.users.values()],
        }
        return keyed_records, {POSTED: [orjson.dumps(e.describe()) for e in self.posted]}


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
            "events": items(store.load(POSTED)),
        }
    )
    backend.evicted_posted += int(store.get(EVICTED) or 0)
    return True
