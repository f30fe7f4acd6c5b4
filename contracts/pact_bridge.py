"""The bridge's contracts as a consumer: what `swoosh-bridge` needs from each provider, as Pact cases.

Every case drives the bridge's real code: bridge/destination.py maps a Segment event to integration
API requests, bridge/source.py maps a Pushwoosh message event to a /v1/batch body, and
bridge/transport.py sends it and classifies the reply (delivered, retried or final). The pact files
these cases write are committed under contracts/pacts/ and verified against both fakes.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from pact import match
from pact.interaction import AsyncMessageInteraction, HttpInteraction

from swoosh.bridge.core import PUSHWOOSH, SEGMENT, Bridge, BridgeSettings
from swoosh.bridge.destination import PING, Mappings, Request, requests_for
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.source import (
    LIBRARY,
    MAX_BATCH_BYTES,
    SOURCE_EVENTS,
    batch_bodies,
    parse_message_event,
    track_message,
)
from swoosh.bridge.transport import Outcome, PushwooshSender, SegmentSender
from swoosh.contracts.pact_consumer import Case, HttpCase, MessageCase

CONSUMER = "swoosh-bridge"
INTEGRATION_API = "pushwoosh-integration-api"
TRACKING_API = "segment-tracking-api"
MESSAGE_EVENTS = "pushwoosh-message-events"

APP_CODE = "ABCDE-12345"
API_KEY = "KEY123"
WRONG_KEY = "NOT-A-KEY"
WRITE_KEY = "pushwoosh-write-key"
SOURCE = "pushwoosh"
APP_STATE = f"application {APP_CODE} exists with API key {API_KEY}"
SOURCE_STATE = f"source {SOURCE} exists with write key {WRITE_KEY}"

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
ISO_MILLIS_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
MESSAGE_CODE = r"^[0-9A-F]{4}-[0-9A-F]{8}-[0-9A-F]{8}$"
APPLICATION_CODE = r"^[0-9A-Z]{5}-[0-9A-Z]{5}$"
JSON = "application/json"

# -- Segment events as the fake (or real) Segment delivers them to the bridge ------------------------
IDENTIFY = {
    "type": "identify",
    "messageId": "ajs-identify-1",
    "userId": "u1",
    "traits": {"email": "ann@example.com", "name": "Ann", "searched_product": "sports shoes"},
    "context": {
        "locale": "en-US",
        "timezone": "Europe/Amsterdam",
        "device": {"id": "device-1", "type": "ios"},
        "location": {"country": "United States", "city": "San Francisco", "latitude": 40.29, "longitude": -76.94},
    },
    "timestamp": "2026-11-22T14:08:43.998Z",
}
TRACK = {
    "type": "track",
    "messageId": "ajs-track-1",
    "userId": "u1",
    "event": "SubscribedToOffers",
    "properties": {"plan": "gold"},
    "context": {"device": {"id": "device-1", "type": "ios"}},
    "timestamp": "2026-11-22T14:08:43.998Z",
}
SCREEN = {
    "type": "screen",
    "messageId": "ajs-screen-1",
    "userId": "u2",
    "name": "Checkout",
    "properties": {"step": 2},
    "context": {"device": {"id": "device-2", "type": "android"}},
    "timestamp": "2026-11-22T14:09:01.250Z",
}
DELETE = {"type": "delete", "messageId": "ajs-delete-1", "userId": "u1"}


def expect(condition: bool, detail: object) -> None:
    """A consumer expectation (kept under `python -O`, unlike assert); fails the case with `detail`."""
    if not condition:
        raise AssertionError(detail)


def _mapped(event: dict[str, Any]) -> Request:
    """The one integration API request the bridge's destination mapping makes of `event`."""
    requests, skipped = requests_for([event], Mappings(APP_CODE))
    expect(not skipped and len(requests) == 1, (requests, skipped))
    return requests[0]


def _send(base_url: str, request: Request, api_key: str = API_KEY, app_code: str = APP_CODE) -> Outcome:
    return PushwooshSender(base_url, api_key, app_code).send(request)


def _expect_reply(outcome: Outcome, status: int, retry: bool = False) -> None:
    """The bridge read the reply as the contract says: delivered, or final (dead letter), or retried."""
    expect(outcome.status == status, outcome)
    expect(outcome.ok == (200 <= status < 300), outcome)
    expect(outcome.retry is retry, outcome)


def _integration_request(interaction: HttpInteraction, endpoint: str, api_key: str = API_KEY) -> HttpInteraction:
    return (
        interaction.with_request("POST", f"/integration-segment/v1/{endpoint}")
        .with_header("Authorization", f"Token {api_key}")
        .with_header("X-PW-Appcode", APP_CODE)
    )


def _post_event_item(event: dict[str, Any]) -> dict[str, Any]:
    """A post-events item as a matcher: the shape is fixed, the values vary."""
    device = event["context"]["device"]
    return {
        "user_id": match.str(event["userId"]),
        "device_id": match.str(device["id"]),
        "device_platform": match.str(device["type"]),
        "name": match.str(event.get("event") or event["name"]),
        "timestamp": match.regex(event["timestamp"], regex=RFC3339),
        "attributes": match.like(event["properties"]),
        "app_code": APP_CODE,
    }


# -- pushwoosh-integration-api ----------------------------------------------------------------------
def _ping(interaction: HttpInteraction) -> None:
    (
        _integration_request(interaction.given(APP_STATE), "ping")
        .with_body({"body": {"name": "test_segment_auth"}}, JSON)
        .will_respond_with(200)
    )


def _track_user(interaction: HttpInteraction) -> None:
    context = IDENTIFY["context"]
    location = context["location"]
    (
        _integration_request(interaction.given(APP_STATE), "track-user")
        .with_body(
            {
                "user_id": match.str("u1"),
                "device_id": match.str("device-1"),
                "device_platform": match.str("ios"),
                "email": match.str("ann@example.com"),
                "language": match.str(context["locale"]),
                "country": match.str(location["country"]),
                "city": match.str(location["city"]),
                "timezone": match.str(context["timezone"]),
                "current_location": {
                    "latitude": match.number(location["latitude"]),
                    "longitude": match.number(location["longitude"]),
                },
                "attributes": match.like({"name": "Ann", "searched_product": "sports shoes"}),
            },
            JSON,
        )
        .will_respond_with(200)
    )


def _post_event(interaction: HttpInteraction) -> None:
    (
        _integration_request(interaction.given(APP_STATE), "post-events")
        .with_body({"events": [_post_event_item(TRACK)]}, JSON)
        .will_respond_with(200)
    )


def _post_events_batch(interaction: HttpInteraction) -> None:
    (
        _integration_request(interaction.given(APP_STATE), "post-events")
        .with_body({"events": [_post_event_item(TRACK), _post_event_item(SCREEN)]}, JSON)
        .will_respond_with(200)
    )


def _delete_user(interaction: HttpInteraction) -> None:
    (
        _integration_request(interaction.given(APP_STATE).given(f"user u1 has a profile in application {APP_CODE}"),
                             "delete-user")
        .with_body({"external_id": match.str("u1")}, JSON)
        .will_respond_with(200)
    )


def _unauthorised(interaction: HttpInteraction) -> None:
    (
        _integration_request(interaction.given(f"API key {WRONG_KEY} is not accepted"), "ping", WRONG_KEY)
        .with_body({"body": {"name": "test_segment_auth"}}, JSON)
        .will_respond_with(401)
        .with_body({"message": "unauthorized"}, JSON)
    )


def _bad_timestamp(interaction: HttpInteraction) -> None:
    item = {**_post_event_item(TRACK), "timestamp": match.integer(1763820523)}
    (
        _integration_request(interaction.given(APP_STATE), "post-events")
        .with_body({"events": [item]}, JSON)
        .will_respond_with(400)
        .with_body(
            {"action": "post event", "status": "failure", "error": {"message": match.str("Time.UnmarshalJSON")}}, JSON
        )
    )


def _missing_app_code(interaction: HttpInteraction) -> None:
    (
        interaction.given(APP_STATE)
        .with_request("POST", "/integration-segment/v1/ping")
        .with_header("Authorization", f"Token {API_KEY}")
        .with_header("X-PW-Appcode", "")
        .with_body({"body": {"name": "test_segment_auth"}}, JSON)
        .will_respond_with(400)
        .with_body({"message": "missing application code"}, JSON)
    )


def integration_api_cases() -> list[Case]:
    def case(description: str, define: Any, exercise: Any) -> HttpCase:
        return HttpCase(CONSUMER, INTEGRATION_API, description, define, exercise)

    return [
        case("a credentials check", _ping, lambda url: _expect_reply(_send(url, PING), 200)),
        case(
            "an identify as a user profile",
            _track_user,
            lambda url: _expect_reply(_send(url, _mapped(IDENTIFY)), 200),
        ),
        case("one track event", _post_event, lambda url: _expect_reply(_send(url, _mapped(TRACK)), 200)),
        case("a batch of track and screen events", _post_events_batch, _engine_sends_events_batched),
        case("a user deletion", _delete_user, lambda url: _expect_reply(_send(url, _mapped(DELETE)), 200)),
        case(
            "a credentials check with a wrong API key",
            _unauthorised,
            lambda url: _expect_reply(_send(url, PING, api_key=WRONG_KEY), 401),
        ),
        case(
            "a track event whose timestamp is not RFC 3339",
            _bad_timestamp,
            lambda url: _expect_reply(_send(url, _mapped({**TRACK, "timestamp": 1763820523})), 400),
        ),
        case(
            "a credentials check without an application code",
            _missing_app_code,
            lambda url: _expect_reply(_send(url, PING, app_code=""), 400),
        ),
    ]


def _engine(**settings: Any) -> Bridge:
    """The bridge's engine as deployed (ingress, durable outbox, drain), on an in-memory outbox."""
    return Bridge(BridgeSettings(**settings), Outbox(":memory:"))


def _engine_sends_events_batched(url: str) -> None:
    bridge = _engine(pushwoosh_url=url, api_key=API_KEY, app_code=APP_CODE, batching=True)
    accepted = bridge.accept_segment({"batch": [TRACK, SCREEN]})
    expect(accepted["accepted"] == 2, accepted)
    bridge.drain_segment()
    expect(bridge.stats[SEGMENT]["delivered"] == 2, bridge.stats)


# -- segment-tracking-api ---------------------------------------------------------------------------
SENT_AT = "2026-11-22T14:10:00.000Z"
# Pushwoosh message events as the bridge receives them (one with a user, one anonymous device).
PUSH_DELIVERED = {
    "id": "A1B2-C3D4E5F6-A7B8C9D0:hwid-1:Push Delivered",
    "event": "Push Delivered",
    "message_code": "A1B2-C3D4E5F6-A7B8C9D0",
    "campaign_code": "CMP01-23456",
    "message_type": "Push",
    "application": APP_CODE,
    "hwid": "hwid-1",
    "user_id": "u1",
    "device_type": 1,
    "platform": "iOS",
    "timestamp": "2026-11-22T14:09:59.123Z",
}
EMAIL_SENT_ANONYMOUS = {
    **PUSH_DELIVERED,
    "id": "A1B2-C3D4E5F6-A7B8C9D0:ann@example.com:Email Sent",
    "event": "Email Sent",
    "message_type": "Email",
    "hwid": "ann@example.com",
    "user_id": None,
    "device_type": 14,
    "platform": "Email",
}
OVERSIZE_MESSAGES = 17  # each about 30 KB (under the 32 KB event limit), together over the 500 KB request limit
OVERSIZE_CAMPAIGN_CHARS = 30_000


def _basic(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def _track_matcher(event: dict[str, Any], campaign: Any = None) -> dict[str, Any]:
    """The track call the bridge makes of a message event: fixed shape, varying values matched by type."""
    identity = (
        {"userId": match.str(event["user_id"])} if event["user_id"] else {"anonymousId": match.str(event["hwid"])}
    )
    return {
        "type": "track",
        "event": event["event"],
        "messageId": match.regex(track_message(parse_message_event(event))["messageId"], regex=r"^pw-[0-9a-f]{40}$"),
        "properties": {
            "message_type": event["message_type"],
            "campaign_code": campaign if campaign is not None else match.str(event["campaign_code"]),
            "device_type": match.str(event["platform"]),
        },
        "context": {
            "library": {"name": LIBRARY["name"], "version": match.str(LIBRARY["version"])},
            "pushwoosh": {
                "hwid": match.str(event["hwid"]),
                "message_code": match.regex(event["message_code"], regex=MESSAGE_CODE),
                "device_type": match.integer(event["device_type"]),
                "application": match.regex(event["application"], regex=APPLICATION_CODE),
            },
        },
        **identity,
        "timestamp": match.regex(event["timestamp"], regex=ISO_MILLIS_Z),
    }


def _batch_request(interaction: HttpInteraction, state: str = SOURCE_STATE) -> HttpInteraction:
    return (
        interaction.given(state)
        .with_request("POST", "/v1/batch")
        .with_header("Authorization", _basic(WRITE_KEY))
    )


def _tracking_batch(interaction: HttpInteraction) -> None:
    body = {
        "batch": [_track_matcher(PUSH_DELIVERED), _track_matcher(EMAIL_SENT_ANONYMOUS)],
        "sentAt": match.regex(SENT_AT, regex=ISO_MILLIS_Z),
    }
    _batch_request(interaction).with_body(body, JSON).will_respond_with(200).with_body({"success": True}, JSON)


def _send_batch(url: str) -> None:
    bridge = _engine(segment_url=url, write_key=WRITE_KEY)
    accepted = bridge.accept_pushwoosh({"events": [PUSH_DELIVERED, EMAIL_SENT_ANONYMOUS]})
    expect(accepted["accepted"] == 2, accepted)
    bridge.drain_pushwoosh()
    expect(bridge.stats[PUSHWOOSH]["delivered"] == 2, bridge.stats)


def _oversize_messages() -> list[dict[str, Any]]:
    return [
        track_message(
            parse_message_event(
                {**PUSH_DELIVERED, "hwid": f"hwid-{n}", "campaign_code": "C" * OVERSIZE_CAMPAIGN_CHARS}
            )
        )
        for n in range(OVERSIZE_MESSAGES)
    ]


def _tracking_oversize(interaction: HttpInteraction) -> None:
    # The example stays small in the pact file; the generator makes each campaign code 30 KB on replay.
    padded = _track_matcher(PUSH_DELIVERED, campaign=match.str(size=OVERSIZE_CAMPAIGN_CHARS))
    body = {"batch": [padded] * OVERSIZE_MESSAGES, "sentAt": match.regex(SENT_AT, regex=ISO_MILLIS_Z)}
    (
        _batch_request(interaction)
        .with_body(body, JSON)
        .will_respond_with(400)
        .with_body({"success": False, "code": "request_too_large", "message": match.str("Request body exceeds")}, JSON)
    )


def _send_oversize(url: str) -> None:
    # The bridge's batching never builds this (batch_bodies splits at 500 KB); a sender that ignored the
    # limit would, and the contract pins that Segment refuses it as final, so the bridge dead-letters it.
    body = orjson.dumps({"batch": _oversize_messages(), "sentAt": SENT_AT})
    expect(len(body) > MAX_BATCH_BYTES, f"only {len(body)} bytes")
    _expect_reply(SegmentSender(url, WRITE_KEY).send(body), 400)


def _tracking_invalid_json(interaction: HttpInteraction) -> None:
    (
        _batch_request(interaction)
        .add_text_comment(
            "The consumer sends a truncated JSON body. A pact cannot carry a body that is not JSON as JSON, so the"
            " request declares none: any body matches, and the provider is replayed an empty one, refused alike."
        )
        .will_respond_with(400)
        .with_body({"success": False, "code": "invalid_json", "message": match.str("Invalid JSON")}, JSON)
    )


def tracking_api_cases() -> list[Case]:
    def case(description: str, define: Any, exercise: Any) -> HttpCase:
        return HttpCase(CONSUMER, TRACKING_API, description, define, exercise)

    return [
        case("a batch of message events as track calls", _tracking_batch, _send_batch),
        case("a batch over 500 KB", _tracking_oversize, _send_oversize),
        case(
            "a batch that is not valid JSON",
            _tracking_invalid_json,
            lambda url: _expect_reply(SegmentSender(url, WRITE_KEY).send(b'{"batch": ['), 400),
        ),
    ]


# -- pushwoosh-message-events -----------------------------------------------------------------------
CHANNEL_DEVICES = {"Push": ("hwid-ios-1", 1, "iOS"), "Email": ("ann@example.com", 14, "Email"),
                   "SMS": ("+15555550100", 18, "SMS")}


def message_event_example(name: str) -> dict[str, Any]:
    """A message event of kind `name` as the fake (and the bridge's ingress) know it, for the examples."""
    kind = name.split(" ")[0]
    hwid, device_type, platform = CHANNEL_DEVICES[kind]
    return {
        **PUSH_DELIVERED,
        "id": f"{PUSH_DELIVERED['message_code']}:{hwid}:{name}",
        "event": name,
        "message_type": kind,
        "hwid": hwid,
        "device_type": device_type,
        "platform": platform,
    }


def _article(word: str) -> str:
    return "an" if word[0] in "AEIOS" else "a"  # "an SMS", "an Email", "a Push"


def message_state(name: str) -> str:
    """The provider state that makes the producer emit a `name` message event (plain words)."""
    outcomes = {"Sent": "was sent", "Delivered": "was delivered", "Bounced": "bounced"}
    kind, outcome = name.split(" ", 1)
    return f"{_article(kind)} {kind} message of campaign CMP01-23456 to user u1 {outcomes[outcome]}"


def _message_matcher(name: str) -> dict[str, Any]:
    event = message_event_example(name)
    return {
        "id": match.str(event["id"]),
        "event": name,
        "message_code": match.regex(event["message_code"], regex=MESSAGE_CODE),
        "campaign_code": match.str(event["campaign_code"]),
        "message_type": event["message_type"],
        "application": match.regex(event["application"], regex=APPLICATION_CODE),
        "hwid": match.str(event["hwid"]),
        "user_id": match.str(event["user_id"]),
        "device_type": match.integer(event["device_type"]),
        "platform": match.str(event["platform"]),
        "timestamp": match.regex(event["timestamp"], regex=ISO_MILLIS_Z),
    }


def _consume_message_event(name: str) -> Any:
    def consume(body: str | bytes | None, _metadata: dict[str, object]) -> None:
        """The bridge's source mapping, all the way to the /v1/batch body it would send."""
        raw = orjson.loads(body if isinstance(body, bytes) else str(body or ""))  # the FFI hands an owned string
        message = track_message(parse_message_event(raw))
        expect(message["event"] == name and message["userId"] == raw["user_id"], message)
        expect(message["properties"]["message_type"] == raw["message_type"], message)
        expect(message["timestamp"] == raw["timestamp"], message)
        [(batch, ids)] = batch_bodies([message], SENT_AT)
        expect(ids == [message["messageId"]] and orjson.loads(batch)["batch"] == [message], batch)

    return consume


def message_event_cases() -> list[Case]:
    def define(name: str) -> Any:
        def declare(interaction: AsyncMessageInteraction) -> None:
            interaction.given(message_state(name)).with_body(_message_matcher(name), JSON)

        return declare

    return [
        MessageCase(
            CONSUMER,
            MESSAGE_EVENTS,
            f"{_article(name)} {name} message event",
            define(name),
            _consume_message_event(name),
        )
        for name in SOURCE_EVENTS
    ]


def all_cases() -> list[Case]:
    """Every interaction of every pact the bridge is the consumer of."""
    return integration_api_cases() + tracking_api_cases() + message_event_cases()
