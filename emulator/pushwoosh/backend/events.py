"""Events: definitions, and the events users and devices trigger (the history segments read)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from swoosh.emulator.pushwoosh.backend.base import POSTED, BackendState, PushwooshError
from swoosh.emulator.pushwoosh.model import EventHistory, PostedEvent
from swoosh.emulator.wire import shown


class Events(BackendState):
    """Event definitions and posted events: each user's (or device's) history, and a bounded inspection log."""

    def create_event(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name, attributes = request["name"], request.get("eventAttributes", [])
        with self.lock:
            entry = self.event_registry.setdefault(name, {"id": len(self.event_registry) + 1})
            entry.update({"name": name, "description": request.get("description", ""), "attributes": attributes})
            self.changes.configuration()
        return {"event": entry["id"]}

    def post_event(
        self,
        app_code: str,
        event: str,
        user_id: str | None,
        hwid: str | None,
        at: float,
        attributes: dict[str, Any],
        auto_create: bool,
    ) -> None:
        """Record that a user (or a device) triggered an event; the event must exist unless auto-created."""
        self.post_events(app_code, [(event, user_id, hwid, at, attributes)], auto_create)

    def post_events(
        self,
        app_code: str,
        events: list[tuple[str, str | None, str | None, float, dict[str, Any]]],
        auto_create: bool,
    ) -> None:
        """Record a run of (event, user_id, hwid, at, attributes) under one lock: one request, one hand-off.

        Every event is checked before any is recorded, so a bad one records nothing.
        """
        with self.lock:
            devices = self.devices[app_code]
            for event, user_id, hwid, _at, _attributes in events:
                if event not in self.event_registry and not auto_create:
                    raise PushwooshError(210, f"Event {shown(event)} not found")
                if user_id is None and (hwid is None or hwid not in devices):
                    raise PushwooshError(210, "Device not found")
            stored_at = self.runtime.clock.time()
            for event, user_id, hwid, at, attributes in events:
                if event not in self.event_registry:
                    self.event_registry[event] = {
                        "id": len(self.event_registry) + 1,
                        "name": event,
                        "description": "",
                        "attributes": [],
                    }
                    self.changes.configuration()
                history: EventHistory
                if user_id is not None:
                    user = self.user(user_id)
                    if hwid is not None and hwid in devices:
                        self._link_user(devices[hwid], user_id)
                    history, subject = user.events, f"user:{user_id}"
                else:
                    history, subject = devices[hwid].events, f"device:{hwid}"  # type: ignore[index]  # hwid is one of this application's devices
                history.add(event, at, app_code)
                self._log_posted(PostedEvent(event, at, app_code, attributes, subject, stored_at))
        self.runtime.notify()

    def post_event_request(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        stamp = request.get("timestampUTC")
        at = float(stamp) if stamp is not None else self.runtime.clock.time()
        user_id, hwid = request.get("userId") or None, request.get("hwid")
        self.post_event(
            app.code, request["event"], user_id, hwid, at, request["attributes"], self.config.auto_create_tags
        )

    def _log_posted(self, event: PostedEvent) -> None:
        if len(self.posted) == self.posted.maxlen:
            self.evicted_posted += 1
        self.posted.append(event)
        if self.changes.active:
            self.changes.append(POSTED, orjson.dumps(event.describe()))
