"""The Pushwoosh source's tracking plan as a file the fake Segment enforces, derived from the schema.

`events/tracking-plan` is the one definition; the committed contracts/plans/pushwoosh-source.json is
this module's output (a test keeps them equal), so the plan and the schema cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swoosh.contracts.schemas import schema

PLAN_FILE = Path(__file__).parent / "plans" / "pushwoosh-source.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def source_events_plan(mode: str = "block") -> dict[str, Any]:
    """A tracking plan (emulator/segment/protocols.py format) for the seven Pushwoosh source events.

    Plan schemas are self-contained (the fake Segment has no access to the swoosh registry), so the
    `properties` rule of the schema is copied into each event's schema.
    """
    definition = schema("events/tracking-plan")
    properties_rule = definition["properties"]["properties"]
    event_schema = {
        "$schema": DRAFT,
        "type": "object",
        "required": ["properties"],
        "properties": {"properties": properties_rule},
    }
    return {"mode": mode, "events": {name: event_schema for name in definition["properties"]["event"]["enum"]}}


def render_plan() -> str:
    """The plan file's text, as committed."""
    return json.dumps(source_events_plan(), indent=2, ensure_ascii=False) + "\n"
