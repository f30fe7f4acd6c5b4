"""Several fake Segments over one store file (what worker processes will be): the write step is atomic.

Each backend opens the --data-dir store on its own connections, as a separate process does; SQLite's
file locks serialise their write transactions (BEGIN IMMEDIATE) in one process as across processes.
The last test runs real processes.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swoosh.emulator.defaults import APP_WRITE_KEY
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.segment.event_table import SCHEMA
from swoosh.emulator.segment.group_commit import GroupCommit
from swoosh.emulator.segment.stored import stored_row
from swoosh.emulator.store import StoreError, open_store

THREADS, REQUESTS, PER_REQUEST, IDS = 4, 12, 10, 60


def body(thread: int, request: int) -> dict[str, Any]:
    """10 track calls whose messageIds every thread also sends (each id several times in all)."""
    first = (thread * 7 + request * PER_REQUEST) % IDS
    return {
        "writeKey": APP_WRITE_KEY,
        "batch": [
            {"type": "track", "event": "Shared", "userId": f"u{thread}", "messageId": f"id-{(first + n) % IDS}"}
            for n in range(PER_REQUEST)
        ],
    }


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[list[SegmentBackend]]:
    stores = [open_store("segment", tmp_path) for _ in range(2)]
    opened = [SegmentBackend(SegmentConfig(max_events=10_000), store=store) for store in stores]
    yield opened
    for backend, store in zip(opened, stores, strict=True):
        backend.close()
        store.close()


def ingest_from_threads(backends: list[SegmentBackend]) -> None:
    errors: list[BaseException] = []

    def send(thread: int) -> None:
        try:
            for request in range(REQUESTS):
                backends[(thread + request) % len(backends)].ingest("batch", body(thread, request))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_backends_on_one_store_keep_each_message_id_once_and_agree_on_counts(
    backends: list[SegmentBackend],
) -> None:
    ingest_from_threads(backends)
    sent = THREADS * REQUESTS * PER_REQUEST
    events = backends[0].events({})
    good = Counter(e["message"]["messageId"] for e in events if e["status"] == "good")
    assert set(good.values()) == {1}
    assert len(good) == IDS
    seqs = [e["seq"] for e in events]
    assert len(set(seqs)) == len(seqs) == sent
    assert sorted(seqs) == list(range(1, sent + 1))
    counts = [backend.counts() for backend in backends]
    assert counts[0] == counts[1]
    assert counts[0]["good"] == IDS
    assert counts[0]["duplicate"] == sent - IDS
    assert counts[0]["stored"] == sent
    assert backends[1].events({"status": "good"}) == backends[0].events({"status": "good"})


def test_a_duplicate_is_stored_as_it_arrived_and_the_good_one_enriched(backends: list[SegmentBackend]) -> None:
    call = {"type": "track", "event": "Once", "userId": "u", "messageId": "same"}
    backends[0].ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": [dict(call)]})
    result = backends[1].ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": [dict(call)]})
    assert (result.accepted, result.duplicates) == (0, 1)
    first, second = backends[1].events({})
    assert first["status"] == "good" and "receivedAt" in first["message"]
    assert second["status"] == "duplicate" and second["reason"] == "duplicate_message_id"
    assert second["message"] == call


def test_the_cap_evicts_across_backends_and_both_count_it(tmp_path: Path) -> None:
    stores = [open_store("segment", tmp_path) for _ in range(2)]
    capped = [SegmentBackend(SegmentConfig(max_events=50), store=store) for store in stores]
    try:
        ingest_from_threads(capped)
        sent = THREADS * REQUESTS * PER_REQUEST
        counts = [backend.counts() for backend in capped]
        assert counts[0] == counts[1]
        assert counts[0]["stored"] == 50 == len(capped[1].events({}))
        assert counts[0]["evicted"] == sent - 50
        assert sum(capped[0].evicted_counts().values()) == sent - 50
        newest = [e["seq"] for e in capped[0].events({})]
        assert newest == list(range(sent - 49, sent + 1))
    finally:
        for backend, store in zip(capped, stores, strict=True):
            backend.close()
            store.close()


def test_a_reset_by_one_backend_is_what_the_other_counts_and_seqs_go_on(backends: list[SegmentBackend]) -> None:
    backends[0].ingest("batch", body(0, 0))
    backends[1].reset()
    assert backends[0].counts()["stored"] == 0 == backends[0].counts()["good"]
    backends[0].ingest("batch", body(1, 1))
    assert [e["seq"] for e in backends[1].events({})] == list(range(PER_REQUEST + 1, 2 * PER_REQUEST + 1))


def _ingest_in_process(data_dir: str, worker: int) -> None:
    store = open_store("segment", Path(data_dir))
    backend = SegmentBackend(SegmentConfig(max_events=10_000), store=store)
    try:
        for request in range(REQUESTS):
            backend.ingest("batch", body(worker, request))
    finally:
        backend.close()
        store.close()


def test_two_processes_on_one_store_file_keep_each_message_id_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each, like a worker process
    workers = [context.Process(target=_ingest_in_process, args=(str(tmp_path), n)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    store = open_store("segment", tmp_path)
    backend = SegmentBackend(store=store)
    try:
        sent = 2 * REQUESTS * PER_REQUEST
        events = backend.events({})
        good = Counter(e["message"]["messageId"] for e in events if e["status"] == "good")
        assert set(good.values()) == {1}
        assert sorted(e["seq"] for e in events) == list(range(1, sent + 1))
        counts = backend.counts()
        assert (counts["good"], counts["good"] + counts["duplicate"], counts["stored"]) == (len(good), sent, sent)
    finally:
        backend.close()
        store.close()


def test_a_group_commit_writes_in_order_and_tells_every_member_what_failed() -> None:
    written: list[list[int]] = []
    gate, entered = threading.Event(), threading.Event()

    def write(group: Any) -> None:
        if not written:  # hold the first write so that the others gather behind it
            entered.set()
            gate.wait(5)
        written.append(list(group))
        if 99 in group:
            raise StoreError("disk full")

    commit: GroupCommit[int] = GroupCommit(write)
    failures: list[int] = []

    def submit(item: int) -> None:
        try:
            commit.submit(item)
        except StoreError:
            failures.append(item)

    first = threading.Thread(target=submit, args=(1,))
    first.start()
    assert entered.wait(5)
    others = [threading.Thread(target=submit, args=(item,)) for item in (2, 99, 3)]
    for thread in others:
        thread.start()
    while len(commit._queue) < 3:  # all three wait behind the running write
        threading.Event().wait(0.01)
    gate.set()
    for thread in [first, *others]:
        thread.join(5)
    assert written[0] == [1]
    assert sorted(written[1]) == [2, 3, 99] and len(written) == 2
    assert sorted(failures) == [2, 3, 99]


def test_a_store_from_before_the_counters_table_is_counted_from_its_rows(tmp_path: Path) -> None:
    store = open_store("segment", tmp_path)
    with store.transaction() as sql:  # the layout main wrote: events, and evicted counts in their own table
        for statement in SCHEMA:
            if "segment_counts" not in statement:
                sql.execute(statement)
        sql.execute("CREATE TABLE segment_evicted (status TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        sql.execute("INSERT INTO segment_evicted VALUES ('good', 5), ('bad', 2)")
        rows = [stored_row(seq, "good", None, "app", "track", {"messageId": f"m{seq}"}, 1.0) for seq in (8, 9)]
        sql.executemany("INSERT INTO segment_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    backend = SegmentBackend(store=store)
    try:
        counts = backend.counts()
        assert (counts["good"], counts["bad"], counts["stored"], counts["evicted"]) == (7, 2, 2, 7)
        assert backend.evicted_counts() == {"good": 5, "bad": 2}
        backend.ingest("track", {"writeKey": APP_WRITE_KEY, "userId": "u", "event": "Next"})
        assert backend.events({})[-1]["seq"] == 10
    finally:
        backend.close()
        store.close()
