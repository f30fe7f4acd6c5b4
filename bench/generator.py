"""Fixture generator throughput: Segment events/s written as NDJSON to /dev/null, one process.

    python bench/generator.py [--runs 5] [--count 200000] [--seed 1] [--locale en_US]

Each run goes through `swoosh fixtures generate`'s own code path in-process (fixtures.generator.generate
-> fixtures.cli.write, orjson NDJSON in 512-line writes) with its own seed, timed from the first event
to the last byte written; the one-off set-up (Faker pools, 1,000 users) is reported apart.
The target is the median of the runs: >= 50,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

from swoosh.fixtures.cli import write
from swoosh.fixtures.generator import generate
from swoosh.fixtures.pools import pools_for

TARGET = 50_000


def one_run(count: int, seed: int, locale: str) -> tuple[float, float]:
    """(events/s after the first event, seconds to the first event) for one seed's stream."""
    pools_for.cache_clear()  # every run pays its own Faker pools
    started = time.perf_counter()
    items = generate("segment", count, seed, locale)
    first = next(items)
    ready = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        write([first], sink, "ndjson")
        write(items, sink, "ndjson")
    elapsed = time.perf_counter() - ready
    return (count - 1) / elapsed, ready - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--locale", default="en_US")
    args = parser.parse_args()
    rates, setups = [], []
    for run in range(args.runs):
        rate, setup = one_run(args.count, args.seed + run, args.locale)
        rates.append(rate)
        setups.append(setup)
    median = statistics.median(rates)
    print(
        json.dumps(
            {
                "command": "python bench/generator.py " + " ".join(sys.argv[1:]),
                "events_per_run": args.count,
                "runs_events_per_s": [round(r) for r in rates],
                "median_events_per_s": round(median),
                "setup_s": [round(s, 3) for s in setups],
                "target_events_per_s": TARGET,
                "met": median >= TARGET,
                "cpu": platform.processor() or platform.machine(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
