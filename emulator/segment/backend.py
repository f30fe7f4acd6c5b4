"""The fake Segment's state and rules: sources, ingest, the good/bad/duplicate/dropped sets, dedupe.

No HTTP here: the api blueprint turns requests into `ingest()` calls and renders `IngestError`s.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from swoosh.emulator.control import match_filters
from swoosh.emulator.logfields import ARRIVAL, REFUSAL, fields
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.segment import messages as m
from swoosh.emulator.segment.delivery import Deliverer, Destination
from swoosh.emulator.segment.protocols import VIOLATION_EVENT, TrackingPlan, violation_generated
from swoosh.emulator.segment.sources import DEFAULT_SOURCES, Source
from swoosh.emulator.segment.stored import (
    BAD,
    DROPPED,
    DUPLICATE,
    GOOD,
    STATUSES,
    EventWindow,
    StoredEvent,
    serialize,
)
from swoosh.emulator.segment.warehouse import Warehouse
from swoosh.emulator.store import Store, StoreError

MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024  # "500 KB": the edge counts 512,000 bytes
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_EVENTS = 2500
EVENTS, CONFIG, EVICTED = "events", "config", "evicted"  # what the store holds (emulator.store)


class IngestError(Exception):
    """The whole request is refused; rendered as `{"success": false, "code", "message"}`."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    dropped: int = 0


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
    """Everything the fake Segment knows; thread-safe; time comes from the runtime's clock."""

    collections = ("events", "deliveries", "sources", "destinations")

    def __init__(self, config: SegmentConfig | None = None, runtime: Runtime | None = None) -> None:
        self.config = config or SegmentConfig()
        self.runtime = runtime or Runtime("segment")
        self.strict = self.config.strict
        self.max_events = self.config.max_events
        self._lock = threading.RLock()
        self.store: Store | None = None  # with --data-dir: written before anything is acknowledged
        self.sources: dict[str, Source] = {}
        self._by_key: dict[str, Source] = {}
        for source in self.config.sources:
            self.add_source(source)
        self.warehouse = Warehouse(self.config.warehouse_dir, quiet_seconds=self.config.warehouse_quiet_seconds)
        self.deliverer = Deliverer(self.runtime)
        for spec in self.config.destinations:
            self.add_destination(spec)
        self._events: deque[StoredEvent] = deque()
        self._counts: Counter[str] = Counter()
        self._evicted = 0
        self._evicted_counts: Counter[str] = Counter()
        self._trimmed_at = 0  # `_evicted` when the store was last trimmed
        self._seq = 0
        self._seen_ids: OrderedDict[str, float] = OrderedDict()

    def attach_store(self, store: Store, restored: bool) -> None:
        """From now on every stored event and configuration change is in `store` before it is answered;
        unless the state was just `restored` from it, the store starts from the current state."""
        with self._lock:
            self.store = store
            if not restored:
                store.replace(EVENTS, [e.to_record() for e in self._events])
            self._configuration_changed()

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
        if self.store is not None:
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
        result = IngestResult()
        stored: list[StoredEvent] = []
        good: list[dict[str, Any]] = []
        good_payloads: list[bytes] = []
        flagged: list[tuple[dict[str, Any], list[dict[str, str]]]] = []  # for violation forwarding
        enrichment = m.Enrichment(received, write_key, source.source_id if source else "")
        with self._lock:
            self._expire_ids(now)
            for index, (item, item_type) in enumerate(zip(items, types, strict=True)):
                if source is None:
                    stored.append(self._record(DROPPED, m.UNKNOWN_WRITE_KEY, None, item_type, item, now))
                    result.dropped += 1
                    continue
                reason = self._problem(index, item, item_type, call_type, body_bytes)
                if reason is not None:
                    stored.append(self._record(BAD, reason, source.name, item_type, item, now))
                    result.rejected.append({"index": index, "reason": reason})
                    continue
                if call_type == m.BATCH:
                    m.merge_envelope(item, envelope)
                message_id = item.get("messageId")
                if isinstance(message_id, str) and message_id:
                    if message_id in self._seen_ids:
                        stored.append(
                            self._record(DUPLICATE, "duplicate_message_id", source.name, item_type, item, now)
                        )
                        result.duplicates += 1
                        continue
                    self._seen_ids[message_id] = now + m.DEDUPE_WINDOW
                enrichment.apply(item, item_type)  # type: ignore[arg-type]  # a good item's type was checked above
                violations = None
                if source.tracking_plan is not None:
                    verdict = source.tracking_plan.check(item)
                    violations = verdict.violations or None
                    if violations and item.get("event") != VIOLATION_EVENT:
                        flagged.append((item, violations))
                    if verdict.blocked:
                        stored.append(
                            self._record(BAD, m.BLOCKED_BY_TRACKING_PLAN, source.name, item_type, item, now, violations)
                        )
                        result.rejected.append({"index": index, "reason": m.BLOCKED_BY_TRACKING_PLAN})
                        continue
                payload = serialize(item)
                if payload is None:
                    self._seen_ids.pop(item["messageId"], None)
                    stored.append(self._record(BAD, m.TOO_DEEPLY_NESTED, source.name, item_type, item, now))
                    result.rejected.append({"index": index, "reason": m.TOO_DEEPLY_NESTED})
                    continue
                stored.append(self._record(GOOD, None, source.name, item_type, item, now, violations, payload))
                good.append(item)
                good_payloads.append(payload)
                result.accepted += 1
            if self.strict and result.rejected:
                # strict refuses the request: roll back what this request added
                self._rollback(stored, items)
                raise IngestError(400, "invalid_events", f"{len(result.rejected)} message(s) rejected", result.rejected)
            try:
                self._store(stored)
            except StoreError as exc:  # not durable, so not acknowledged: the client retries
                self._rollback(stored, items)
                raise IngestError(503, "store_unavailable", str(exc)) from exc
        if source is not None and good:
            self.warehouse.add(source.schema, good_payloads)
            self.deliverer.offer(source.name, good)
        if flagged:
            self._forward_violations(source, flagged)  # type: ignore[arg-type]  # flagged implies a known source
        self.runtime.notify()
        self._log_arrival(source, result)
        return result

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

    def _problem(
        self, index: int, item: Any, item_type: str | None, call_type: m.CallType, body_bytes: int
    ) -> str | None:
        if item_type == "batch":
            return m.INVALID_BATCH
        if index >= MAX_BATCH_EVENTS:
            return m.TOO_MANY_EVENTS
        if call_type == m.BATCH and body_bytes > MAX_EVENT_BYTES and len(orjson.dumps(item)) > MAX_EVENT_BYTES:
            return m.MESSAGE_TOO_LARGE
        return m.problem(item, item_type)

    def _record(
        self,
        status: str,
        reason: str | None,
        source: str | None,
        call_type: str | None,
        item: Any,
        now: float,
        violations: list[dict[str, str]] | None = None,
        payload: bytes | None = None,
    ) -> StoredEvent:
        self._seq += 1
        return StoredEvent(self._seq, status, reason, source, call_type, item, now, violations, payload)

    def _rollback(self, stored: list[StoredEvent], items: list[Any]) -> None:
        for event in stored:
            if event.status == GOOD and event.message_id:
                self._seen_ids.pop(event.message_id, None)

    def _store(self, stored: list[StoredEvent]) -> None:
        """Keep one request's records: in the store first (one transaction), then in memory."""
        if self.store is not None:
            self.store.append(EVENTS, [event.to_record() for event in stored])
        self._events.extend(stored)
        for event in stored:
            self._counts[event.status] += 1
        overflow = len(self._events) - self.max_events
        for _ in range(max(0, overflow)):
            self._evicted_counts[self._events.popleft().status] += 1
            self._evicted += 1
        if self.store is not None and self._evicted - self._trimmed_at >= max(1, self.max_events // 10):
            # the store sheds evicted records in steps of a tenth of the cap (a trim scans the cap's records);
            # a restart drops the ones still there beyond the cap and counts them as evicted
            self.store.trim(EVENTS, self.max_events)
            self.store.put(EVICTED, self.evicted_counts())
            self._trimmed_at = self._evicted

    def evicted_counts(self) -> dict[str, int]:
        """How many events the cap evicted, per status (restored with the kept ones after a restart)."""
        return dict(self._evicted_counts)

    def _expire_ids(self, now: float) -> None:
        seen = self._seen_ids
        while seen:
            first = next(iter(seen))
            if seen[first] > now:
                break
            seen.popitem(last=False)

    # -- inspection --------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        with self._lock:
            return {
                **{s: self._counts.get(s, 0) for s in STATUSES},
                "stored": len(self._events),
                "evicted": self._evicted,
                "warehouse_errors": len(self.warehouse.errors),
            }

    def events(self, filters: Mapping[str, str], limit: int | None = None) -> list[dict[str, Any]]:
        """Matching events, oldest first; with `limit`, the newest `limit` of them.

        Scanned newest first and stopped as soon as `limit` are found or `after` is passed, so the
        newest page of a million stored events costs what its rows cost, not the million.
        """
        window = EventWindow.of(filters)
        if limit is not None and limit <= 0:
            return []
        with self._lock:
            snapshot = list(self._events)
        return [e.to_dict() for e in reversed(window.newest(reversed(snapshot), limit))]

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
        with self._lock:
            self._events.clear()
            self._counts.clear()
            self._evicted = 0
            self._evicted_counts.clear()
            self._trimmed_at = 0
            self._seen_ids.clear()
            if self.store is not None:
                self.store.clear(EVENTS)
                self.store.put(EVICTED, {})
        self.deliverer.clear()
        self.warehouse.clear()
        self.runtime.notify()

    def tick(self) -> None:
        """The clock moved: due deliveries may be retried now."""
        self.deliverer.wake()

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            events = [e.to_dict() for e in self._events]
            return {
                **self.configuration(),
                "events": events,
                "counts": dict(self._counts),
                "evicted": self._evicted,
                "evicted_counts": self.evicted_counts(),
                "seen_ids": list(self._seen_ids.items()),
            }

    def import_state(self, state: dict[str, Any]) -> None:
        state_sources = {s["name"]: s for s in state.get("sources", [])}
        sources = [Source.from_saved(s) for s in state_sources.values()]
        events = state.get("events", [])
        if not isinstance(events, list):
            raise ValueError("events must be a list")
        restored = [StoredEvent.from_dict(e) for e in events]
        self.reset()
        with self._lock:
            self.strict = bool(state.get("strict", self.strict))
            previous = self.sources
            self.sources, self._by_key = {}, {}  # the state's sources replace the current ones
            for source in sources:
                if "tracking_plan" not in state_sources[source.name] and source.name in previous:
                    source.tracking_plan = previous[source.name].tracking_plan  # state saved before plans were
                self.add_source(source)
            self._events.extend(restored)
            self._counts.update(state.get("counts") or Counter(e.status for e in restored))
            self._evicted = self._trimmed_at = int(state.get("evicted", 0))
            self._evicted_counts.update({str(k): int(v) for k, v in (state.get("evicted_counts") or {}).items()})
            self._seq = max((e.seq for e in restored), default=0)
            self._seen_ids.update((str(k), float(v)) for k, v in state.get("seen_ids", []))
        self.deliverer.replace([d for d in state.get("destinations", [])])
        for event in restored:
            owner = self.sources.get(event.source or "")
            if event.status == GOOD and owner is not None:
                self.warehouse.add(owner.schema, [event.payload])
        if self.store is not None:  # the imported state replaces the stored one
            with self._lock:
                self.store.replace(EVENTS, [e.to_record() for e in restored])
                self.store.put(EVICTED, self.evicted_counts())
                self._configuration_changed()
        self.runtime.notify()

    def close(self) -> None:
        self.deliverer.close()
        self.warehouse.close()
