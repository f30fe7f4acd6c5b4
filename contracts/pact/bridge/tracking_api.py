"""The bridge's pact with the Segment tracking API (`segment-tracking-api`).

Every case drives the bridge's real code: bridge/source.py maps a Pushwoosh message event to a /v1/batch
body and bridge/transport.py sends it and classifies the reply (delivered, retried or final).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from pact import match
from pact.interaction import HttpInteraction

from swoosh.bridge.core import PUSHWOOSH
from swoosh.bridge.source import LIBRARY, MAX_BATCH_BYTES, parse_message_event, track_message
from swoosh.bridge.transport import SegmentSender
from swoosh.contracts.pact.bridge.common import (
    APPLICATION_CODE,
    CONSUMER,
    ISO_MILLIS_Z,
    JSON,
    MESSAGE_CODE,
    PUSH_DELIVERED,
    SENT_AT,
    TRACKING_API,
    engine,
    expect,
    expect_reply,
)
from swoosh.contracts.pact.consumer import Case, HttpCase
from swoosh.emulator import defaults

WRITE_KEY = defaults.PUSHWOOSH_WRITE_KEY
SOURCE = "pushwoosh"
SOURCE_STATE = f"source {SOURCE} exists with write key {WRITE_KEY}"
# A message event of an anonymous email address (no user), beside common.PUSH_DELIVERED (a user's).
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
    return interaction.given(state).with_request("POST", "/v1/batch").with_header("Authorization", _basic(WRITE_KEY))


def _tracking_batch(interaction: HttpInteraction) -> None:
    body = {
        "batch": [_track_matcher(PUSH_DELIVERED), _track_matcher(EMAIL_SENT_ANONYMOUS)],
        "sentAt": match.regex(SENT_AT, regex=ISO_MILLIS_Z),
    }
    _batch_request(interaction).with_body(body, JSON).will_respond_with(200).with_body({"success": True}, JSON)


def _send_batch(url: str) -> None:
    bridge = engine(segment_url=url, write_key=WRITE_KEY)
    accepted = bridge.accept_pushwoosh({"events": [PUSH_DELIVERED, EMAIL_SENT_ANONYMOUS]})
    expect(accepted["accepted"] == 2, accepted)
    bridge.drain_pushwoosh()
    expect(bridge.stats[PUSHWOOSH]["delivered"] == 2, bridge.stats)


def _oversize_messages() -> list[dict[str, Any]]:
    return [
        track_message(
            parse_message_event({**PUSH_DELIVERED, "hwid": f"hwid-{n}", "campaign_code": "C" * OVERSIZE_CAMPAIGN_CHARS})
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
    expect_reply(SegmentSender(url, WRITE_KEY).send(body), 400)


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
            lambda url: expect_reply(SegmentSender(url, WRITE_KEY).send(b'{"batch": ['), 400),
        ),
    ]
