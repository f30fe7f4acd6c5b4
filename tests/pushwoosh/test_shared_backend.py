"""The fake Pushwoosh with worker processes, in-process: every process records posted events into one store,
the primary's follower applies what they change in the heap once each and in order, and a worker serves
only what the published configuration lets it decide exactly."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh import shared_backend
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig, PushwooshError
from swoosh.emulator.pushwoosh.service import PushwooshService
from swoosh.emulator.pushwoosh.shared_backend import NotDecidedHere, SharedBackend, WorkerBackend, catch_up
from swoosh.emulator.pushwoosh.worker_role import decidable
from swoosh.emulator.store import STORE_FILE, SqliteStore
from tests.pushwoosh.conftest import APP, triggered

OTHER_APP = "FGHIJ-67890"


def user_ids(backend: PushwooshBackend) -> set[str]:
    return {user.user_id for user in backend.rows.users()}


def hwids_of(backend: PushwooshBackend, user_id: str) -> set[str]:
    """The devices linked to an existing user."""
    assert backend.find_user(user_id) is not None, f"no user {user_id!r}"
    return {hwid for _app, hwid in backend.rows.devices_of(user_id)}


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    opened = SqliteStore(None, synchronous="OFF")
    yield opened
    opened.close()


@pytest.fixture
def primary(store: SqliteStore) -> Iterator[SharedBackend]:
    backend = SharedBackend(PushwooshConfig(), store=store)
    backend.add_application(OTHER_APP, "other")
    yield backend
    backend.close()


@pytest.fixture
def worker(store: SqliteStore, primary: SharedBackend) -> Iterator[WorkerBackend]:
    backend = WorkerBackend(PushwooshConfig(), store=store)
    backend.apply_published(primary.published())
    yield backend
    backend.close()


def register(backend: SharedBackend, hwid: str, app: str = APP) -> None:
    backend.register_device({"application": app, "hwid": hwid, "device_type": 3})


def test_post_events_change_the_heap_only_through_the_follower_and_once(primary: SharedBackend) -> None:
    register(primary, "d1")
    primary.post_events(APP, [("Joined", "u1", "d1", 5.0, {})], auto_create=True)
    assert user_ids(primary) == set() and "Joined" not in primary.event_registry
    primary.follow()
    assert hwids_of(primary, "u1") == {"d1"} and triggered(primary, "user:u1", "Joined")
    assert primary.event_registry["Joined"]["id"] == 1
    primary.follow()
    primary.post_events(APP, [("Left", "u1", None, 6.0, {})], auto_create=True)
    primary.follow()
    assert [e["id"] for e in primary.event_registry.values()] == [1, 2]


def test_the_follower_applies_every_process_s_events_in_the_order_stored(
    primary: SharedBackend, worker: WorkerBackend
) -> None:
    register(primary, "d1")
    worker.post_events(APP, [("Seen", "first", "d1", 1.0, {})], auto_create=True)
    primary.post_events(APP, [("Seen", "second", "d1", 2.0, {})], auto_create=True)
    worker.post_events(OTHER_APP, [("Other", "third", None, 3.0, {})], auto_create=True)
    assert user_ids(primary) == set()  # no process makes users but the primary's follower
    primary.follow()
    device = primary.find_device(APP, "d1")
    assert device is not None and device.user_id == "second"  # the later link wins
    assert hwids_of(primary, "first") == set()
    assert list(primary.event_registry) == ["Seen", "Other"]
    assert triggered(primary, "user:third", "Other")
    assert worker.event_registry == {}  # a worker's configuration learns nothing


def test_what_a_worker_records_survives_the_cap_evicting_its_row_before_the_follower_looks(
    store: SqliteStore, primary: SharedBackend, worker: WorkerBackend
) -> None:
    worker.config.max_posted_events = 1
    worker.post_events(APP, [("A", "ua", None, 1.0, {}), ("B", "ub", None, 1.0, {})], auto_create=True)
    primary.follow()
    assert [e["name"] for e in primary.query("events", {}, None)] == ["B"]
    assert user_ids(primary) == {"ua", "ub"} and set(primary.event_registry) == {"A", "B"}


def test_applied_effects_are_removed_once_committed_and_never_applied_twice(
    monkeypatch: pytest.MonkeyPatch, store: SqliteStore, primary: SharedBackend, worker: WorkerBackend
) -> None:
    monkeypatch.setattr(shared_backend, "FORGET_SECONDS", 0.0)
    worker.post_events(APP, [("A", "u1", None, 1.0, {})], auto_create=True)
    primary.follow_and_forget()
    assert primary.posted.effects_after(0, 10) == []
    worker.post_events(APP, [("B", "u2", None, 2.0, {})], auto_create=True)
    assert [effects for _seq, effects in primary.posted.effects_after(0, 10)] == [[("u2", None, "B", APP)]]
    primary.delete_user(APP, "u1")
    primary.follow_and_forget()
    assert user_ids(primary) == {"u2"}  # u1's effect was applied once, and is gone


def test_reset_and_import_take_what_was_stored_before_them_first(primary: SharedBackend, worker: WorkerBackend) -> None:
    worker.post_events(APP, [("Before Reset", "u1", None, 1.0, {})], auto_create=True)
    primary.reset()
    assert "Before Reset" in primary.event_registry and user_ids(primary) == set()
    primary.follow()
    assert user_ids(primary) == set()  # applied before the reset, which then forgot the user
    exported = primary.export_state()
    worker.post_events(APP, [("Before Import", "u2", None, 1.0, {})], auto_create=True)
    primary.import_state(exported)
    primary.follow()
    assert "Before Import" not in primary.event_registry and user_ids(primary) == set()


def test_a_worker_takes_the_published_configuration_and_refuses_to_decide_what_needs_the_heap(
    primary: SharedBackend, worker: WorkerBackend
) -> None:
    primary.create_event({"name": "Defined"})
    primary.api_tokens.append("SECOND")
    worker.apply_published(primary.published())
    assert set(worker.applications) == {APP, OTHER_APP} and "SECOND" in worker.api_tokens
    assert set(worker.event_registry) == {"Defined"}
    worker.post_events(APP, [("Defined", "u1", None, 1.0, {})], auto_create=False)
    with pytest.raises(PushwooshError, match="Application not found"):
        worker.post_event_request({"application": "XXXXX-00000", "event": "Defined", "userId": "u", "attributes": {}})
    for event, user_id in (("Defined", None), ("Undefined", "u1")):
        with pytest.raises(NotDecidedHere):
            worker.post_events(APP, [(event, user_id, "d1", 1.0, {})], auto_create=False)
    primary.follow()
    assert triggered(primary, "user:u1", "Defined") and user_ids(primary) == {"u1"}


def environ(path: str, body: Any, method: str = "POST") -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(raw)}


POST_EVENTS = "/integration-segment/v1/post-events"
ITEM = {"user_id": "u1", "name": "E", "timestamp": "2026-11-30T12:00:00Z"}
POST_EVENT = {"application": APP, "userId": "u1", "event": "Defined", "attributes": {}}


@pytest.mark.parametrize(
    ("path", "body", "served_here"),
    [
        (POST_EVENTS, {"events": [{**ITEM, "app_code": APP}]}, True),
        (POST_EVENTS, {"events": [ITEM, {**ITEM, "app_id": APP}]}, False),  # the warning is the primary's
        (POST_EVENTS, b'{"events": [{"user_id": "u1", "app\\u005fid": "ABCDE-12345"}]}', False),
        (POST_EVENTS, {"events": [{**ITEM, "app_id": APP, "app_code": APP}]}, True),
        (POST_EVENTS, {"events": [{**ITEM, "attributes": {"app_id": 1}}]}, True),
        (POST_EVENTS, b"not json", True),  # refused the same everywhere
        (POST_EVENTS + "/", {"events": [ITEM]}, False),
        ("/json/1.3/postEvent", {"request": POST_EVENT}, True),
        ("/json/1.3/POSTEVENT", {"request": POST_EVENT}, True),  # methods match in any case
        ("/json/1.3/postEvent", {"request": {**POST_EVENT, "userId": ""}}, False),  # user-less: the device
        ("/json/1.3/postEvent", {"request": {**POST_EVENT, "userId": None, "hwid": "d1"}}, False),
        ("/json/1.3/postEvent", {"request": {**POST_EVENT, "event": "Undefined"}}, False),  # no auto-create
        ("/json/1.3/postEvent", {"request": {**POST_EVENT, "event": ["Defined"]}}, False),
        ("/json/1.3/postEvent", {"request": "nothing"}, True),
        ("/json/1.3/registerDevice", {"request": POST_EVENT}, False),
        ("/_swoosh/events", {}, False),
    ],
)
def test_a_worker_serves_a_hot_request_only_when_it_decides_it_exactly(
    primary: SharedBackend, worker: WorkerBackend, path: str, body: Any, served_here: bool
) -> None:
    primary.create_event({"name": "Defined"})
    worker.apply_published(primary.published())
    request = environ(path, body)
    assert decidable(worker, request) is served_here
    assert request["wsgi.input"].read() == (body if isinstance(body, bytes) else orjson.dumps(body))


def test_with_auto_create_a_worker_serves_an_event_it_does_not_know(worker: WorkerBackend) -> None:
    worker.apply_published({"auto_create_tags": True, "applications": [[APP, "app"]], "events": []})
    assert decidable(worker, environ("/json/1.3/postEvent", {"request": {**POST_EVENT, "event": "New"}}))
    assert not decidable(worker, environ("/json/1.3/postEvent", {"request": POST_EVENT}, method="PUT"))


def test_a_restart_with_one_process_applies_what_a_killed_worker_run_left(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / STORE_FILE.format(service="pushwoosh"))
    worker = WorkerBackend(PushwooshConfig(), store=store)
    worker.post_events(APP, [("Left Behind", "u1", None, 1.0, {"n": 1})], auto_create=True)
    worker.close()
    store.close()
    service = PushwooshService(StackOptions(data_dir=tmp_path))
    try:
        assert triggered(service.backend, "user:u1", "Left Behind") and user_ids(service.backend) == {"u1"}
        assert "Left Behind" in service.backend.event_registry
        assert service.backend.posted.effects_after(0, 10) == []
        catch_up(service.backend)  # nothing left: nothing changes
        assert [e["attributes"] for e in service.backend.query("events", {}, None)] == [{"n": 1}]
    finally:
        service.close()
    again = PushwooshService(StackOptions(data_dir=tmp_path))
    try:
        assert "Left Behind" in again.backend.event_registry and user_ids(again.backend) == {"u1"}
    finally:
        again.close()


def test_an_effect_applied_and_committed_is_not_applied_again_after_a_kill(tmp_path: Path) -> None:
    service = PushwooshService(StackOptions(data_dir=tmp_path, workers=2))
    backend = service.backend
    assert isinstance(backend, SharedBackend)
    backend.post_events(APP, [("Once", "gone", None, 1.0, {}), ("Once", "kept", None, 1.0, {})], auto_create=True)
    backend.follow()  # applied and committed; the follow table keeps the rows until the next removal
    backend.delete_user(APP, "gone")
    backend.persist()
    assert backend.posted.effects_after(0, 10)
    service.close()  # as a kill -9 would leave it: nothing removed
    again = PushwooshService(StackOptions(data_dir=tmp_path))
    try:
        assert user_ids(again.backend) == {"kept"}
        assert again.backend.posted.effects_after(0, 10) == []
    finally:
        again.close()


def test_a_look_that_finds_another_threads_look_applying_waits_for_its_rows(
    monkeypatch: pytest.MonkeyPatch, primary: SharedBackend, worker: WorkerBackend
) -> None:
    """The follower thread has taken the effects but its hold has not written the users yet: a request's
    own look must not answer from the rows without them (read-your-writes across processes)."""
    worker.post_events(APP, [("Joined", "u1", None, 1.0, {})], auto_create=True)
    write = primary.rows.write
    writing, release = threading.Event(), threading.Event()

    def slow_write(*args: Any, **kwargs: Any) -> None:
        writing.set()
        release.wait(5)
        write(*args, **kwargs)

    monkeypatch.setattr(primary.rows, "write", slow_write)
    follower = threading.Thread(target=primary.follow)
    seen: list[set[str]] = []
    request = threading.Thread(target=lambda: (primary.follow(), seen.append(user_ids(primary))))
    try:
        follower.start()
        assert writing.wait(5)
        request.start()
        request.join(0.3)
        assert request.is_alive(), "the request's look returned while the follower's rows were unwritten"
    finally:
        release.set()
        follower.join(5)
        if request.ident is not None:
            request.join(5)
    assert seen == [{"u1"}]
