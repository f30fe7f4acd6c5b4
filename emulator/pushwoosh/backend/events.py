"""Events: definitions, and the events users and devices trigger (the history segments read)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from swoosh.emulator.pushwoosh.backend.base import BackendState, PushwooshError
from swoosh.emulator.pushwoosh.posted_table import Effect, Row, posted_row
from swoosh.emulator.wire import shown

PostedEvent = tuple[str, str | None, str | None, float, dict[str, Any]]  # (event, user_id, hwid, at, attributes)


class Events(BackendState):
    """Event definitions and posted events: rows of the store (bounded), and each user's (or device's) history."""

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

    def post_events(self, app_code: str, events: list[PostedEvent], auto_create: bool) -> None:
        """Record a run of (event, user_id, hwid, at, attributes): one request, one transaction.

        Every event is checked before any is recorded, so a bad one records nothing. The rows (with their
        history entries) are written between two holds of the backend's lock, so other requests are served
        while SQLite writes (the store orders its writers); users, links and auto-created definitions
        change only once they are stored.
        """
        with self.lock:
            self._check_posted(app_code, events, auto_create)
            stored_at = self.runtime.clock.time()
        rows = [
            posted_row(event, _subject(user_id, hwid), app_code, at, stored_at, attributes)
            for event, user_id, hwid, at, attributes in events
        ]
        self._store_posted(rows, [(user_id, hwid, event, app_code) for event, user_id, hwid, _at, _ in events])

    def _check_posted(self, app_code: str, events: list[PostedEvent], auto_create: bool) -> None:
        """Refuse the run unless every event may be recorded (under the lock)."""
        for event, user_id, hwid, _at, _attributes in events:
            if event not in self.event_registry and not auto_create:
                raise PushwooshError(210, f"Event {shown(event)} not found")
            if user_id is None and (hwid is None or self.find_device(app_code, hwid) is None):
                raise PushwooshError(210, "Device not found")

    def _store_posted(self, rows: list[Row], effects: list[Effect]) -> None:
        """Write the rows, then apply what they change besides. With worker processes the write carries the
        effects instead and the primary's follower applies them (pushwoosh/shared_backend.py)."""
        self.posted.write(rows, self.config.max_posted_events)
        self.apply_posted(effects)

    def apply_posted(self, effects: Iterable[Effect]) -> None:
        """What posted events change besides their rows, in order: auto-created definitions, the users they
        name, and a user's link to a known device; then the long-polls wake."""
        with self.lock:
            listed = list(effects)
            self.ensure_users(user_id for user_id, *_rest in listed if user_id is not None)
            for user_id, hwid, event, app_code in listed:
                if event not in self.event_registry:
                    self.event_registry[event] = {
                        "id": len(self.event_registry) + 1,
                        "name": event,
                        "description": "",
                        "attributes": [],
                    }
                    self.changes.configuration()
                if user_id is not None and hwid is not None:
                    device = self.find_device(app_code, hwid)
                    if device is not None:
                        self._link_user(device, user_id)
        self.runtime.notify()

    def post_event_request(self, request: Mapping[str, Any]) -> None:
        app = self.app(request.get("application"))
        stamp = request.get("timestampUTC")
        at = float(stamp) if stamp is not None else self.runtime.clock.time()
        user_id, hwid = request.get("userId") or None, request.get("hwid")
        self.post_event(
            app.code, request["event"], user_id, hwid, at, request["attributes"], self.config.auto_create_tags
        )


def _subject(user_id: str | None, hwid: str | None) -> str:
    """Who posted an event, as the control API shows it: the user, or the device when there is no user."""
    return f"user:{user_id}" if user_id is not None else f"device:{hwid}"
