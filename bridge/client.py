"""A client for a running bridge's `/_swoosh/` API, beside the fakes' ControlClient (it is one)."""

from __future__ import annotations

from typing import Any

from swoosh.emulator.client import ControlClient


class BridgeClient(ControlClient):
    """Stats, dead letters (list, replay) and skipped events of one bridge."""

    def stats(self) -> dict[str, Any]:
        return self.call("GET", "/stats")

    def dead_letters(self, direction: str | None = None) -> list[dict[str, Any]]:
        return self.items("dead-letters", direction=direction)

    def replay(self, ids: list[int] | None = None) -> int:
        """Queue dead letters again (all when `ids` is None); returns how many."""
        return self.call("POST", "/dead-letters/replay", json={} if ids is None else {"ids": ids})["replayed"]

    def trail(self, message_id: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """What the bridge did with events (oldest first): `accepted` and `sent` records (filters: direction, kind)."""
        return self.items("trail", message_id=message_id, **filters)

    def outbox(self, direction: str | None = None) -> list[dict[str, Any]]:
        """The oldest items waiting or in flight (attempts, next attempt, last reply)."""
        return self.items("outbox", direction=direction)

    def rates(self, seconds: int = 300) -> dict[str, Any]:
        """Deliveries, failures and mean latency per second of the last `seconds`, per direction."""
        return self.call("GET", "/rates", params={"seconds": str(seconds)})

    def skipped(self, **filters: Any) -> list[dict[str, Any]]:
        """Events the destination refuses before sending (filters: direction, reason, message_id)."""
        return self.items("skipped", **filters)
