"""Python client for the fake Segment's control API (events, counts, destinations, warehouse SQL)."""

from __future__ import annotations

from typing import Any

from swoosh.emulator.client import ControlClient


class SegmentClient(ControlClient):
    def events(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Received messages with status, reason and the enriched message; default: only good ones."""
        filters.setdefault("status", "good")
        return self.items("events", limit=limit, **filters)

    def messages(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Just the enriched messages of good events (what destinations and the warehouse saw)."""
        return [e["message"] for e in self.events(limit=limit, **filters)]

    def bad_events(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        return self.items("events", limit=limit, status="bad", **filters)

    def wait_for_events(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict[str, Any]]:
        filters.setdefault("status", "good")
        return self.wait("events", count=count, timeout=timeout, **filters)

    def counts(self) -> dict[str, int]:
        return self.call("GET", "/counts")

    def add_source(
        self, name: str, write_key: str, source_id: str | None = None, tracking_plan: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "write_key": write_key, "source_id": source_id, "tracking_plan": tracking_plan}
        return self.call("POST", "/sources", json={k: v for k, v in body.items() if v is not None})

    def set_tracking_plan(self, source: str, plan: dict[str, Any] | None) -> dict[str, Any]:
        return self.call("PUT", f"/sources/{source}/tracking-plan", json=plan or {})

    def add_destination(self, url: str, source: str = "app", **options: Any) -> dict[str, Any]:
        return self.call("POST", "/destinations", json={"url": url, "source": source, **options})

    def remove_destination(self, destination_id: int) -> None:
        self.call("DELETE", f"/destinations/{destination_id}")

    def deliveries(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        return self.items("deliveries", limit=limit, **filters)

    def sql(self, statement: str) -> list[dict[str, Any]]:
        """Rows of a read-only warehouse query, as dicts."""
        result = self.call("POST", "/sql", json={"sql": statement})
        return [dict(zip(result["columns"], row, strict=True)) for row in result["rows"]]

    def write_key(self, source: str = "app") -> str:
        for item in self.config()["sources"]:
            if item["name"] == source:
                return item["write_key"]
        raise KeyError(f"no source {source!r}")
