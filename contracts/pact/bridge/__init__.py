"""The bridge's contracts as a consumer: what `swoosh-bridge` needs from each provider, as Pact cases.

One module per provider (integration_api.py, tracking_api.py, message_events.py), each driving the
bridge's real code; the pact files these cases write are committed under contracts/pacts/ and verified
against both fakes.
"""

from __future__ import annotations

from swoosh.contracts.pact.bridge.common import CONSUMER, INTEGRATION_API, MESSAGE_EVENTS, TRACKING_API
from swoosh.contracts.pact.bridge.integration_api import integration_api_cases
from swoosh.contracts.pact.bridge.message_events import message_event_cases
from swoosh.contracts.pact.bridge.tracking_api import tracking_api_cases
from swoosh.contracts.pact.consumer import Case

__all__ = ["CONSUMER", "INTEGRATION_API", "MESSAGE_EVENTS", "TRACKING_API", "all_cases"]


def all_cases() -> list[Case]:
    """Every interaction of every pact the bridge is the consumer of."""
    return integration_api_cases() + tracking_api_cases() + message_event_cases()
