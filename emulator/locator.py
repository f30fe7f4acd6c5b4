"""The locator file `stack.json`: how tools, the pytest plugin and scripts find a running stack."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STACK_FILE = "stack.json"


def runtime_dir() -> Path:
    """Where the locator file goes when no --data-dir is given."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"swoosh-{os.getuid()}"


def locate_stack(data_dir: Path | None = None) -> dict[str, Any]:
    """The running stack's locator (URLs and summaries), from DIR, $SWOOSH_DATA_DIR or the runtime dir."""
    candidates = [data_dir] if data_dir else []
    if os.environ.get("SWOOSH_DATA_DIR"):
        candidates.append(Path(os.environ["SWOOSH_DATA_DIR"]))
    candidates.append(runtime_dir())
    for folder in candidates:
        path = Path(folder) / STACK_FILE
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError("no running swoosh stack found (start one with `swoosh up`)")
