"""/json/1.3 methods: the envelope, each method's happy path and its error replies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from tests.pushwoosh.conftest import APP, TOKEN, call, register


def test_envelope_and_unknown_method(client: FlaskClient) -> None:
    reply = call(client, "registerDevice", application=APP, hwid="h1", device_type=3)
    assert reply == {"status_code": 200, "status_message": "OK", "response": None}
    unknown = call(client, "launchRockets", application=APP)
    assert unknown["status_code"] == 404 and "launchRockets" in unknown["status_message"]
    assert "base_url" not in str(unknown)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"request": 5}', b'{"nope": {}}', b""])
def test_malformed_bodies_are_http_400_json(client: FlaskClient, body: bytes) -> None:
    response = client.post("/json/1.3/registerDevice", data=body, content_type="text/plain")
    assert response.status_code == 400
    assert response.get_json()["status_code"] == 400


def test_device_lifecycle(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "h1", userId="u1", language="de", timezone=3600)
    device = backend.device(APP, "h1")
    assert (device.push_token, device.user_id, device.language, device.timezone) == ("tok-h1", "u1", "de", 3600)
    assert call(client, "unregisterDevice", application=APP, hwid="h1")["status_code"] == 200
    assert backend.device(APP, "h1").push_token is None
    assert call(client, "setBadge", application=APP, hwid="h1", badge=3)["status_code"] == 200
    assert call(client, "deleteDevice", application=APP, hwid="h1")["status_code"] == 200
    assert backend.find_device(APP, "h1") is None
    assert call(client, "deleteDevice", application=APP, hwid="h1")["status_message"] == "Device not found"


def test_an_unregistered_device_gets_no_push_until_it_registers_a_token_again(
    client: FlaskClient, backend: PushwooshBackend
) -> None:
    register(client, "h1")
    register(client, "h2")
    call(client, "unregisterDevice", application=APP, hwid="h1")
    first = call(client, "createMessage", auth=TOKEN, application=APP, notifications=[{"content": "one"}])
    code = first["response"]["Messages"][0]
    assert sorted((e["event"], e["hwid"]) for e in backend.lifecycle.events if e["message_code"] == code) == [
        ("Push Delivered", "h2"),
        ("Push Sent", "h2"),
    ]
    assert "h1" not in backend.inboxes and backend.find_device(APP, "h1") is not None  # still there, still counted
    register(client, "h1")  # a new token: subscribed again
    call(client, "createMessage", auth=TOKEN, application=APP, notifications=[{"content": "two", "devices": ["h1"]}])
    assert [item["content"] for item in backend.inboxes["h1"]] == ["two"]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"application": "ZZZZZ-00000", "hwid": "h", "device_type": 3}, "Application not found"),
        ({"application": APP, "device_type": 3}, "hwid is required"),
        ({"application": APP, "hwid": "h", "device_type": 4}, "Invalid device_type"),
    ],
)
def test_register_device_errors(client: FlaskClient, request_body: dict, message: str) -> None:
    reply = call(client, "registerDevice", **request_body)
    assert reply["status_code"] == 210 and message in reply["status_message"]


def test_tags_all_types_operations_and_unknown_tags(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "h1")
    for name, kind in (
        ("Level", 1),
        ("Name", 2),
        ("Interests", 3),
        ("Birthday", 4),
        ("Premium", 5),
        ("Balance", 6),
        ("AppVer", 7),
    ):
        assert call(client, "addTag", auth=TOKEN, tag={"name": name, "type": kind})["response"] == {"result": True}
    reply = call(
        client,
        "setTags",
        application=APP,
        hwid="h1",
        tags={
            "Level": 3,
            "Name": "Ann",
            "Interests": ["shoes"],
            "Birthday": "1990-05-01 00:00",
            "Premium": True,
            "Balance": 10.5,
            "AppVer": "1.2.3",
            "Unknown": "x",
        },
    )
    assert reply["response"] == {"skipped": [{"tag": "Unknown", "reason": "Not found"}]}
    call(
        client,
        "setTags",
        application=APP,
        hwid="h1",
        tags={
            "Level": {"operation": "increment", "value": 2},
            "Interests": {"operation": "append", "value": ["bags"]},
            "Name": None,
        },
    )
    result = call(client, "getTags", application=APP, hwid="h1")["response"]["result"]
    assert result == {
        "Level": 5,
        "Interests": ["shoes", "bags"],
        "Birthday": "1990-05-01 00:00",
        "Premium": True,
        "Balance": 10.5,
        "AppVer": "1.2.3",
    }
    bad = call(client, "setTags", application=APP, hwid="h1", tags={"Level": "many", "Premium": False})
    assert bad["status_code"] == 210
    assert call(client, "getTags", application=APP, hwid="h1")["response"]["result"]["Premium"] is True
    listed = call(client, "listTags", auth=TOKEN)["response"]["tags"]
    assert {"name": "Level", "type": 1, "isApplicationSpecific": False, "isUserSpecific": False} in listed
    assert call(client, "deleteTag", auth=TOKEN, tag={"name": "Level"})["response"] == {"result": True}
    assert "Level" not in call(client, "getTags", application=APP, hwid="h1")["response"]["result"]


def test_server_methods_need_a_valid_token(client: FlaskClient) -> None:
    for token in (None, "wrong"):
        reply = call(client, "listTags", auth=token)
        assert reply["status_code"] == 210 and reply["status_message"] == "Account not found"
    header = client.post("/json/1.3/listTags", json={"request": {}}, headers={"Authorization": f"Token {TOKEN}"})
    assert header.get_json()["status_code"] == 200


def test_strict_mode_demands_a_device_token() -> None:
    from swoosh.emulator.pushwoosh.app import create_app
    from swoosh.emulator.pushwoosh.backend import PushwooshConfig

    backend = PushwooshBackend(PushwooshConfig(strict=True))
    client = create_app(backend).test_client()
    body = {"request": {"application": APP, "hwid": "h", "device_type": 3}}
    assert client.post("/json/1.3/registerDevice", json=body).status_code == 401
    ok = client.post("/json/1.3/registerDevice", json=body, headers={"Authorization": "Token DEVICE-TOKEN"})
    assert ok.get_json()["status_code"] == 200
    backend.close()


def test_events_users_and_email(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "h1")
    missing = call(client, "postEvent", application=APP, hwid="h1", event="Viewed", attributes={})
    assert missing["status_code"] == 210 and "not found" in missing["status_message"]
    assert call(
        client, "createEvent", auth=TOKEN, application=APP, name="Viewed", eventAttributes=[{"name": "sku", "type": 2}]
    )["response"] == {"event": 1}
    assert (
        call(
            client,
            "postEvent",
            application=APP,
            hwid="h1",
            event="Viewed",
            attributes={"sku": "X"},
            timestampUTC=1_700_000_000,
        )["status_code"]
        == 200
    )
    assert call(client, "postEvent", application=APP, hwid="h1", event="Viewed")["status_code"] == 210
    assert (
        call(client, "registerUser", application=APP, userId="u1", hwid="h1", tz_offset=0, device_type=3)["status_code"]
        == 200
    )
    assert backend.device(APP, "h1").user_id == "u1"
    assert call(client, "registerEmail", application=APP, email="ann@example.com")["status_code"] == 200
    assert backend.device(APP, "ann@example.com").device_type == 14
    assert call(client, "registerEmail", application=APP, email="nope")["status_code"] == 210
    assert call(client, "deleteEmail", application=APP, email="ann@example.com")["status_code"] == 200
    assert call(client, "createEvent", auth=TOKEN, name="x" * 33)["status_code"] == 210


def test_create_message_targets_and_reply(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "ios-1", 1, userId="u1")
    register(client, "and-1", 3, userId="u2")
    register(client, "web-1", 11)
    reply = call(
        client,
        "createMessage",
        auth=TOKEN,
        application=APP,
        notifications=[
            {"send_date": "now", "content": "all"},
            {"send_date": "now", "content": "ios only", "platforms": [1]},
            {"send_date": "now", "content": "by user", "users": ["u2"]},
            {"send_date": "now", "content": "by device", "devices": ["web-1", "tok-ios-1", "ghost"]},
        ],
    )
    codes = reply["response"]["Messages"]
    assert len(codes) == 4 and all(len(c) == 22 and c.count("-") == 2 for c in codes)
    assert reply["response"]["UnknownDevices"] == {"": ["ghost"]}
    per_message = {m["code"]: m["targets"] for m in backend.query("messages", {}, None)}
    assert [per_message[c] for c in codes] == [3, 1, 1, 2]


@pytest.mark.parametrize(
    ("notification", "message"),
    [
        ({"send_date": "tomorrow", "content": "x"}, "Cannot parse date"),
        ({"content": "x", "devices": "h1"}, 'Invalid devices list. "devices" must be an array.'),
        ({"content": "x", "filter": "F", "conditions": [["A", "EQ", 1]]}, "either filter or conditions"),
        ({"content": "x", "conditions": [["A", "EQQ", 1]]}, "operator"),
        ({}, "content is required"),
        ({"content": "x", "platforms": [99]}, "platforms"),
    ],
)
def test_create_message_errors(client: FlaskClient, notification: dict, message: str) -> None:
    reply = call(client, "createMessage", auth=TOKEN, application=APP, notifications=[notification])
    assert reply["status_code"] == 210
    assert message.lower() in reply["status_message"].lower()


def test_scheduled_message_waits_for_the_clock_and_can_be_deleted(
    client: FlaskClient, backend: PushwooshBackend
) -> None:
    register(client, "h1")
    future = backend.runtime.clock.now().replace(second=0, microsecond=0)
    send_date = (future.replace(year=future.year + 1)).strftime("%Y-%m-%d %H:%M")
    first, second = call(
        client,
        "createMessage",
        auth=TOKEN,
        application=APP,
        notifications=[{"send_date": send_date, "content": "later"}, {"send_date": send_date, "content": "cancelled"}],
    )["response"]["Messages"]
    assert call(client, "deleteMessage", auth=TOKEN, message=second)["status_code"] == 200
    assert backend.query("deliveries", {}, None) == []
    backend.runtime.clock.advance(366 * 24 * 3600)
    backend.tick()
    assert [d["message_code"] for d in backend.query("deliveries", {}, None)] == [first]
    assert call(client, "deleteMessage", auth=TOKEN, message=first)["status_code"] == 210
    details = call(client, "getMessageDetails", auth=TOKEN, message=first)["response"]["message"]
    assert details["status"] == "sent" and details["targets"] == 1


def test_transaction_id_deduplicates(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "h1")
    notification = {"content": "once", "transactionId": "t-1"}
    first = call(client, "createMessage", auth=TOKEN, application=APP, notifications=[notification])
    again = call(client, "createMessage", auth=TOKEN, application=APP, notifications=[notification])
    assert first["response"]["Messages"] == again["response"]["Messages"]
    assert len(backend.query("deliveries", {}, None)) == 1


def test_filters_targeted_messages_compile_and_stats(client: FlaskClient, backend: PushwooshBackend) -> None:
    call(client, "addTag", auth=TOKEN, tag={"name": "Country", "type": 2})
    register(client, "br-1", tags={"Country": "BR"})
    register(client, "us-1", tags={"Country": "US"})
    assert call(client, "createFilter", auth=TOKEN, name="Brazil", conditions=[["Country", "EQ", "BR"]])[
        "response"
    ] == {"name": "Brazil"}
    assert call(client, "listFilters", auth=TOKEN)["response"]["filters"][0]["name"] == "Brazil"
    count = call(client, "compileFilter", auth=TOKEN, devices_filter=f'A("{APP}") * T("Country", EQ, "US")')
    assert count["response"] == {"devices_count": 1}
    bad = call(client, "compileFilter", auth=TOKEN, devices_filter='T("Country", EQ, "US"')
    assert bad["status_code"] == 210 and "position" in bad["status_message"]
    code = call(
        client,
        "createTargetedMessage",
        auth=TOKEN,
        devices_filter=f'A("{APP}") \\ T("Country", EQ, "US")',
        send_date="now",
        content="hi",
    )["response"]["messageCode"]
    by_filter = call(
        client, "createMessage", auth=TOKEN, application=APP, notifications=[{"content": "promo", "filter": "Brazil"}]
    )["response"]["Messages"][0]
    deliveries = backend.query("deliveries", {}, None)
    assert {(d["message_code"], d["hwid"]) for d in deliveries} == {(code, "br-1"), (by_filter, "br-1")}
    assert call(client, "pushStat", application=APP, hwid="br-1", hash=code)["status_code"] == 200
    request_id = call(client, "getMsgStats", auth=TOKEN, message=code)["response"]["request_id"]
    rows = call(client, "getResults", auth=TOKEN, request_id=request_id)["response"]["rows"]
    assert {r["action"]: r["count"] for r in rows} == {"send": 1, "delivery": 1, "open": 1}
    assert call(client, "deleteFilter", auth=TOKEN, name="Brazil")["status_code"] == 200
    assert call(client, "deleteFilter", auth=TOKEN, name="Brazil")["status_code"] == 210


def test_send_date_is_read_in_the_notifications_timezone(client: FlaskClient, backend: PushwooshBackend) -> None:
    at_ten = "2030-01-15 10:00"
    scheduled = [
        {"content": "utc", "send_date": at_ten},
        {"content": "ny", "send_date": at_ten, "timezone": "America/New_York", "ignore_user_timezone": True},
    ]
    reply = call(client, "createMessage", auth=TOKEN, application=APP, notifications=scheduled)
    utc, new_york = (backend.messages[code].send_at for code in reply["response"]["Messages"])
    assert utc == datetime(2030, 1, 15, 10, 0, tzinfo=UTC).timestamp()
    assert new_york - utc == 5 * 3600  # EST is UTC-5 in January
    on_mars = [{"content": "x", "send_date": at_ten, "timezone": "Mars/Olympus"}]
    unknown = call(client, "createMessage", auth=TOKEN, application=APP, notifications=on_mars)
    assert (unknown["status_code"], unknown["status_message"]) == (210, 'Unknown timezone "Mars/Olympus"')


def test_the_inbox_holds_the_push_payload_keys(client: FlaskClient, backend: PushwooshBackend) -> None:
    register(client, "iphone", device_type=1)
    register(client, "pixel", device_type=3)
    note = {"content": "Hi", "title": "News", "link": "https://shop.example/offer", "data": {"sku": "s1"}}
    code = call(client, "createMessage", auth=TOKEN, application=APP, notifications=[note])["response"]["Messages"][0]
    iphone, pixel = backend.inboxes["iphone"][0], backend.inboxes["pixel"][0]
    for item in (iphone, pixel):
        assert (item["p"], item["l"], item["u"], item["title"]) == (code, note["link"], '{"sku":"s1"}', "News")
    assert iphone["aps"] == {"alert": {"title": "News", "body": "Hi"}} and "aps" not in pixel
    assert call(client, "pushStat", application=APP, hwid="iphone", hash=iphone["p"])["status_code"] == 200
