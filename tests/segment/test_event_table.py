"""The fake Segment's stored events live in its store: filters, the dedupe window across evictions, indexes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.control import match_filters
from swoosh.emulator.defaults import APP_WRITE_KEY
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.segment.event_table import FILTER_COLUMNS

VALUES = st.sampled_from(["a", "b", "7", ""]) | st.integers(0, 3) | st.none()
MESSAGES = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "identify", "page", "alias", "nope"])},
    optional={
        "event": VALUES,
        "name": VALUES,
        "userId": VALUES,
        "anonymousId": VALUES,
        "messageId": st.sampled_from(["m1", "m2", "m3"]),
        "previousId": VALUES,
    },
)
FILTERS = st.dictionaries(
    st.sampled_from(sorted(FILTER_COLUMNS)),
    st.sampled_from(["a", "b", "7", "0", "1", "track", "identify", "page", "good", "bad", "duplicate", "app", "m1"]),
    max_size=2,
)


def view(event: dict[str, Any]) -> dict[str, Any]:
    """What each filter compares, read from the stored event the way the in-memory list was filtered."""
    message = event["message"] if isinstance(event["message"], dict) else {}
    name = message.get("event") if isinstance(message.get("event"), str) else message.get("name")
    return {
        "type": event["type"],
        "event": name,
        "userId": message.get("userId"),
        "anonymousId": message.get("anonymousId"),
        "source": event["source"],
        "status": event["status"],
        "reason": event["reason"],
        "messageId": message.get("messageId"),
    }


@given(st.lists(MESSAGES, min_size=1, max_size=15), FILTERS, st.none() | st.integers(0, 5))
@settings(max_examples=60, deadline=None)
def test_a_filtered_query_finds_what_comparing_every_event_finds(
    batch: list[dict[str, Any]], filters: dict[str, str], limit: int | None
) -> None:
    backend = SegmentBackend()
    try:
        backend.ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": batch})
        everything = backend.events({})
        expected = [e for e in everything if match_filters(view(e), filters, {k: k for k in FILTER_COLUMNS})]
        if limit is not None:
            expected = expected[-limit:] if limit else []
        assert backend.events(filters, limit) == expected
    finally:
        backend.close()


def test_the_dedupe_window_outlives_eviction_and_ends_after_24_hours() -> None:
    backend = SegmentBackend(SegmentConfig(max_events=2))
    try:

        def send(message_id: str) -> str:
            backend.ingest("track", {"writeKey": APP_WRITE_KEY, "userId": "u", "event": "E", "messageId": message_id})
            return backend.events({}, 1)[0]["status"]

        assert [send(i) for i in ("m1", "m2", "m3")] == ["good", "good", "good"]
        assert backend.events({"messageId": "m1"}) == []  # evicted ...
        assert send("m1") == "duplicate"  # ... but still in the window
        assert backend.export_state()["seen_ids"][0][0] == "m1"
        backend.runtime.clock.advance(24 * 3600 + 1)
        assert send("m1") == "good" and send("m3") == "good"
        assert backend.counts() == {**backend.counts(), "good": 5, "duplicate": 1, "stored": 2, "evicted": 4}
    finally:
        backend.close()


def test_an_imported_window_is_kept_and_generated_ids_never_count() -> None:
    backend = SegmentBackend()
    try:
        backend.import_state({**backend.export_state(), "seen_ids": [["old", backend.runtime.clock.time() + 60]]})
        backend.ingest("track", {"writeKey": APP_WRITE_KEY, "userId": "u", "event": "E", "messageId": "old"})
        backend.ingest("track", {"writeKey": APP_WRITE_KEY, "userId": "u", "event": "E"})
        generated = backend.events({"status": "good"})[0]["message"]
        backend.ingest("track", {**generated, "writeKey": APP_WRITE_KEY})  # resent as Segment stored it
        assert [e["status"] for e in backend.events({})] == ["duplicate", "good", "good"]
    finally:
        backend.close()


@pytest.mark.parametrize(
    "filters", [{name: "x"} for name in sorted(set(FILTER_COLUMNS) - {"status"})] + [{"status": "bad"}, {"since": "0"}]
)
def test_every_filter_reads_an_index(filters: dict[str, str]) -> None:
    """A filtered query is answered from an index, never by reading every stored event (bench/RESULTS.md)."""
    backend = SegmentBackend()
    issued: list[tuple[str, Any]] = []
    read = backend.store.read
    try:
        backend.store.read = lambda sql, params=(): issued.append((sql, params)) or read(sql, params)  # type: ignore[method-assign]
        backend.events(filters, 10)
        sql, params = issued[-1]
        plan = read(f"EXPLAIN QUERY PLAN {sql}", params)
        assert any("INDEX" in str(step) for step in plan), plan
    finally:
        backend.close()
