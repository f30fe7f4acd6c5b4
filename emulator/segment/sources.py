"""A source of the fake Segment: its name, write key, id and tracking plan, and how it is saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swoosh.emulator import defaults
from swoosh.emulator.segment.protocols import TrackingPlan
from swoosh.emulator.segment.warehouse import snake


@dataclass
class Source:
    name: str
    write_key: str
    source_id: str
    tracking_plan: TrackingPlan | None = None

    @property
    def schema(self) -> str:
        return snake(self.name) or "source"

    def describe(self) -> dict[str, Any]:
        plan = self.tracking_plan.describe() if self.tracking_plan else None
        return {
            "name": self.name,
            "write_key": self.write_key,
            "source_id": self.source_id,
            "schema": self.schema,
            "tracking_plan": plan,
        }

    def saved(self) -> dict[str, Any]:
        """What an export or the store keeps: the plan as its spec, so `from_saved` rebuilds it."""
        plan = {"name": self.tracking_plan.name, "spec": self.tracking_plan.spec} if self.tracking_plan else None
        return {"name": self.name, "write_key": self.write_key, "source_id": self.source_id, "tracking_plan": plan}

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> Source:
        plan = saved.get("tracking_plan")
        return cls(
            saved["name"],
            saved["write_key"],
            saved["source_id"],
            TrackingPlan(plan["spec"], plan.get("name", "plan")) if plan else None,
        )


DEFAULT_SOURCES = (*(Source(name, write_key, source_id) for name, write_key, source_id in defaults.SOURCES),)
