"""Throughput and latency of the bridge's deliveries over the last minutes, per second and direction.

Kept for the inspector's chart (`GET /_swoosh/rates`): one small bucket per second with something in
it, none for a quiet second, nothing older than `window` seconds. Latency is from the event entering
the outbox to the downstream's confirmation, so it includes retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

WINDOW_SECONDS = 600


class RecentRates:
    def __init__(self, directions: Iterable[str], window: int = WINDOW_SECONDS) -> None:
        self.window = window
        # direction -> second -> [delivered, failed, latency sum (s), latencies counted]
        self._buckets: dict[str, dict[int, list[float]]] = {d: {} for d in directions}
        self._lock = threading.Lock()

    def record(
        self, direction: str, at: float, delivered: int = 0, failed: int = 0, latencies: Iterable[float] = ()
    ) -> None:
        second = int(at)
        waits = list(latencies)
        with self._lock:
            buckets = self._buckets[direction]
            bucket = buckets.setdefault(second, [0, 0, 0.0, 0])
            bucket[0] += delivered
            bucket[1] += failed
            bucket[2] += sum(waits)
            bucket[3] += len(waits)
            for old in [s for s in buckets if s <= second - self.window]:
                del buckets[old]

    def series(self, now: float, seconds: int) -> dict[str, Any]:
        """Per direction, the seconds of the last `seconds` that saw deliveries or failures, oldest first."""
        start = int(now) - min(seconds, self.window) + 1
        with self._lock:
            return {
                "from": start,
                "to": int(now),
                "directions": {
                    direction: [
                        {
                            "t": second,
                            "delivered": int(b[0]),
                            "failed": int(b[1]),
                            "latency_ms": round(b[2] / b[3] * 1000, 1) if b[3] else None,
                        }
                        for second, b in sorted(buckets.items())
                        if second >= start
                    ]
                    for direction, buckets in self._buckets.items()
                },
            }

    def clear(self) -> None:
        with self._lock:
            for buckets in self._buckets.values():
                buckets.clear()
