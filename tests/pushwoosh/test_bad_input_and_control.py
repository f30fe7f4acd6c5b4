"""Arbitrary input on every route never yields a 5xx or a half-written state; control API round trips."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh import contracts
from swoosh.emulator.pushwoosh.api import DEVICE_METHODS, SERVER_METHODS, request_schema
from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.pushwoosh.client import PushwooshClient
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS, TOKEN, call, triggered

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=15),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)
fields = st.sampled_from(
    [
        "application",
        "hwid",
        "device_type",
        "userId",
        "tags",
        "event",
        "attributes",
        "auth",
        "notifications",
        "devices_filter",
        "tag",
        "name",
        "conditions",
        "message",
        "email",
        "badge",
        "hash",
        "send_date",
        "content",
        "request_id",
        "push_token",
        "timestampUTC",
    ]
)
plausible = {
    "application": st.just(APP),
    "auth": st.just(TOKEN),
    "hwid": st.sampled_from(["h1", "h2", ""]),
    "device_type": st.sampled_from([1, 3, 14, 18, 4, "3"]),
}
requests = st.dictionaries(fields, json_values, max_size=8).flatmap(
    lambda base: st.fixed_dictionaries({k: v for k, v in plausible.items()}).map(lambda extra: {**base, **extra})
)
methods = st.sampled_from(sorted({*DEVICE_METHODS, *SERVER_METHODS, "unknownMethod"}))


def snapshot(backend: PushwooshBackend) -> str:
    state = backend.export_state()
    return json.dumps(
        {k: state[k] for k in ("devices", "users", "events", "tag_registry")}, sort_keys=True, default=str
    )


def assert_consistent(backend: PushwooshBackend) -> None:
    """Every device is found by its key, its user exists and lists it; every user's devices are its own."""
    users = {user.user_id: user for user in backend.rows.users()}
    for device in backend.scan_devices():
        found = backend.device(device.application, device.hwid)
        assert (found.hwid, found.application) == (device.hwid, device.application)
        if device.user is not None:
            assert device.user_id in users
            assert device.hwid in [d.hwid for d in backend.user_devices(users[device.user_id])]
    for user in users.values():
        assert all(d.user_id == user.user_id for d in backend.user_devices(user))


@given(method=methods, request=requests | json_values)
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_remote_api_never_5xx_and_errors_change_nothing(
    client: FlaskClient, backend: PushwooshBackend, method: str, request: Any
) -> None:
    before = snapshot(backend)
    response = client.post(f"/json/1.3/{method}", json={"request": request})
    assert response.status_code in (200, 400)
    reply = response.get_json()
    assert set(reply) == {"status_code", "status_message", "response"}
    if reply["status_code"] != 200 and method not in ("createMessage", "createTargetedMessage"):
        assert snapshot(backend) == before
    assert_consistent(backend)


NOTIFICATION_FIELDS = sorted(contracts.schema("pushwoosh/create-message")["$defs"]["notification"]["properties"])


def _near_example(method: str, data: st.DataObject) -> dict[str, Any]:
    """The method's schema example with up to three fields (and notification fields) set to arbitrary JSON."""
    schema = contracts.schema(request_schema(method))
    request = {**schema["examples"][0]["request"], "auth": TOKEN}
    for key in data.draw(st.lists(st.sampled_from(sorted(schema["properties"]["request"]["properties"])), max_size=3)):
        request[key] = data.draw(json_values)
    if isinstance(request.get("notifications"), list) and data.draw(st.booleans()):
        first = request["notifications"][0] if request["notifications"] else {}
        notification = dict(first) if isinstance(first, dict) else {}
        for key in data.draw(st.lists(st.sampled_from(NOTIFICATION_FIELDS), max_size=3)):
            notification[key] = data.draw(json_values)
        request["notifications"] = [notification]
    return request


def test_every_method_has_its_request_schema() -> None:
    missing = [m for m in sorted({*DEVICE_METHODS, *SERVER_METHODS}) if request_schema(m) not in contracts.names()]
    assert missing == []


@given(method=st.sampled_from(sorted({*DEVICE_METHODS, *SERVER_METHODS})), data=st.data())
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_requests_near_the_schema_examples_never_5xx_and_schema_breaches_are_210(
    client: FlaskClient, backend: PushwooshBackend, method: str, data: st.DataObject
) -> None:
    """Requests that get past the shape check reach the backend, which must cope with every schema-valid value."""
    call(client, "registerDevice", application=APP, hwid="b4e292cb0d31cda0", device_type=3, userId="u1")
    request = _near_example(method, data)
    before = snapshot(backend)
    response = client.post(f"/json/1.3/{method}", json={"request": request})
    assert response.status_code in (200, 400), response.data[:300]  # 400: a number beyond 64 bits is not JSON here
    reply = response.get_json()
    if response.status_code == 200 and not contracts.is_valid(request_schema(method), {"request": request}):
        assert reply["status_code"] == 210, reply
        assert snapshot(backend) == before
    assert_consistent(backend)


@given(
    endpoint=st.sampled_from(["ping", "track-user", "post-events", "delete-user", "nope"]),
    body=json_values
    | st.dictionaries(
        st.sampled_from(["user_id", "device_id", "attributes", "events", "external_id", "device_platform"]), json_values
    ),
    raw=st.booleans(),
    junk=st.binary(max_size=50),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_integration_api_never_5xx(
    client: FlaskClient, backend: PushwooshBackend, endpoint: str, body: Any, raw: bool, junk: bytes
) -> None:
    data = junk if raw else json.dumps(body).encode()
    response = client.post(f"/integration-segment/v1/{endpoint}", data=data, headers=INTEGRATION_HEADERS)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.is_json
    assert_consistent(backend)


def test_control_api_state_round_trip_and_reset_keeps_configuration(served: str) -> None:
    control = PushwooshClient(served)
    control.add_application("SHOP1-00001", name="Shop", segment={"write_key": "wk", "events": "Push Sent"})
    import httpx

    httpx.post(
        f"{served}/json/1.3/registerDevice",
        json={"request": {"application": APP, "hwid": "h1", "device_type": 3, "userId": "u1"}},
    )
    httpx.post(
        f"{served}/integration-segment/v1/track-user",
        headers=INTEGRATION_HEADERS,
        json={"user_id": "u1", "attributes": {"plan": "gold"}},
    )
    state = control.export_state()
    control.reset()
    assert control.devices() == [] and control.config()["applications"][1]["code"] == "SHOP1-00001"
    control.import_state(state)
    assert control.tags(user_id="u1") == {"plan": "gold"}
    assert control.devices(hwid="h1")[0]["user_id"] == "u1"
    assert control.app_code == APP and control.api_token == TOKEN


def test_bad_control_input_is_4xx(client: FlaskClient) -> None:
    assert client.post("/_swoosh/applications", json={"code": "bad"}).status_code == 400
    assert client.post("/_swoosh/webhooks", json={"url": "ftp://x"}).status_code == 400
    assert client.delete("/_swoosh/webhooks/9").status_code == 404
    assert client.get("/_swoosh/inbox").status_code == 400
    assert call(client, "getTags", application=APP, userId="ghost")["status_code"] == 210


def test_posted_event_log_is_bounded_but_segments_still_see_every_event() -> None:
    backend = PushwooshBackend(PushwooshConfig(max_posted_events=3))
    client = create_app(backend).test_client()
    try:
        for n in range(5):
            event = {"user_id": f"u{n}", "app_code": APP, "name": "Opened", "timestamp": "2026-11-22T14:08:43.998Z"}
            body = {"events": [event]}
            reply = client.post("/integration-segment/v1/post-events", json=body, headers=INTEGRATION_HEADERS)
            assert reply.status_code == 200, reply.get_data()
        kept = [e["subject"] for e in client.get("/_swoosh/events").get_json()["items"]]
        assert kept == ["user:u2", "user:u3", "user:u4"]
        config = client.get("/_swoosh/config").get_json()
        assert (config["max_posted_events"], config["evicted_posted_events"]) == (3, 2)
        assert all(triggered(backend, f"user:u{n}", "Opened") for n in range(5))
        client.post("/_swoosh/reset")
        assert client.get("/_swoosh/config").get_json()["evicted_posted_events"] == 0
    finally:
        backend.close()


def test_injected_faults_answer_in_each_apis_own_shape(client: FlaskClient, backend: PushwooshBackend) -> None:
    """pypushwoosh reads `status_code` from every /json/1.3 reply; the destination reads `message`."""
    backend.runtime.faults.add({"path": "/json/1.3/", "status": 500, "times": 1})
    backend.runtime.faults.add({"path": "/integration-segment/", "status": 503, "times": 1})
    remote = client.post("/json/1.3/registerDevice", json={"request": {"application": APP}})
    assert remote.status_code == 500
    assert set(remote.get_json()) == {"status_code", "status_message", "response"}
    assert remote.get_json()["status_code"] == 500
    integration = client.post("/integration-segment/v1/ping", headers=INTEGRATION_HEADERS, json={})
    assert integration.status_code == 503 and set(integration.get_json()) == {"message"}
