"""The fake Segment after a restart: its configuration read back from the store (emulator.store).

Stored events, the dedupe window and the evicted counts need no restoring: they live in the store's
event table (event_table.py), which the backend serves from as soon as it opens the store. What the
backend also keeps in memory (strictness, sources with their plans, destinations) is saved under one
configuration key on every change and applied before the service listens. A store written before the
event table existed kept its events as `events` records: they move into the table once.
"""

from __future__ import annotations

from typing import Any

import orjson

from swoosh.emulator.segment import delivery_marks
from swoosh.emulator.segment.backend import CONFIG, SegmentBackend
from swoosh.emulator.store import Store

OLD_EVENTS, OLD_EVICTED = "events", "evicted"  # the record kind and config key of that earlier layout


def saved_configuration(store: Store) -> dict[str, Any] | None:
    """What the last run saved, read before the backend is built (building it saves the current one)."""
    saved = store.get(CONFIG)
    return saved if isinstance(saved, dict) else None


def restore(backend: SegmentBackend, saved: dict[str, Any]) -> None:
    """Apply a saved configuration to `backend`; events kept in the earlier record layout move to the table."""
    old = [orjson.loads(record) for record in backend.store.load(OLD_EVENTS)]
    if old:
        evicted = backend.store.get(OLD_EVICTED) or {}
        backend.import_state({**saved, "events": old, "evicted_counts": evicted})
        backend.store.clear(OLD_EVENTS)
    else:
        backend.restore_configuration(saved)
    delivery_marks.resume(backend.deliverer, backend.table, backend.store)
