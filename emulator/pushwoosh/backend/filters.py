"""Segments (filters): segmentation-language expressions compiled, stored by name, counted, matched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from swoosh.emulator.pushwoosh import seglang
from swoosh.emulator.pushwoosh.backend.base import BackendState, PushwooshError
from swoosh.emulator.pushwoosh.filter_tree import Filter, SeglangError, uses_events
from swoosh.emulator.pushwoosh.model import Device


class Filters(BackendState):
    """Named filters and ad-hoc expressions, compiled once by seglang and matched against devices."""

    def compile_filter(self, expression: Any = None, conditions: Any = None, operator: Any = "AND") -> Filter:
        try:
            if expression is not None:
                if conditions is not None:
                    raise PushwooshError(210, "Use either filter_expression or conditions, not both")
                return seglang.parse(expression)
            return seglang.from_conditions(conditions, operator or "AND")
        except SeglangError as exc:
            raise PushwooshError(210, str(exc)) from exc

    def create_filter(self, request: Mapping[str, Any]) -> dict[str, Any]:
        name = request["name"]
        compiled = self.compile_filter(
            request.get("filter_expression"),
            request.get("conditions") if request.get("filter_expression") is None else None,
            request.get("operator", "AND"),
        )
        with self.lock:
            self.filters[name] = {
                "name": name,
                "expression": str(compiled),
                "application": request.get("application"),
                "filter": compiled,
            }
            self.changes.configuration()
        return {"name": name}

    def matching_devices(self, compiled: Filter, apps: Iterable[str] | None = None) -> Iterator[Device]:
        """The devices (of `apps`, or all) in the segment, read a chunk at a time (filter_tree: `Facts`)."""
        now = self.runtime.clock.time()
        scope = compiled.scope()
        codes = None if apps is None else list(apps)
        if scope is not None:
            codes = [c for c in (scope if codes is None else codes) if c in scope]
        return (d for d in self.scan_devices(codes, uses_events(compiled)) if compiled.matches(d, now))

    def list_filters(self) -> dict[str, Any]:
        return {"filters": [{k: v for k, v in f.items() if k != "filter"} for f in self.filters.values()]}

    def delete_filter(self, name: str) -> None:
        with self.lock:
            if self.filters.pop(name, None) is None:
                raise PushwooshError(210, "Filter not found")
            self.changes.configuration()

    def count_filter(self, expression: Any) -> dict[str, Any]:
        compiled = self.compile_filter(expression)
        with self.lock:
            return {"devices_count": sum(1 for _ in self.matching_devices(compiled))}
