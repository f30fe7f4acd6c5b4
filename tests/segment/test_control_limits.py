"""The fake Segment's control routes do bounded work and never answer 5xx: SQL, tracking plans, destinations."""

from __future__ import annotations

import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.segment import warehouse
from swoosh.emulator.segment.backend import SegmentBackend
from tests.segment.conftest import APP_KEY, basic

JSON = {"Content-Type": "application/json"}
RUNAWAY = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"


def test_a_runaway_query_is_stopped_with_a_clear_error_and_the_service_goes_on(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warehouse, "QUERY_SECONDS", 0.3)
    response = client.post("/_swoosh/sql", json={"sql": RUNAWAY})
    assert response.status_code == 400 and "longer than 0.3 s" in response.get_json()["error"]
    assert client.post("/_swoosh/reset").status_code == 200
    assert client.post("/_swoosh/sql", json={"sql": "select 1 as one"}).get_json()["rows"] == [[1]]


@pytest.mark.parametrize(
    "statement",
    [
        "select randomblob(50000000)",
        "select zeroblob(50000000)",
        "with recursive n(i) as (select 1 union all select i + 1 from n limit 300000) select i, 'abcdefghij' from n",
    ],
)
def test_an_oversized_answer_is_refused(client: FlaskClient, statement: str) -> None:
    response = client.post("/_swoosh/sql", json={"sql": statement})
    assert response.status_code == 400 and "MiB" in response.get_json()["error"]


def test_the_query_limits_do_not_stay_on_the_warehouse(client: FlaskClient, backend: SegmentBackend) -> None:
    """Loading events shares the connection: its value-size limit is SQLite's again after a query."""
    db = backend.warehouse._db
    default = db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
    client.post("/_swoosh/sql", json={"sql": "select randomblob(50000000)"})
    client.post("/_swoosh/sql", json={"sql": RUNAWAY.replace("count(*)", "i") + " limit 3"})
    assert db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH) == default > warehouse.MAX_RESULT_BYTES


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"type": "object"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("kind", ["http", "file", "relative"])
def test_a_plan_that_would_fetch_a_ref_is_refused_when_set(client: FlaskClient, kind: str) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ref = {
            "http": f"http://127.0.0.1:{server.server_port}/schema.json",
            "file": "file:///etc/passwd",
            "relative": "schema.json",
        }[kind]
        plan = {"events": {"Order": {"properties": {"properties": {"$ref": ref}}}}}
        response = client.put("/_swoosh/sources/app/tracking-plan", json=plan)
        assert response.status_code == 400 and "never fetch" in response.get_json()["error"]
        added = client.post("/_swoosh/sources", json={"name": "x", "write_key": "k", "tracking_plan": plan})
        assert added.status_code == 400
        tracked = client.post("/v1/track", json={"userId": "u", "event": "Order"}, headers=basic(APP_KEY))
        assert tracked.status_code == 200
        assert _Counting.hits == 0
    finally:
        server.shutdown()


def test_a_plan_with_local_refs_still_validates(client: FlaskClient) -> None:
    plan = {
        "events": {
            "Order": {
                "definitions": {"money": {"type": "number"}},
                "properties": {"properties": {"properties": {"total": {"$ref": "#/definitions/money"}}}},
            }
        }
    }
    assert client.put("/_swoosh/sources/app/tracking-plan", json=plan).status_code == 200
    event = {"userId": "u", "event": "Order", "properties": {"total": "ten"}}
    client.post("/v1/track", json=event, headers=basic(APP_KEY))
    events = client.get("/_swoosh/events").get_json()["items"]
    assert events and events[-1]["violations"]


@pytest.mark.parametrize(
    "body", [b"null", b"[]", b'"s"', b"1", b'{"source": {}, "url": "http://127.0.0.1:9/"}', b'{"source": [1]}']
)
def test_a_destination_that_is_not_an_object_with_a_source_name_is_a_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/_swoosh/destinations", data=body, headers=JSON)
    assert response.status_code == 400 and response.get_json()["error"]
    assert client.get("/_swoosh/destinations").get_json()["items"] == []


def test_events_are_paged_by_seq_and_filtered_by_time_and_user(client: FlaskClient) -> None:
    batch = [{"type": "track", "userId": f"u{i % 2}", "event": f"E{i}"} for i in range(6)]
    batch.append({"type": "page", "anonymousId": "u1", "name": "Home"})
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(APP_KEY)).status_code == 200

    def seqs(**args: str) -> list[int]:
        answer = client.get("/_swoosh/events", query_string=args)
        assert answer.status_code == 200, answer.get_json()
        return [e["seq"] for e in answer.get_json()["items"]]

    assert seqs(limit="3") == [5, 6, 7]  # the newest, oldest first
    assert seqs(limit="3", before="5") == [2, 3, 4]
    assert seqs(after="5") == [6, 7] and seqs(after="2", before="5") == [3, 4]
    assert seqs(user="u1") == [2, 4, 6, 7]  # userId or anonymousId
    assert seqs(user="u1", type="track", limit="2") == [4, 6]
    assert seqs(until="2000-01-01T00:00:00Z") == [] and seqs(since="2000-01-01T00:00:00Z", limit="1") == [7]
    assert seqs(limit="0") == []
    for bad, field in (("after", "x"), ("before", "1.5"), ("until", "soon")):
        answer = client.get("/_swoosh/events", query_string={bad: field})
        assert answer.status_code == 400 and bad in answer.get_json()["error"]
