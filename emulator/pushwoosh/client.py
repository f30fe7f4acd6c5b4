"""Python client for the fake Pushwoosh's control API."""

from __future__ import annotations

from typing import Any

from swoosh.emulator.client import ControlClient


class PushwooshClient(ControlClient):
    def devices(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items("devices", **filters)

    def users(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items("users", **filters)

    def tags(self, hwid: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        """The tags of one device (`hwid`) or one user (`user_id`, merged over their devices); {} if unknown."""
        if (hwid is None) == (user_id is None):
            raise ValueError("pass exactly one of hwid= or user_id=")
        found = self.items("tags", hwid=hwid, user_id=user_id)
        return found[0]["tags"] if found else {}

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        """Events posted by devices or the Segment integration."""
        return self.items("events", **filters)

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items("messages", **filters)

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items("deliveries", **filters)

    def inbox(self, hwid: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/inbox/{hwid}")["items"]

    def message_events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.items("message-events", **filters)

    def warnings(self) -> list[dict[str, Any]]:
        return self.items("warnings")

    def add_application(self, code: str, **settings: Any) -> dict[str, Any]:
        return self.call("POST", "/applications", json={"code": code, **settings})

    def add_webhook(self, url: str, token: str | None = None) -> dict[str, Any]:
        return self.call("POST", "/webhooks", json={"url": url, "token": token})

    @property
    def app_code(self) -> str:
        return self.config()["applications"][0]["code"]

    @property
    def api_token(self) -> str:
        return self.config()["api_tokens"][0]
