"""Changes waiting for the store (emulator.store): marked while a request runs, written in one transaction.

The fake Segment appends one record per event it takes. A fake whose state is many small keyed things
that change again and again (the fake Pushwoosh's devices and users) marks the key changed instead;
at the end of the request `Changes.drain` takes the current value of every marked key (a deletion
when the key is gone), the items appended, and the configuration if it changed, and the owner writes
that batch in one transaction. Items appended during one request become one record (a JSON array):
one row per request, not per event. At start `latest` folds a keyed kind back (the last record of a
key wins) and `items` flattens an appended kind. `rewrite` replaces the whole log with the current
state (a reset, an import, a restart's compaction).

Inactive (every mark ignored) until the owner has a store to write to: without --data-dir nothing
accumulates. Not locked: the owner marks and drains under its own lock, so a drain sees each change
whole, and writes the batches one at a time in the order drained (a key's later value is then never
overwritten by an earlier one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from swoosh.emulator.store import Store

CONFIG = "config"
CHUNK = 1000  # items per record when a rewrite writes an appended kind whole


class Persisted(Protocol):
    """What `Changes.drain` reads from the fake: current values, configuration, the whole state."""

    def current(self, kind: str, key: str) -> Any | None:
        """The record of `key` as it is now (JSON-serialisable), or None when it no longer exists."""

    def configuration(self) -> Any:
        """Everything a restart must bring back besides the records (JSON-serialisable)."""

    def snapshot(self) -> tuple[dict[str, list[bytes]], dict[str, list[bytes]]]:
        """The whole state for `rewrite`: `keyed` records per keyed kind, and the items per appended kind."""


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
    """Every item of an appended kind's log, oldest first."""
    return [item for record in records for item in orjson.loads(record)]


def _grouped(serialised: list[bytes]) -> bytes:
    return b"[" + b",".join(serialised) + b"]"


@dataclass(frozen=True)
class Batch:
    """One commit: records to append per kind (`counts`: items in each appended-kind record), values to
    put, kinds cleared first."""

    appends: dict[str, list[bytes]]
    puts: dict[str, Any]
    cleared: tuple[str, ...] = ()
    counts: dict[str, list[int]] = field(default_factory=dict)

    def write(self, store: Store) -> None:
        store.write(self.appends, self.puts, self.cleared)


class Changes:
    """Keys marked changed per kind, items appended per kind, values to put, whether the configuration
    changed, whether the whole log is to be rewritten."""

    def __init__(self) -> None:
        self.active = False
        self.marked: dict[str, set[str]] = {}
        self.appended: dict[str, list[bytes]] = {}
        self.puts: dict[str, Any] = {}
        self.config_changed = False
        self.rewriting = False

    def mark(self, kind: str, key: str) -> None:
        if self.active:
            self.marked.setdefault(kind, set()).add(key)

    def append(self, kind: str, item: bytes) -> None:
        """`item` is one serialised JSON value; a request's items of a kind are stored as one record."""
        if self.active:
            self.appended.setdefault(kind, []).append(item)

    def configuration(self) -> None:
        self.config_changed = self.active

    def put(self, key: str, value: Any) -> None:
        """A value to put beside the configuration in the next batch (a counter)."""
        if self.active:
            self.puts[key] = value

    def rewrite(self) -> None:
        """The next batch replaces the whole log with the current state."""
        self.rewriting = self.active

    def pending(self) -> bool:
        return bool(self.marked or self.appended or self.config_changed or self.rewriting or self.puts)

    def drain(self, owner: Persisted) -> Batch | None:
        """What changed, serialised now (under the owner's lock), the marks dropped; None when nothing did."""
        if not self.pending():
            return None
        puts = dict(self.puts)
        if self.rewriting or self.config_changed:
            puts[CONFIG] = owner.configuration()
        copied = orjson.loads(orjson.dumps(puts)) if puts else {}  # the owner may change them while they are written
        if self.rewriting:
            records, appended = owner.snapshot()
            counts: dict[str, list[int]] = {}
            for kind, serialised in appended.items():
                chunks = [serialised[n : n + CHUNK] for n in range(0, len(serialised), CHUNK)]
                records[kind] = [_grouped(chunk) for chunk in chunks]
                counts[kind] = [len(chunk) for chunk in chunks]
            batch = Batch(records, copied, tuple(records), counts)
        else:
            appends = {kind: [_grouped(serialised)] for kind, serialised in self.appended.items()}
            counts = {kind: [len(serialised)] for kind, serialised in self.appended.items()}
            for kind, keys in self.marked.items():
                appends.setdefault(kind, []).extend(keyed(key, owner.current(kind, key)) for key in sorted(keys))
            batch = Batch(appends, copied, (), counts)
        self.marked.clear()
        self.appended.clear()
        self.puts.clear()
        self.config_changed = self.rewriting = False
        return batch
