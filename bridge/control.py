"""The bridge behind the core's `/_swoosh/` control blueprint, like the fakes, plus its own routes.

Shared routes (health, reset, config, journal, faults on the ingress, clock, state export,
`/<collection>` and `wait/<collection>`) come from swoosh.emulator.control; the bridge adds `stats`,
`rates` and `dead-letters/replay`. Collections: `dead-letters` (what a downstream refused for good, with
its reply), `skipped` (events the destination itself refuses, with its reason), `outbox` (what
waits or is being sent, with attempts and the next attempt) and `trail` (which messageIds each accepted
batch and each downstream request carried, with the reply: bridge/trail.py; `?message_id=` keeps the
records that carry it); `rates` gives the last minutes' throughput and latency per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from swoosh.bridge.core import Bridge
from swoosh.bridge.rates import WINDOW_SECONDS
from swoosh.emulator.control import ControlError, control_blueprint, json_response, match_filters, request_json
from swoosh.emulator.runtime import Runtime

DEAD_LETTER_FILTERS = {"direction": "direction", "id": "id", "last_status": "last_status"}
SKIPPED_FILTERS = {"direction": "direction", "reason": "reason", "message_id": "message_id"}
QUEUED_FILTERS = {"direction": "direction", "id": "id"}
QUEUED_LISTED = 200  # the oldest items are listed; `stats` counts them all
TRAIL_FILTERS = frozenset({"message_id", "direction", "kind"})


class BridgeControl:
    """What the control blueprint needs (emulator.control.ControlledBackend), read off a Bridge."""

    collections = ("dead-letters", "skipped", "outbox", "trail")

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.runtime = Runtime("bridge", clock=bridge.clock)

    def reset(self) -> None:
        self.bridge.reset()

    def tick(self) -> None:
        """The clock moved: retries that fell due are sent now, not at the next poll."""
        self.bridge.wake()

    def config_view(self) -> dict[str, Any]:
        return self.bridge.settings.describe()

    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        return {"stats": self.bridge.describe_stats(), "dead_letters": self.bridge.outbox.dead_letters()}

    def import_state(self, state: dict[str, Any]) -> None:
        raise ValueError("the bridge's state is its durable outbox and is not imported; replay dead letters instead")

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        if collection == "trail":
            unknown = set(filters) - TRAIL_FILTERS
            if unknown:
                raise ValueError(f"unknown filter {sorted(unknown)[0]!r}; known: {', '.join(sorted(TRAIL_FILTERS))}")
            found = self.bridge.trail.records(**filters)
            return found if limit is None else found[-limit:] if limit else []
        if collection == "dead-letters":
            records, fields = self.bridge.outbox.dead_letters(), DEAD_LETTER_FILTERS
        elif collection == "outbox":
            records, fields = self.bridge.outbox.queued(limit=QUEUED_LISTED), QUEUED_FILTERS
        else:
            records, fields = self.bridge.skipped_events(), SKIPPED_FILTERS
        found = [record for record in records if match_filters(record, filters, fields)]
        return found if limit is None else found[:limit]


def bridge_control(bridge: Bridge) -> tuple[Blueprint, Runtime]:
    """The `/_swoosh/` blueprint for `bridge` and the runtime (journal, faults, clock) it serves."""
    control = BridgeControl(bridge)
    bp = control_blueprint(control)

    @bp.get("/stats")
    def stats() -> Response:
        return json_response(bridge.describe_stats())

    @bp.get("/rates")
    def rates() -> Response:
        seconds = request.args.get("seconds", "300")
        if not seconds.isdigit() or not 1 <= int(seconds) <= WINDOW_SECONDS:
            raise ControlError(f"seconds must be a whole number from 1 to {WINDOW_SECONDS}")
        return json_response(bridge.rates.series(bridge.clock.time(), int(seconds)))

    @bp.post("/dead-letters/replay")
    def replay() -> Response:
        spec = request_json()
        ids = spec.get("ids") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or (
            ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids))
        ):
            raise ControlError('send {"ids": [1, 2]} or {} for all')
        count = bridge.outbox.replay(ids, bridge.clock.time())
        bridge.wake()
        return json_response({"replayed": count})

    return bp, control.runtime
