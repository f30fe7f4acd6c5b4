"""Posted events and event histories are rows of the store: capped and counted, filtered by its indexes,
and the same for every backend (process) that opens the store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.control import match_filters
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.pushwoosh.model import EventHistory
from swoosh.emulator.pushwoosh.posted_table import FIELDS, PostedTable, posted_row
from swoosh.emulator.pushwoosh.service import PushwooshService
from swoosh.emulator.store import STORE_FILE, SqliteStore, StoreError
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS, TOKEN, call

NAMES = ("Viewed", "Bought", "Left")
SUBJECTS = ("user:a", "user:b", "device:h1")
APPS = (APP, "FGHIJ-67890")

events = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from(SUBJECTS),
        st.sampled_from(APPS),
        st.sampled_from((1.0, 2.5, 3.0)),
        st.sampled_from(({}, {"n": 1})),
    ),
    max_size=40,
)


@pytest.fixture
def table() -> Iterator[PostedTable]:
    store = SqliteStore(None, synchronous="OFF")
    yield PostedTable(store)
    store.close()


def shown(name: str, subject: str, app: str, at: float, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "timestamp": at,
        "application": app,
        "attributes": attributes,
        "subject": subject,
        "stored_at": 100.0,
    }


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(st.integers(0, 7), max_size=8),
    cap=st.integers(0, 12),
)
def test_events_beyond_the_cap_are_evicted_oldest_first_and_counted(requests: list[int], cap: int) -> None:
    store = SqliteStore(None, synchronous="OFF")
    try:
        table, posted = PostedTable(store), []
        for size in requests:
            rows = [posted_row(f"E{len(posted) + n}", "user:u", APP, 1.0, 2.0, {}) for n in range(size)]
            posted += [row[0] for row in rows]
            table.write(rows, cap)
        kept = posted[max(len(posted) - cap, 0) :]
        assert [e["name"] for e in table.select({}, None)] == kept
        assert table.count("evicted") == len(posted) - len(kept)
        assert table.count("stored") == len(kept)
        # the history is not capped: every subject keeps the latest time of each name it posted
        assert {name for name, _a, _at in table.histories(["user:u"]).get("user:u", ())} == set(posted)
    finally:
        store.close()


filters = st.dictionaries(
    st.sampled_from(sorted(FIELDS)),
    st.sampled_from((*NAMES, *SUBJECTS, *APPS, "1.0", "2.5", "100.0", "{'n': 1}", "{}", "3")),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(
    posted=events,
    wanted=filters,
    limit=st.none() | st.integers(0, 6),
    offset=st.integers(0, 5),
)
def test_filtered_pages_from_the_table_are_what_comparing_every_event_as_text_gives(
    posted: list[tuple[str, str, str, float, dict[str, Any]]],
    wanted: dict[str, str],
    limit: int | None,
    offset: int,
) -> None:
    store = SqliteStore(None, synchronous="OFF")
    try:
        table = PostedTable(store)
        table.write([posted_row(n, s, a, at, 100.0, attrs) for n, s, a, at, attrs in posted], 1000)
        every = [shown(*event) for event in posted]
        matching = [e for e in every if match_filters(e, wanted, {k: k for k in FIELDS})]
        end = max(len(matching) - offset, 0)
        expected = matching[0 if limit is None else max(end - limit, 0) : end]
        assert table.select(wanted, limit, offset) == ([] if limit == 0 else expected)
    finally:
        store.close()


@pytest.mark.parametrize("field", ["name", "subject", "application", "timestamp", "stored_at"])
def test_every_filter_but_attributes_is_an_index_lookup(table: PostedTable, field: str) -> None:
    column = FIELDS[field]
    db = sqlite3.connect(table.store.path)  # type: ignore[attr-defined]  # a SqliteStore
    plan = db.execute(
        f"EXPLAIN QUERY PLAN SELECT * FROM pushwoosh_events WHERE {column} = ? ORDER BY seq DESC LIMIT 10", ("x",)
    ).fetchall()
    assert any(f"USING INDEX pushwoosh_events_{column}" in str(row[-1]) for row in plan), plan


def test_an_unknown_filter_names_the_known_ones(table: PostedTable) -> None:
    with pytest.raises(ValueError, match="unknown filter 'colour'; known: application, attributes, name"):
        table.select({"colour": "red"}, None)


def test_a_second_backend_on_the_same_store_sees_the_events_counts_and_histories(tmp_path: Path) -> None:
    first_store, second_store = SqliteStore(tmp_path / "store.db"), SqliteStore(tmp_path / "store.db")
    first = PushwooshBackend(PushwooshConfig(max_posted_events=3), store=first_store)
    second = PushwooshBackend(PushwooshConfig(max_posted_events=3), store=second_store)
    try:
        events = [(f"E{n}", "alice", None, 1_700_000_000.0 + n, {"n": n}) for n in range(5)]
        first.post_events(APP, events, auto_create=True)
        assert second.query("events", {}, None) == first.query("events", {}, None)
        assert [e["name"] for e in second.query("events", {"subject": "user:alice"}, 2)] == ["E3", "E4"]
        assert second.config_view()["evicted_posted_events"] == 2
        second.post_events(APP, [("E5", "bob", None, 1_700_000_100.0, {})], auto_create=True)
        assert [e["name"] for e in first.query("events", {}, None)] == ["E3", "E4", "E5"]
        assert first.config_view()["evicted_posted_events"] == 3
        subjects = ["user:alice", "user:bob"]
        assert first.posted.histories(subjects) == second.posted.histories(subjects)
        assert sorted(name for name, _a, _at in second.posted.histories(subjects)["user:alice"]) == [
            f"E{n}" for n in range(5)
        ]
    finally:
        for backend, store in ((first, first_store), (second, second_store)):
            backend.close()
            store.close()


def test_after_a_restart_with_a_data_dir_segments_still_see_evicted_events(tmp_path: Path) -> None:
    """The cap evicts posted events, not the history segments read: E("Welcome") matches after a restart."""
    config = tmp_path / "swoosh.toml"
    config.write_text("[pushwoosh]\nmax_posted_events = 2\n")
    options = StackOptions(data_dir=tmp_path / "data", config_file=config)
    first = PushwooshService(options)
    try:
        client = first.app.test_client()
        reply = call(client, "registerDevice", auth=TOKEN, application=APP, hwid="h1", device_type=3, userId="ann")
        assert reply["status_code"] == 200
        batch = [
            {"name": name, "user_id": "ann", "timestamp": "2026-01-02T03:04:05Z"} for name in ("Welcome", "A", "B")
        ]
        answer = client.post("/integration-segment/v1/post-events", json={"events": batch}, headers=INTEGRATION_HEADERS)
        assert answer.status_code == 200
        restarted = PushwooshService(options)  # the first never stopped: what a kill -9 leaves
        try:
            again = restarted.app.test_client()
            assert [e["name"] for e in again.get("/_swoosh/events").get_json()["items"]] == ["A", "B"]
            assert again.get("/_swoosh/config").get_json()["evicted_posted_events"] == 1
            counted = call(again, "compileFilter", auth=TOKEN, devices_filter='E("Welcome")')
            assert counted["response"] == {"devices_count": 1}
        finally:
            restarted.close()
    finally:
        first.close()
    assert (tmp_path / "data" / STORE_FILE.format(service="pushwoosh")).exists()


@settings(max_examples=200, deadline=None)
@given(
    posted=st.lists(st.tuples(st.sampled_from(NAMES), st.integers(0, 10), st.sampled_from(APPS)), max_size=20),
    name=st.sampled_from(NAMES),
    since=st.none() | st.integers(0, 11),
    application=st.none() | st.sampled_from(APPS),
)
def test_the_latest_time_per_name_and_application_answers_what_every_event_would(
    posted: list[tuple[str, int, str]], name: str, since: int | None, application: str | None
) -> None:
    history = EventHistory()
    for event, at, app in posted:
        history.add(event, float(at), app)
    expected = any(
        event == name and (since is None or at >= since) and application in (None, app) for event, at, app in posted
    )
    assert history.triggered(name, None if since is None else float(since), application) == expected


def test_requests_writing_together_are_each_committed_once(table: PostedTable) -> None:
    def post(client: int) -> None:
        for request in range(20):
            table.write([posted_row(f"c{client}-r{request}-{n}", "user:u", APP, 1.0, 2.0, {}) for n in range(5)], 500)

    threads = [threading.Thread(target=post, args=(client,)) for client in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = [e["name"] for e in table.select({}, None)]
    assert len(names) == len(set(names)) == 500 and table.count("evicted") == 300
    assert table.count("stored") == 500


def test_a_refused_commit_is_an_error_for_the_request_and_records_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    table = PostedTable(store)
    table.write([posted_row("kept", "user:u", APP, 1.0, 2.0, {})], 10)
    store.close()  # every write now fails, as with a removed or full disk
    with pytest.raises(StoreError):
        table.write([posted_row("lost", "user:u", APP, 1.0, 2.0, {})], 10)
    again = SqliteStore(tmp_path / "store.db")
    try:
        assert [e["name"] for e in PostedTable(again).select({}, None)] == ["kept"]
    finally:
        again.close()
