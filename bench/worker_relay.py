"""What a worker process pays per request for sharing one service (in-process, no HTTP).

    python bench/worker_relay.py [--requests 5000]

Per request a worker reads the published configuration's version (`Subscriber.current`) and appends
its journal entry to the store's relay table (`RelayedJournal.record`, one small transaction); the
primary's journal keeps entries in memory (`Journal.record`). Measured for both store settings a
worker may open: OFF (no --data-dir) and NORMAL (--data-dir). µs per call, median of 5 rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from swoosh.emulator.journal import Journal
from swoosh.emulator.shared_state import Publisher, RelayedJournal, RelayReader, Subscriber
from swoosh.emulator.store import SqliteStore

BODY = b'{"writeKey":"k","batch":[' + b",".join([b'{"type":"track","event":"Order Completed"}'] * 100) + b"]}"


def per_call(action: object, calls: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            action()  # type: ignore[operator]
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return round(statistics.median(rounds), 1)


def entry(journal: Journal) -> object:
    made = journal.new_entry(time.time(), "POST", "/v1/batch", "", {"Content-Type": "application/json"}, BODY)
    made.status, made.response_body = 200, '{"success":true}'
    return made


def measure(synchronous: str, calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(Path(folder) / "store.db", synchronous=synchronous)
        Publisher(store, "segment", lambda: {"sources": [], "strict": False}).publish()
        subscriber = Subscriber(store, "segment", lambda snapshot: None)
        memory, relayed = Journal(), RelayedJournal(store)
        reader = RelayReader(store, Journal())
        result = {
            "journal_in_memory_us": per_call(lambda: memory.record(entry(memory)), calls),  # type: ignore[arg-type]
            "journal_relayed_us": per_call(lambda: relayed.record(entry(relayed)), calls),  # type: ignore[arg-type]
            "published_version_read_us": per_call(subscriber.current, calls),
        }
        started, taken = time.perf_counter(), 0
        while taken < 5 * calls:
            taken += reader.take()
        result["primary_takes_per_entry_us"] = round((time.perf_counter() - started) / taken * 1e6, 1)
        store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    results = {mode: measure(mode, args.requests) for mode in ("OFF", "NORMAL")}
    print(json.dumps({**results, "command": " ".join(["python", *sys.argv])}, indent=2))


if __name__ == "__main__":
    main()
