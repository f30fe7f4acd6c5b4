"""Delivering accepted events to destinations, the way Segment's webhooks do.

One POST per event (or `{"batch": [...]}` of up to `max_batch` events when a destination asks for
it), `User-Agent: Segment.io/1.0`, `X-Signature` = hex HMAC-SHA1 of the body when a secret is set.
Failed attempts are retried by the shared policy (emulator/retry.py: 408, 423, 429, 5xx except 501,
connection errors and timeouts; exponential backoff, Retry-After honoured) until 4 hours after the
first attempt, measured on the injectable clock; other statuses are final. Each destination has its
own worker thread, so a slow one delays no other.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import random
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from swoosh.emulator import logfields
from swoosh.emulator.control import match_filters
from swoosh.emulator.journal import REDACTED
from swoosh.emulator.retry import Outcome, RetryPolicy, classify
from swoosh.emulator.runtime import Runtime

RETRY_WINDOW_SECONDS = 4 * 3600
RETRY = RetryPolicy(base=1.0, cap=600.0)
LOG_CAPACITY = 200_000
MARK_EVERY = 0.25  # seconds between writes of a busy destination's mark (Deliverer.on_mark)
USER_AGENT = "Segment.io/1.0"


# -- subscriptions -----------------------------------------------------------------------------
class SubscriptionError(ValueError):
    """A subscription expression that cannot be parsed; says where."""


_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>!=|=)|(?P<paren>[()])|(?P<word>[A-Za-z_][\w.]*))')

Predicate = Callable[[Mapping[str, Any]], bool]


def parse_subscription(text: str | None) -> Predicate:
    """A subset of Segment's subscription syntax: `field = "v"`, `!=`, `and`, `or`, parentheses."""
    if text is None or not text.strip():
        return lambda _event: True
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise SubscriptionError(f"unexpected {text[pos : pos + 10]!r} at position {pos}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    index = 0

    def peek() -> tuple[str, str, int] | None:
        return tokens[index] if index < len(tokens) else None

    def take(kind: str, value: str | None = None) -> tuple[str, str, int]:
        nonlocal index
        token = peek()
        if token is None or token[0] != kind or (value is not None and token[1].lower() != value):
            where = f"at position {token[2]}" if token else "at the end"
            raise SubscriptionError(f"expected {value or kind} {where}")
        index += 1
        return token

    def expression() -> Predicate:
        left = term()
        while (token := peek()) and token[0] == "word" and token[1].lower() == "or":
            take("word", "or")
            right = term()
            left = (lambda a, b: lambda e: a(e) or b(e))(left, right)
        return left

    def term() -> Predicate:
        left = factor()
        while (token := peek()) and token[0] == "word" and token[1].lower() == "and":
            take("word", "and")
            right = factor()
            left = (lambda a, b: lambda e: a(e) and b(e))(left, right)
        return left

    def factor() -> Predicate:
        token = peek()
        if token and token[0] == "paren" and token[1] == "(":
            take("paren")
            inner = expression()
            take("paren")
            return inner
        path = take("word")[1].split(".")
        operator = take("op")[1]
        value = orjson.loads(take("str")[1])

        def lookup(event: Mapping[str, Any]) -> Any:
            current: Any = event
            for part in path:
                current = current.get(part) if isinstance(current, Mapping) else None
            return current

        if operator == "=":
            return lambda e: lookup(e) == value
        return lambda e: lookup(e) != value

    predicate = expression()
    if peek() is not None:
        raise SubscriptionError(f"unexpected {peek()[1]!r} at position {peek()[2]}")  # type: ignore[index]  # peek() is not None in this branch
    return predicate


# -- destinations and their log -----------------------------------------------------------------
@dataclass
class Destination:
    id: int
    source: str
    name: str
    url: str
    secret: str | None = None
    subscription: str | None = None
    max_batch: int = 1
    timeout: float = 5.0
    matches: Predicate = field(default=lambda _e: True, repr=False)

    def spec(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "url": self.url,
            "secret": self.secret,
            "subscription": self.subscription,
            "max_batch": self.max_batch,
            "timeout": self.timeout,
        }

    def describe(self) -> dict[str, Any]:
        shown = self.spec()
        shown["secret"] = "<set>" if self.secret else None
        return {"id": self.id, **shown}


@dataclass
class Delivery:
    id: int
    destination: Destination
    message: dict[str, Any]
    first_at: float
    next_at: float
    state: str = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0  # the stored event's seq: what a restart resumes from (Deliverer.on_mark)

    def describe(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        return {
            "id": self.id,
            "destination": self.destination.name,
            "destination_id": self.destination.id,
            "source": self.destination.source,
            "messageId": self.message.get("messageId"),
            "type": self.message.get("type"),
            "event": self.message.get("event"),
            "state": self.state,
            "attempts": len(self.attempts),
            "last_status": last.get("status"),
            "last_error": last.get("error"),
            "next_attempt_at": self.next_at if self.state == "pending" else None,
            "history": self.attempts,
        }


DELIVERY_FILTERS = {k: k for k in ("destination", "destination_id", "source", "messageId", "type", "event", "state")}


def enabled_for(message: Mapping[str, Any], destination: str) -> bool:
    """Segment's `integrations` switch: `{"<Destination>": false}` keeps a message from that destination,
    `{"All": false}` from every destination not turned on by name (`true` or an options object)."""
    integrations = message.get("integrations")
    if not isinstance(integrations, Mapping):
        return True
    own = integrations.get(destination)
    if own is not None:
        return own is not False
    return integrations.get("All", True) is not False


def _spec_value(spec: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = spec.get(key, default)
    if value is None or (kind is not str and isinstance(value, bool)) or not isinstance(value, kind):
        if value is None and default is None:
            return None
        raise ValueError(f"{key} must be a {kind.__name__}")
    return value


class _Lane:
    """One destination's queue and worker thread."""

    def __init__(self, owner: Deliverer, destination: Destination, start: int) -> None:
        self.owner = owner
        self.destination = destination
        self.heap: list[tuple[float, int, Delivery]] = []
        self.unsettled: set[int] = set()  # seqs queued or on the wire
        self.offered_up_to = start  # the newest seq of the source this lane has been offered
        self.saved_mark = -1  # the mark last handed to `on_mark` (-1: none yet)
        self.saved_at = 0.0
        self.stopped = False
        self.sending = False  # a batch is on the wire; `Deliverer.clear` waits for it to settle
        self.http = httpx.Client(timeout=destination.timeout, headers={"User-Agent": USER_AGENT}, verify=owner.verify)
        self.thread = threading.Thread(target=self.run, name=f"swoosh-delivery-{destination.id}", daemon=True)
        self.thread.start()

    def due(self, now: float) -> list[Delivery]:
        batch: list[Delivery] = []
        while self.heap and self.heap[0][0] <= now and len(batch) < self.destination.max_batch:
            batch.append(heapq.heappop(self.heap)[2])
        return batch

    def run(self) -> None:
        owner = self.owner
        while True:
            with owner.cond:
                while not self.stopped and not self.due_now():
                    owner.cond.wait(timeout=0.2)
                if self.stopped:
                    break
                batch = self.due(owner.runtime.clock.time())
                self.sending = True
            self.send(batch)
        self.http.close()

    def due_now(self) -> bool:
        return bool(self.heap) and self.heap[0][0] <= self.owner.runtime.clock.time()

    def mark(self) -> int:
        """Every event of the source up to this seq was delivered, given up on, or not for this destination."""
        return min(self.unsettled) - 1 if self.unsettled else self.offered_up_to

    def mark_to_save(self) -> int | None:
        """The mark, when it moved and is worth a write: at most every MARK_EVERY s while busy, at once when idle."""
        now = time.monotonic()
        if self.unsettled and now - self.saved_at < MARK_EVERY:
            return None  # checked first: `mark` reads every unsettled seq
        mark = self.mark()
        if mark <= self.saved_mark:
            return None
        self.saved_mark, self.saved_at = mark, now
        return mark

    def send(self, batch: list[Delivery]) -> None:
        destination = self.destination
        body = orjson.dumps(batch[0].message if destination.max_batch == 1 else {"batch": [d.message for d in batch]})
        headers = {"Content-Type": "application/json"}
        if destination.secret:
            headers["X-Signature"] = hmac.new(destination.secret.encode(), body, hashlib.sha1).hexdigest()
        sent_at, started = self.owner.runtime.clock.time(), time.perf_counter()
        try:
            outcome = classify(self.http.post(destination.url, content=body, headers=headers))
        except httpx.HTTPError as exc:
            outcome = classify(None, exc)
        took_ms = round((time.perf_counter() - started) * 1000, 3)
        self.owner.settle(self, batch, outcome, sent_at, took_ms)


class Deliverer:
    """Destinations, pending deliveries and the delivery log of one fake Segment."""

    def __init__(self, runtime: Runtime, seed: int | None = None) -> None:
        self.runtime = runtime
        self.cond = threading.Condition()
        self._lanes: dict[int, _Lane] = {}
        self._ids = itertools.count(1)
        self._delivery_ids = itertools.count(1)
        self._log: deque[Delivery] = deque(maxlen=LOG_CAPACITY)
        self._rng = random.Random(seed)
        self.verify: ssl.SSLContext | bool = True  # TLS trust for https destinations (a local stack sets its CA)
        self.last_seq: Callable[[], int] = lambda: 0  # the newest stored seq: where a new destination starts
        # Called with a destination and its mark when the mark moved (the backend writes it to its store, so a
        # restart offers again what was not settled; at-least-once, like Segment's own delivery).
        self.on_mark: Callable[[Destination, int], None] | None = None

    def add(self, spec: Mapping[str, Any]) -> Destination:
        if not isinstance(spec, Mapping):
            raise ValueError("a destination must be an object")
        url = _spec_value(spec, "url", str, None)
        if not url or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        max_batch = _spec_value(spec, "max_batch", int, 1)
        if not 1 <= max_batch <= 1000:
            raise ValueError("max_batch must be between 1 and 1000")
        timeout = spec.get("timeout", 5.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
            raise ValueError("timeout must be a number of seconds between 0 and 60")
        subscription = _spec_value(spec, "subscription", str, None)
        destination = Destination(
            next(self._ids),
            str(spec.get("source", "app")),
            _spec_value(spec, "name", str, "webhook"),
            url,
            _spec_value(spec, "secret", str, None),
            subscription,
            max_batch,
            float(timeout),
            parse_subscription(subscription),
        )
        with self.cond:
            lane = self._lanes[destination.id] = _Lane(self, destination, self.last_seq())
            mark = lane.mark_to_save() if self.on_mark else None
        if mark is not None and self.on_mark:
            self.on_mark(destination, mark)
        return destination

    def remove(self, destination_id: int) -> bool:
        with self.cond:
            lane = self._lanes.pop(destination_id, None)
            if lane is None:
                return False
            lane.stopped = True
            self.cond.notify_all()
        return True

    def replace(self, specs: list[dict[str, Any]]) -> None:
        """Destinations of an import replace the current ones; a signing secret redacted in the export is
        the one of the current destination with the same URL (imported back into its stack), else none."""
        secrets = {d.url: d.secret for d in self.destinations()}
        specs = [_with_secret(spec, secrets) for spec in specs]
        for destination_id in list(self._lanes):
            self.remove(destination_id)
        for spec in specs:
            self.add(spec)

    def destinations(self) -> list[Destination]:
        with self.cond:
            return [lane.destination for lane in self._lanes.values()]

    def offer(self, source: str, messages: Sequence[tuple[int, dict[str, Any]]], only: int | None = None) -> None:
        """Queue accepted (seq, message) pairs for every destination of `source` (or the one with id `only`)
        whose subscription matches."""
        if not self._lanes or not messages:
            return
        now = self.runtime.clock.time()
        with self.cond:
            for lane in self._lanes.values():
                destination = lane.destination
                if destination.source != source or only not in (None, destination.id):
                    continue
                lane.offered_up_to = max(lane.offered_up_to, messages[-1][0])
                for seq, message in messages:
                    if enabled_for(message, destination.name) and destination.matches(message):
                        delivery = Delivery(next(self._delivery_ids), destination, message, now, now, seq=seq)
                        self._log.append(delivery)
                        lane.unsettled.add(seq)
                        heapq.heappush(lane.heap, (now, delivery.id, delivery))
            self.cond.notify_all()

    def settle(self, lane: _Lane, batch: list[Delivery], outcome: Outcome, sent_at: float, took_ms: float) -> None:
        """Record the attempt (when it was sent, how long it took, the answer) on each delivery of `batch`."""
        now = self.runtime.clock.time()
        with self.cond:
            lane.sending = False
            self.cond.notify_all()
            for delivery in batch:
                error = outcome.detail if outcome.status is None else None
                attempt = {"at": now, "sent_at": sent_at, "duration_ms": took_ms, "status": outcome.status}
                delivery.attempts.append({**attempt, "error": error})
                if outcome.ok:
                    delivery.state = "delivered"
                elif outcome.retry and now - delivery.first_at < RETRY_WINDOW_SECONDS:
                    delivery.next_at = now + RETRY.delay(len(delivery.attempts), outcome.retry_after, self._rng)
                    if not lane.stopped:
                        heapq.heappush(lane.heap, (delivery.next_at, delivery.id, delivery))
                        continue
                else:
                    delivery.state = "failed"
                lane.unsettled.discard(delivery.seq)
            mark = lane.mark_to_save() if self.on_mark and not lane.stopped else None  # stopped: store may be gone
        if mark is not None and self.on_mark:
            self.on_mark(lane.destination, mark)
        self._log_attempt(lane.destination, batch, outcome)
        self.runtime.notify()

    def _log_attempt(self, destination: Destination, batch: list[Delivery], outcome: Outcome) -> None:
        log, answer = self.runtime.log, outcome.status or outcome.detail
        shown = {
            "destination": destination.name,
            "count": len(batch),
            "status": outcome.status,
            "reason": outcome.reason,
        }
        if outcome.ok:
            log.info(
                "delivered %d event(s) to %s (%s)",
                len(batch),
                destination.name,
                answer,
                extra=logfields.fields(logfields.DELIVERY, **shown),
            )
        elif all(d.state == "failed" for d in batch):
            log.warning(
                "gave up on %d event(s) to %s: %s",
                len(batch),
                destination.name,
                answer,
                extra=logfields.fields(logfields.DEAD_LETTER, **shown),
            )
        else:
            wait = min(d.next_at for d in batch) - self.runtime.clock.time()
            log.info(
                "will retry %d event(s) to %s in %.1f s: %s",
                len(batch),
                destination.name,
                wait,
                answer,
                extra=logfields.fields(logfields.RETRY, **shown, retry_in=round(wait, 3)),
            )

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def log(self, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        with self.cond:
            items = [d.describe() for d in self._log]
        found = [i for i in items if match_filters(i, filters, DELIVERY_FILTERS)]
        return found[-limit:] if limit else found if limit is None else []

    def clear(self) -> None:
        """Forget pending deliveries and the log, once no batch is on the wire: a delivery sent before a
        reset must not reach its destination after it (a test's reset would otherwise leak into the next)."""
        with self.cond:
            longest_send = max((lane.destination.timeout for lane in self._lanes.values()), default=0.0)
            self.cond.wait_for(lambda: not any(lane.sending for lane in self._lanes.values()), longest_send + 1)
            self._log.clear()
            marks = []
            for lane in self._lanes.values():
                lane.heap.clear()
                lane.unsettled.clear()
                mark = lane.mark_to_save() if self.on_mark else None
                if mark is not None:
                    marks.append((lane.destination, mark))
        for destination, mark in marks:
            self.on_mark(destination, mark)  # type: ignore[misc]  # marks are only collected with on_mark set

    def close(self) -> None:
        for destination_id in list(self._lanes):
            self.remove(destination_id)


def _with_secret(spec: Any, secrets: dict[str, str | None]) -> Any:
    if isinstance(spec, dict) and spec.get("secret") == REDACTED:
        return {**spec, "secret": secrets.get(str(spec.get("url")))}
    return spec
