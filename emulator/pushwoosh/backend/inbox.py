"""A device's inbox as the SDKs read it (getInboxMessages) and mark it (inboxStatus), and getConfig.

Delivered pushes land in the device's inbox (lifecycle.py) with status 1; the SDK marks entries read
(2), opened (3) or deleted (4) by their `order`. getInboxMessages pages forward: `last_code` is the
`next` of the previous answer, `count` 0 means all; deleted entries are left out of `messages` and
listed by inbox_id under `deleted`, so the SDK drops them from its own store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swoosh.emulator.pushwoosh.backend.base import PushwooshError
from swoosh.emulator.pushwoosh.backend.devices import DevicesAndUsers

DELIVERED, READ, OPENED, DELETED = 1, 2, 3, 4
SDK_KEYS = ("inbox_id", "order", "rt", "send_date", "title", "image", "text", "action_type", "action_params", "status")


class Inbox(DevicesAndUsers):
    """The inbox methods of /json/1.3 and the Web SDK's getConfig; builds on devices (every call names one)."""

    def get_config(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The features the SDK asks for that the fake has: web push (the application's VAPID key) and the
        event names created with createEvent; page-visit statistics and web in-apps are off."""
        app = self.app(request.get("application"))
        known: dict[str, Any] = {
            "vapid_key": app.vapid.public_key,
            "events": sorted(self.event_registry),
            "page_visit": {"enabled": False, "entrypoint": ""},
            "web_in_apps": {"enabled": False},
        }
        wanted = request.get("features")
        return {"features": {k: v for k, v in known.items() if wanted is None or k in wanted}}

    def inbox_messages(self, request: Mapping[str, Any]) -> dict[str, Any]:
        app = self.app(request.get("application"))
        with self.lock:
            self.device(app.code, request["hwid"])
            entries = list(self.inboxes.get(request["hwid"], []))
        after = int(request.get("last_code") or 0)
        live = [e for e in entries if e["status"] != DELETED and int(e["order"]) > after]
        count = int(request.get("count") or 0)
        page = live[:count] if count else live
        return {
            "messages": [{k: e.get(k) for k in SDK_KEYS} for e in page],
            "next": page[-1]["order"] if page else str(request.get("last_code") or ""),
            "deleted": [e["inbox_id"] for e in entries if e["status"] == DELETED],
            "new_inbox": sum(1 for e in live if e["status"] == DELIVERED),
        }

    def inbox_status(self, request: Mapping[str, Any]) -> None:
        """inboxStatus: the entry `inbox_code` (its order) is now read, opened or deleted; never goes back."""
        app = self.app(request.get("application"))
        with self.lock:
            self.device(app.code, request["hwid"])
            entries = self.inboxes.get(request["hwid"], [])
            entry = next((e for e in entries if e["order"] == request["inbox_code"]), None)
            if entry is None:
                raise PushwooshError(210, "Inbox message not found")
            entry["status"] = max(entry["status"], int(request["status"]))
        self.runtime.notify()
