"""The bridge's pact with the Pushwoosh integration API (`pushwoosh-integration-api`).

Every case drives the bridge's real code: bridge/destination.py maps a Segment event to integration API
requests and bridge/transport.py sends it and classifies the reply (delivered, retried or final).
"""

from __future__ import annotations

from typing import Any

from pact import match
from pact.interaction import HttpInteraction

from swoosh.bridge.core import SEGMENT
from swoosh.bridge.destination import PING, Mappings, Request, requests_for
from swoosh.bridge.transport import Outcome, PushwooshSender
from swoosh.contracts.pact.bridge.common import (
    APP_CODE,
    CONSUMER,
    INTEGRATION_API,
    JSON,
    engine,
    expect,
    expect_reply,
)
from swoosh.contracts.pact.consumer import Case, HttpCase
from swoosh.emulator import defaults

API_KEY = defaults.API_TOKEN
WRONG_KEY = "NOT-A-KEY"
APP_STATE = f"application {APP_CODE} exists with API key {API_KEY}"
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"

# -- Segment events as the fake (or real) Segment delivers them to the bridge ------------------------
IDENTIFY: dict[str, Any] = {
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


def _mapped(event: dict[str, Any]) -> Request:
    """The one integration API request the bridge's destination mapping makes of `event`."""
    requests, skipped = requests_for([event], Mappings(APP_CODE))
    expect(not skipped and len(requests) == 1, (requests, skipped))
    return requests[0]


def _send(base_url: str, request: Request, api_key: str = API_KEY, app_code: str = APP_CODE) -> Outcome:
    return PushwooshSender(base_url, api_key, app_code).send(request)


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
        _integration_request(
            interaction.given(APP_STATE).given(f"user u1 has a profile in application {APP_CODE}"), "delete-user"
        )
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
        case("a credentials check", _ping, lambda url: expect_reply(_send(url, PING), 200)),
        case(
            "an identify as a user profile",
            _track_user,
            lambda url: expect_reply(_send(url, _mapped(IDENTIFY)), 200),
        ),
        case("one track event", _post_event, lambda url: expect_reply(_send(url, _mapped(TRACK)), 200)),
        case("a batch of track and screen events", _post_events_batch, _engine_sends_events_batched),
        case("a user deletion", _delete_user, lambda url: expect_reply(_send(url, _mapped(DELETE)), 200)),
        case(
            "a credentials check with a wrong API key",
            _unauthorised,
            lambda url: expect_reply(_send(url, PING, api_key=WRONG_KEY), 401),
        ),
        case(
            "a track event whose timestamp is not RFC 3339",
            _bad_timestamp,
            lambda url: expect_reply(_send(url, _mapped({**TRACK, "timestamp": 1763820523})), 400),
        ),
        case(
            "a credentials check without an application code",
            _missing_app_code,
            lambda url: expect_reply(_send(url, PING, app_code=""), 400),
        ),
    ]


def _engine_sends_events_batched(url: str) -> None:
    bridge = engine(pushwoosh_url=url, api_key=API_KEY, app_code=APP_CODE, batching=True)
    accepted = bridge.accept_segment({"batch": [TRACK, SCREEN]})
    expect(accepted["accepted"] == 2, accepted)
    bridge.drain_segment()
    expect(bridge.stats[SEGMENT]["delivered"] == 2, bridge.stats)
