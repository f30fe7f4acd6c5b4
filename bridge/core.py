"""The bridge's engine: accept events into the outbox, and drain each direction to its downstream.

Direction "segment": Segment events -> Pushwoosh integration API (the destination).
Direction "pushwoosh": Pushwoosh message events -> Segment /v1/batch (the source).
No HTTP server here (bridge/service.py is the ingress); the senders in bridge/transport.py do I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from swoosh import contracts
from swoosh.bridge import logbook
from swoosh.bridge.destination import Mappings, Request, Skipped, requests_for
from swoosh.bridge.logbook import PUSHWOOSH, SEGMENT
from swoosh.bridge.outbox import Item, Outbox
from swoosh.bridge.rates import RecentRates
from swoosh.bridge.source import (
    InvalidMessageEvent,
    allowed_events,
    batch_bodies,
    message_id,
    parse_message_event,
    track_message,
)
from swoosh.bridge.trail import Trail, timed
from swoosh.bridge.transport import RETRY, TIMEOUT_SECONDS, PushwooshSender, SegmentSender
from swoosh.emulator.clock import Clock, iso_millis
from swoosh.emulator.retry import Outcome
from swoosh.emulator.tls import trust_context

DIRECTIONS = (SEGMENT, PUSHWOOSH)
# Counters per direction: `invalid` events were held back unsent (the integration API's contract refuses
# them) and dead-lettered alone; `narrowed` counts batches split after a 400/422 to find the bad events.
STAT_NAMES = (
    "accepted",
    "rejected",
    "filtered",
    "skipped",
    "invalid",
    "delivered",
    "retried",
    "dead_lettered",
    "narrowed",
)
MAX_AGE_SECONDS = 4 * 3600
LEASE_BATCH = 500
NARROWED_STATUSES = (400, 422)  # a refusal of the content (not of the credentials) is narrowed down
NAMED_EVENT = re.compile(r"events\[(\d+)\]")
SKIPS_KEPT = 1000  # skipped events listed by the control API (counts are kept for all)


class IngressError(Exception):
    """A request the ingress refuses as a whole: nothing from it is enqueued."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class BridgeSettings:
    pushwoosh_url: str = ""
    api_key: str = ""
    app_code: str = ""
    segment_url: str = ""
    write_key: str = ""
    segment_secret: str | None = None  # verifies X-Signature on POST /segment when set
    pushwoosh_token: str | None = None  # required as Bearer on POST /pushwoosh when set
    allow_list: str = ""  # comma-separated Pushwoosh events to export; blank = all
    batching: bool = False
    batch_size: int = 100
    max_age: float = MAX_AGE_SECONDS
    enabled: bool = True
    mappings_file: str | None = None
    seed: int | None = None
    ca_file: str = ""  # extra CA (PEM) to trust for https downstreams, e.g. a local TLS stack's CA
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Settings without secrets (they are never shown)."""
        return {
            "pushwoosh_url": self.pushwoosh_url,
            "app_code": self.app_code,
            "api_key": _mask(self.api_key),
            "segment_url": self.segment_url,
            "write_key": _mask(self.write_key),
            "segment_secret": _mask(self.segment_secret),
            "pushwoosh_token": _mask(self.pushwoosh_token),
            "allow_list": self.allow_list,
            "batching": self.batching,
            "batch_size": self.batch_size,
            "max_age": self.max_age,
            "enabled": self.enabled,
            "ca_file": self.ca_file,
        }


def _mask(secret: str | None) -> str | None:
    return "<set>" if secret else None


def _named_event(detail: str | None, count: int) -> int | None:
    """The position of the event a refusal names (`events[3].timestamp: ...`), when it names one."""
    found = NAMED_EVENT.search(detail or "")
    index = int(found.group(1)) if found else -1
    return index if 0 <= index < count else None


def _message_id(event: Any) -> str | None:
    found = event.get("messageId") if isinstance(event, dict) else None
    return found if isinstance(found, str) else None


def _label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _events_of(body: Any, key: str) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return body[key]
    if isinstance(body, dict):
        return [body]
    raise IngressError(400, "invalid_shape", f'expected an object, a list, or {{"{key}": [...]}}')


TOO_DEEP = "nested too deeply to store (more than 255 levels)"


def _encoded(event: Any) -> bytes | None:
    """The event as stored in the outbox; None when JSON cannot hold it (orjson stops at 255 levels)."""
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError:
        return None


class Bridge:
    def __init__(
        self,
        settings: BridgeSettings,
        outbox: Outbox,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport` carries every request to both downstreams (tests and embedding apps inject one,
        e.g. `httpx.MockTransport` or `httpx.WSGITransport`); None means real network I/O."""
        self.settings = settings
        self.transport = transport
        self.outbox = outbox
        self.clock = clock or Clock()
        self.stats: dict[str, Counter[str]] = {d: Counter() for d in DIRECTIONS}
        self.skip_reasons: dict[str, Counter[str]] = {d: Counter() for d in DIRECTIONS}
        self.rates = RecentRates(DIRECTIONS)
        self._skips: deque[dict[str, Any]] = deque(maxlen=SKIPS_KEPT)
        self._skips_lock = threading.Lock()
        self.trail = Trail()  # which messageIds each request carried, and its reply (the trace)
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        # A reset bumps the generation and waits for the drain passes in progress, which stop sending
        # once they see it: nothing leased before a reset reaches a service after it.
        self._generation = 0
        self._passes = {direction: threading.Lock() for direction in DIRECTIONS}
        self._rng = random.Random(settings.seed)
        self.pushwoosh: PushwooshSender | None = None
        self.segment: SegmentSender | None = None
        self.mappings = Mappings.load(
            settings.app_code,
            Path(settings.mappings_file) if settings.mappings_file else None,
            batching=settings.batching,
            batch_size=settings.batch_size,
            check_contract=True,  # a bad event is dead-lettered alone instead of sinking its batch
        )
        self.configure(settings)

    def configure(self, settings: BridgeSettings) -> None:
        """(Re)build the senders, e.g. once the stack knows the downstream URLs."""
        self.settings = settings
        self.mappings.app_code = settings.app_code
        self.mappings.batching = settings.batching
        self.mappings.batch_size = settings.batch_size
        if settings.pushwoosh_url:
            self.pushwoosh = PushwooshSender(
                settings.pushwoosh_url, settings.api_key, settings.app_code, client=self._http_client()
            )
        if settings.segment_url:
            self.segment = SegmentSender(settings.segment_url, settings.write_key, client=self._http_client())

    def _http_client(self) -> httpx.Client:
        verify = trust_context(self.settings.ca_file) if self.settings.ca_file else True
        return httpx.Client(timeout=TIMEOUT_SECONDS, verify=verify, transport=self.transport)

    # -- ingress ------------------------------------------------------------------------------------
    def verify_signature(self, body: bytes, signature: str | None) -> None:
        secret = self.settings.segment_secret
        if not secret:
            return
        expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        given = (signature or "").strip().lower().encode("utf-8", "replace")  # a non-ASCII header is just wrong
        if not given or not hmac.compare_digest(expected.encode(), given):
            raise IngressError(401, "bad_signature", "X-Signature does not match the body")

    def check_token(self, authorization: str | None) -> None:
        token = self.settings.pushwoosh_token
        if not token:
            return
        scheme, _, given = (authorization or "").partition(" ")
        presented = given.strip().encode("utf-8", "replace")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented, token.encode()):
            raise IngressError(401, "unauthorized", "a valid Bearer token is required")

    def accept_segment(self, body: Any) -> dict[str, Any]:
        """Enqueue every Segment event of the body; refuse the ones that are not events."""
        items = _events_of(body, "batch")
        good: list[bytes] = []
        ids: list[str | None] = []
        rejected: list[dict[str, Any]] = []
        for index, event in enumerate(items):
            problems = contracts.validate("events/bridge-segment-event", event)
            payload = _encoded(event) if not problems else None
            if payload is None:
                rejected.append({"index": index, "reason": problems[0].message if problems else TOO_DEEP})
                continue
            good.append(payload)
            ids.append(_message_id(event))
        return self._enqueue(SEGMENT, good, rejected, ids)

    def accept_pushwoosh(self, body: Any) -> dict[str, Any]:
        """Enqueue every valid message event the allow-list lets through."""
        items = _events_of(body, "events")
        allowed = allowed_events(self.settings.allow_list)
        good: list[bytes] = []
        ids: list[str | None] = []
        rejected: list[dict[str, Any]] = []
        filtered = 0
        for index, raw in enumerate(items):
            try:
                event = parse_message_event(raw)
            except InvalidMessageEvent as exc:
                rejected.append({"index": index, "reason": str(exc)})
                continue
            if allowed is not None and event.event not in allowed:
                filtered += 1
                continue
            payload = _encoded(raw)
            if payload is None:
                rejected.append({"index": index, "reason": TOO_DEEP})
                continue
            good.append(payload)
            ids.append(message_id(event))
        self.stats[PUSHWOOSH]["filtered"] += filtered
        return {**self._enqueue(PUSHWOOSH, good, rejected, ids), "filtered": filtered}

    def _enqueue(
        self, direction: str, payloads: list[bytes], rejected: list[dict[str, Any]], ids: list[str | None]
    ) -> dict[str, Any]:
        if not payloads and rejected:
            raise IngressError(400, "no_valid_events", f"no valid event; first problem: {rejected[0]['reason']}")
        if rejected:
            logbook.refused(direction, len(rejected), rejected[0]["reason"])
        now = self.clock.time()
        self.outbox.enqueue(direction, payloads, now)
        self.trail.accepted(direction, ids, now)
        self.stats[direction]["accepted"] += len(payloads)
        self.stats[direction]["rejected"] += len(rejected)
        with self._wake:
            self._wake.notify_all()
        return {"accepted": len(payloads), "rejected": rejected}

    # -- workers ------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for direction in DIRECTIONS:
            thread = threading.Thread(target=self._run, args=(direction,), name=f"bridge-{direction}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=15)
        self._threads.clear()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _run(self, direction: str) -> None:
        drain = self.drain_segment if direction == SEGMENT else self.drain_pushwoosh
        while not self._stop.is_set():
            try:
                with self._passes[direction]:
                    worked = self.settings.enabled and drain() > 0
            except Exception as exc:  # one failed pass must not end the direction for the rest of the run
                logbook.pass_failed(direction, exc)
                worked = False
            if not worked:
                with self._wake:
                    self._wake.wait(timeout=0.1)

    def drain_segment(self) -> int:
        """One pass over due Segment events: drain -> batches (`requests_for`) -> send -> settle.

        Returns how many items were handled.
        """
        if self.pushwoosh is None:
            return 0
        generation = self._generation
        items = self.outbox.lease(SEGMENT, LEASE_BATCH, self.clock.time())
        events = [orjson.loads(item.payload) for item in items]
        ids = [_message_id(event) for event in events]
        requests, held = requests_for(events, self.mappings)
        skipped = [h for h in held if h.kind == "skipped"]
        if skipped:
            self._record_skips(SEGMENT, skipped)
            self.outbox.ack([items[s.index].id for s in skipped])
        for invalid in (h for h in held if h.kind == "invalid"):  # Pushwoosh would refuse it: alone, unsent
            self.outbox.bury([items[invalid.index].id], None, invalid.reason)
            self.stats[SEGMENT]["dead_lettered"] += 1
            self.stats[SEGMENT]["invalid"] += 1
            logbook.held_back(invalid.reason)
        for request in requests:
            if self._generation != generation:
                break
            sources = request.sources
            self._deliver(self.pushwoosh, request, [items[i] for i in sources], [ids[i] for i in sources], generation)
        return len(items)

    def _deliver(
        self, sender: PushwooshSender, request: Request, items: list[Item], ids: list[str | None], generation: int
    ) -> None:
        """Send and settle; a post-events batch refused with 400/422 is narrowed down to its bad events.

        The item the reply names (`events[3]...`) is dead-lettered with that reply and the rest resent;
        without such a name the batch is split in halves and each half resent, down to single events.
        """
        encoded = orjson.dumps(request.body)
        sent, outcome = timed(self.clock, SEGMENT, request.endpoint, encoded, items, ids, sender.send, request)
        events = request.body.get("events") if request.endpoint == "post-events" else None
        if outcome.ok or outcome.status not in NARROWED_STATUSES or not events or len(events) == 1:
            self.trail.sent(sent, outcome, *self._settle(SEGMENT, items, outcome))
            return
        self.trail.sent(sent, outcome, "narrowed")
        self.stats[SEGMENT]["narrowed"] += 1
        named = _named_event(outcome.detail, len(events))
        if named is not None:
            self._settle(SEGMENT, [items[named]], outcome)
            parts = [[i for i in range(len(events)) if i != named]]
        else:
            half = len(events) // 2
            parts = [list(range(half)), list(range(half, len(events)))]
        for part in parts:
            if self._generation != generation:
                return
            body = {"events": [events[i] for i in part]}
            part_ids = [ids[i] for i in part]
            self._deliver(sender, Request("post-events", body), [items[i] for i in part], part_ids, generation)

    def drain_pushwoosh(self) -> int:
        if self.segment is None:
            return 0
        generation = self._generation
        items = self.outbox.lease(PUSHWOOSH, LEASE_BATCH, self.clock.time())
        if not items:
            return 0
        by_message: dict[str, list[Item]] = {}
        messages: list[dict[str, Any]] = []
        for item in items:
            message = track_message(parse_message_event(orjson.loads(item.payload)))
            if message["messageId"] not in by_message:
                messages.append(message)
            by_message.setdefault(message["messageId"], []).append(item)
        sender = self.segment
        for body, ids in batch_bodies(messages, iso_millis(self.clock.now())):
            if self._generation != generation:
                break
            carried = [item for mid in ids for item in by_message[mid]]
            sent, outcome = timed(self.clock, PUSHWOOSH, "/v1/batch", body, carried, list(ids), sender.send, body)
            self.trail.sent(sent, outcome, *self._settle(PUSHWOOSH, carried, outcome))
        return len(items)

    def _settle(self, direction: str, items: list[Item], outcome: Outcome) -> tuple[str, float | None]:
        """Ack, retry or bury `items` after `outcome`; returns what became of them and the next attempt's time."""
        ids = [item.id for item in items]
        stats = self.stats[direction]
        now = self.clock.time()
        if outcome.ok:
            self.outbox.ack(ids)
            stats["delivered"] += len(ids)
            self.rates.record(direction, now, delivered=len(ids), latencies=[now - i.created_at for i in items])
            logbook.delivered(direction, len(ids), outcome)
            return "delivered", None
        self.rates.record(direction, now, failed=len(ids))
        expired = [i.id for i in items if now - i.created_at >= self.settings.max_age]
        if not outcome.retry or expired:
            dead = ids if not outcome.retry else expired
            self.outbox.bury(dead, outcome.status, outcome.detail or "max age reached")
            stats["dead_lettered"] += len(dead)
            logbook.dead_lettered(direction, len(dead), outcome)
            ids = [i for i in ids if i not in dead]
        if ids:
            attempts = max(item.attempts for item in items)
            delay = RETRY.delay(attempts + 1, outcome.retry_after, self._rng)
            self.outbox.retry(ids, now + delay, outcome.status, outcome.detail)
            stats["retried"] += len(ids)
            logbook.retrying(direction, len(ids), delay, outcome)
            return "retry", now + delay
        return "dead", None

    def _record_skips(self, direction: str, skipped: list[Skipped]) -> None:
        """Count each skip under its reason and keep the latest ones for the control API."""
        at = iso_millis(self.clock.now())
        with self._skips_lock:
            for skip in skipped:
                self.stats[direction]["skipped"] += 1
                self.skip_reasons[direction][skip.reason] += 1
                self._skips.append(
                    {"direction": direction, "message_id": skip.message_id, "reason": skip.reason, "at": at}
                )
                logbook.skipped(direction, skip.message_id, skip.reason)

    # -- inspection ---------------------------------------------------------------------------------
    def skipped_events(self) -> list[dict[str, Any]]:
        """The latest events skipped without being sent (oldest first), each with its reason."""
        with self._skips_lock:
            return list(self._skips)

    def describe_stats(self) -> dict[str, Any]:
        counts = self.outbox.counts()
        return {
            direction: {
                "queued": counts.get(direction, {}).get("queued", 0),
                "dead": counts.get(direction, {}).get("dead", 0),
                **{k: self.stats[direction].get(k, 0) for k in STAT_NAMES},
                "skipped_by_reason": dict(self.skip_reasons[direction]),
            }
            for direction in DIRECTIONS
        }

    def metrics(self) -> str:
        """Prometheus text exposition of the stats."""
        lines = []
        stats = self.describe_stats()
        for name in ("queued", "dead", *STAT_NAMES):
            kind = "gauge" if name in ("queued", "dead") else "counter"
            metric = f"swoosh_bridge_{name}" + ("" if kind == "gauge" else "_total")
            lines.append(f"# TYPE {metric} {kind}")
            lines.extend(f'{metric}{{direction="{d}"}} {stats[d][name]}' for d in DIRECTIONS)
        lines.append("# TYPE swoosh_bridge_skipped_by_reason_total counter")
        lines.extend(
            f'swoosh_bridge_skipped_by_reason_total{{direction="{d}",reason="{_label(reason)}"}} {count}'
            for d in DIRECTIONS
            for reason, count in sorted(self.skip_reasons[d].items())
        )
        return "\n".join(lines) + "\n"

    def reset(self) -> None:
        """Forget everything queued; returns once no pass still holds events leased before the reset."""
        self._generation += 1
        with self._passes[SEGMENT], self._passes[PUSHWOOSH]:
            self.outbox.purge()
            for counter in (*self.stats.values(), *self.skip_reasons.values()):
                counter.clear()
            with self._skips_lock:
                self._skips.clear()
            self.trail.clear()
            self.rates.clear()
