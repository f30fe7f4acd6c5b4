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
from dataclasses import dataclass
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
    """One commit: the configuration as it was drained."""

    configuration: Any

    def write(self, store: Store) -> None:
        store.put(CONFIG, self.configuration)


class Changes:
    """Whether the configuration changed since the last drain."""

    def __init__(self) -> None:
        self.active = False
        self.config_changed = False

    def configuration(self) -> None:
        self.config_changed = self.active

    def pending(self) -> bool:
        return self.config_changed

    def drain(self, owner: Persisted) -> Batch | None:
        """The configuration, serialised now (under the owner's lock), the mark dropped; None when unchanged."""
        if not self.config_changed:
            return None
        self.config_changed = False
        return Batch(orjson.loads(orjson.dumps(owner.configuration())))  # the owner may change it while written
