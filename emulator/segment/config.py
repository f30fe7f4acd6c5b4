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

import tomllib
from pathlib import Path
from typing import Any

from swoosh.emulator.segment.backend import DEFAULT_SOURCES, SegmentConfig, Source
from swoosh.emulator.segment.protocols import TrackingPlan


class ConfigError(ValueError):
    """The configuration file is wrong; the message names the key."""


def load_config(path: Path | None, strict: bool = False, warehouse_dir: Path | None = None) -> SegmentConfig:
    table: dict[str, Any] = {}
    if path is not None:
        try:
            table = tomllib.loads(Path(path).read_text()).get("segment", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
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
    try:
        name, write_key = str(item["name"]), str(item["write_key"])
    except KeyError as exc:
        raise ConfigError(f"[[segment.sources]] needs {exc.args[0]}") from exc
    plan = TrackingPlan.load(base / item["tracking_plan"]) if item.get("tracking_plan") else None
    return Source(name, write_key, str(item.get("source_id") or f"src_{name}"), plan)
