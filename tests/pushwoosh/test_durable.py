"""With --data-dir the fake Pushwoosh writes each request's changes before answering and restores them at start.

A second service opened on the same data dir while the first is still running (never closed, so no
shutdown code has saved anything) stands for the restart after kill -9: it sees exactly what the store
holds. The kill -9 of the real process is tests/reliability/test_kill9_pushwoosh.py.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.emulator.changes import keyed
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.service import PushwooshService
from swoosh.emulator.store import STORE_FILE, SqliteStore
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS, TOKEN, call
from tests.pushwoosh.test_bad_input_and_control import json_values, methods, requests


@pytest.fixture
def services(tmp_path: Path) -> Iterator[list[PushwooshService]]:
    opened: list[PushwooshService] = []
    yield opened
    for service in opened:
        service.close()


def start(services: list[PushwooshService], data_dir: Path | None) -> tuple[PushwooshService, FlaskClient]:
    service = PushwooshService(StackOptions(data_dir=data_dir))
    services.append(service)
    return service, service.app.test_client()


def ok(client: FlaskClient, method: str, **request: Any) -> Any:
    """A /json/1.3 call that must succeed (server methods carry the API token)."""
    reply = call(client, method, auth=TOKEN, **request)
    assert reply["status_code"] == 200, reply
    return reply["response"]


def fill(client: FlaskClient) -> None:
    """One of each kind of change a user relies on, through the service's own routes."""
    ok(client, "addTag", tag={"name": "Plan", "type": 2})
    ok(client, "createEvent", name="Checkout", eventAttributes=[])
    ok(client, "createFilter", name="paying", filter_expression='T("Plan", EQ, "gold")')
    for n in range(3):
        ok(client, "registerDevice", application=APP, hwid=f"hw-{n}", device_type=3, push_token=f"tok-{n}")
    ok(client, "setTags", application=APP, hwid="hw-0", tags={"Plan": "gold"})
    ok(client, "registerUser", application=APP, hwid="hw-1", userId="alice")
    ok(client, "postEvent", application=APP, hwid="hw-1", userId="alice", event="Checkout", attributes={"n": 1})
    ok(client, "setBadge", application=APP, hwid="hw-1", badge=4)
    ok(client, "deleteDevice", application=APP, hwid="hw-2")
    profile = {"user_id": "bob", "device_id": "hw-9", "device_platform": "ios", "attributes": {"Tier": "silver"}}
    assert (
        client.post("/integration-segment/v1/track-user", json=profile, headers=INTEGRATION_HEADERS).status_code == 200
    )
    events = {"events": [{"name": "Opened", "user_id": "bob", "timestamp": "2026-01-02T03:04:05Z"}]}
    assert (
        client.post("/integration-segment/v1/post-events", json=events, headers=INTEGRATION_HEADERS).status_code == 200
    )
    assert client.post("/_swoosh/webhooks", json={"url": "http://127.0.0.1:9/hook", "token": "t"}).status_code == 201
    assert client.post("/_swoosh/applications", json={"code": "FGHIJ-67890", "name": "Second"}).status_code == 201


def view(client: FlaskClient) -> dict[str, Any]:
    """What a user would look at after a restart, minus what is not carried (messages, opens)."""
    items = {
        name: client.get(f"/_swoosh/{name}").get_json()["items"]
        for name in ("devices", "users", "events", "applications", "webhooks")
    }
    return {
        **items,
        "webhooks": [(h["url"], h["id"]) for h in items["webhooks"]],
        "tags": ok(client, "listTags"),
        "filters": ok(client, "listFilters"),
        "hw-0 tags": client.get("/_swoosh/tags", query_string={"hwid": "hw-0"}).get_json()["items"],
        "events defined": ok(client, "getConfig", application=APP, features=["events"]),
    }


def test_every_answered_change_is_there_after_a_restart_without_a_clean_stop(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    _, client = start(services, tmp_path)
    fill(client)
    before = view(client)
    _, restarted = start(services, tmp_path)  # the first one never stopped: nothing saved at shutdown
    after = view(restarted)
    assert after == before
    assert [d["hwid"] for d in after["devices"]] == ["hw-0", "hw-1", "hw-9"]  # hw-2 was deleted
    assert [t["tags"] for t in after["hw-0 tags"]] == [{"Plan": "gold"}]
    assert [(e["name"], e["subject"]) for e in after["events"]] == [("Checkout", "user:alice"), ("Opened", "user:bob")]
    # segments still find the devices by their restored tags
    assert {u["user_id"]: u["tags"] for u in after["users"]}["bob"] == {"Tier": "silver"}
    assert ok(restarted, "compileFilter", devices_filter='T("Plan", EQ, "gold")') == {"devices_count": 1}


def test_a_reset_and_a_deleted_user_stay_so_after_a_restart(tmp_path: Path, services: list[PushwooshService]) -> None:
    _, client = start(services, tmp_path)
    fill(client)
    assert (
        client.post(
            "/integration-segment/v1/delete-user", json={"external_id": "bob"}, headers=INTEGRATION_HEADERS
        ).status_code
        == 200
    )
    _, restarted = start(services, tmp_path)
    after = view(restarted)
    assert "bob" not in [u["user_id"] for u in after["users"]]
    assert [e["subject"] for e in after["events"]] == ["user:alice"]
    assert restarted.post("/_swoosh/reset", json={}).status_code == 200
    _, again = start(services, tmp_path)
    emptied = view(again)
    assert (emptied["devices"], emptied["users"], emptied["events"]) == ([], [], [])
    assert len(emptied["applications"]) == 2 and emptied["filters"]["filters"]  # configuration survives a reset


def test_a_device_changed_again_and_again_is_one_row_and_its_last_value_survives(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    _, client = start(services, tmp_path)
    ok(client, "registerDevice", application=APP, hwid="hw", device_type=3)
    for n in range(50):
        ok(client, "setBadge", application=APP, hwid="hw", badge=n)
    store = tmp_path / STORE_FILE.format(service="pushwoosh")
    count = "select count(*) from pushwoosh_devices"
    assert sqlite3.connect(store).execute(count).fetchone()[0] == 1  # a row, not a record per change
    restarted_service, restarted = start(services, tmp_path)
    assert restarted.get("/_swoosh/devices").get_json()["items"][0]["badge"] == 49
    assert not list(restarted_service.store.load("devices"))  # the change log holds the configuration only


def stopped_as_before(
    services: list[PushwooshService], service: PushwooshService, data_dir: Path, *tables: str
) -> SqliteStore:
    """`service` stopped, and its store opened without `tables`: as an earlier version left it."""
    services.remove(service)
    service.close()
    old = SqliteStore(data_dir / STORE_FILE.format(service="pushwoosh"))
    with old.transaction() as sql:
        for table in tables:
            sql.execute(f"DROP TABLE {table}")
    return old


def test_a_store_from_before_the_device_tables_moves_its_devices_and_users_into_them_once(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    first, client = start(services, tmp_path)
    ok(client, "addTag", tag={"name": "Plan", "type": 2})
    old = stopped_as_before(services, first, tmp_path, "pushwoosh_devices", "pushwoosh_users")
    device = {"hwid": "hw", "application": APP, "device_type": 3, "user_id": "ann", "badge": 1, "tags": {}}
    old.append(
        "devices",
        [
            keyed(f"{APP}/hw", device),
            keyed(f"{APP}/gone", {**device, "hwid": "gone"}),
            keyed(f"{APP}/hw", {**device, "badge": 2, "tags": {"Plan": "gold"}}),  # the last record of a key wins
            keyed(f"{APP}/gone", None),
        ],
    )
    old.append("users", [keyed("ann", {"user_id": "ann", "tags": {"Plan": "silver"}, "profile": {"city": "Oslo"}})])
    old.close()
    service, restarted = start(services, tmp_path)
    devices = restarted.get("/_swoosh/devices").get_json()["items"]
    assert [(d["hwid"], d["user_id"], d["badge"]) for d in devices] == [("hw", "ann", 2)]
    users = restarted.get("/_swoosh/users").get_json()["items"]
    assert [(u["user_id"], u["hwids"], u["profile"], u["tags"]) for u in users] == [
        ("ann", ["hw"], {"city": "Oslo"}, {"Plan": "gold"})  # the device's own tag over its user's
    ]
    assert ok(restarted, "compileFilter", devices_filter='T("Plan", EQ, "gold")') == {"devices_count": 1}
    assert not list(service.store.load("devices")) and not list(service.store.load("users"))
    _, again = start(services, tmp_path)  # moved once: not added a second time
    assert len(again.get("/_swoosh/devices").get_json()["items"]) == 1


def test_a_store_that_refuses_the_write_means_no_acknowledgement(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    service, client = start(services, tmp_path)
    assert service.store is not None
    service.store.close()  # every write now fails, as with a removed or full disk
    response = client.post(
        "/json/1.3/registerDevice", json={"request": {"application": APP, "hwid": "x", "device_type": 3}}
    )
    assert response.status_code == 503
    assert "store" in response.get_json()["status_message"]
    services.remove(service)
    service.backend.close()


def test_without_a_data_dir_nothing_is_logged_and_the_temporary_store_goes_at_close(
    services: list[PushwooshService],
) -> None:
    service, client = start(services, None)
    ok(client, "registerDevice", application=APP, hwid="hw", device_type=3)
    assert not service.backend.changes.pending() and not list(service.store.load("devices"))
    path = service.store.path
    assert path.exists()  # posted events live in it all the same
    services.remove(service)
    service.close()
    assert not path.exists()


def test_the_posted_events_cap_holds_in_the_store_and_its_count_survives(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    config = tmp_path / "swoosh.toml"
    config.write_text("[pushwoosh]\nmax_posted_events = 10\n")
    service = PushwooshService(StackOptions(data_dir=tmp_path / "data", config_file=config))
    services.append(service)
    client = service.app.test_client()
    for request in range(7):  # 35 events, 5 per request: 25 evicted
        batch = [{"name": f"E{request}-{n}", "user_id": "u", "timestamp": "2026-01-02T03:04:05Z"} for n in range(5)]
        reply = client.post("/integration-segment/v1/post-events", json={"events": batch}, headers=INTEGRATION_HEADERS)
        assert reply.status_code == 200
    restarted = PushwooshService(StackOptions(data_dir=tmp_path / "data", config_file=config))
    services.append(restarted)
    after = restarted.app.test_client()
    names = [e["name"] for e in after.get("/_swoosh/events").get_json()["items"]]
    assert names == [f"E{r}-{n}" for r in (5, 6) for n in range(5)]
    assert after.get("/_swoosh/config").get_json()["evicted_posted_events"] == 25
    store = sqlite3.connect(tmp_path / "data" / STORE_FILE.format(service="pushwoosh"))
    assert store.execute("select count(*) from pushwoosh_events").fetchone()[0] == 10  # evicted as it went


DEEP = '{"a":' * 240 + "1" + "}" * 240  # orjson reads it, but could not write it back inside a record


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/json/1.3/postEvent", '{"request": {"application": "%s", "hwid": "h", "event": "E", "attributes": %s}}'),
        ("/json/1.3/setTags", '{"request": {"application": "%s", "hwid": "h", "tags": {"t": %s}}}'),
        (
            "/integration-segment/v1/track-user",
            '{"user_id": "u", "device_id": "d", "app": "%s", "current_location": %s}',
        ),
        (
            "/integration-segment/v1/post-events",
            '{"events": [{"name": "E", "user_id": "u", "app_code": "%s", "attributes": %s}]}',
        ),
    ],
)
def test_a_body_nested_deeper_than_a_record_can_hold_is_refused_and_the_store_keeps_working(
    tmp_path: Path, services: list[PushwooshService], path: str, body: str
) -> None:
    _, client = start(services, tmp_path)
    ok(client, "registerDevice", application=APP, hwid="h", device_type=3)
    refused = client.post(path, data=body % (APP, DEEP), content_type="application/json", headers=INTEGRATION_HEADERS)
    assert refused.status_code == 400 and "nested" in refused.get_data(as_text=True)
    ok(client, "setBadge", application=APP, hwid="h", badge=2)  # the store still takes writes
    _, restarted = start(services, tmp_path)
    assert [d["badge"] for d in restarted.get("/_swoosh/devices").get_json()["items"]] == [2]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(st.tuples(methods, requests | json_values), min_size=1, max_size=6))
def test_after_any_requests_a_restart_holds_what_the_service_held(
    services: list[PushwooshService], calls: list[tuple[str, Any]]
) -> None:
    kept = ("devices", "users", "events", "tag_registry", "event_registry", "filters", "applications", "webhooks")
    with tempfile.TemporaryDirectory() as data_dir:
        service, client = start(services, Path(data_dir))
        ok(client, "registerDevice", application=APP, hwid="h1", device_type=3, userId="u1")
        for method, request in calls:
            assert client.post(f"/json/1.3/{method}", json={"request": request}).status_code < 500
        before = {k: v for k, v in service.backend.export_state().items() if k in kept}
        restarted, _ = start(services, Path(data_dir))
        assert {k: v for k, v in restarted.backend.export_state().items() if k in kept} == before
        for running in (service, restarted):
            services.remove(running)
            running.close()


def test_a_store_from_before_the_events_table_moves_its_posted_events_into_it_once(
    tmp_path: Path, services: list[PushwooshService]
) -> None:
    first, client = start(services, tmp_path)
    ok(client, "registerDevice", application=APP, hwid="hw", device_type=3, userId="ann")
    configuration = first.store.get("config")
    old = stopped_as_before(services, first, tmp_path, "pushwoosh_events", "pushwoosh_history", "pushwoosh_counts")
    posted = [
        {"name": name, "timestamp": 1.0, "application": APP, "attributes": {}, "subject": "user:ann", "stored_at": 2.0}
        for name in ("Welcome", "Bought")
    ]
    old.append("events", [orjson.dumps(posted)])
    old.put("evicted_posted", 7)
    assert old.get("config") == configuration
    old.close()
    _, restarted = start(services, tmp_path)
    assert [e["name"] for e in restarted.get("/_swoosh/events").get_json()["items"]] == ["Welcome", "Bought"]
    assert restarted.get("/_swoosh/config").get_json()["evicted_posted_events"] == 7
    assert ok(restarted, "compileFilter", devices_filter='E("Welcome")') == {"devices_count": 1}
    _, again = start(services, tmp_path)  # moved once: not appended a second time
    assert len(again.get("/_swoosh/events").get_json()["items"]) == 2
    assert again.get("/_swoosh/config").get_json()["evicted_posted_events"] == 7
