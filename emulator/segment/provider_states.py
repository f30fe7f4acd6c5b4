"""The fake Segment's Pact provider states, registered through the core's mechanism (emulator/provider_states.py)."""

from __future__ import annotations

from typing import Any

from swoosh.emulator.provider_states import ProviderStates
from swoosh.emulator.segment.backend import SegmentBackend, Source


def segment_states(backend: SegmentBackend) -> ProviderStates:
    def source_with_key(values: dict[str, Any]) -> None:
        name, key = str(values["source"]), str(values["write_key"])
        existing = backend.sources.get(name)
        if existing is None or existing.write_key != key:
            kept = (existing.source_id, existing.tracking_plan) if existing else (f"src_{name}", None)
            backend.add_source(Source(name, key, *kept))

    return ProviderStates({r"source (?P<source>\S+) exists with write key (?P<write_key>\S+)": source_with_key})
