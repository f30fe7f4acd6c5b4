"""The fake Segment's backend when several processes write one store (`swoosh up --workers N`).

Every process (the primary and each worker) ingests into the same event table. Until the ingest write
step is one store transaction that assigns seqs and checks dedupe itself (the "segfast" work), a request's
whole ingest runs under a lock every process takes (`flock` on a file beside the store) and starts from
what the table holds (its newest seq, how many rows it keeps); counts are read from the table. The
primary's follower (`follow`) hands every new good event, whichever process stored it, to the warehouse
and the destinations exactly once, in seq order, and wakes the long-polls.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from swoosh.emulator.runtime import Runtime
from swoosh.emulator.segment.backend import MAX_BATCH_EVENTS, IngestResult, SegmentBackend, SegmentConfig
from swoosh.emulator.store import Store

FOLLOW_BATCH = 10_000  # good events handed over per look at the table
EXACT_COUNT_MARGIN = 4 * MAX_BATCH_EVENTS  # below the cap by more than this, eviction cannot happen


def lock_path_of(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".ingest-lock")


class ProcessLock:
    """Held by one thread of one process at a time; re-entrant within its thread (violation forwarding
    ingests again while holding it)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._threads = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._depth == 0:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


class SharedBackend(SegmentBackend):
    """The primary's backend with workers: ingest across processes, a follower instead of direct hand-over."""

    def __init__(
        self, config: SegmentConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        self._followed = 0
        super().__init__(config, runtime, store)
        self.ingest_lock = ProcessLock(lock_path_of(Path(self.store.path)))  # type: ignore[attr-defined]  # a file store
        self._followed = self.table.last_seq()
        self.deliverer.last_seq = lambda: self._followed

    def ingest(self, *args: Any, **kwargs: Any) -> IngestResult:
        with self.ingest_lock.held(), self._lock:
            self._seq = self.table.last_seq()
            self._stored = self._stored_now()
            return super().ingest(*args, **kwargs)

    def _stored_now(self) -> int:
        low, high = self.store.read("SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM segment_events")[0]
        span = int(high) - int(low) + 1 if high else 0  # imported rows may leave gaps: at most the count
        if span + EXACT_COUNT_MARGIN < self.max_events:
            return span
        return int(self.store.read("SELECT count(*) FROM segment_events")[0][0])

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
            by_source: dict[str, list[tuple[int, dict[str, Any]]]] = {}
            for seq, source, payload in rows:
                by_source.setdefault(source or "", []).append((seq, orjson.loads(payload)))
            if rows:
                self.warehouse.added(len(rows))
            for source, good in by_source.items():
                self.deliverer.offer(source, good)
        self.runtime.notify()

    def _refresh_counts(self) -> None:
        stored, evicted = self.table.stored_counts(), self.table.evicted_counts()
        self._counts = stored + evicted
        self._evicted_counts = evicted
        self._stored = sum(stored.values())

    def counts(self) -> dict[str, Any]:
        with self._lock:
            self._refresh_counts()
            return super().counts()

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            self._refresh_counts()
            return super().export_state()

    def reset(self) -> None:
        with self.ingest_lock.held(), self._lock:
            super().reset()
            self._followed = 0

    def import_state(self, state: dict[str, Any]) -> None:
        with self.ingest_lock.held(), self._lock:
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

    def close(self) -> None:
        super().close()
        self.ingest_lock.close()


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
