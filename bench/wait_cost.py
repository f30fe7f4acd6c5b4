"""What one wake of a long-poll wait costs the fake Segment with 100,000 stored events: building every match
(as the wait did before) against counting them (as it does now). Run: `python bench/wait_cost.py`."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from swoosh.emulator.defaults import APP_WRITE_KEY
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig

EVENTS, BATCH, ROUNDS = 100_000, 500, 5
QUERIES = {"all good (100,000 match)": {"status": "good"}, "one user (100 match)": {"user": "u7"}}


def median_ms(call: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    backend = SegmentBackend(SegmentConfig(max_events=2 * EVENTS))
    try:
        for start in range(0, EVENTS, BATCH):
            batch = [
                {"type": "track", "event": "Order Completed", "userId": f"u{n % 1000}", "properties": {"n": n}}
                for n in range(start, start + BATCH)
            ]
            backend.ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": batch})
        for name, filters in QUERIES.items():
            built = median_ms(lambda f=filters: backend.events(f))
            counted = median_ms(lambda f=filters: backend.table.select_chunks(f)[0])
            print(f"{name}: one wake, every match built {built:.1f} ms, counted {counted:.2f} ms")
    finally:
        backend.close()


if __name__ == "__main__":
    main()
