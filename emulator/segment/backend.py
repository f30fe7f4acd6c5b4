"""The fake Segment's state and rules: sources, ingest, the good/bad/duplicate/dropped sets, dedupe.

No HTTP here: the api blueprint turns requests into `ingest()` calls and renders `IngestError`s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swoosh.emulator.control import match_filters
from swoosh.emulator.group_commit import GroupCommit
from swoosh.emulator.json_stream import Lazy
from swoosh.emulator.logfields import ARRIVAL, REFUSAL, fields
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.segment import delivery_marks
from swoosh.emulator.segment import messages as m
from swoosh.emulator.segment.delivery import Deliverer, Destination
from swoosh.emulator.segment.event_table import EVICTED, STORED, EventTable, WarehouseBacklog, event_dict
from swoosh.emulator.segment.intake import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_CALL_BYTES,
    MAX_EVENT_BYTES,
    IngestError,
    IngestResult,
    Intake,
)
from swoosh.emulator.segment.protocols import TrackingPlan, violation_generated
from swoosh.emulator.segment.sources import DEFAULT_SOURCES, Source
from swoosh.emulator.segment.stored import BAD, DROPPED, DUPLICATE, GOOD, STATUSES, row_from_dict
from swoosh.emulator.segment.warehouse import Warehouse
from swoosh.emulator.store import Store, StoreError, open_store

CONFIG = "config"  # the store's key for the configuration (sources, plans, destinations, strictness)


@dataclass
class SegmentConfig:
    strict: bool = False
    max_events: int = 1_000_000
    sources: list[Source] = field(default_factory=lambda: [Source(**asdict(s)) for s in DEFAULT_SOURCES])
    destinations: list[dict[str, Any]] = field(default_factory=list)
    warehouse_dir: Path | None = None
    # Loading into the warehouse waits until ingest has been quiet this long (or anything reads it).
    warehouse_quiet_seconds: float = 0.25


class SegmentBackend:
    """Everything the fake Segment knows; thread-safe; time comes from the runtime's clock.

    Stored events and the dedupe window live in `store` (event_table.py), given by the service (the
    --data-dir one, where whatever it holds is served from the start) or a temporary one removed at close.
    """

    collections = ("events", "deliveries", "sources", "destinations")

    def __init__(
        self, config: SegmentConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        self.config = config or SegmentConfig()
        self.runtime = runtime or Runtime("segment")
        self.strict = self.config.strict
        self.max_events = self.config.max_events
        self._lock = threading.RLock()
        self._own_store = store is None
        self.store: Store = store or open_store("segment", None)
        self.table = EventTable(self.store)
        self._persist = False  # configuration is written once `persist_configuration` was called
        self.sources: dict[str, Source] = {}
        self._by_key: dict[str, Source] = {}
        for source in self.config.sources:
            self.add_source(source)
        self._backlog = WarehouseBacklog(self.table, self._schema_of)
        self.warehouse = Warehouse(
            self._backlog, self.config.warehouse_dir, quiet_seconds=self.config.warehouse_quiet_seconds
        )
        self._writer: GroupCommit[Intake] = GroupCommit(self._write)
        self._load_counts()
        self.deliverer = Deliverer(self.runtime)
        self.deliverer.last_seq = self.table.last_seq
        for spec in self.config.destinations:
            self.add_destination(spec)

    def _load_counts(self) -> None:
        """After a restart or an import: the warehouse loads the table's good events from the start."""
        self._backlog.after = 0
        self.warehouse.added(self.table.counts().get(GOOD, 0))

    def _schema_of(self, source: str) -> str | None:
        known = self.sources.get(source)
        return known.schema if known else None

    def persist_configuration(self) -> None:
        """From now on every configuration change is in the store before it is answered (after a restore),
        and so is how far each destination got (delivery_marks)."""
        with self._lock:
            self._persist = True
            self._configuration_changed()
        delivery_marks.track(self.deliverer, self.store, self.table.last_seq(), self.runtime.log)

    # -- configuration ---------------------------------------------------------------------
    def add_source(self, source: Source) -> Source:
        if not source.name or not source.write_key:
            raise ValueError("a source needs a name and a write_key")
        with self._lock:
            other = self._by_key.get(source.write_key)
            if other is not None and other.name != source.name:
                raise ValueError(f"write key already used by source {other.name!r}")
            old = self.sources.get(source.name)
            if old is not None:
                self._by_key.pop(old.write_key, None)
            self.sources[source.name] = source
            self._by_key[source.write_key] = source
            self._configuration_changed()
        return source

    def set_tracking_plan(self, source: Source, plan: TrackingPlan | None) -> None:
        with self._lock:
            source.tracking_plan = plan
            self._configuration_changed()

    def add_destination(self, spec: Mapping[str, Any]) -> Destination:
        source = spec.get("source", "app")
        if source not in self.sources:
            raise ValueError(f"unknown source {source!r}; known: {', '.join(self.sources)}")
        with self._lock:
            destination = self.deliverer.add(spec)
            self._configuration_changed()
        return destination

    def remove_destination(self, destination_id: int) -> bool:
        with self._lock:
            removed = self.deliverer.remove(destination_id)
            self._configuration_changed()
        return removed

    def configuration(self) -> dict[str, Any]:
        """What a restart must bring back besides events: strictness, sources with their plans, destinations."""
        return {
            "strict": self.strict,
            "sources": [s.saved() for s in self.sources.values()],
            "destinations": [d.spec() for d in self.deliverer.destinations()],
        }

    def _configuration_changed(self) -> None:
        if self._persist:
            self.store.put(CONFIG, self.configuration())

    def source_for_key(self, write_key: str) -> Source | None:
        return self._by_key.get(write_key)

    # -- ingest ----------------------------------------------------------------------------
    def ingest(
        self, call_type: m.CallType, body: Any, basic_key: str | None = None, bearer: bool = False, body_bytes: int = 0
    ) -> IngestResult:
        """One request's messages: a single call of `call_type`, or a batch envelope when it is `BATCH`."""
        envelope = body if isinstance(body, dict) else {}
        body_key = envelope.get("writeKey")
        write_key = basic_key if basic_key else body_key if isinstance(body_key, str) else None
        if bearer and not isinstance(body_key, str):
            raise IngestError(400, "missing_write_key", "OAuth requests must carry writeKey in the body")
        if not write_key:
            raise IngestError(400, "missing_write_key", "Write key is missing or empty")
        source = self._by_key.get(write_key)
        if source is None and self.strict:
            raise IngestError(401, "invalid_write_key", f"Unknown write key {write_key!r}")
        items, types = self._items(call_type, body)
        received = self.runtime.clock.now()
        now = received.timestamp()
        enrichment = m.Enrichment(received, write_key, source.source_id if source else "")
        single = m.described(items[0], types[0]) if len(items) == 1 else None
        intake = Intake(source, enrichment, now, self.strict, single)
        intake.judge(call_type, items, types, body, body_bytes)  # the Python work: no lock held
        if intake.drafts:
            try:
                self._writer.submit(intake)  # dedupe, seqs, insert and eviction: one transaction
            except StoreError as exc:  # not durable, so not acknowledged: the client retries
                raise IngestError(503, "store_unavailable", str(exc)) from exc
        if intake.refusal is not None:
            raise intake.refusal
        result = intake.result
        good = intake.good()
        if source is not None and good:
            self._hand_over(source.name, good)
        flagged = intake.flagged()
        if flagged:
            self._forward_violations(source, flagged)  # type: ignore[arg-type]  # flagged implies a known source
        self.runtime.notify()
        self._log_arrival(source, result)
        return result

    def _hand_over(self, source: str, good: list[tuple[int, dict[str, Any]]]) -> None:
        """A request's good events go to the warehouse and the destinations (with worker processes, the
        primary's follower does it for every process: emulator/segment/shared_backend.py)."""
        self.warehouse.added(len(good))
        self.deliverer.offer(source, good)

    def follow(self) -> None:
        """Nothing to catch up on: this process handed over what it stored (see SharedBackend.follow)."""

    def _write(self, group: Sequence[Intake]) -> None:
        self.table.write(group, self.max_events)

    def _log_arrival(self, source: Source | None, result: IngestResult) -> None:
        log = self.runtime.log
        if not log.isEnabledFor(logging.INFO):
            return
        if source is None:  # never the key itself: it is a credential
            log.info(
                "dropped %d message(s) with an unknown write key",
                result.dropped,
                extra=fields(
                    REFUSAL,
                    source=None,
                    count=result.dropped,
                    outcomes={DROPPED: result.dropped},
                    reasons={m.UNKNOWN_WRITE_KEY: result.dropped},
                ),
            )
            return
        reasons = sorted({item["reason"] for item in result.rejected})
        log.info(
            "%s: %d good, %d bad%s, %d duplicate",
            source.name,
            result.accepted,
            len(result.rejected),
            f" ({', '.join(reasons)})" if reasons else "",
            result.duplicates,
            extra=fields(
                ARRIVAL if result.accepted else REFUSAL,
                source=source.name,
                count=result.accepted + len(result.rejected) + result.duplicates,
                **({"call": result.single} if result.single else {}),
                outcomes={
                    k: n
                    for k, n in ((GOOD, result.accepted), (BAD, len(result.rejected)), (DUPLICATE, result.duplicates))
                    if n
                },
                reasons=dict(Counter(item["reason"] for item in result.rejected)),
            ),
        )

    def _forward_violations(self, source: Source, flagged: list[tuple[dict[str, Any], list[dict[str, str]]]]) -> None:
        """Segment's violation forwarding: each violation becomes a `Violation Generated` track call into the
        source the plan names (`forward_violations_to`), through the normal ingest path."""
        plan = source.tracking_plan
        target = self.sources.get(plan.forward_violations_to or "") if plan else None
        if plan is None or target is None:
            return
        batch = [violation_generated(item, v, source, plan.name) for item, violations in flagged for v in violations]
        with contextlib.suppress(IngestError):  # the target refused them (its plan, strict): the request stands
            self.ingest(m.BATCH, {"batch": batch}, target.write_key)

    def _items(self, call_type: m.CallType, body: Any) -> tuple[list[Any], list[str | None]]:
        if call_type != m.BATCH:
            return [body], [call_type]
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            return [body], [m.BATCH]  # no list: the body is one item of type batch, refused as invalid_batch
        types = [item.get("type") if isinstance(item, dict) else None for item in batch]
        return batch, [t if isinstance(t, str) else None for t in types]

    def evicted_counts(self) -> dict[str, int]:
        """How many events the cap evicted, per status."""
        return _evicted(self.table.counts())

    # -- inspection --------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        counts = self.table.counts()  # the store's: every process that opens it agrees
        return {
            **{s: counts.get(s, 0) for s in STATUSES},
            "stored": counts.get(STORED, 0),
            "evicted": sum(_evicted(counts).values()),
            "warehouse_errors": len(self.warehouse.errors),
        }

    def events(self, filters: Mapping[str, str], limit: int | None = None) -> list[dict[str, Any]]:
        """Matching events, oldest first; with `limit`, the newest `limit` of them (event_table.select)."""
        return self.table.select(filters, limit)

    def stream(self, collection: str, filters: Mapping[str, str]) -> tuple[int, Iterator[list[dict[str, Any]]]] | None:
        """Every matching event as (count, chunks) for an answer written as it is read (control.streamed_items);
        None for the collections kept small enough to answer whole."""
        return self.table.select_chunks(filters) if collection == "events" else None

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        if collection == "events":
            return self.events(filters, limit)
        if collection == "deliveries":
            return self.deliverer.log(filters, limit)
        if collection == "sources":
            items = [s.describe() for s in self.sources.values()]
        else:
            items = [d.describe() for d in self.deliverer.destinations()]
        keys = {k: k for k in (items[0] if items else {})}
        return [i for i in items if match_filters(i, filters, keys)][: limit if limit is not None else None]

    def config_view(self) -> dict[str, Any]:
        return {
            "strict": self.strict,
            "max_events": self.max_events,
            "sources": [s.describe() for s in self.sources.values()],
            "destinations": [d.describe() for d in self.deliverer.destinations()],
            "limits": {
                "call_bytes": MAX_CALL_BYTES,
                "batch_bytes": MAX_BATCH_BYTES,
                "event_bytes": MAX_EVENT_BYTES,
                "batch_events": MAX_BATCH_EVENTS,
            },
        }

    # -- lifecycle ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget received data (events, dedupe, warehouse rows, deliveries); keep configuration."""
        self.table.clear()
        self.deliverer.clear()
        self.warehouse.clear()
        self.runtime.notify()

    def tick(self) -> None:
        """The clock moved: due deliveries may be retried now."""
        self.deliverer.wake()

    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        counts = self.table.counts()
        with self._lock:
            configuration = self.configuration()
        events = (event_dict(row) for row in self.table.rows())
        return {
            **configuration,
            "events": Lazy(events) if lazy else list(events),
            "counts": {s: counts[s] for s in STATUSES if counts.get(s)},
            "evicted": sum(_evicted(counts).values()),
            "evicted_counts": _evicted(counts),
            "seen_ids": [list(entry) for entry in self.table.seen_ids(self.runtime.clock.now().timestamp())],
        }

    def import_state(self, state: dict[str, Any]) -> None:
        events = state.get("events", [])
        if not isinstance(events, list):
            raise ValueError("events must be a list")
        restored = [row_from_dict(e) for e in events]
        seen = [(str(k), float(v)) for k, v in state.get("seen_ids", [])]
        evicted = {str(k): int(v) for k, v in (state.get("evicted_counts") or {}).items()}
        self.restore_configuration(state)
        self.reset()
        received = {str(k): int(v) for k, v in state["counts"].items()} if state.get("counts") else None
        self.table.replace(restored, seen, evicted, received)
        self._load_counts()
        self.runtime.notify()

    def restore_configuration(self, saved: dict[str, Any]) -> None:
        """Strictness, sources (with their plans) and destinations of `saved` replace the current ones."""
        saved_sources = {s["name"]: s for s in saved.get("sources", [])}
        sources = [Source.from_saved(s) for s in saved_sources.values()]
        with self._lock:
            self.strict = bool(saved.get("strict", self.strict))
            previous = self.sources
            self.sources, self._by_key = {}, {}
            for source in sources:
                if "tracking_plan" not in saved_sources[source.name] and source.name in previous:
                    source.tracking_plan = previous[source.name].tracking_plan  # saved before plans were
                self.add_source(source)
        self.deliverer.replace([d for d in saved.get("destinations", [])])
        with self._lock:
            self._configuration_changed()

    def close(self) -> None:
        self.deliverer.close()
        self.warehouse.close()
        if self._own_store:
            self.store.close()


def _evicted(counts: Mapping[str, int]) -> dict[str, int]:
    """The evicted per status, from the event table's counters."""
    return {name[len(EVICTED) :]: n for name, n in counts.items() if name.startswith(EVICTED) and n}
