"""The fake Segment after a restart: its state rebuilt from the store (emulator.store) it wrote to.

The backend writes every stored event and configuration change to the store before answering
(`SegmentBackend.attach_store`); this module reads them back at start, dedupe window included, and
loads the restored good events into the warehouse before the service listens, so `/_swoosh/sql`
answers from the first request.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from swoosh.emulator.segment.backend import CONFIG, EVENTS, EVICTED, SegmentBackend
from swoosh.emulator.segment.messages import DEDUPE_WINDOW
from swoosh.emulator.segment.stored import GOOD
from swoosh.emulator.store import Store


def restore(backend: SegmentBackend, store: Store) -> bool:
    """Load what `store` holds into `backend` (the newest `max_events` events); False when it is empty."""
    config = store.get(CONFIG)
    if config is None:
        return False
    events = [orjson.loads(record) for record in store.load(EVENTS)]
    kept = events[-backend.max_events :] if backend.max_events > 0 else []
    evicted = Counter(e["status"] for e in events[: len(events) - len(kept)]) + Counter(store.get(EVICTED) or {})
    backend.import_state(
        {
            **config,
            "events": kept,
            "counts": Counter(e["status"] for e in kept) + evicted,
            "evicted": sum(evicted.values()),
            "evicted_counts": dict(evicted),
            "seen_ids": _dedupe_window(kept),
        }
    )
    backend.warehouse.flush()
    return True


def _dedupe_window(events: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """The messageIds of good events with when each stops counting as a duplicate (24 h after receipt)."""
    return [
        (e["message"]["messageId"], e["received_at"] + DEDUPE_WINDOW)
        for e in events
        if e["status"] == GOOD and isinstance(e["message"], dict) and isinstance(e["message"].get("messageId"), str)
    ]
