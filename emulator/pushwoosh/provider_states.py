"""The fake Pushwoosh's Pact provider states, and its Pact message producer.

States are registered on the control blueprint through the core's mechanism (emulator/provider_states.py).
The fake Pushwoosh is also the producer of the message-events pact: its message states send a real
message through the delivery simulation, and `POST /_swoosh/provider-messages` answers the verifier
with the newest message event of the kind the interaction describes.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from swoosh.contracts.shared_names import MESSAGE_EVENT_NAMES
from swoosh.emulator.control import ControlError, json_response, request_json
from swoosh.emulator.provider_states import ProviderStates
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshError
from swoosh.emulator.wire import shown

# channel -> (device type code, hwid for a user) of the device a message state sends to
CHANNEL_DEVICES = {"Push": (1, "pact-ios-{user}"), "Email": (14, "{user}@example.com"), "SMS": (18, "+1555{digits}")}


def pushwoosh_states(backend: PushwooshBackend) -> ProviderStates:
    def application_with_key(values: dict[str, Any]) -> None:
        code, key = str(values["app_code"]), str(values["api_key"])
        with backend.lock:
            if code not in backend.applications:
                backend.add_application(code)
            if key not in backend.api_tokens:
                backend.api_tokens.append(key)

    def key_refused(values: dict[str, Any]) -> None:
        with backend.lock:
            while values["api_key"] in backend.api_tokens:
                backend.api_tokens.remove(values["api_key"])

    def user_profile(values: dict[str, Any]) -> None:
        code = str(values["app_code"])
        if code not in backend.applications:
            backend.add_application(code)
        backend.track_user(code, {"user_id": str(values["user_id"])})

    def message_outcome(values: dict[str, Any]) -> None:
        send_message_event(
            backend,
            str(values["kind"]),
            str(values["outcome"]),
            str(values["user_id"]),
            str(values["campaign"]),
            str(values.get("app_code") or backend.default_app().code),
        )

    return ProviderStates(
        {
            r"application (?P<app_code>\S+) exists with API key (?P<api_key>\S+)": application_with_key,
            r"API key (?P<api_key>\S+) is not accepted": key_refused,
            r"user (?P<user_id>\S+) has a profile in application (?P<app_code>\S+)": user_profile,
            r"an? (?P<kind>Push|Email|SMS) message of campaign (?P<campaign>\S+) to user (?P<user_id>\S+)"
            r" (?P<outcome>was sent|was delivered|bounced)": message_outcome,
        },
        refusals=(PushwooshError,),
    )


def send_message_event(
    backend: PushwooshBackend, kind: str, outcome: str, user_id: str, campaign: str, app_code: str
) -> list[dict[str, Any]]:
    """Send one real message to a device of `user_id` on `kind`'s channel; returns the events it produced.

    `outcome` picks the channel's delivery rate for this one send: "was sent" (an undelivered push or
    SMS), "was delivered", or "bounced" (emails only, as in the real service).
    """
    kind = {"push": "Push", "email": "Email", "sms": "SMS"}.get(kind.lower(), kind)
    if kind not in CHANNEL_DEVICES:
        raise ValueError(f"kind must be Push, Email or SMS, not {shown(kind)}")
    if outcome == "bounced" and kind != "Email":
        raise ValueError("only emails bounce")
    device_type, hwid_format = CHANNEL_DEVICES[kind]
    digits = "".join(str(ord(c) % 10) for c in user_id)[:7].ljust(7, "0")
    hwid = hwid_format.format(user=user_id, digits=digits)
    channel = kind.lower()
    message_kind = "email" if kind == "Email" else "push"  # an SMS device receives the push-kind message as SMS
    with backend.lock:
        app = backend.applications.get(app_code) or backend.add_application(app_code)
        backend.register_device({"application": app.code, "hwid": hwid, "device_type": device_type, "userId": user_id})
        saved = dict(app.delivery_rates)
        app.delivery_rates[channel] = 1.0 if outcome == "was delivered" else 0.0
        before = len(backend.lifecycle.events)
        notification: dict[str, Any] = {"devices": [hwid], "campaign": campaign, "content": "Your order has shipped"}
        if kind == "Email":
            notification["subject"] = "Your order has shipped"
        try:
            backend.create_messages({"application": app.code, "notifications": [notification]}, message_kind)
        finally:
            app.delivery_rates.clear()
            app.delivery_rates.update(saved)
        return backend.lifecycle.events[before:]


def register_message_producer(bp: Blueprint, backend: PushwooshBackend) -> None:
    """`POST /_swoosh/provider-messages`: the Pact message producer over HTTP, as the verifier calls it."""

    @bp.post("/provider-messages")
    def produce() -> Response:
        body = request_json()
        description = body.get("description") if isinstance(body, dict) else None
        if not isinstance(description, str):
            raise ControlError('send {"description": "<the interaction description>"}')
        named = [name for name in MESSAGE_EVENT_NAMES if name.lower() in description.lower()]
        if not named:
            choices = ", ".join(MESSAGE_EVENT_NAMES)
            raise ControlError(f"{shown(description)} names none of the message events: {choices}")
        with backend.lock:
            events = [event for event in backend.lifecycle.events if event["event"] == named[0]]
        if not events:
            raise ControlError(f"no {named[0]} message event produced yet: set up a state that sends one", 404)
        return json_response(events[-1])
