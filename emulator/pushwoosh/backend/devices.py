"""Devices and users: registration, badges, opens (/json/1.3); track-user, delete-user (integration API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swoosh.emulator.pushwoosh.backend.tagging import Tags
from swoosh.emulator.pushwoosh.model import Device

# The device platforms Segment's track-user carries that Pushwoosh understands; others get no platform.
INTEGRATION_PLATFORMS = {"ios": 1, "android": 3, "web": 11}


def web_subscription(request: Mapping[str, Any]) -> dict[str, str] | None:
    """A browser's push subscription as the Web SDK registers it: the endpoint is the push token,
    `public_key` the subscription's p256dh key and `auth_token` its auth secret."""
    if not request.get("public_key") or not request.get("auth_token"):
        return None
    return {"endpoint": request["push_token"], "p256dh": request["public_key"], "auth": request["auth_token"]}


class DevicesAndUsers(Tags):
    """Devices and the users they belong to; registering a device writes its tags, so this builds on tags."""

    def register_device(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        hwid, device_type = request["hwid"], int(request["device_type"])  # JSON Schema's integer admits 3.0
        with self.lock:
            device = self.find_device(app.code, hwid)
            if device is None:
                device = Device(app.code, hwid, device_type, self.tag_registry)
                self.add_device(device)
            device.device_type = device_type
            if request.get("push_token"):
                device.push_token, device.unsubscribed = request["push_token"], False
                device.web_push = web_subscription(request)
            for key in ("language", "app_version", "device_model", "os_version"):
                if request.get(key) is not None:
                    setattr(device, key, str(request[key]))
            if request.get("timezone") is not None:
                device.timezone = request["timezone"]
            if device.platform and device.platform.channel == "email":
                device.email = hwid
            self._apply_tags(device, request.get("tags") or {}, app.code, strict_types=False)
            self._device_changed(device)
            self._link_user(device, request.get("userId") or None)
        self.runtime.notify()

    def unregister_device(self, request: Mapping[str, Any]) -> None:
        """Drops the device's push token; an hwid never registered has none to drop and is accepted (the Web
        SDK unregisters on a visitor's first visit, before it registers, whenever the VAPID key is new)."""
        app = self.app(request.get("application"))
        with self.lock:
            device = self.find_device(app.code, request["hwid"])
            if device is None:
                return
            device.push_token, device.unsubscribed, device.web_push = None, True, None
            self._device_changed(device)
        self.runtime.notify()

    def check_device(self, request: Mapping[str, Any]) -> dict[str, bool]:
        """checkDevice: whether the hwid is registered, and whether it still has a push token."""
        app = self.app(request.get("application"))
        device = self.find_device(app.code, request["hwid"])
        return {"exist": device is not None, "push_token_exist": bool(device and device.push_token)}

    def delete_device(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            self._drop_device(device)
        self.runtime.notify()

    def register_user(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        user_id = request["userId"]
        with self.lock:
            hwid = request.get("hwid")
            if hwid is not None:
                device = self.find_device(app.code, hwid)
                if device is None:
                    device = Device(app.code, hwid, int(request.get("device_type", 3)), self.tag_registry)
                    self.add_device(device)
                self._link_user(device, user_id)
            else:
                self.user(user_id)
        self.runtime.notify()

    def register_email(self, request: Mapping[str, Any]) -> None:
        self.register_device({**request, "hwid": request["email"], "device_type": 14})

    def delete_email(self, request: Mapping[str, Any]) -> None:
        self.delete_device({**request, "hwid": request.get("email")})

    def application_open(self, request: Mapping[str, Any]) -> None:
        """Recorded for any hwid: the Web SDK opens before it registers, on every first visit."""
        app = self.app(request.get("application"))
        with self.lock:
            self.app_opens.append(
                {
                    "application": app.code,
                    "hwid": request.get("hwid"),
                    "user_id": request.get("userId"),
                    "device_type": request.get("device_type"),
                    "timestamp": self.runtime.clock.time(),
                }
            )
        self.runtime.notify()

    def set_badge(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            device.badge = request["badge"]
            self._device_changed(device)
        self.runtime.notify()

    def track_user(self, app_code: str, profile: Mapping[str, Any]) -> None:
        """Upsert the user and its device; attributes become tags (created as needed) with the mapped fields."""
        user_id = profile.get("user_id")
        device_id = profile.get("device_id")
        with self.lock:
            device = None
            if device_id:
                device = self.find_device(app_code, str(device_id))
                if device is None:
                    device_type = INTEGRATION_PLATFORMS.get((profile.get("device_platform") or "").lower())
                    device = Device(app_code, str(device_id), device_type, self.tag_registry)
                    self.add_device(device)
                for source, target in (
                    ("device_token", "push_token"),
                    ("language", "language"),
                    ("app_version", "app_version"),
                    ("device_model", "device_model"),
                    ("device_os_version", "os_version"),
                    ("timezone", "timezone"),
                ):
                    if profile.get(source) is not None:
                        setattr(device, target, profile[source])
                self._device_changed(device)
            user = self.user(str(user_id)) if user_id else None
            if device is not None and user is not None:
                self._link_user(device, user.user_id)
            fields = {
                k: profile[k]
                for k in (
                    "email",
                    "language",
                    "country",
                    "city",
                    "current_location",
                    "timezone",
                    "app_version",
                    "device_model",
                    "device_os_version",
                    "user_agent",
                )
                if profile.get(k) is not None
            }
            if user is not None:
                user.profile.update(fields)
                self._user_changed(user)
            attributes = profile.get("attributes") or {}
            self._apply_tags(
                device if user is None else None, attributes, app_code, strict_types=False, user=user, auto_create=True
            )
        self.runtime.notify()

    def delete_user(self, app_code: str, user_id: str) -> bool:
        with self.lock:
            user = self.find_user(user_id)
            if user is None:
                return False
            for device in self.user_devices(user, app_code):
                self._drop_device(device)
            self._drop_user(user_id)
            self.posted.forget_subject(f"user:{user_id}")
        self.runtime.notify()
        return True
