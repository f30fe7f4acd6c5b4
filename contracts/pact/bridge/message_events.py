"""The bridge's pact with Pushwoosh's message events (`pushwoosh-message-events`, asynchronous messages).

Each case hands the message to the bridge's real source mapping (bridge/source.py), all the way to the
/v1/batch body it would send to Segment.
"""

from __future__ import annotations

from typing import Any

import orjson
from pact import match
from pact.interaction import AsyncMessageInteraction

from swoosh.bridge.source import SOURCE_EVENTS, batch_bodies, parse_message_event, track_message
from swoosh.contracts.pact.bridge.common import (
    APPLICATION_CODE,
    CONSUMER,
    ISO_MILLIS_Z,
    JSON,
    MESSAGE_CODE,
    MESSAGE_EVENTS,
    PUSH_DELIVERED,
    SENT_AT,
    expect,
)
from swoosh.contracts.pact.consumer import Case, MessageCase

CHANNEL_DEVICES = {
    "Push": ("hwid-ios-1", 1, "iOS"),
    "Email": ("ann@example.com", 14, "Email"),
    "SMS": ("+15555550100", 18, "SMS"),
}


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
