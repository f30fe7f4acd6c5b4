"""What the Web SDK needs of /json/1.3, without a browser: CORS on every answer (errors and injected faults
too), preflights, text/plain bodies, and the methods it calls (getConfig with the application's VAPID key,
checkDevice, getInboxMessages and inboxStatus, applicationOpen before registration). tests/browser/ runs
the SDK itself against the same paths."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh import contracts
from swoosh.emulator.pushwoosh.api import request_schema
from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from tests.pushwoosh.conftest import APP, TOKEN, call

ORIGIN = "http://127.0.0.1:5173"
WEB = {"application": APP, "hwid": "web-1", "userId": "u1", "device_type": 11}
SUBSCRIPTION = {"push_token": "https://push.example/send/abc", "public_key": "BPk3", "auth_token": "c2VjcmV0"}


def _sdk_post(client: FlaskClient, method: str, request: Any, **headers: str) -> Any:
    """As the Web SDK posts: a text/plain JSON body from the page's origin."""
    body = json.dumps({"request": request})
    headers = {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8", **headers}
    return client.post(f"/json/1.3/{method}", data=body, headers=headers)


def _assert_browser_readable(response: Any) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def _reply(client: FlaskClient, method: str, **request: Any) -> Any:
    """A successful call through the SDK's path, its reply checked against the method's reply schema."""
    response = _sdk_post(client, method, request)
    _assert_browser_readable(response)
    body = response.get_json()
    assert body["status_code"] == 200, body
    schema = request_schema(method) + "-reply"
    if schema in contracts.names():
        assert contracts.validate(schema, body) == [], body
    return body["response"]


def _push(client: FlaskClient, content: str, hwid: str = "web-1") -> str:
    notification = {"content": content, "devices": [hwid]}
    sent = call(client, "createMessage", application=APP, auth=TOKEN, notifications=[notification])
    assert sent["status_code"] == 200, sent
    return sent["response"]["Messages"][0]


def test_a_text_plain_body_is_read_as_json_and_the_page_can_read_the_answer(client: FlaskClient) -> None:
    response = _sdk_post(client, "registerDevice", {**WEB, **SUBSCRIPTION})
    _assert_browser_readable(response)
    assert response.get_json()["status_code"] == 200
    assert "Origin" in response.headers["Vary"]


def test_a_preflight_allows_authorization_and_content_type(client: FlaskClient) -> None:
    response = client.options(
        "/json/1.3/registerDevice",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    _assert_browser_readable(response)
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/json/1.3/noSuchMethod", b'{"request": {}}', 200),  # 404 in the envelope
        ("/json/1.3/registerDevice", b"{not json", 400),
        ("/json/1.3/registerDevice", b'{"request": {"application": "NOPE0-00000"}}', 200),
    ],
)
def test_errors_carry_cors_headers(client: FlaskClient, path: str, body: bytes, status: int) -> None:
    response = client.post(path, data=body, headers={"Origin": ORIGIN, "Content-Type": "text/plain"})
    assert response.status_code == status
    _assert_browser_readable(response)


@pytest.mark.parametrize("rule", [{"status": 500}, {"status": 429, "retry_after": 3}, {"delay_ms": 10}])
def test_injected_faults_carry_cors_headers(client: FlaskClient, rule: dict[str, Any]) -> None:
    client.post("/_swoosh/faults", json={"path": "^/json/1.3/getConfig$", **rule})
    response = _sdk_post(client, "getConfig", {"application": APP})
    assert response.status_code == rule.get("status", 200)
    _assert_browser_readable(response)


def test_strict_mode_refusals_carry_cors_headers_and_the_sdk_token_passes() -> None:
    backend = PushwooshBackend(PushwooshConfig(strict=True))
    client = create_app(backend).test_client()
    refused = _sdk_post(client, "getConfig", {"application": APP})
    assert refused.status_code == 401
    _assert_browser_readable(refused)
    accepted = _sdk_post(client, "getConfig", {"application": APP}, Authorization="Token DEVICE-TOKEN")
    assert accepted.get_json()["status_code"] == 200
    backend.close()


def test_the_control_namespace_gets_no_cors(client: FlaskClient) -> None:
    assert "Access-Control-Allow-Origin" not in client.get("/_swoosh/devices", headers={"Origin": ORIGIN}).headers


def _point(key: str) -> bytes:
    return base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))


def test_get_config_gives_each_application_its_own_vapid_key_kept_across_export(
    client: FlaskClient, backend: PushwooshBackend
) -> None:
    backend.add_application("WEBAP-00002", "second")
    first = _reply(client, "getConfig", application=APP, features=["vapid_key", "page_visit"])["features"]
    second = _reply(client, "getConfig", application="WEBAP-00002")["features"]
    assert set(first) == {"vapid_key", "page_visit"} and first["page_visit"]["enabled"] is False
    point = _point(first["vapid_key"])
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point: what pushManager.subscribe takes
    assert first["vapid_key"] != second["vapid_key"]
    assert "vapid_private_key" not in client.get("/_swoosh/config").get_data(as_text=True)

    restored = PushwooshBackend(PushwooshConfig())
    restored.import_state(json.loads(json.dumps(backend.export_state())))
    assert restored.get_config({"application": APP})["features"]["vapid_key"] == first["vapid_key"]
    restored.close()


def test_a_shared_export_leaves_the_vapid_private_key_out(client: FlaskClient, backend: PushwooshBackend) -> None:
    """The control API's export may be shared: the private key is redacted, and importing that export gives
    the application a new pair (the stack's own state file keeps the pair, see the test above)."""
    before = backend.get_config({"application": APP})["features"]["vapid_key"]
    exported = client.get("/_swoosh/state").get_json()
    assert exported["backend"]["applications"][0]["vapid_private_key"] == "<redacted>"
    assert client.post("/_swoosh/state", json=exported).status_code == 200
    after = backend.get_config({"application": APP})["features"]["vapid_key"]
    assert after != before and len(_point(after)) == 65


def test_get_config_lists_created_events(client: FlaskClient) -> None:
    assert call(client, "createEvent", auth=TOKEN, name="Checkout", attributes=[])["status_code"] == 200
    assert _reply(client, "getConfig", application=APP, features=["events"])["features"] == {"events": ["Checkout"]}


def test_check_device_follows_registration(client: FlaskClient) -> None:
    assert _reply(client, "checkDevice", **WEB) == {"exist": False, "push_token_exist": False}
    _reply(client, "registerDevice", **WEB, **SUBSCRIPTION)
    assert _reply(client, "checkDevice", **WEB) == {"exist": True, "push_token_exist": True}
    _reply(client, "unregisterDevice", **WEB)
    assert _reply(client, "checkDevice", **WEB) == {"exist": True, "push_token_exist": False}


def test_register_device_keeps_the_browser_subscription(client: FlaskClient, backend: PushwooshBackend) -> None:
    _reply(client, "registerDevice", **WEB, **SUBSCRIPTION)
    subscription = {"endpoint": SUBSCRIPTION["push_token"], "p256dh": "BPk3", "auth": "c2VjcmV0"}
    assert backend.device(APP, "web-1").web_push == subscription
    shown = client.get("/_swoosh/devices").get_json()["items"][0]["web_push"]
    assert shown == {**subscription, "auth": "<redacted>"}  # the auth secret is a secret to the control API
    restored = PushwooshBackend(PushwooshConfig())
    restored.import_state(backend.export_state())
    assert restored.device(APP, "web-1").web_push == subscription
    restored.close()
    _reply(client, "unregisterDevice", **WEB)
    assert "web_push" not in client.get("/_swoosh/devices").get_json()["items"][0]


def test_application_open_is_accepted_and_recorded_for_an_hwid_not_seen(client: FlaskClient) -> None:
    _reply(client, "applicationOpen", **WEB)
    opens = client.get("/_swoosh/app-opens").get_json()["items"]
    assert [(o["hwid"], o["user_id"], o["device_type"]) for o in opens] == [("web-1", "u1", 11)]
    assert client.get("/_swoosh/devices").get_json()["items"] == []  # an open registers nothing


def test_unregister_device_accepts_an_hwid_not_seen(client: FlaskClient) -> None:
    """The Web SDK unregisters on a first visit before it registers; a refusal would stop its subscribing."""
    _reply(client, "unregisterDevice", **WEB)
    assert client.get("/_swoosh/devices").get_json()["items"] == []


def test_the_inbox_shows_pushes_and_follows_their_status(client: FlaskClient) -> None:
    _reply(client, "registerDevice", **WEB, **SUBSCRIPTION)
    codes = [_push(client, text) for text in ("one", "two", "three")]
    inbox = _reply(client, "getInboxMessages", **WEB, count=0, last_code="", last_request_time=0)
    assert [m["inbox_id"] for m in inbox["messages"]] == codes
    assert [m["text"] for m in inbox["messages"]] == ["one", "two", "three"]
    assert inbox["new_inbox"] == 3 and inbox["deleted"] == [] and inbox["next"] == "3"
    first, second, _ = inbox["messages"]

    _reply(client, "inboxStatus", **WEB, inbox_code=first["order"], status=3, time=0)
    _reply(client, "inboxStatus", **WEB, inbox_code=first["order"], status=2, time=0)  # never goes back
    _reply(client, "inboxStatus", **WEB, inbox_code=second["order"], status=4, time=0)
    again = _reply(client, "getInboxMessages", **WEB, count=0, last_code="", last_request_time=0)
    assert [(m["inbox_id"], m["status"]) for m in again["messages"]] == [(codes[0], 3), (codes[2], 1)]
    assert again["deleted"] == [codes[1]] and again["new_inbox"] == 1
    assert _reply(client, "getInboxMessages", **WEB, last_code=again["next"])["messages"] == []


@pytest.mark.parametrize(
    ("method", "request_", "message"),
    [
        ("inboxStatus", {"inbox_code": "9", "status": 2}, "Inbox message not found"),
        ("inboxStatus", {"inbox_code": "1", "status": 7}, "status must be 1, 2, 3 or 4"),
        ("getInboxMessages", {"last_code": "abc"}, "last_code must be the next of a previous answer"),
        ("getInboxMessages", {"count": -1}, "count must be a non-negative integer"),
        ("getConfig", {"features": "vapid_key"}, "features must be a list of feature names"),
    ],
)
def test_bad_inbox_and_config_requests_get_210(
    client: FlaskClient, method: str, request_: dict[str, Any], message: str
) -> None:
    _reply(client, "registerDevice", **WEB, **SUBSCRIPTION)
    body = _sdk_post(client, method, {**WEB, **request_}).get_json()
    assert (body["status_code"], body["status_message"]) == (210, message)


def test_the_inbox_of_an_unknown_device_is_refused(client: FlaskClient) -> None:
    body = _sdk_post(client, "getInboxMessages", WEB).get_json()
    assert (body["status_code"], body["status_message"]) == (210, "Device not found")


@settings(max_examples=25, deadline=None)
@given(total=st.integers(0, 7), page=st.integers(1, 4))
def test_paging_with_next_returns_every_entry_once_in_order(total: int, page: int) -> None:
    backend = PushwooshBackend(PushwooshConfig())
    client = create_app(backend).test_client()
    _reply(client, "registerDevice", **WEB, **SUBSCRIPTION)
    codes = [_push(client, f"m{i}") for i in range(total)]
    seen: list[str] = []
    cursor = ""
    for _ in range(total + 1):
        answer = _reply(client, "getInboxMessages", **WEB, count=page, last_code=cursor)
        assert len(answer["messages"]) <= page
        seen += [m["inbox_id"] for m in answer["messages"]]
        cursor = answer["next"]
    assert seen == codes
    backend.close()
