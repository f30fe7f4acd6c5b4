"""Changes waiting for the store (emulator.store): marked while a request runs, written in one transaction.

A fake whose state is many small keyed things that change again and again (the fake Pushwoosh's
devices and users) marks the key changed; at the end of the request `Changes.drain` takes the current
value of every marked key (a deletion when the key is gone) and the configuration if it changed, and
the owner writes that batch in one transaction. At start `latest` folds a keyed kind back (the last
record of a key wins); `items` flattens a kind whose records are JSON arrays (the posted events earlier
versions appended, moved into their table at start). `rewrite` replaces the whole log with the current
state (a reset, an import, a restart's compaction). Append-only state with filters of its own (stored
and posted events) is not logged here: it lives in a fake's indexed tables.

Inactive (every mark ignored) until the owner has a store to write to: without --data-dir nothing
accumulates. Not locked: the owner marks and drains under its own lock, so a drain sees each change
whole, and writes the batches one at a time in the order drained (a key's later value is then never
overwritten by an earlier one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from swoosh.emulator.store import Store

CONFIG = "config"


class Persisted(Protocol):
    """What `Changes.drain` reads from the fake: current values, configuration, the whole state."""

    def current(self, kind: str, key: str) -> Any | None:
        """The record of `key` as it is now (JSON-serialisable), or None when it no longer exists."""

    def configuration(self) -> Any:
        """Everything a restart must bring back besides the records (JSON-serialisable)."""

    def snapshot(self) -> dict[str, list[bytes]]:
        """The whole state for `rewrite`: `keyed` records per keyed kind."""


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
    """One commit: records to append per kind, values to put, kinds cleared first."""

    appends: dict[str, list[bytes]]
    puts: dict[str, Any]
    cleared: tuple[str, ...] = ()

    def write(self, store: Store) -> None:
        store.write(self.appends, self.puts, self.cleared)


class Changes:
    """Keys marked changed per kind, whether the configuration changed, whether the whole log is to be
    rewritten."""

    def __init__(self) -> None:
        self.active = False
        self.marked: dict[str, set[str]] = {}
        self.config_changed = False
        self.rewriting = False
        self.notes: dict[str, Any] = {}

    def mark(self, kind: str, key: str) -> None:
        if self.active:
            self.marked.setdefault(kind, set()).add(key)

    def configuration(self) -> None:
        self.config_changed = self.active

    def note(self, key: str, value: Any) -> None:
        """Put `value` under `key` in the next batch: committed together with the changes marked before it."""
        if self.active:
            self.notes[key] = value

    def rewrite(self) -> None:
        """The next batch replaces the whole log with the current state."""
        self.rewriting = self.active

    def pending(self) -> bool:
        return bool(self.marked or self.config_changed or self.rewriting or self.notes)

    def drain(self, owner: Persisted) -> Batch | None:
        """What changed, serialised now (under the owner's lock), the marks dropped; None when nothing did."""
        if not self.pending():
            return None
        puts = {CONFIG: owner.configuration()} if self.rewriting or self.config_changed else {}
        puts.update(self.notes)
        copied = orjson.loads(orjson.dumps(puts)) if puts else {}  # the owner may change them while they are written
        if self.rewriting:
            records = owner.snapshot()
            batch = Batch(records, copied, tuple(records))
        else:
            appends = {
                kind: [keyed(k, owner.current(kind, k)) for k in sorted(keys)] for kind, keys in self.marked.items()
            }
            batch = Batch(appends, copied)
        self.marked.clear()
        self.notes.clear()
        self.config_changed = self.rewriting = False
        return batch
