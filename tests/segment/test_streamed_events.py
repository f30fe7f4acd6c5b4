"""`GET /_swoosh/events` without `limit` is written as the rows are read, a chunk at a time, and gives the
same document the whole list gave; an answer that cannot list every counted event still closes as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.client import ControlAPIError, WaitTimeout
from swoosh.emulator.control import json_response, streamed_items
from swoosh.emulator.defaults import APP_WRITE_KEY
from swoosh.emulator.journal import redact_stored
from swoosh.emulator.segment import event_table
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.store import StoreError

from .test_event_table import FILTERS, MESSAGES

WINDOWS = st.fixed_dictionaries(
    {},
    optional={
        "after": st.sampled_from(["0", "2", "5"]),
        "before": st.sampled_from(["3", "9"]),
        "user": st.sampled_from(["a", "b", "7"]),
        "since": st.just("1970-01-01T00:00:00Z"),
    },
)


def whole_answer(backend: SegmentBackend, filters: dict[str, str]) -> bytes:
    """The answer as it was built before it was streamed: every match in one list, then one body."""
    items = redact_stored(backend.events(filters))
    return json_response({"count": len(items), "items": items}).get_data()


def batch_of(count: int) -> dict[str, Any]:
    events = [{"type": "track", "event": f"e{n}", "userId": f"u{n % 7}"} for n in range(count)]
    return {"writeKey": APP_WRITE_KEY, "batch": events}


@given(st.lists(MESSAGES, min_size=1, max_size=15), FILTERS, WINDOWS, st.integers(1, 4))
@settings(max_examples=40, deadline=None)
def test_the_streamed_answer_is_the_document_the_whole_list_gave(
    batch: list[dict[str, Any]], filters: dict[str, str], window: dict[str, str], chunk: int
) -> None:
    backend = SegmentBackend()
    try:
        backend.ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": batch})
        backend.ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": batch})  # duplicates too
        query = {**filters, **window}
        expected = whole_answer(backend, query)
        assert b"".join(streamed_items(*backend.table.select_chunks(query, chunk))) == expected
        answer = create_app(backend).test_client().get("/_swoosh/events", query_string=query)
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        assert answer.get_data() == expected
    finally:
        backend.close()


def test_more_events_than_a_chunk_are_read_and_written_chunk_by_chunk(
    backend: SegmentBackend, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_table, "STREAM_CHUNK", 10)
    backend.ingest("batch", batch_of(27))
    count, chunks = backend.stream("events", {})
    assert count == 27
    assert [len(c) for c in chunks] == [10, 10, 7]

    answer = client.get("/_swoosh/events", buffered=False)
    assert answer.is_streamed
    pieces = list(answer.response)
    answer.close()
    assert len(pieces) == 5  # the head, three chunks of events, the tail
    assert b"".join(pieces) == whole_answer(backend, {})
    document = orjson.loads(b"".join(pieces))
    assert [e["seq"] for e in document["items"]] == sorted(e["seq"] for e in document["items"])


def test_events_stored_while_the_answer_is_written_are_left_out(backend: SegmentBackend) -> None:
    backend.ingest("batch", batch_of(5))
    count, chunks = backend.table.select_chunks({}, chunk=2)
    backend.ingest("batch", batch_of(3))
    document = orjson.loads(b"".join(streamed_items(count, chunks)))
    assert document == {"count": 5, "items": document["items"]} and len(document["items"]) == 5


def test_events_evicted_while_the_answer_is_written_end_it_with_an_error_member() -> None:
    backend = SegmentBackend(SegmentConfig(max_events=6))
    try:
        backend.ingest("batch", batch_of(6))
        count, chunks = backend.table.select_chunks({}, chunk=2)
        first = next(chunks)
        backend.ingest("batch", batch_of(3))  # evicts the three oldest: one of them not yet listed
        document = orjson.loads(b"".join(streamed_items(count, iter([first, *chunks]))))
        assert document["count"] == 6 and len(document["items"]) == 5
        assert document["error"] == "the records changed while they were listed (evicted or reset); 5 of 6 listed"
    finally:
        backend.close()


def failing_after_one_chunk(count: int, chunks: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    yield next(chunks)
    raise StoreError("disk I/O error")


def test_a_store_failing_mid_answer_closes_the_document_and_the_client_raises(
    backend: SegmentBackend, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.ingest("batch", batch_of(5))
    select_chunks = backend.table.select_chunks

    def breaking(filters: dict[str, str], chunk: int = 2) -> tuple[int, Iterator[list[dict[str, Any]]]]:
        count, chunks = select_chunks(filters, 2)
        return count, failing_after_one_chunk(count, chunks)

    monkeypatch.setattr(backend.table, "select_chunks", breaking)
    raw = httpx.get(f"{served}/_swoosh/events")
    assert raw.status_code == 200 and raw.headers["Transfer-Encoding"] == "chunked"
    document = raw.json()
    assert len(document["items"]) == 2
    assert document["error"] == "the store failed: disk I/O error; 2 of 5 listed"
    segment = SegmentClient(served)
    try:
        with pytest.raises(ControlAPIError, match="2 of 5 listed"):
            segment.events()
        assert len(segment.events(limit=5)) == 5  # the limit path answers whole, as before
    finally:
        segment.close()


def test_an_unknown_filter_is_still_a_400_before_anything_is_streamed(client: FlaskClient) -> None:
    answer = client.get("/_swoosh/events?colour=red")
    assert answer.status_code == 400
    assert "unknown filter 'colour'" in answer.get_json()["error"]


def test_a_wait_counts_while_it_waits_and_reads_the_events_once_for_its_answer(
    backend: SegmentBackend, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[int] = []
    events = backend.events

    def counting_events(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        found = events(*args, **kwargs)
        built.append(len(found))
        return found

    monkeypatch.setattr(backend, "events", counting_events)
    backend.ingest("batch", batch_of(30))
    segment = SegmentClient(served)
    try:
        matched = segment.wait_for_events(count=3, timeout=5, user="u1")
        assert [e["message"]["userId"] for e in matched] == ["u1"] * 5  # every match, as the whole answer gave
        with pytest.raises(WaitTimeout, match="30 matched"):
            segment.wait_for_events(count=1000, timeout=0.3)
    finally:
        segment.close()
    assert built == []  # never a whole list: counted on each wake, streamed once


def test_a_waits_answer_is_the_document_the_whole_list_gave(client: FlaskClient, backend: SegmentBackend) -> None:
    backend.ingest("batch", batch_of(9))
    answer = client.get("/_swoosh/wait/events?count=1&timeout=1&user=u2")
    items = redact_stored(backend.events({"user": "u2"}))
    expected = json_response({"matched": True, "wanted": 1, "count": len(items), "items": items}).get_data()
    assert b"".join(answer.response) == expected  # type: ignore[arg-type]
    late = client.get("/_swoosh/wait/events?count=50&timeout=0.1")
    assert late.get_json()["matched"] is False and late.get_json()["count"] == 9
    assert client.get("/_swoosh/wait/events?colour=red").status_code == 400
