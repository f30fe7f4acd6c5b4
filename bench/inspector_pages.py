"""Every inspector page with 1,000,000 stored events: each must answer in under 1 s (issue 16, item 3).

Loads the events straight into the fake Segment's backend, in batches through its normal ingest (the
HTTP path is measured by segment_batch.py; here only what is stored matters), with the bridge's
destination removed so the bridge does not deliver a million events meanwhile, then waits for the
warehouse to load them. Then times each page (median of `--runs` GETs) with filters that match many,
few and none: a filter that matches nothing scans every stored event, the worst case.

    python bench/inspector_pages.py [--events 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import httpx

from swoosh.emulator.options import StackOptions
from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack

BATCH = 500
TYPES = ("track", "identify", "page")


def load(backend: Any, write_key: str, count: int) -> float:
    """Seconds to ingest `count` events; every 1000th user is `rare-N`, the rest share 5,000 users."""
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, count)):
            kind = TYPES[n % 3]
            user = f"rare-{n}" if n % 1000 == 0 else f"user-{n % 5000}"
            item: dict[str, Any] = {"type": kind, "userId": user, "messageId": f"bench-{n}"}
            if kind == "track":
                item.update(event=f"Event {n % 20}", properties={"n": n})
            elif kind == "page":
                item["name"] = "Home"
            else:
                item["traits"] = {"plan": "pro"}
            batch.append(item)
        backend.ingest("batch", {"batch": batch}, write_key)
    return time.perf_counter() - start


def timed(client: httpx.Client, path: str, runs: int) -> tuple[float, int]:
    times = []
    status = 0
    for _ in range(runs):
        start = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - start)
        status = answer.status_code
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with Stack(StackOptions()) as stack:
        segment = SegmentClient(stack.urls["segment"])
        for destination in segment.items("destinations"):
            segment.remove_destination(destination["id"])
        backend = stack.handles["segment"].backend  # type: ignore[attr-defined]
        seconds = load(backend, segment.write_key(), args.events)
        print(f"loaded {args.events:,} events in {seconds:.1f} s ({args.events / seconds:,.0f}/s)")
        start = time.perf_counter()
        backend.warehouse.flush(timeout=3600)
        print(f"warehouse caught up in {time.perf_counter() - start:.1f} s; stored: {segment.counts()['stored']:,}")
        print("load average before timing: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        newest = segment.items("events", limit=1)[0]["seq"]
        pages = [
            ("Live, newest 50", "/live"),
            ("Live, type=track event='Event 7' (many)", "/live?type=track&event=Event+7"),
            ("Live, user=rare-500000 (one)", "/live?user=rare-500000"),
            ("Live, status=bad (none: full scan)", "/live?status=bad"),
            ("Live, time range (none: full scan)", "/live?until=2000-01-01T00:00:00"),
            ("Live, page back to the middle", f"/live?before={newest // 2}"),
            ("Live, oldest message's detail + warehouse rows", "/live/event/1"),
            ("Live, stream's query (after newest)", None),
            ("Bridge", "/bridge"),
            ("Control", "/control"),
        ]
        with httpx.Client(base_url=stack.urls["inspector"], timeout=120) as client:
            print("| page | median | status |\n|---|---|---|")
            for label, path in pages:
                if path is None:  # what one round of the live stream asks the fake Segment
                    with httpx.Client(base_url=stack.urls["segment"], timeout=120) as direct:
                        median, status = timed(direct, f"/_swoosh/events?after={newest}", args.runs)
                else:
                    median, status = timed(client, path, args.runs)
                print(f"| {label} | {median * 1000:.0f} ms | {status} |")


if __name__ == "__main__":
    main()
