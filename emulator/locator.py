"""Locator files: how tools, the pytest plugin and scripts find a running stack.

Every `swoosh up` writes its own locator, `<runtime dir>/stacks/<id>.json` (and `stack.json` in its
`--data-dir`), and removes only its own at stop. Commands that need a stack take the one named
(`--stack ID`, `--data-dir DIR`, `$SWOOSH_DATA_DIR`), else the only one running, else the newest;
a locator whose process is gone is ignored and removed. `swoosh ps` lists them.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

STACK_FILE = "stack.json"


class StackNotFound(LookupError):
    """No running stack matches; the message says how to start or name one."""


def runtime_dir() -> Path:
    """This user's folder for locators (and TLS files) when no --data-dir is given."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"swoosh-{os.getuid()}"


def stacks_dir() -> Path:
    return runtime_dir() / "stacks"


def write_locator(path: Path, info: dict[str, Any]) -> None:
    """Atomically, readable by this user only (it holds tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # two stacks starting at once both succeed
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(info, indent=2))
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a file left over from a crash
    tmp.replace(path)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        pass
    return True


def _read(path: Path) -> dict[str, Any] | None:
    """The locator at `path` if its stack is still running; a stale one is removed."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not _alive(info.get("pid")):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    info.setdefault("locator", str(path))
    return info


def running_stacks() -> list[dict[str, Any]]:
    """Every running stack of this user, newest first."""
    found = [info for path in sorted(stacks_dir().glob("*.json")) if (info := _read(path))]
    return sorted(found, key=lambda info: -float(info.get("started_at", 0)))


def locate_stack(data_dir: Path | None = None, stack: str | None = None) -> dict[str, Any]:
    """The locator (URLs, keys, tokens) of the stack named by `stack` (its id), `data_dir`,
    `$SWOOSH_DATA_DIR`, else the only one running, else the newest."""
    if stack:
        matches = [info for info in running_stacks() if str(info.get("id", "")).startswith(stack)]
        if len(matches) != 1:
            found = "no running stack" if not matches else f"{len(matches)} running stacks"
            raise StackNotFound(f"{found} with id {stack!r} (`swoosh ps` lists them)")
        return matches[0]
    folder = data_dir or (Path(os.environ["SWOOSH_DATA_DIR"]) if os.environ.get("SWOOSH_DATA_DIR") else None)
    if folder is not None:
        info = _read(Path(folder) / STACK_FILE)
        if info is None:
            raise StackNotFound(
                f"no running swoosh stack uses {folder} (start one with `swoosh up --data-dir {folder}`)"
            )
        return info
    running = running_stacks()
    if not running:
        raise StackNotFound("no running swoosh stack found (start one with `swoosh up`)")
    return running[0]
