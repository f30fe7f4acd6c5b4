"""/integration-segment/v1: the requests Segment's Pushwoosh destination sends, and every reply."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from tests.captured import POST_EVENTS, POST_EVENTS_BATCHED, TRACK_USER
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS, triggered


def test_ping_with_the_nested_body(client: FlaskClient) -> None:
    response = client.post(
        "/integration-segment/v1/ping", json={"body": {"name": "test_segment_auth"}}, headers=INTEGRATION_HEADERS
    )
    assert response.status_code == 200 and response.get_data() == b""


@pytest.mark.parametrize("endpoint", ["ping", "track-user", "post-events", "delete-user"])
@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 401, {"message": "unauthorized"}),
        ({"Authorization": "Token wrong", "X-PW-Appcode": APP}, 401, {"message": "unauthorized"}),
        ({"Authorization": "Bearer KEY123", "X-PW-Appcode": APP}, 401, {"message": "unauthorized"}),
        ({"Authorization": "Token KEY123"}, 400, {"message": "missing application code"}),
    ],
)
def test_auth_replies(client: FlaskClient, endpoint: str, headers: dict, status: int, body: dict) -> None:
    response = client.post(f"/integration-segment/v1/{endpoint}", json={}, headers=headers)
    assert response.status_code == status and response.get_json() == body


def test_track_user_writes_tags_and_profile(client: FlaskClient, backend: PushwooshBackend) -> None:
    response = client.post("/integration-segment/v1/track-user", json=TRACK_USER, headers=INTEGRATION_HEADERS)
    assert response.status_code == 200 and response.get_data() == b""
    user = backend.find_user("u1")
    assert backend.user_tag_values(user) == {"name": "Ann", "searched_product": "sports shoes"}
    assert user.profile["email"] == "a@x.io" and user.profile["current_location"]["latitude"] == 40.2964197
    assert backend.tag_registry["searched_product"].type == 2


def test_track_user_with_a_device(client: FlaskClient, backend: PushwooshBackend) -> None:
    client.post(
        "/integration-segment/v1/track-user",
        headers=INTEGRATION_HEADERS,
        json={
            "user_id": "u1",
            "device_id": "dev-1",
            "device_platform": "ios",
            "device_token": "apns-token",
            "app_version": "2.1",
            "device_model": "iPhone15,2",
            "device_os_version": "17.1",
            "attributes": {"plan": 3},
        },
    )
    device = backend.device(APP, "dev-1")
    assert (device.device_type, device.push_token, device.user_id, device.os_version) == (1, "apns-token", "u1", "17.1")
    assert backend.tag_registry["plan"].type == 1


@pytest.mark.parametrize(
    ("platform", "device_type"),
    [("ios", 1), ("Android", 3), ("web", 11), ("windows", None), ("tvOS", None), (None, None)],
)
def test_track_user_understands_only_ios_android_and_web(
    client: FlaskClient, backend: PushwooshBackend, platform: str | None, device_type: int | None
) -> None:
    """Other platforms are stored without one, and a device without a platform is not reached by pushes."""
    profile = {"user_id": "u1", "device_id": "dev-1", "device_token": "token"}
    if platform is not None:  # the destination leaves unresolved fields out
        profile["device_platform"] = platform
    reply = client.post("/integration-segment/v1/track-user", headers=INTEGRATION_HEADERS, json=profile)
    assert reply.status_code == 200, reply.get_json()
    device = backend.device(APP, "dev-1")
    assert device.device_type == device_type
    backend.create_messages({"application": APP, "notifications": [{"content": "hi", "devices": ["dev-1"]}]})
    assert ("dev-1" in backend.inboxes) is (device_type is not None)


def test_post_events_single_and_batched_shapes(client: FlaskClient, backend: PushwooshBackend) -> None:
    for body in (POST_EVENTS, POST_EVENTS_BATCHED):
        response = client.post("/integration-segment/v1/post-events", json=body, headers=INTEGRATION_HEADERS)
        assert response.status_code == 200 and response.get_data() == b""
    posted = backend.query("events", {}, None)
    assert [e["name"] for e in posted] == ["SubscribedToOffers", "SubscribedToOffers", "Viewed"]
    assert posted[0]["attributes"] == {"plan": "gold"}
    recorded = backend.query("events", {}, None)[0]
    assert recorded["stored_at"] >= recorded["timestamp"]  # storage time, for ingest-to-storage latency
    assert triggered(backend, "user:u1", "SubscribedToOffers")
    assert [w["kind"] for w in backend.warnings] == ["app_id", "app_id"]


@pytest.mark.parametrize("timestamp", [1700000000, "2026-11-22", "yesterday", None])
def test_one_bad_timestamp_rejects_the_whole_batch(
    client: FlaskClient, backend: PushwooshBackend, timestamp: object
) -> None:
    events = [POST_EVENTS["events"][0], {**POST_EVENTS["events"][0], "timestamp": timestamp}]
    response = client.post("/integration-segment/v1/post-events", json={"events": events}, headers=INTEGRATION_HEADERS)
    assert response.status_code == 400
    assert response.get_json() == {
        "action": "post event",
        "status": "failure",
        "error": {"message": "Time.UnmarshalJSON: input is not a JSON string"},
    }
    assert not backend.query("events", {}, None)


def test_strict_mode_flags_app_id_and_refuses_big_batches() -> None:
    """The real service accepts the batched-mode `app_id`; a strict fake flags it as a warning, no more."""
    backend = PushwooshBackend(PushwooshConfig(strict=True))
    client = create_app(backend).test_client()
    taken = client.post("/integration-segment/v1/post-events", json=POST_EVENTS_BATCHED, headers=INTEGRATION_HEADERS)
    assert taken.status_code == 200
    assert [w["kind"] for w in backend.warnings] == ["app_id"] * len(POST_EVENTS_BATCHED["events"])
    posted = len(backend.query("events", {}, None))
    big = {"events": POST_EVENTS["events"] * 101}
    assert client.post("/integration-segment/v1/post-events", json=big, headers=INTEGRATION_HEADERS).status_code == 400
    assert len(backend.query("events", {}, None)) == posted
    backend.close()


def test_delete_user_removes_everything(client: FlaskClient, backend: PushwooshBackend) -> None:
    client.post(
        "/integration-segment/v1/track-user", json={**TRACK_USER, "device_id": "d1"}, headers=INTEGRATION_HEADERS
    )
    client.post("/integration-segment/v1/post-events", json=POST_EVENTS, headers=INTEGRATION_HEADERS)
    response = client.post(
        "/integration-segment/v1/delete-user", json={"external_id": "u1"}, headers=INTEGRATION_HEADERS
    )
    assert response.status_code == 200
    assert (
        backend.find_user("u1") is None
        and backend.find_device(APP, "d1") is None
        and not backend.query("events", {}, None)
    )
    missing = client.post("/integration-segment/v1/delete-user", json={}, headers=INTEGRATION_HEADERS)
    assert missing.status_code == 400


NULLABLE_PROFILE_FIELDS = (
    "email",
    "app_version",
    "device_model",
    "device_platform",
    "device_token",
    "language",
    "country",
    "city",
    "device_os_version",
    "timezone",
    "user_agent",
)


def test_track_user_takes_the_explicit_nulls_and_partial_location_the_destination_sends(
    client: FlaskClient, backend: PushwooshBackend
) -> None:
    body = {
        "attributes": {},
        "user_id": "u-null",
        "device_id": None,
        **dict.fromkeys(NULLABLE_PROFILE_FIELDS),
        "current_location": {"latitude": 30.1},
    }
    response = client.post("/integration-segment/v1/track-user", json=body, headers=INTEGRATION_HEADERS)
    assert response.status_code == 200, response.get_json()
    assert backend.find_user("u-null").profile == {"current_location": {"latitude": 30.1}}
    nulled = {**body, "current_location": None}
    assert (
        client.post("/integration-segment/v1/track-user", json=nulled, headers=INTEGRATION_HEADERS).status_code == 200
    )


def test_post_events_take_a_null_device(client: FlaskClient, backend: PushwooshBackend) -> None:
    item = {**POST_EVENTS["events"][0], "device_id": None, "device_platform": None}
    response = client.post("/integration-segment/v1/post-events", json={"events": [item]}, headers=INTEGRATION_HEADERS)
    assert response.status_code == 200 and len(backend.query("events", {}, None)) == 1


PYTHON_WORDS = ("None", "True", "False", "'", "is not of type", "is a required property")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
profile_keys = st.sampled_from(["user_id", "device_id", "attributes", "current_location", *NULLABLE_PROFILE_FIELDS])
item_keys = st.sampled_from(["user_id", "device_id", "device_platform", "name", "timestamp", "attributes", "app_code"])


@given(
    endpoint=st.sampled_from(["track-user", "post-events", "delete-user"]),
    profile=st.dictionaries(profile_keys, json_values, max_size=5),
    items=st.lists(st.dictionaries(item_keys, json_values, max_size=6), max_size=3),
    raw=json_values,
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_refusal_speaks_python(client: FlaskClient, endpoint: str, profile: dict, items: list, raw: object) -> None:
    """Refusals are the real service's words or plain English naming the field, never a Python repr."""
    body = {"track-user": profile, "post-events": {"events": items}, "delete-user": raw}[endpoint]
    response = client.post(f"/integration-segment/v1/{endpoint}", json=body, headers=INTEGRATION_HEADERS)
    assert response.status_code < 500
    if response.status_code == 400:
        reply = response.get_json()
        text = reply.get("message") or reply["error"]["message"]
        assert not any(word in text for word in PYTHON_WORDS), text
