"""Pushwoosh schemas: the captured integration API requests and the reference /json/1.3 examples
validate, broken variants fail at the right path, and every reply the fake Pushwoosh gives validates."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from swoosh import contracts, fixtures
from swoosh.emulator.pushwoosh.api import DEVICE_METHODS, SERVER_METHODS, request_schema
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from tests.captured import POST_EVENTS, POST_EVENTS_BATCHED, TRACK_USER

APP = "ABCDE-12345"
TOKEN = "KEY123"
HEADERS = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP}

PING = {"body": {"name": "test_segment_auth"}}
DELETE_USER = {"external_id": "u1"}
CREATE_MESSAGE = {
    "request": {
        "application": APP,
        "auth": "TOKEN",
        "notifications": [
            {
                "send_date": "now",
                "ignore_user_timezone": True,
                "timezone": "America/New_York",
                "campaign": "CAMPAIGN_CODE",
                "preset": "PRESET_CODE",
                "content": "Hello {Name|CapitalizeFirst|friend}!",
                "title": "...",
                "link": "...",
                "data": {},
                "platforms": [1, 3, 11],
                "devices": ["hwid or push token"],
                "users": ["userId"],
                "filter": "SEGMENT_NAME",
                "conditions": [["Country", "EQ", "BR"]],
                "conditions_operator": "AND",
                "dynamic_content_placeholders": {"firstname": "John"},
                "transactionId": "uuid",
            }
        ],
    }
}


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("pushwoosh/track-user", TRACK_USER),
        ("pushwoosh/post-events", POST_EVENTS),
        ("pushwoosh/post-events", POST_EVENTS_BATCHED),
        ("pushwoosh/ping", PING),
        ("pushwoosh/delete-user", DELETE_USER),
        ("pushwoosh/error", {"message": "unauthorized"}),
        ("pushwoosh/error", {"message": "missing application code"}),
        (
            "pushwoosh/post-event-failure",
            {
                "action": "post event",
                "status": "failure",
                "error": {"message": "Time.UnmarshalJSON: input is not a JSON string"},
            },
        ),
        ("pushwoosh/create-message", CREATE_MESSAGE),
        ("pushwoosh/reply", {"status_code": 200, "status_message": "OK", "response": None}),
        (
            "pushwoosh/create-message-reply",
            {
                "status_code": 200,
                "status_message": "OK",
                "response": {"Messages": ["307E-76BED83C-D2DF7BA0"], "UnknownDevices": {"": ["x"]}},
            },
        ),
    ],
)
def test_reference_examples_validate(name: str, payload: Any) -> None:
    assert contracts.validate(name, payload) == []


def _set(payload: Any, path: list[str | int], value: Any) -> Any:
    broken = copy.deepcopy(payload)
    target = broken
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("name", "payload", "path", "value", "expected"),
    [
        ("pushwoosh/ping", PING, ["body", "name"], "x", "$.body.name"),
        ("pushwoosh/ping", PING, ["body"], KeyError, "$"),
        ("pushwoosh/track-user", TRACK_USER, ["user_id"], KeyError, "$"),
        ("pushwoosh/track-user", TRACK_USER, ["attributes"], [], "$.attributes"),
        ("pushwoosh/track-user", TRACK_USER, ["current_location", "latitude"], "40", "$.current_location.latitude"),
        ("pushwoosh/post-events", POST_EVENTS, ["events"], {}, "$.events"),
        ("pushwoosh/post-events", POST_EVENTS, ["events", 0, "timestamp"], 1763820523, "$.events[0].timestamp"),
        ("pushwoosh/post-events", POST_EVENTS, ["events", 0, "timestamp"], "22/11/2026", "$.events[0].timestamp"),
        ("pushwoosh/post-events", POST_EVENTS, ["events", 0, "name"], "", "$.events[0].name"),
        ("pushwoosh/post-events", POST_EVENTS, ["events", 0, "user_id"], KeyError, "$.events[0]"),
        ("pushwoosh/post-events", POST_EVENTS, ["events", 0, "attributes"], "gold", "$.events[0].attributes"),
        ("pushwoosh/post-events", POST_EVENTS_BATCHED, ["events", 1, "app_id"], 12345, "$.events[1].app_id"),
        ("pushwoosh/delete-user", DELETE_USER, ["external_id"], "", "$.external_id"),
        ("pushwoosh/create-message", CREATE_MESSAGE, ["request", "notifications"], [], "$.request.notifications"),
        (
            "pushwoosh/create-message",
            CREATE_MESSAGE,
            ["request", "notifications", 0, "send_date"],
            "tomorrow",
            "$.request.notifications[0].send_date",
        ),
        ("pushwoosh/create-message", CREATE_MESSAGE, ["request", "notifications"], KeyError, "$.request"),
        ("pushwoosh/create-message", CREATE_MESSAGE, ["request"], KeyError, "$"),
    ],
)
def test_broken_variants_fail_at_the_right_path(
    name: str, payload: Any, path: list[str | int], value: Any, expected: str
) -> None:
    problems = contracts.validate(name, _set(payload, path, value))
    assert {p.path for p in problems} == {expected}, problems


def test_problem_texts_are_the_real_service_texts() -> None:
    def first(name: str, payload: Any) -> str:
        return contracts.validate(name, payload)[0].message

    assert (
        first("pushwoosh/post-events", _set(POST_EVENTS, ["events", 0, "timestamp"], 5))
        == "Time.UnmarshalJSON: input is not a JSON string"
    )
    assert first("pushwoosh/post-events", {}) == '"events" must be an array'
    assert (
        first("pushwoosh/post-events", {"events": [POST_EVENTS["events"][0]] * 101}) == "at most 100 events per request"
    )
    assert first("pushwoosh/track-user", {"attributes": {}}) == "user_id or device_id is required"
    assert first("pushwoosh/delete-user", {}) == "external_id is required"


def test_a_reply_never_carries_base_url() -> None:
    assert contracts.validate(
        "pushwoosh/reply",
        {"status_code": 200, "status_message": "OK", "response": None, "base_url": "https://elsewhere/"},
    )


def _call(client: FlaskClient, method: str, schema: str | None, reply_schema: str, **request: Any) -> dict[str, Any]:
    body = {"request": request}
    if schema:
        assert contracts.validate(schema, body) == [], (method, body)
    reply = client.post(f"/json/1.3/{method}", json=body)
    envelope = reply.get_json()
    assert contracts.validate(reply_schema, envelope) == [], (method, envelope)
    assert envelope["status_code"] == 200, envelope
    return envelope["response"]


def test_the_fake_pushwoosh_answers_the_main_methods_in_shape(client: FlaskClient) -> None:
    fake = fixtures.make_faker(3)
    population = fixtures.Population(seed=3, size=4)
    hwids = []
    for user in population.users:
        device = fake.pushwoosh_device(user)
        hwids.append(device["hwid"])
        _call(client, "registerDevice", "pushwoosh/register-device", "pushwoosh/reply", **device)
        _call(
            client,
            "registerUser",
            "pushwoosh/register-user",
            "pushwoosh/reply",
            application=APP,
            userId=user.user_id,
            hwid=device["hwid"],
            device_type=device["device_type"],
        )
    _call(client, "addTag", "pushwoosh/add-tag", "pushwoosh/add-tag-reply", auth=TOKEN, tag={"name": "Plan", "type": 2})
    _call(
        client,
        "setTags",
        "pushwoosh/set-tags",
        "pushwoosh/set-tags-reply",
        application=APP,
        hwid=hwids[0],
        tags={"Plan": "gold"},
    )
    skipped = _call(
        client,
        "setTags",
        "pushwoosh/set-tags",
        "pushwoosh/set-tags-reply",
        application=APP,
        hwid=hwids[0],
        tags={"Unknown Tag": 1},
    )
    assert skipped == {"skipped": [{"tag": "Unknown Tag", "reason": "Not found"}]}
    assert (
        _call(client, "getTags", "pushwoosh/get-tags", "pushwoosh/get-tags-reply", application=APP, hwid=hwids[0])[
            "result"
        ]["Plan"]
        == "gold"
    )
    _call(
        client,
        "createEvent",
        "pushwoosh/create-event",
        "pushwoosh/create-event-reply",
        auth=TOKEN,
        application=APP,
        name="SubscribedToOffers",
        eventAttributes=[{"name": "plan", "type": 2}],
    )
    _call(
        client,
        "postEvent",
        "pushwoosh/post-event",
        "pushwoosh/reply",
        application=APP,
        hwid=hwids[0],
        event="SubscribedToOffers",
        attributes={"plan": "gold"},
    )
    _call(
        client,
        "createFilter",
        "pushwoosh/create-filter",
        "pushwoosh/create-filter-reply",
        auth=TOKEN,
        name="gold",
        filter_expression=f'A("{APP}") * T("Plan", EQ, "gold")',
    )
    counted = _call(
        client,
        "compileFilter",
        "pushwoosh/compile-filter",
        "pushwoosh/compile-filter-reply",
        auth=TOKEN,
        devices_filter=f'A("{APP}")',
    )
    assert counted["devices_count"] == len(hwids)
    created = _call(
        client,
        "createMessage",
        "pushwoosh/create-message",
        "pushwoosh/create-message-reply",
        **fake.pushwoosh_create_message(application=APP, auth=TOKEN, devices=[*hwids, "unknown-hwid"])["request"],
    )
    _call(
        client,
        "createTargetedMessage",
        "pushwoosh/create-targeted-message",
        "pushwoosh/create-targeted-message-reply",
        auth=TOKEN,
        devices_filter=f'A("{APP}")',
        content="Hi",
        send_date="now",
    )
    stats = _call(
        client,
        "getMsgStats",
        "pushwoosh/get-msg-stats",
        "pushwoosh/get-msg-stats-reply",
        auth=TOKEN,
        message=created["Messages"][0],
    )
    rows = _call(
        client,
        "getResults",
        "pushwoosh/get-results",
        "pushwoosh/get-results-reply",
        auth=TOKEN,
        request_id=stats["request_id"],
    )["rows"]
    assert rows


def _reply_schema(method: str) -> str:
    """A method's reply schema: its own when its response has a shape, else the envelope's."""
    own = request_schema(method) + "-reply"
    return own if own in contracts.names() else "pushwoosh/reply"


def test_the_fake_pushwoosh_answers_every_other_method_in_shape(client: FlaskClient, backend: PushwooshBackend) -> None:
    """The methods the test above leaves out, each with a request valid against its schema and a reply checked
    against its own; together the two tests call every method the fake implements."""
    called: list[str] = []

    def call(method: str, **request: Any) -> Any:
        called.append(method)
        return _call(client, method, request_schema(method), _reply_schema(method), **request)

    email = "ann@example.com"
    call("registerEmail", application=APP, email=email, language="en", tags={})
    call("registerEmailUser", application=APP, email=email, userId="u-ann")
    call("addTag", auth=TOKEN, tag={"name": "Plan", "type": 2})
    call("setEmailTags", application=APP, email=email, tags={"Plan": "gold"})
    news = {"subject": "News", "users": ["u-ann"]}
    sent = call("createEmailMessage", application=APP, auth=TOKEN, notifications=[news])
    details = call("getMessageDetails", auth=TOKEN, message=sent["Messages"][0])
    assert details["message"]["kind"] == "email"
    call("deleteEmail", application=APP, email=email)

    call("getConfig", application=APP, hwid="dev-1", features=["vapid_key", "events"])
    call("applicationOpen", application=APP, hwid="dev-1")
    call("checkDevice", application=APP, hwid="dev-1")
    call("registerDevice", application=APP, hwid="dev-1", device_type=1, push_token="apns-token")
    call("setBadge", application=APP, hwid="dev-1", badge=2)
    pushed = call("createMessage", application=APP, auth=TOKEN, notifications=[{"content": "Hi", "devices": ["dev-1"]}])
    code = pushed["Messages"][0]
    call("messageDeliveryEvent", application=APP, hwid="dev-1", hash=code)
    call("pushStat", application=APP, hwid="dev-1", hash=code)
    inbox = call("getInboxMessages", application=APP, hwid="dev-1", count=0, last_code="")
    call("inboxStatus", application=APP, hwid="dev-1", inbox_code=inbox["messages"][0]["order"], status=2)
    scheduled = {"content": "Later", "send_date": "2099-01-01 10:00"}
    later = call("createMessage", application=APP, auth=TOKEN, notifications=[scheduled])
    call("deleteMessage", auth=TOKEN, message=later["Messages"][0])
    assert backend.messages[later["Messages"][0]].status == "cancelled"
    call("unregisterDevice", application=APP, hwid="dev-1")
    call("deleteDevice", application=APP, hwid="dev-1")

    assert [t["name"] for t in call("listTags", auth=TOKEN)["tags"]] == ["Plan"]
    call("deleteTag", auth=TOKEN, tag={"name": "Plan"})
    call("createFilter", auth=TOKEN, name="gold", conditions=[["Plan", "EQ", "gold"]])
    assert [f["name"] for f in call("listFilters", auth=TOKEN)["filters"]] == ["gold"]
    call("deleteFilter", auth=TOKEN, name="gold")

    covered_above = {
        "registerDevice", "registerUser", "addTag", "setTags", "getTags", "createEvent", "postEvent",
        "createFilter", "compileFilter", "createMessage", "createTargetedMessage", "getMsgStats", "getResults",
    }  # fmt: skip
    assert {*DEVICE_METHODS, *SERVER_METHODS} - covered_above - set(called) == set()


@pytest.mark.parametrize("body", [b"not json", b'{"no": "request"}', b'{"request": {"application": "NOPE0-00000"}}'])
def test_the_fake_pushwoosh_error_replies_are_envelopes(client: FlaskClient, body: bytes) -> None:
    reply = client.post("/json/1.3/registerDevice", data=body)
    assert contracts.validate("pushwoosh/reply", reply.get_json()) == []


def test_the_fake_integration_api_replies_in_shape(client: FlaskClient) -> None:
    assert client.post("/integration-segment/v1/ping", json=PING, headers=HEADERS).data == b""
    for path, body, headers, schema in [
        ("ping", PING, {"X-PW-Appcode": APP}, "pushwoosh/error"),
        ("ping", PING, {"Authorization": f"Token {TOKEN}"}, "pushwoosh/error"),
        ("track-user", {"attributes": {}}, HEADERS, "pushwoosh/error"),
        ("delete-user", {}, HEADERS, "pushwoosh/error"),
        ("post-events", _set(POST_EVENTS, ["events", 0, "timestamp"], 5), HEADERS, "pushwoosh/post-event-failure"),
    ]:
        reply = client.post(f"/integration-segment/v1/{path}", json=body, headers=headers)
        assert reply.status_code in (400, 401)
        assert contracts.validate(schema, reply.get_json()) == [], (path, reply.get_json())


def test_message_events_from_a_delivery_simulation_validate(client: FlaskClient, backend: PushwooshBackend) -> None:
    fake = fixtures.make_faker(9)
    population = fixtures.Population(seed=9, size=6)
    hwids = []
    for user in population.users:
        for platform in ("iOS", "Android", "Chrome", "Email", "SMS"):
            device = fake.pushwoosh_device(user, platform=platform)
            hwids.append(device["hwid"])
            assert client.post("/json/1.3/registerDevice", json={"request": device}).get_json()["status_code"] == 200
    for method in ("createMessage", "createEmailMessage"):
        notification = {
            "send_date": "now",
            "content": "Hi",
            "subject": "Hi",
            "devices": hwids,
            "campaign": "CAMPA-IGN01",
        }
        reply = client.post(
            f"/json/1.3/{method}",
            json={"request": {"application": APP, "auth": TOKEN, "notifications": [notification]}},
        )
        assert reply.get_json()["status_code"] == 200, reply.get_json()
    events = client.get("/_swoosh/message-events").get_json()
    events = events if isinstance(events, list) else events["items"]
    assert {e["message_type"] for e in events} >= {"Push", "Email", "SMS"}
    for event in events:
        assert contracts.validate("events/message-event", event) == [], event
    for start in range(0, len(events), 100):
        assert contracts.validate("events/webhook-batch", {"events": events[start : start + 100]}) == []


def test_what_the_official_python_sdk_sends_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The body the `pushwoosh` package builds (captured from its own code) matches the request schemas."""
    import pushwoosh

    sent: list[tuple[str, Any]] = []

    def capture(_self: Any, method: str, data: Any) -> tuple[int, bytes]:
        sent.append((method, data))
        return 200, b'{"status_code": 200, "status_message": "OK", "response": {}}'

    monkeypatch.setattr(pushwoosh.Pushwoosh, "_Pushwoosh__pwCall", capture)
    client = pushwoosh.Pushwoosh("KEY123", "ABCDE-12345")
    client.create_message([{"text": "Hi there", "devices": ["t1"]}])
    client.create_message([{"text": "10% off", "data": {"offer": "spring"}}], sendDate="2026-12-01 10:00")
    assert [method for method, _ in sent] == ["createMessage", "createMessage"]
    for _method, body in sent:
        assert contracts.validate("pushwoosh/create-message", body) == []
