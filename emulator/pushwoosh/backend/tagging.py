"""Tags: definitions, writing values on devices and users (typed, operations), reading them back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swoosh.emulator.pushwoosh import tags
from swoosh.emulator.pushwoosh.backend.base import BackendState, PushwooshError
from swoosh.emulator.pushwoosh.model import Device, TagDefinition, User
from swoosh.emulator.wire import shown


class Tags(BackendState):
    """Tag definitions and values: a device's own tags, a user's tags, both merged when read."""

    def define_tag(
        self, name: str, tag_type: int, application_specific: bool = False, user_specific: bool = False
    ) -> TagDefinition:
        kind = tags.TagType(tag_type)
        with self.lock:
            existing = self.tag_registry.get(name)
            if existing is not None and existing.type != kind:
                raise PushwooshError(210, f"Tag {shown(name)} already exists with another type")
            definition = TagDefinition(name, kind, application_specific, user_specific)
            self.tag_registry[name] = definition
            self.changes.configuration()
        return definition

    def delete_tag(self, name: str) -> None:
        with self.lock:
            if name not in self.tag_registry:
                raise PushwooshError(210, f"Tag {shown(name)} not found")
            self.rows.drop_tag(name)  # first: a StoreError leaves the definition too
            del self.tag_registry[name]
            for record in [*self.lock.devices.values(), *self.lock.users.values()]:  # read before, in this hold
                if record is not None:
                    record.tags.pop(name, None)
            self.changes.configuration()

    def _apply_tags(
        self,
        device: Device | None,
        values: Mapping[str, Any],
        app_code: str,
        strict_types: bool = True,
        user: User | None = None,
        auto_create: bool | None = None,
    ) -> list[dict[str, str]]:
        """Write tag values (null removes, operations apply); unknown tags are skipped unless auto-created.

        Validates every value before writing any, so a bad value leaves the tags untouched.
        """
        create = self.config.auto_create_tags if auto_create is None else auto_create
        target = device.tags if device is not None else user.tags  # type: ignore[union-attr]  # the caller passes a device or a user, never neither
        skipped: list[dict[str, str]] = []
        writes: dict[str, Any] = {}
        for name, value in values.items():
            definition = self.tag_registry.get(name)
            if definition is None:
                if not create or value is None or isinstance(value, dict):
                    skipped.append({"tag": name, "reason": "Not found"})
                    continue
                definition = TagDefinition(name, tags.infer_type(value))
            try:
                if value is None:
                    writes[name] = None
                elif isinstance(value, dict):
                    writes[name] = tags.apply_operation(target.get(name), value, definition.type)
                else:
                    writes[name] = tags.coerce(value, definition.type)
            except tags.TagValueError as exc:
                if strict_types:
                    raise PushwooshError(210, f"Invalid value for tag {shown(name)}: {exc}") from exc
                skipped.append({"tag": name, "reason": str(exc)})
                continue
            if name not in self.tag_registry:
                self.tag_registry[name] = definition
                self.changes.configuration()
        for name, value in writes.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        if writes:
            if device is not None:
                self._device_changed(device)
            else:
                self._user_changed(user)  # type: ignore[arg-type]  # no device: a user
        return skipped

    def set_tags(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        app = self.app(request.get("application"))
        with self.lock:
            device = self.device(app.code, request["hwid"])
            skipped = self._apply_tags(device, request["tags"], app.code)
            self._link_user(device, request.get("userId") or None)
        self.runtime.notify()
        return {"skipped": skipped} if skipped else None

    def set_email_tags(self, request: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.set_tags({**request, "hwid": request.get("email")})

    def get_tags(self, request: Mapping[str, Any]) -> dict[str, Any]:
        app = self.app(request.get("application"))
        with self.lock:
            if "hwid" in request:
                values = self.device(app.code, request["hwid"]).tag_values()
            else:
                user = self.find_user(request["userId"])
                if user is None:
                    raise PushwooshError(210, "User not found")
                values = self.user_tag_values(user)
            return {"result": {k: self._render_tag(k, v) for k, v in values.items()}}

    def user_tag_values(self, user: User) -> dict[str, Any]:
        merged = dict(user.tags)
        for device in self.user_devices(user):
            merged.update(device.tags)
        return merged

    def _render_tag(self, name: str, value: Any) -> Any:
        definition = self.tag_registry.get(name)
        return tags.render_value(value, definition.type) if definition else value
