"""With --data-dir the fake Segment restores what it acknowledged, even when it never shut down cleanly.

Each test builds a service on a data dir, changes it through the HTTP API, then builds a second
service on the same dir while the first is still open (nothing saved at shutdown: a crash as far as
the store is concerned) and reads the state back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from swoosh.emulator.defaults import APP_WRITE_KEY
from swoosh.emulator.options import StackOptions
from swoosh.emulator.segment.service import SegmentService
from swoosh.emulator.serving import ServerThread
from swoosh.emulator.store import open_store
from tests.reliability.sockets import eventually
from tests.segment.conftest import basic

PLAN = {"mode": "block", "events": {"Order Completed": {"required": ["total"]}}}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[SegmentService]]:
    started: list[SegmentService] = []
    yield started
    for service in reversed(started):
        service.close()


def start(services: list[SegmentService], data_dir: Path | None) -> SegmentService:
    service = SegmentService(StackOptions(data_dir=data_dir))
    services.append(service)
    return service


def batch(ids: range) -> dict[str, object]:
    return {
        "batch": [
            {
                "type": "track",
                "event": "Order Completed",
                "userId": f"u{i}",
                "messageId": f"m{i}",
                "properties": {"total": i},
            }
            for i in ids
        ]
    }


def test_acknowledged_events_are_restored_with_the_warehouse_and_the_dedupe_window(
    services: list[SegmentService], tmp_path: Path
) -> None:
    first = start(services, tmp_path).app.test_client()
    assert first.post("/v1/batch", json=batch(range(50)), headers=basic(APP_WRITE_KEY)).status_code == 200

    again = start(services, tmp_path).app.test_client()
    events = again.get("/_swoosh/events").get_json()["items"]
    assert [e["message"]["messageId"] for e in events] == [f"m{i}" for i in range(50)]
    assert again.get("/_swoosh/counts").get_json()["good"] == 50
    rows = again.post("/_swoosh/sql", json={"sql": "select count(*) from app.order_completed"}).get_json()["rows"]
    assert rows == [[50]]
    assert again.post("/v1/batch", json=batch(range(49, 51)), headers=basic(APP_WRITE_KEY)).status_code == 200
    counts = again.get("/_swoosh/counts").get_json()
    assert (counts["good"], counts["duplicate"]) == (51, 1)


def test_configuration_changes_are_restored(services: list[SegmentService], tmp_path: Path) -> None:
    first = start(services, tmp_path).app.test_client()
    assert first.post("/_swoosh/sources", json={"name": "web", "write_key": "web-key"}).status_code == 201
    assert first.put("/_swoosh/sources/app/tracking-plan", json=PLAN).status_code == 200
    kept = {"source": "web", "url": "http://127.0.0.1:9/kept", "max_batch": 5}
    assert first.post("/_swoosh/destinations", json=kept).status_code == 201
    gone = first.post("/_swoosh/destinations", json={"url": "http://127.0.0.1:9/gone"}).get_json()
    assert first.delete(f"/_swoosh/destinations/{gone['id']}").status_code == 200

    again = start(services, tmp_path).backend
    assert again.source_for_key("web-key") is not None
    plan = again.sources["app"].tracking_plan
    assert plan is not None and plan.spec == PLAN
    assert [(d.source, d.url, d.max_batch) for d in again.deliverer.destinations()] == [("web", kept["url"], 5)]


def test_reset_and_import_replace_what_is_stored(services: list[SegmentService], tmp_path: Path) -> None:
    first = start(services, tmp_path).app.test_client()
    first.post("/v1/batch", json=batch(range(3)), headers=basic(APP_WRITE_KEY))
    exported = first.get("/_swoosh/state").get_json()
    first.post("/_swoosh/reset", json={})
    assert start(services, tmp_path).backend.events({}) == []

    first.post(
        "/_swoosh/state",
        json={**exported, "backend": {**exported["backend"], "events": exported["backend"]["events"][:1]}},
    )
    assert [e["message"]["messageId"] for e in start(services, tmp_path).backend.events({})] == ["m0"]


def test_evicted_events_leave_the_store_and_stay_counted(services: list[SegmentService], tmp_path: Path) -> None:
    service = start(services, tmp_path)
    service.backend.max_events = 10
    client = service.app.test_client()
    for start_at in range(0, 30, 5):
        client.post("/v1/batch", json=batch(range(start_at, start_at + 5)), headers=basic(APP_WRITE_KEY))
    assert service.store.read("SELECT count(*) FROM segment_events") == [(10,)]

    again = start(services, tmp_path).backend
    assert [e["message"]["messageId"] for e in again.events({})] == [f"m{i}" for i in range(20, 30)]
    counts = again.counts()
    assert (counts["good"], counts["stored"], counts["evicted"]) == (30, 10, 20)


def test_a_write_the_store_refuses_is_not_acknowledged(services: list[SegmentService], tmp_path: Path) -> None:
    service = start(services, tmp_path)
    client = service.app.test_client()
    refuse = "CREATE TRIGGER refuse BEFORE INSERT ON segment_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    with service.store.transaction() as sql:
        sql.execute(refuse)
    answer = client.post("/v1/batch", json=batch(range(2)), headers=basic(APP_WRITE_KEY))
    assert (answer.status_code, answer.get_json()["code"]) == (503, "store_unavailable")
    assert service.backend.events({}) == [] and service.backend.counts()["stored"] == 0
    with service.store.transaction() as sql:
        sql.execute("DROP TRIGGER refuse")
    assert client.post("/v1/batch", json=batch(range(2)), headers=basic(APP_WRITE_KEY)).status_code == 200
    assert service.backend.counts()["good"] == 2  # the refused request took no messageId and no seq
    assert [e["seq"] for e in service.backend.events({})] == [1, 2]

    service.store.close()  # a store that cannot even be read refuses too
    answer = client.post("/v1/batch", json=batch(range(5, 7)), headers=basic(APP_WRITE_KEY))
    assert (answer.status_code, answer.get_json()["code"]) == (503, "store_unavailable")
    services.remove(service)
    service.backend.close()


def test_events_of_the_earlier_record_layout_move_into_the_event_table(
    services: list[SegmentService], tmp_path: Path
) -> None:
    first = start(services, tmp_path)
    first.app.test_client().post("/v1/batch", json=batch(range(3)), headers=basic(APP_WRITE_KEY))
    exported = first.backend.export_state()
    store = open_store("segment", tmp_path)  # as the version before the event table left it
    store.replace("events", [orjson.dumps(e) for e in exported["events"]])
    store.put("evicted", {"good": 7})
    with store.transaction() as sql:
        sql.execute("DELETE FROM segment_events")
    store.close()

    again = start(services, tmp_path).backend
    assert [e["message"]["messageId"] for e in again.events({})] == ["m0", "m1", "m2"]
    assert (again.counts()["good"], again.counts()["evicted"]) == (10, 7)
    assert list(again.store.load("events")) == []


def test_without_a_data_dir_the_store_is_temporary(services: list[SegmentService]) -> None:
    service = start(services, None)
    service.app.test_client().post("/v1/batch", json=batch(range(2)), headers=basic(APP_WRITE_KEY))
    path = service.store.path
    assert path.exists() and service.backend.counts()["stored"] == 2
    service.close()
    services.remove(service)
    assert not path.exists()


class Sink:
    """A destination that answers `status` and keeps the messageIds of what it took."""

    def __init__(self) -> None:
        self.status = 200
        self.ids: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = orjson.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        if self.status == 200:
            items = body if isinstance(body, list) else body.get("batch", [body])
            self.ids += [item["messageId"] for item in items]
        start_response(f"{self.status} Answer", [("Content-Type", "application/json")])
        return [b"{}"]


def test_deliveries_a_kill_interrupted_are_made_after_the_restart(
    services: list[SegmentService], tmp_path: Path
) -> None:
    sink = Sink()
    with ServerThread(sink) as server:
        first = start(services, tmp_path)
        client = first.app.test_client()
        assert client.post("/_swoosh/destinations", json={"url": f"{server.url}/in"}).status_code == 201
        assert client.post("/v1/batch", json=batch(range(10)), headers=basic(APP_WRITE_KEY)).status_code == 200
        assert eventually(lambda: len(sink.ids) == 10)
        sink.status = 503  # the destination is down: what follows is acknowledged, not delivered
        assert client.post("/v1/batch", json=batch(range(10, 30)), headers=basic(APP_WRITE_KEY)).status_code == 200
        assert eventually(lambda: first.backend.deliverer.log({"state": "pending"}, None) != [])
        first.backend.deliverer.close()  # the process is gone: so are its queued deliveries
        sink.status = 200

        start(services, tmp_path)  # the restart on the same data dir
        assert eventually(lambda: {f"m{i}" for i in range(30)} <= set(sink.ids))
        assert sorted(sink.ids[:10]) == sorted(f"m{i}" for i in range(10))
        assert all(sink.ids.count(f"m{i}") == 1 for i in range(10))  # settled before the kill: not again
