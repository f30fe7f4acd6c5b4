"""Devices and users are rows of the store: filtered pages answer what the records show, a request's
changes are written together or not at all, and every backend (process) on the store sees them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.emulator.control import match_filters
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.pushwoosh.device_table import _narrowing
from swoosh.emulator.store import SqliteStore, StoreError
from tests.pushwoosh.conftest import APP, call

OTHER = "FGHIJ-67890"
devices = st.lists(
    st.fixed_dictionaries(
        {
            "hwid": st.sampled_from(["h1", "h2", "h3", "h4"]),
            "application": st.sampled_from([APP, OTHER]),
            "device_type": st.sampled_from([1, 3, 10, 14]),
            "userId": st.sampled_from(["", "u1", "u2"]),
            "language": st.sampled_from(["de", "en"]),
            "timezone": st.sampled_from([3600, "Europe/Berlin", -18000]),
            "badge": st.sampled_from([0, 3, 3.0]),
            "push_token": st.sampled_from(["t1", "t2"]),
            "unregister": st.booleans(),
        }
    ),
    max_size=12,
)
FILTERS = [
    {"user_id": "u1"},
    {"hwid": "h2"},
    {"application": OTHER},
    {"platform": "iOS"},
    {"platform": "Nothing"},
    {"device_type": "3"},
    {"device_type": "3.0"},
    {"badge": "3"},
    {"badge": "3.0"},
    {"unsubscribed": "True"},
    {"unsubscribed": "false"},
    {"timezone": "3600"},
    {"language": "de", "push_token": "t2"},
    {"email": "h1"},
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registered=devices)
def test_a_filtered_page_is_what_comparing_every_record_as_text_gives(
    backend: PushwooshBackend, registered: list[dict[str, Any]]
) -> None:
    """SQL narrows by the indexed filters; the answer must equal the control API's text comparison of
    every listed record (e.g. `badge=3` does not match a badge of 3.0)."""
    backend.reset()
    if OTHER not in backend.applications:
        backend.add_application(OTHER)
    for device in registered:
        backend.register_device({k: v for k, v in device.items() if k not in ("badge", "unregister")})
        backend.set_badge({"application": device["application"], "hwid": device["hwid"], "badge": device["badge"]})
        if device["unregister"]:
            backend.unregister_device({"application": device["application"], "hwid": device["hwid"]})
    everything = backend.query("devices", {}, None)
    assert len(everything) == len({(d["application"], d["hwid"]) for d in registered})
    for filters in FILTERS:
        expected = [d for d in everything if match_filters(d, filters, {k: k for k in filters})]
        assert backend.query("devices", filters, None) == expected, filters
        assert backend.query("devices", {**filters, "offset": "1"}, 1) == expected[-2:-1], filters
    users = backend.query("users", {}, None)
    for user in users:
        assert user["hwids"] == sorted({d["hwid"] for d in everything if d["user_id"] == user["user_id"]})
        assert backend.query("users", {"user_id": user["user_id"]}, None) == [user]


def test_a_refused_write_changes_no_device_or_user(
    client: FlaskClient, backend: PushwooshBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    call(client, "registerDevice", application=APP, hwid="h1", device_type=3, userId="ann", tags={})

    def refused(*_args: Any) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(backend.rows, "write", refused)
    request = {"application": APP, "hwid": "h1", "device_type": 1, "userId": "bob", "push_token": "new"}
    response = client.post("/json/1.3/registerDevice", json={"request": request})
    assert response.status_code == 503
    response = client.post("/json/1.3/registerDevice", json={"request": {**request, "hwid": "h2"}})
    assert response.status_code == 503
    monkeypatch.undo()
    stored = backend.query("devices", {}, None)
    assert [(d["hwid"], d["device_type"], d["user_id"], d["push_token"]) for d in stored] == [("h1", 3, "ann", None)]
    assert [u["user_id"] for u in backend.query("users", {}, None)] == ["ann"]


def test_changes_within_one_request_add_up_and_a_refused_request_writes_nothing(backend: PushwooshBackend) -> None:
    with backend.lock:
        backend.register_device({"application": APP, "hwid": "h1", "device_type": 3, "tags": {}})
        backend.set_badge({"application": APP, "hwid": "h1", "badge": 5})
        backend.register_user({"application": APP, "hwid": "h1", "userId": "ann"})
        assert backend.find_device(APP, "h1") is backend.find_device(APP, "h1")
        assert backend.rows.device(APP, "h1", backend.find_user) is None  # written when the hold ends
    assert (backend.device(APP, "h1").badge, backend.device(APP, "h1").user_id) == (5, "ann")
    with pytest.raises(RuntimeError), backend.lock:
        backend.set_badge({"application": APP, "hwid": "h1", "badge": 9})
        raise RuntimeError("refused after the change")
    assert backend.device(APP, "h1").badge == 5


def test_a_second_backend_on_the_same_store_sees_the_devices_users_and_tags(tmp_path: Path) -> None:
    stores = [SqliteStore(tmp_path / "store.db"), SqliteStore(tmp_path / "store.db")]
    first, second = (PushwooshBackend(store=store) for store in stores)
    try:
        for backend in (first, second):
            backend.define_tag("Plan", 2)
        first.register_device(
            {"application": APP, "hwid": "h1", "device_type": 1, "userId": "ann", "tags": {"Plan": "gold"}}
        )
        assert second.query("devices", {"user_id": "ann"}, None) == first.query("devices", {"user_id": "ann"}, None)
        assert second.count_filter('T("Plan", EQ, "gold")') == {"devices_count": 1}
        second.delete_user(APP, "ann")
        assert first.query("devices", {}, None) == [] and first.find_user("ann") is None
    finally:
        for backend, store in zip((first, second), stores, strict=True):
            backend.close()
            store.close()


def test_delete_tag_removes_the_value_from_every_device_and_user(backend: PushwooshBackend) -> None:
    backend.define_tag("Plan", 2)
    backend.define_tag("Plain", 2)  # a name the other's JSON contains as text: not touched
    for n in range(3):
        tags = {"Plan": "gold", "Plain": "x"}
        backend.register_device({"application": APP, "hwid": f"h{n}", "device_type": 3, "userId": "ann", "tags": tags})
    backend.track_user(APP, {"user_id": "ann", "attributes": {"Plan": "silver"}})
    backend.delete_tag("Plan")
    assert [d.tags for d in backend.scan_devices()] == [{"Plain": "x"}] * 3
    user = backend.find_user("ann")
    assert user is not None and user.tags == {}


def test_users_and_devices_created_in_one_request_keep_the_order_they_came_in(backend: PushwooshBackend) -> None:
    names = ["zed", "amy", "kim", "bob", "lou", "eve"]
    events = [("Opened", name, None, 1_700_000_000.0, {}) for name in names]
    backend.post_events(APP, events, auto_create=True)
    assert [u["user_id"] for u in backend.query("users", {}, None)] == names
    state = backend.export_state()
    state["devices"] = [
        {"hwid": f"h-{name}", "application": APP, "device_type": 3, "user_id": name} for name in reversed(names)
    ]
    backend.import_state(state)
    assert [d["hwid"] for d in backend.query("devices", {}, None)] == [f"h-{name}" for name in reversed(names)]
    assert [u["user_id"] for u in backend.export_state()["users"]] == names


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("hwid", "h1"),
        ("push_token", "t"),
        ("user_id", "u"),
        ("language", "en"),
        ("app_version", "1.0"),
        ("device_model", "Pixel"),
        ("os_version", "14"),
        ("email", "a@b.c"),
        ("device_type", "3"),
        ("badge", "2"),
        ("unsubscribed", "True"),
        ("platform", "iOS"),
    ],
)
def test_every_scalar_device_filter_reads_an_index(backend: PushwooshBackend, name: str, text: str) -> None:
    """`application` alone is left out: SQLite reads the table newest first for it (most devices share one
    application, so a page fills at once), though the index exists."""
    narrowed = _narrowing(name, text)
    assert narrowed, f"{name} is narrowed by SQL"
    clause, params = narrowed
    db = sqlite3.connect(backend.store.path)  # type: ignore[attr-defined]  # a SqliteStore
    try:
        plan = db.execute(
            f"EXPLAIN QUERY PLAN SELECT d.seq FROM pushwoosh_devices d WHERE {clause} ORDER BY d.seq DESC LIMIT 10",
            params,
        ).fetchall()
    finally:
        db.close()
    assert any("USING INDEX" in str(row[-1]) or "USING COVERING INDEX" in str(row[-1]) for row in plan), plan
