"""Delivery simulation: what sending a message does to each targeted device, and the message events.

Per targeted device and channel: a Sent record, then Delivered or (email) Bounced, drawn from the
application's seeded per-channel delivery rate (default: everything is delivered). Each outcome is a
message event, kept for inspection and handed to the webhook sender (the bridge's input).
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterable
from typing import Any, Protocol

import orjson

from swoosh.emulator.clock import iso_millis
from swoosh.emulator.pushwoosh.model import Application, Delivery, Device, Message
from swoosh.emulator.pushwoosh.platforms import message_type
from swoosh.emulator.pushwoosh.webhooks import WebhookSender
from swoosh.emulator.runtime import Runtime

EVENT_CAPACITY = 1_000_000
IOS = 1
INBOX_LIFETIME = 30 * 86_400  # the fake's choice: an inbox entry is removable 30 days after it was sent


class Sender(Protocol):
    """What delivering reads and writes of the backend; a protocol, so this module imports no backend."""

    applications: dict[str, Application]
    runtime: Runtime
    deliveries: list[Delivery]
    inboxes: dict[str, list[dict[str, Any]]]
    webhooks: WebhookSender

    def targets(self, message: Message) -> tuple[Iterable[Device], list[str]]: ...

    def render(self, message: Message, device: Device, key: str) -> str | None: ...


class Lifecycle:
    def __init__(self, backend: Sender) -> None:
        self.backend = backend
        self.events: list[dict[str, Any]] = []
        self._rngs: dict[str, random.Random] = {}

    def _rng(self, app_code: str) -> random.Random:
        rng = self._rngs.get(app_code)
        if rng is None:
            rng = self._rngs[app_code] = random.Random(self.backend.applications[app_code].seed)
        return rng

    def deliver(self, message: Message) -> list[str]:
        """Send `message` now; returns the device keys that matched no device (UnknownDevices).

        The cyclic garbage collector is paused while it runs: a send to every device keeps several records
        per device (delivery, message events, inbox entry), none of them cyclic, and with the devices read
        from the store rather than kept in the heap each of them would otherwise trigger full collections
        that walk all the records kept so far again (measured: bench/RESULTS.md, "Pushwoosh devices in the
        store"). Reference counting still frees everything a send drops; the collector resumes after."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._deliver(message)
        finally:
            if collecting:
                gc.enable()

    def _deliver(self, message: Message) -> list[str]:
        backend = self.backend
        devices, unknown = backend.targets(message)
        app = backend.applications[message.application]
        rng = self._rng(app.code)
        now = backend.runtime.clock.time()
        stamp = iso_millis(backend.runtime.clock.now())
        new_events: list[dict[str, Any]] = []
        text_key = "subject" if message.kind == "email" else "content"
        sent = 0
        for device in devices:
            if not device.reachable_by_push:
                continue  # no platform to send through, or unregistered (reachable by in-app only)
            channel = device.platform.channel  # type: ignore[union-attr]  # the audience holds only devices with a platform
            if message.kind == "push" and channel == "email":
                continue  # email devices receive createEmailMessage, not pushes
            content = backend.render(message, device, text_key)
            title = backend.render(message, device, "title")
            if content is None or (title is None and message.notification.get("title") is not None):
                message.skipped += 1
                continue
            delivery = Delivery(message.code, device.hwid, device.user_id, channel, content, title, now)
            backend.deliveries.append(delivery)
            sent += 1
            kind = message_type(channel)
            new_events.append(self._event(f"{kind} Sent", message, device, stamp))
            if rng.random() < app.delivery_rates.get(channel, 1.0):
                delivery.status = "delivered"
                new_events.append(self._event(f"{kind} Delivered", message, device, stamp))
                if channel == "push":
                    self._to_inbox(message, device, delivery)
            elif channel == "email":
                delivery.status = "bounced"
                new_events.append(self._event("Email Bounced", message, device, stamp))
            else:
                delivery.status = "undelivered"
        message.status = "sent"
        message.targets = sent
        self.events.extend(new_events)
        if len(self.events) > EVENT_CAPACITY:
            del self.events[: len(self.events) - EVENT_CAPACITY]
        backend.webhooks.send(new_events)
        return unknown

    @staticmethod
    def _event(name: str, message: Message, device: Device, stamp: str) -> dict[str, Any]:
        platform = device.platform
        return {
            "id": f"{message.code}:{device.hwid}:{name}",
            "event": name,
            "message_code": message.code,
            "campaign_code": message.campaign,
            "message_type": name.split(" ")[0],
            "application": message.application,
            "hwid": device.hwid,
            "user_id": device.user_id,
            "device_type": device.device_type,
            "platform": platform.name if platform else None,
            "timestamp": stamp,
        }

    def _to_inbox(self, message: Message, device: Device, delivery: Delivery) -> None:
        """What the device received: the push payload's own keys (`p` the hash for pushStat, `l` the link,
        `u` the custom data as a JSON string, `aps.alert` on iOS) beside readable ones (content, link, data),
        and the inbox entry's as getInboxMessages answers them (`order` its place in this device's inbox,
        `status` 1 delivered, 2 read, 3 opened, 4 deleted; `send_date` and `rt`, the removal time, in
        seconds as strings; `action_params` a JSON string with the link under `l`)."""
        notification = message.notification
        data = notification.get("data")
        inbox = self.backend.inboxes.setdefault(device.hwid, [])
        link = notification.get("link")
        item: dict[str, Any] = {
            "inbox_id": message.code,
            "order": str(len(inbox) + 1),
            "send_date": str(int(delivery.at)),
            "rt": str(int(delivery.at) + INBOX_LIFETIME),
            "text": delivery.content,
            "image": "",
            "action_type": 1,
            "action_params": orjson.dumps({"l": link}).decode(),
            "status": 1,
            "hwid": device.hwid,
            "message_code": message.code,
            "p": message.code,
            "title": delivery.title,
            "content": delivery.content,
            "link": link,
            "l": link,
            "data": data,
            "u": orjson.dumps(data).decode() if isinstance(data, dict) else data,
            "campaign_code": message.campaign,
            "timestamp": delivery.at,
        }
        if device.device_type == IOS:
            alert = {"title": delivery.title, "body": delivery.content} if delivery.title else delivery.content
            item["aps"] = {"alert": alert}
        inbox.append(item)

    def clear(self) -> None:
        self.events.clear()
