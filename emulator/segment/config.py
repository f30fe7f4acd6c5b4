"""Reading the fake Segment's configuration from the stack's TOML file (`[segment]` table).

[segment]
strict = false
max_events = 1000000
warehouse_quiet_seconds = 0.25      # load the warehouse once ingest is quiet this long

[[segment.sources]]
name = "app"
write_key = "app-write-key"
source_id = "src_app"
tracking_plan = "plans/app.json"     # relative to the TOML file

[[segment.destinations]]
source = "app"
url = "http://127.0.0.1:9000/hook"
secret = "s3cret"
subscription = 'type = "track"'
max_batch = 1
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swoosh.emulator.config_file import ConfigFileError, read_config
from swoosh.emulator.segment.backend import DEFAULT_SOURCES, SegmentConfig, Source
from swoosh.emulator.segment.protocols import TrackingPlan


def load_config(path: Path | None, strict: bool = False, warehouse_dir: Path | None = None) -> SegmentConfig:
    table: dict[str, Any] = read_config(path).get("segment", {})
    config = SegmentConfig(strict=strict or bool(table.get("strict", False)), warehouse_dir=warehouse_dir)
    if "max_events" in table:
        config.max_events = int(table["max_events"])
    if "warehouse_quiet_seconds" in table:
        config.warehouse_quiet_seconds = float(table["warehouse_quiet_seconds"])
    if "sources" in table:
        config.sources = [_source(item, Path(path).parent if path else Path()) for item in table["sources"]]
    else:
        config.sources = [Source(s.name, s.write_key, s.source_id) for s in DEFAULT_SOURCES]
    config.destinations = list(table.get("destinations", []))
    return config


def _source(item: dict[str, Any], base: Path) -> Source:
    """One `[[segment.sources]]` entry (already checked against the config schema)."""
    name = item["name"]
    plan = _plan(base / item["tracking_plan"]) if item.get("tracking_plan") else None
    return Source(name, item["write_key"], item.get("source_id") or f"src_{name}", plan)


def _plan(path: Path) -> TrackingPlan:
    try:
        return TrackingPlan.load(path)
    except ValueError as exc:
        raise ConfigFileError(f"{path}: not a usable tracking plan: {exc}") from None
