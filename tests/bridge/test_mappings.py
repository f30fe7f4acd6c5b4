"""The destination's and the source's mappings, against the reference tables and captured requests."""

from __future__ import annotations

import orjson
import pytest

from swoosh.bridge.destination import PING, RESERVED_TRAIT_KEYS, Mappings, requests_for, resolve
from swoosh.bridge.source import (
    InvalidMessageEvent,
    allowed_events,
    batch_bodies,
    message_id,
    parse_message_event,
    track_message,
)
from tests.captured import POST_EVENTS, TRACK_USER

APP = "ABCDE-12345"

# A Segment test event as Segment's destination test harness sends it.
IDENTIFY = {
    "type": "identify",
    "userId": "u1",
    "messageId": "m-identify",
    "traits": {"name": "Ann", "searched_product": "sports shoes", "email": "a@x.io"},
    "context": {
        "locale": "en-US",
        "timezone": "Europe/Amsterdam",
        "userAgent": "Mozilla/5.0 (iPhone; ...)",
        "location": {
            "country": "United States",
            "city": "San Francisco",
            "latitude": 40.2964197,
            "longitude": -76.9411617,
        },
    },
}
TRACK = {
    "type": "track",
    "userId": "u1",
    "event": "SubscribedToOffers",
    "messageId": "m-track",
    "timestamp": "2026-11-22T14:08:43.998Z",
    "properties": {"plan": "gold"},
}


def test_identify_becomes_the_captured_track_user_body() -> None:
    (request,), skipped = requests_for([IDENTIFY], Mappings(APP))
    assert skipped == []
    assert request.endpoint == "track-user" and request.body == TRACK_USER
    assert list(request.body) == sorted(request.body, key=list(request.body).index)  # stable order


def test_track_becomes_the_captured_post_events_body() -> None:
    (request,), _ = requests_for([TRACK], Mappings(APP))
    assert request.endpoint == "post-events" and request.body == POST_EVENTS


def test_every_identify_field_of_the_reference_table() -> None:
    event = {
        "type": "identify",
        "userId": "u1",
        "traits": {"email": "e@x.io", "device_id": "drop", "plan": "gold"},
        "context": {
            "device": {"id": "d1", "type": "ios", "model": "iPhone15,2", "token": "apns"},
            "app": {"version": "2.1"},
            "os": {"version": "17.1"},
            "location": {},
        },
    }
    (request,), _ = requests_for([event], Mappings(APP))
    assert request.body == {
        "user_id": "u1",
        "device_id": "d1",
        "device_platform": "ios",
        "email": "e@x.io",
        "app_version": "2.1",
        "device_model": "iPhone15,2",
        "device_token": "apns",
        "device_os_version": "17.1",
        "attributes": {"plan": "gold"},
    }
    assert "current_location" not in request.body  # dropped when empty


def test_reserved_trait_keys_are_the_mapping_field_names() -> None:
    traits = {key: "x" for key in RESERVED_TRAIT_KEYS} | {"kept": 1}
    (request,), _ = requests_for([{"type": "identify", "userId": "u", "traits": traits}], Mappings(APP))
    assert request.body["attributes"] == {"kept": 1}


def test_identify_without_traits_still_sends_empty_attributes() -> None:
    event = {"type": "identify", "anonymousId": "a"}
    (request,), _ = requests_for([event], Mappings(APP))
    assert request.body == {"attributes": {}}
    # The integration API needs a user_id or a device_id: held back as invalid, with Pushwoosh's text.
    requests, (held,) = requests_for([event], Mappings(APP, check_contract=True))
    assert requests == [] and (held.kind, held.reason) == ("invalid", "user_id or device_id is required")


@pytest.mark.parametrize(
    ("event", "name"),
    [
        ({"type": "page", "userId": "u", "name": "Pricing", "timestamp": "2026-01-01T00:00:00Z"}, "Pricing"),
        (
            {
                "type": "screen",
                "userId": "u",
                "name": "Cart",
                "timestamp": "2026-01-01T00:00:00Z",
                "context": {"device": {"id": "d", "type": "android"}},
            },
            "Cart",
        ),
    ],
)
def test_page_and_screen_use_name(event: dict, name: str) -> None:
    (request,), _ = requests_for([event], Mappings(APP))
    item = request.body["events"][0]
    assert item["name"] == name and item["app_code"] == APP
    assert "attributes" not in item  # no properties: the destination leaves `attributes` out


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            {"type": "track", "anonymousId": "a", "event": "E", "timestamp": "2026-01-01T00:00:00Z"},
            "The root value is missing the required field 'external_id'.",
        ),
        (
            {"type": "track", "userId": "u", "timestamp": "2026-01-01T00:00:00Z"},
            "The root value is missing the required field 'name'.",
        ),
        ({"type": "track", "userId": "u", "event": "E"}, "The root value is missing the required field 'timestamp'."),
        (
            {"type": "track", "userId": "u", "event": "E", "timestamp": "t", "properties": [1, 2]},
            "Timestamp must be a valid date-like string but it was not. "
            "Event Properties must be an object but it was an array.",
        ),
        ({"type": "group", "userId": "u", "groupId": "g"}, "no action subscribed to type 'group'"),
    ],
)
def test_events_that_cannot_be_sent_are_skipped_with_a_reason(event: dict, reason: str) -> None:
    requests, skipped = requests_for([event], Mappings(APP))
    assert requests == [] and skipped[0].reason == reason


def test_batching_sends_at_most_100_events_and_always_app_code() -> None:
    events = [{**TRACK, "messageId": f"m{i}"} for i in range(250)]
    requests, _ = requests_for(events, Mappings(APP, batching=True))
    assert [len(r.body["events"]) for r in requests] == [100, 100, 50]
    assert all("app_id" not in item and item["app_code"] == APP for r in requests for item in r.body["events"])
    assert requests[0].message_ids[:2] == ("m0", "m1")
    unbatched, _ = requests_for(events[:3], Mappings(APP))
    assert [len(r.body["events"]) for r in unbatched] == [1, 1, 1]


def test_order_is_kept_across_actions() -> None:
    requests, _ = requests_for(
        [TRACK, IDENTIFY, TRACK, {"type": "delete", "userId": "u1"}], Mappings(APP, batching=True)
    )
    assert [r.endpoint for r in requests] == ["post-events", "track-user", "post-events", "delete-user"]
    assert requests[-1].body == {"external_id": "u1"}


def test_ping_body_is_nested() -> None:
    assert PING.endpoint == "ping" and PING.body == {"body": {"name": "test_segment_auth"}}


def test_mappings_are_overridable_from_a_file(tmp_path) -> None:
    override = tmp_path / "mappings.json"
    override.write_text(
        '{"post_event_fields": [["user_id", "userId"], ["name", "event"], '
        '["timestamp", "originalTimestamp"], ["attributes", "properties"]],'
        '"subscriptions": {"Track Events": ["track"]}}'
    )
    mappings = Mappings.load(APP, override)
    event = {**TRACK, "timestamp": None, "originalTimestamp": "2026-01-01T00:00:00Z"}
    (request,), _ = requests_for([event], mappings)
    assert request.body["events"][0]["timestamp"] == "2026-01-01T00:00:00Z"
    assert mappings.action_for("identify") is None
    with pytest.raises(ValueError):
        Mappings.load(APP, batch_size=101)


def test_resolve_paths() -> None:
    event = {"a": {"b": {"c": 1}}, "name": "n", "event": "", "e": None}
    assert resolve(event, "a.b.c") == 1 and resolve(event, "a.x.c") is None
    assert resolve(event, "event|name") == ""  # "" exists (the destination's `@if exists`): it wins
    assert resolve(event, "e|name") == "n" and resolve(event, "x|name") == "n"


FAKE_EVENT = {
    "id": "X:h1:Push Sent",
    "event": "Push Sent",
    "message_code": "1A2B-3C4D5E6F-7A8B9C0D",
    "campaign_code": "PROMO-1",
    "message_type": "Push",
    "application": APP,
    "hwid": "h1",
    "user_id": "u1",
    "device_type": 3,
    "platform": "Android",
    "timestamp": "2026-11-22T14:08:43.998Z",
}
GENERIC_WEBHOOK = {
    "event_name": "Email Bounced",
    "message_id": 991,
    "message_code": "1A2B-3C4D5E6F-7A8B9C0D",
    "campaign_id": "CMP",
    "platform": "Email",
    "application_code": APP,
    "hwid": "a@x.io",
    "user_id": None,
    "payload": {},
}


def test_message_event_becomes_a_track_call() -> None:
    message = track_message(parse_message_event(FAKE_EVENT))
    assert message["type"] == "track" and message["event"] == "Push Sent" and message["userId"] == "u1"
    assert message["properties"] == {"message_type": "Push", "campaign_code": "PROMO-1", "device_type": "Android"}
    assert message["context"]["pushwoosh"]["device_type"] == 3
    assert message["timestamp"] == "2026-11-22T14:08:43.998Z"
    assert "anonymousId" not in message


def test_no_user_means_anonymous_id_is_the_hwid_and_generic_webhook_shape_works() -> None:
    message = track_message(parse_message_event(GENERIC_WEBHOOK))
    assert message["anonymousId"] == "a@x.io" and "userId" not in message
    assert message["properties"] == {"message_type": "Email", "campaign_code": "CMP", "device_type": "Email"}
    assert message["context"]["pushwoosh"]["device_type"] == 14


def test_message_ids_are_deterministic_per_message_device_event() -> None:
    event = parse_message_event(FAKE_EVENT)
    assert message_id(event) == message_id(parse_message_event(dict(FAKE_EVENT)))
    assert message_id(event) != message_id(parse_message_event({**FAKE_EVENT, "event": "Push Delivered"}))
    assert len(message_id(event)) <= 100


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"hwid": "h", "message_code": "c"},
        {"event": "Push Sent", "message_code": "c"},
        {"event": "Push Sent", "hwid": "h"},
    ],
)
def test_invalid_message_events(raw: object) -> None:
    with pytest.raises(InvalidMessageEvent):
        parse_message_event(raw)


def test_allow_list() -> None:
    assert allowed_events("") is None and allowed_events(" , ") is None
    assert allowed_events("Push Sent, Email Bounced") == {"Push Sent", "Email Bounced"}


def test_batches_stay_within_segment_limits() -> None:
    messages = [
        {**track_message(parse_message_event({**FAKE_EVENT, "hwid": f"h{i}"})), "properties": {"pad": "x" * 20_000}}
        for i in range(60)
    ]
    bodies = batch_bodies(messages, "2026-11-22T14:08:44.000Z")
    assert len(bodies) == 3
    for body, ids in bodies:
        assert len(body) <= 500_000
        decoded = orjson.loads(body)
        assert [m["messageId"] for m in decoded["batch"]] == ids and decoded["sentAt"]
    with pytest.raises(InvalidMessageEvent):
        batch_bodies([{**messages[0], "properties": {"pad": "x" * 40_000}}], "now")
