"""What the bridge's three consumer pacts share: the names in the pacts, the value patterns, the example
message event, and the checks on the bridge's own engine and senders."""

from __future__ import annotations

from typing import Any

from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.transport import Outcome
from swoosh.emulator import defaults

CONSUMER = "swoosh-bridge"
INTEGRATION_API = "pushwoosh-integration-api"
TRACKING_API = "segment-tracking-api"
MESSAGE_EVENTS = "pushwoosh-message-events"

APP_CODE = defaults.APP_CODE
ISO_MILLIS_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
MESSAGE_CODE = r"^[0-9A-F]{4}-[0-9A-F]{8}-[0-9A-F]{8}$"
APPLICATION_CODE = r"^[0-9A-Z]{5}-[0-9A-Z]{5}$"
JSON = "application/json"
SENT_AT = "2026-11-22T14:10:00.000Z"
# A Pushwoosh message event as the bridge receives it (the tracking API and message event pacts build on it).
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


def expect(condition: bool, detail: object) -> None:
    """A consumer expectation (kept under `python -O`, unlike assert); fails the case with `detail`."""
    if not condition:
        raise AssertionError(detail)


def expect_reply(outcome: Outcome, status: int, retry: bool = False) -> None:
    """The bridge read the reply as the contract says: delivered, or final (dead letter), or retried."""
    expect(outcome.status == status, outcome)
    expect(outcome.ok == (200 <= status < 300), outcome)
    expect(outcome.retry is retry, outcome)


def engine(**settings: Any) -> Bridge:
    """The bridge's engine as deployed (ingress, durable outbox, drain), on an in-memory outbox."""
    return Bridge(BridgeSettings(**settings), Outbox(":memory:"))
