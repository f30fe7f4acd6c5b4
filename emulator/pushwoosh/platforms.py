"""What a device's channel makes of a message in the fake: the `message_type` its events carry.

A device's channel (its device type's, in swoosh.contracts.shared_names) decides what a message to it
becomes (a push, an email, an SMS) and therefore which message events ("Push Sent", "Email
Bounced", ...) the delivery simulation emits.
"""

from __future__ import annotations

from typing import Literal

from swoosh.contracts.shared_names import Channel

MessageType = Literal["Push", "Email", "SMS"]

_MESSAGE_TYPES: dict[str, MessageType] = {
    "push": "Push",
    "email": "Email",
    "sms": "SMS",
    # Pushwoosh's Segment source knows only Push, Email, In-App and SMS messages; a WhatsApp message
    # is a text to a phone number, so it is reported as SMS.
    "whatsapp": "SMS",
}


def message_type(channel: Channel | str) -> MessageType:
    """The `message_type` a message event carries for a device on `channel`; KeyError if unknown."""
    return _MESSAGE_TYPES[channel]
