"""The configuration waiting for the store (emulator.store): marked changed while a request runs, put after it.

The fake Pushwoosh keeps its configuration (applications, tokens, tag and event definitions, filters,
webhooks) in the heap and marks it changed as it changes; at the end of the request `Changes.drain`
takes the current configuration if it changed and the owner puts it in one transaction. Everything else
the fakes keep (stored and posted events, devices, users, histories) lives in their indexed tables and
is written inside the request. `latest` and `items` read the change logs earlier versions appended
(keyed devices and users, posted events as JSON arrays), which a start moves into the tables once.

Inactive (every mark ignored) until the owner has a store to write to: without --data-dir nothing
accumulates. Not locked: the owner marks and drains under its own lock, and writes the batches one at
a time in the order drained (a later configuration is then never overwritten by an earlier one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from swoosh.emulator.store import Store

CONFIG = "config"


class Persisted(Protocol):
    """What `Changes.drain` reads from the fake."""

    def configuration(self) -> Any:
        """Everything a restart must bring back besides the fake's tables (JSON-serialisable)."""


def keyed(key: str, value: Any | None) -> bytes:
    """One record of a keyed kind: `value` is the key's whole current record; None deletes the key."""
    return orjson.dumps({"k": key, "v": value})


def latest(records: Iterable[bytes]) -> dict[str, Any]:
    """The current record per key of a keyed kind's log, in the order keys were first (re)created."""
    current: dict[str, Any] = {}
    for record in records:
        item = orjson.loads(record)
        if item["v"] is None:
            current.pop(item["k"], None)
        else:
            current[item["k"]] = item["v"]
    return current


def items(records: Iterable[bytes]) -> list[Any]:
    """Every item of a kind whose records are JSON arrays, oldest first."""
    return [item for record in records for item in orjson.loads(record)]


@dataclass(frozen=True)
class Batch:
    """One commit: the configuration as it was drained (None: unchanged), and the values noted with it."""

    configuration: Any | None
    notes: dict[str, Any] = field(default_factory=dict)

    def write(self, store: Store) -> None:
        puts = {**({CONFIG: self.configuration} if self.configuration is not None else {}), **self.notes}
        store.write({}, puts)


class Changes:
    """Whether the configuration changed since the last drain, and the values to commit with it."""

    def __init__(self) -> None:
        self.active = False
        self.config_changed = False
        self.notes: dict[str, Any] = {}

    def configuration(self) -> None:
        self.config_changed = self.active

    def note(self, key: str, value: Any) -> None:
        """Put `value` under `key` in the next batch: committed together with the configuration drained then."""
        if self.active:
            self.notes[key] = value

    def pending(self) -> bool:
        return self.config_changed or bool(self.notes)

    def drain(self, owner: Persisted) -> Batch | None:
        """The configuration (if changed) and the notes, serialised now (under the owner's lock), the marks
        dropped; None when neither changed."""
        if not self.pending():
            return None
        configuration = owner.configuration() if self.config_changed else None
        copied = orjson.loads(orjson.dumps({"c": configuration, "n": self.notes}))  # the owner may change them
        self.config_changed = False
        self.notes = {}
        return Batch(copied["c"], copied["n"])
