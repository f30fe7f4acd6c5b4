"""What the bridge did with each messageId, so one event can be followed across it (`swoosh trace`).

The outbox forgets an event once it is delivered, and a downstream's journal cannot say which
messageIds a request carried: this is the bridge's own account. A bounded ring, newest last, of
`accepted` records (the ingress committed these messageIds to the outbox) and `sent` records (one
request to a downstream: endpoint, the messageIds it carried, the attempt, the body as sent, the
reply's status and text, how long it took, and what became of it). Bodies are clipped and their
secret fields redacted as the request journal's are; no header is kept (the credentials are there).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from swoosh.bridge.outbox import Item
from swoosh.emulator.clock import Clock
from swoosh.emulator.journal import redact_text
from swoosh.emulator.retry import Outcome

IDS_KEPT = 20_000  # messageIds over all records: older records go first once more are held
BODY_BYTES = 4096


@dataclass(frozen=True)
class Sent:
    """One request to a downstream, as the trail records it."""

    direction: str
    endpoint: str
    message_ids: Sequence[str | None]
    body: bytes
    at: float  # on the bridge's clock, when the request left
    duration_ms: float
    attempt: int  # 1 for a first try


def timed(
    clock: Clock,
    direction: str,
    endpoint: str,
    body: bytes,
    items: Sequence[Item],
    message_ids: Sequence[str | None],
    send: Callable[[Any], Outcome],
    request: Any,
) -> tuple[Sent, Outcome]:
    """Make one request (`send(request)`) carrying `items`, and describe it for the trail."""
    at, started = clock.time(), time.perf_counter()
    outcome = send(request)
    took = (time.perf_counter() - started) * 1000
    attempt = max((item.attempts for item in items), default=0) + 1
    return Sent(direction, endpoint, message_ids, body, at, took, attempt), outcome


class Trail:
    """Thread-safe; bounded by the number of messageIds held, so a 500-event batch costs what 500 single events do."""

    def __init__(self, ids_kept: int = IDS_KEPT) -> None:
        self.ids_kept = ids_kept
        self._records: deque[dict[str, Any]] = deque()
        self._held = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def accepted(self, direction: str, message_ids: Sequence[str | None], at: float) -> None:
        ids = [i for i in message_ids if i]
        if ids:
            self._add({"kind": "accepted", "direction": direction, "at": at, "message_ids": ids})

    def sent(self, sent: Sent, outcome: Outcome, result: str, next_attempt_at: float | None = None) -> None:
        """`result`: delivered, retry (at `next_attempt_at`), dead (dead-lettered) or narrowed (split and resent)."""
        text = sent.body[:BODY_BYTES].decode("utf-8", "replace")
        self._add(
            {
                "kind": "sent",
                "direction": sent.direction,
                "endpoint": sent.endpoint,
                "at": sent.at,
                "duration_ms": round(sent.duration_ms, 3),
                "attempt": sent.attempt,
                "message_ids": [i for i in sent.message_ids if i],
                "body": redact_text(text),
                "body_truncated": len(sent.body) > BODY_BYTES,
                "status": outcome.status,
                "reply": outcome.detail,
                "result": result,
                "next_attempt_at": next_attempt_at,
            }
        )

    def _add(self, record: dict[str, Any]) -> None:
        with self._lock:
            record["id"] = next(self._ids)
            self._records.append(record)
            self._held += len(record["message_ids"])
            while self._held > self.ids_kept and len(self._records) > 1:
                self._held -= len(self._records.popleft()["message_ids"])

    def records(
        self, message_id: str | None = None, direction: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """Records oldest first; `message_id` keeps those that carry it."""
        with self._lock:
            found = list(self._records)
        return [
            r
            for r in found
            if (message_id is None or message_id in r["message_ids"])
            and (direction is None or r["direction"] == direction)
            and (kind is None or r["kind"] == kind)
        ]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._held = 0
