"""The fake Segment's backend when several processes write one store (`swoosh up --workers N`).

Every process (the primary and each worker) ingests into the same event table; the write step decides
dedupe, seqs, insert, eviction and the counters in one store transaction (event_table.py), so that is
safe across processes as it is. What changes with workers: the primary's follower (`follow`) hands every
new good event, whichever process stored it, to the warehouse and the destinations exactly once, in seq
order, and wakes the long-polls; no process hands its own events over directly.
"""

from __future__ import annotations

from typing import Any

import orjson

from swoosh.emulator.runtime import Runtime
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.store import Store

FOLLOW_BATCH = 10_000  # good events handed over per look at the table


class SharedBackend(SegmentBackend):
    """The primary's backend with workers: a follower instead of the direct hand-over."""

    def __init__(
        self, config: SegmentConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        super().__init__(config, runtime, store)
        self._followed = self.table.last_seq()
        self.deliverer.last_seq = lambda: self._followed

    def _hand_over(self, source: str, good: list[tuple[int, dict[str, Any]]]) -> None:
        """Nothing here: `follow` hands over what every process stored."""

    def follow(self) -> None:
        """Good events stored since the last look go to the warehouse and the destinations, once each."""
        newest = self.table.last_seq()
        if newest == self._followed:
            return
        with self._lock:
            if newest < self._followed:  # the table was replaced (reset, import)
                self._followed = newest
                return
            rows = self.table.good_after(self._followed, FOLLOW_BATCH)
            last = rows[-1][0] if rows else newest
            self._followed = last if len(rows) == FOLLOW_BATCH else max(newest, last)
            listening = {destination.source for destination in self.deliverer.destinations()}
            by_source: dict[str, list[tuple[int, dict[str, Any]]]] = {}
            for seq, source, payload in rows:
                if source in listening:  # parsed only for a destination that may want it
                    by_source.setdefault(source, []).append((seq, orjson.loads(payload)))
            if rows:
                self.warehouse.added(len(rows))
            for source, good in by_source.items():
                self.deliverer.offer(source, good)
        self.runtime.notify()

    def reset(self) -> None:
        with self._lock:
            super().reset()
            self._followed = self.table.last_seq()

    def import_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            super().import_state(state)
            self._followed = self.table.last_seq()

    def published(self) -> dict[str, Any]:
        """What a worker needs of the configuration (destinations stay with the primary, which delivers)."""
        with self._lock:
            return {
                "strict": self.strict,
                "max_events": self.max_events,
                "sources": [s.saved() for s in self.sources.values()],
            }


class WorkerBackend(SharedBackend):
    """A worker's backend: ingests only; configuration comes from what the primary published."""

    def _load_counts(self) -> None:
        """A worker loads no warehouse and keeps no counters: the primary does both."""

    def apply_published(self, published: dict[str, Any]) -> None:
        with self._lock:
            self.max_events = int(published.get("max_events", self.max_events))
            self.restore_configuration({**published, "destinations": []})

    def follow(self) -> None:
        """Never: the primary follows."""
