"""The whole path: shop -> Segment -> bridge -> Pushwoosh, and push -> message events -> Segment's warehouse."""

from __future__ import annotations


def test_signup_traits_become_pushwoosh_tags(shop, segment_emulator, pushwoosh_emulator) -> None:
    reply = shop.post("/signup", json={"user_id": "ann", "email": "ann@example.com", "searched_product": "tent"})
    assert reply.status_code == 201

    identify = segment_emulator.wait_for({"type": "identify", "userId": "ann"})[0]["message"]
    assert identify["traits"] == {"email": "ann@example.com", "searched_product": "tent"}
    assert identify["context"]["library"]["name"] == "analytics-python"
    tags = pushwoosh_emulator.wait_for(lambda: pushwoosh_emulator.tags(user_id="ann"))
    assert tags == {"searched_product": "tent"}


def test_shopping_events_reach_segment_and_pushwoosh(shop, segment_emulator, pushwoosh_emulator) -> None:
    shop.post("/search", json={"user_id": "bob", "query": "sleeping bag"})
    shop.post("/orders", json={"user_id": "bob", "order_id": "o-17", "total": 59})
    shop.post("/offers/subscribe", json={"user_id": "bob"})

    segment_emulator.assert_tracked("Product Searched", user_id="bob", properties={"query": "sleeping bag"})
    segment_emulator.assert_tracked("Order Completed", user_id="bob", properties={"order_id": "o-17", "total": 59.0})
    events = pushwoosh_emulator.wait_for({"subject": "user:bob"}, collection="events", count=3)
    assert sorted(e["name"] for e in events) == ["Order Completed", "Product Searched", "SubscribedToOffers"]
    order = next(e for e in events if e["name"] == "Order Completed")
    assert order["attributes"] == {"order_id": "o-17", "total": 59.0, "currency": "USD"}


def test_a_push_to_a_user_comes_back_as_push_sent_in_the_warehouse(shop, segment_emulator, pushwoosh_emulator) -> None:
    device = {"user_id": "cat", "hwid": "cat-phone", "platform": "ios", "push_token": "apns-1", "language": "fr"}
    assert shop.post("/devices", json=device).status_code == 201
    assert pushwoosh_emulator.tags(hwid="cat-phone") == {"Language": "fr"}

    reply = shop.post("/push", json={"user_id": "cat", "message": "Your tent has shipped"})
    assert reply.status_code == 201
    code = reply.get_json()["message_codes"][0]
    assert [m["content"] for m in pushwoosh_emulator.inbox("cat-phone")] == ["Your tent has shipped"]

    segment_emulator.wait_for({"event": "Push Sent", "userId": "cat"})
    rows = segment_emulator.sql("select user_id, message_type, device_type from pushwoosh.push_sent")
    assert rows == [{"user_id": "cat", "message_type": "Push", "device_type": "iOS"}]
    sent = segment_emulator.messages(event="Push Sent")[0]
    assert sent["context"]["pushwoosh"]["message_code"] == code


def test_bad_requests_are_refused_and_send_nothing(shop, segment_emulator, pushwoosh_emulator) -> None:
    assert shop.post("/signup", json={"email": "no-id@example.com"}).status_code == 400
    assert shop.post("/orders", json={"user_id": "dan", "order_id": "o-1", "total": "lots"}).status_code == 400
    assert shop.post("/devices", json={"user_id": "dan", "hwid": "h", "platform": "fax", "push_token": "t"}).json == {
        "error": "platform must be one of ['android', 'chrome', 'ios']"
    }
    assert shop.post("/search", data="not json").status_code == 400
    shop.application.extensions["shop"].analytics.flush()
    assert segment_emulator.events() == [] and pushwoosh_emulator.devices() == []


def test_pushwoosh_errors_are_reported_not_hidden(shop, pushwoosh_emulator) -> None:
    pushwoosh_emulator.faults.add(status=500, times=1)
    reply = shop.post("/devices", json={"user_id": "eve", "hwid": "h", "platform": "android", "push_token": "t"})
    assert reply.status_code == 502
