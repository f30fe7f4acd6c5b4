"""Messages: creating them (now or scheduled), their audience, their texts, deleting, stats."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from swoosh.emulator.pushwoosh.backend.base import PushwooshError
from swoosh.emulator.pushwoosh.backend.filters import Filters
from swoosh.emulator.pushwoosh.backend.tagging import Tags
from swoosh.emulator.pushwoosh.model import Application, Device, Message
from swoosh.emulator.pushwoosh.templating import compile_template
from swoosh.emulator.wire import shown

TRANSACTION_WINDOW = 24 * 3600


class Messages(Filters, Tags):
    """Messages: a filter or the tags decide the audience and the texts; the lifecycle delivers them."""

    def new_message_code(self) -> str:
        token = secrets.token_hex(10).upper()
        return f"{token[:4]}-{token[4:12]}-{token[12:20]}"

    def send_time(self, send_date: Any, timezone: str | None = None) -> float:
        """When a notification goes out: now, or `YYYY-MM-DD HH:mm` read in `timezone` (an IANA name; UTC
        when absent). Sending at each user's own local time (`ignore_user_timezone: false`) is not modelled."""
        now = self.runtime.clock.time()
        if send_date is None or send_date == "now":
            return now
        try:
            zone = ZoneInfo(timezone) if timezone else UTC
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PushwooshError(210, f"Unknown timezone {shown(timezone)}") from exc
        if isinstance(send_date, str):
            try:
                return datetime.strptime(send_date.strip(), "%Y-%m-%d %H:%M").replace(tzinfo=zone).timestamp()
            except ValueError:
                pass
        raise PushwooshError(210, "Cannot parse date")

    def create_messages(self, request: Mapping[str, Any], kind: str = "push") -> dict[str, Any]:
        app = self.app(request.get("application"))
        plans = [self._plan(n) for n in request["notifications"]]  # check all before creating any
        codes: list[str] = []
        unknown: list[str] = []
        with self.lock:
            for notification, send_at in plans:
                transaction = notification.get("transactionId")
                if transaction in self.transactions:
                    seen_at, seen_codes = self.transactions[transaction]
                    if self.runtime.clock.time() - seen_at < TRANSACTION_WINDOW:
                        codes.extend(seen_codes)
                        continue
                message = self._create(app, notification, kind, send_at)
                codes.append(message.code)
                if transaction is not None:
                    self.transactions[transaction] = (self.runtime.clock.time(), [message.code])
                if send_at <= self.runtime.clock.time():
                    unknown.extend(self.lifecycle.deliver(message))
        self.runtime.notify()
        reply: dict[str, Any] = {"Messages": codes}
        if unknown:
            reply["UnknownDevices"] = {"": unknown}
        return reply

    def _create(self, app: Application, notification: Mapping[str, Any], kind: str, send_at: float) -> Message:
        message = Message(
            self.new_message_code(),
            app.code,
            kind,
            dict(notification),
            send_at,
            self.runtime.clock.time(),
            notification.get("campaign"),
        )
        self.messages[message.code] = message
        return message

    def _plan(self, notification: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
        """Check one notification (its date, its filter, compiled) before any message is created."""
        send_at = self.send_time(notification.get("send_date", "now"), notification.get("timezone"))
        if notification.get("filter") is not None and notification.get("conditions") is not None:
            raise PushwooshError(210, "Use either filter or conditions, not both")
        filter_name = notification.get("filter")
        if filter_name is not None and filter_name not in self.filters:
            raise PushwooshError(210, f"Filter {shown(filter_name)} not found")
        compiled = None
        if notification.get("conditions") is not None:
            compiled = self.compile_filter(
                None, notification["conditions"], notification.get("conditions_operator", "AND")
            )
        elif notification.get("devices_filter") is not None:
            compiled = self.compile_filter(notification["devices_filter"])
        return {**notification, "_filter": compiled}, send_at

    def targets(self, message: Message) -> tuple[Iterable[Device], list[str]]:
        """Targeting precedence: devices > users > filter | conditions > the whole app; platforms narrow.
        A filter's or the whole app's audience is read a chunk at a time as it is delivered."""
        notification = message.notification
        app = message.application
        unknown: list[str] = []
        found: Iterable[Device]
        if notification.get("devices"):
            listed = []
            for key in notification["devices"]:
                device = self.find_device(app, key)
                if device is None:
                    by_token = self.rows.device_with_token(app, key)
                    device = None if by_token is None else self.find_device(*by_token)
                if device is None:
                    unknown.append(key)
                else:
                    listed.append(device)
            found = listed
        elif notification.get("users"):
            users = (self.find_user(u) for u in notification["users"])
            found = [d for u in users if u is not None for d in sorted(self.user_devices(u, app), key=_hwid)]
        elif notification.get("filter") is not None or notification.get("_filter") is not None:
            compiled = notification.get("_filter") or self.filters[notification["filter"]]["filter"]
            found = self.matching_devices(compiled, [app])
        else:
            found = self.scan_devices([app])
        platforms = notification.get("platforms")
        if platforms:
            allowed = set(platforms)
            found = (d for d in found if d.device_type in allowed)
        if message.kind == "email":
            found = (d for d in found if d.platform is not None and d.platform.channel == "email")
        return found, unknown

    def delete_message(self, code: str) -> None:
        with self.lock:
            message = self.messages.get(code)
            if message is None:
                raise PushwooshError(210, "Message not found")
            if message.status != "scheduled":
                raise PushwooshError(210, "Only scheduled messages can be deleted")
            message.status = "cancelled"
        self.runtime.notify()

    def tick(self) -> None:
        """Deliver every scheduled message whose send time the clock has reached."""
        now = self.runtime.clock.time()
        with self.lock:
            due = [m for m in self.messages.values() if m.status == "scheduled" and m.send_at <= now]
            for message in sorted(due, key=lambda m: m.send_at):
                self.lifecycle.deliver(message)
        if due:
            self.runtime.notify()

    def render(self, message: Message, device: Device, key: str) -> str | None:
        """A message text personalised for one device; None when a placeholder without default is missing."""
        text = message.notification.get(key)
        if isinstance(text, dict):
            text = text.get(device.language or "") or text.get("en") or next(iter(text.values()), None)
        if not isinstance(text, str):
            return "" if key == "content" else None
        template = compile_template(text)
        names = template.placeholders()
        if not names:
            return text
        values = {k: self._render_tag(k, v) for k, v in device.tag_values().items() if k in names}
        placeholders = message.notification.get("dynamic_content_placeholders")
        if isinstance(placeholders, dict):
            values.update(placeholders)
        return template.render(values)

    def message_action(self, request: Mapping[str, Any], action: str) -> None:
        """pushStat (opened) and messageDeliveryEvent (delivered, as the device reports it); `hash` = `p`."""
        app = self.app(request.get("application"))
        code = request["hash"]
        with self.lock:
            if code not in self.messages:
                raise PushwooshError(210, "Message not found")
            self.opens.append(
                {
                    "action": action,
                    "message_code": code,
                    "hwid": request.get("hwid"),
                    "application": app.code,
                    "timestamp": self.runtime.clock.time(),
                }
            )
        self.runtime.notify()

    def targeted_message(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """createTargetedMessage: one notification whose audience is a segmentation-language expression."""
        compiled = self.compile_filter(request.get("devices_filter"))
        scope = compiled.scope()
        code = request.get("application") or (sorted(scope)[0] if scope else self.default_app().code)
        notification = {k: v for k, v in request.items() if k not in ("auth", "application")}
        reply = self.create_messages({"application": code, "notifications": [notification]})
        return {"messageCode": reply["Messages"][0]}

    def message_details(self, code: str) -> dict[str, Any]:
        message = self.messages.get(code)
        if message is None:
            raise PushwooshError(210, "Message not found")
        return {
            "message": {
                **message.describe(),
                "notification": {k: v for k, v in message.notification.items() if k != "_filter"},
            }
        }

    def request_stats(self, code: str) -> dict[str, Any]:
        if code not in self.messages:
            raise PushwooshError(210, "Message not found")
        request_id = f"stats-{len(self.stats_requests) + 1}-{code}"
        self.stats_requests[request_id] = code
        return {"request_id": request_id}

    def stats_results(self, request_id: str) -> dict[str, Any]:
        code = self.stats_requests.get(request_id)
        if code is None:
            raise PushwooshError(210, "Request not found")
        counts: dict[tuple[str, str], int] = {}
        with self.lock:
            for delivery in self.deliveries:
                if delivery.message_code == code:
                    day = datetime.fromtimestamp(delivery.at, tz=UTC).strftime("%Y-%m-%d %H:00:00")
                    counts[(day, "send")] = counts.get((day, "send"), 0) + 1
                    if delivery.status == "delivered":
                        counts[(day, "delivery")] = counts.get((day, "delivery"), 0) + 1
            for record in self.opens:
                if record["message_code"] == code:
                    day = datetime.fromtimestamp(record["timestamp"], tz=UTC).strftime("%Y-%m-%d %H:00:00")
                    counts[(day, record["action"])] = counts.get((day, record["action"]), 0) + 1
        return {"rows": [{"datetime": d, "action": a, "count": n} for (d, a), n in sorted(counts.items())]}


def _hwid(device: Device) -> str:
    return device.hwid
