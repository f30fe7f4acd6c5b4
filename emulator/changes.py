"""Changes waiting for the store (emulator.store): marked while a request runs, written as one transaction.

The fake Segment appends one record per event it takes. A fake whose state is many small keyed things
that change again and again (the fake Pushwoosh's devices and users) marks the key changed instead, and
at the end of the request `Changes.commit` writes the current value of every marked key (a deletion when
the key is gone), the records to append, and the configuration if it changed, in one transaction. At
start `latest` folds the log back: the last record of a key wins. `rewrite` replaces the whole log with
the current state (a reset, an import, a restart's compaction).

Inactive (every mark ignored) until the owner has a store to commit to: without --data-dir nothing
accumulates. Not locked: the owner calls every method under its own lock, so no change slips between the marks
being taken and the store's commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import orjson

from swoosh.emulator.store import Store

CONFIG = "config"


class Persisted(Protocol):
    """What `Changes.commit` reads from the fake: current values, configuration, the whole state."""

    def current(self, kind: str, key: str) -> Any | None:
        """The record of `key` as it is now (JSON-serialisable), or None when it no longer exists."""

    def configuration(self) -> Any:
        """Everything a restart must bring back besides the records (JSON-serialisable)."""

    def snapshot(self) -> dict[str, list[bytes]]:
        """Every kind's records as a fresh log would hold them (for `rewrite`)."""


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


class Changes:
    """Keys marked changed per kind, records to append per kind, whether the configuration changed."""

    def __init__(self) -> None:
        self.active = False
        self.marked: dict[str, set[str]] = {}
        self.appended: dict[str, list[bytes]] = {}
        self.config_changed = False
        self.rewriting = False
        self.puts: dict[str, Any] = {}

    def mark(self, kind: str, key: str) -> None:
        if self.active:
            self.marked.setdefault(kind, set()).add(key)

    def append(self, kind: str, record: bytes) -> None:
        if self.active:
            self.appended.setdefault(kind, []).append(record)

    def configuration(self) -> None:
        self.config_changed = self.active

    def put(self, key: str, value: Any) -> None:
        """A value to put beside the configuration in the next commit (a counter, a marker)."""
        if self.active:
            self.puts[key] = value

    def rewrite(self) -> None:
        """The next commit replaces the whole log with the current state."""
        self.rewriting = self.active

    def pending(self) -> bool:
        return bool(self.marked or self.appended or self.config_changed or self.rewriting or self.puts)

    def commit(self, store: Store, owner: Persisted) -> None:
        """Write what changed in one transaction; the marks are dropped only once it is committed."""
        if not self.pending():
            return
        puts = dict(self.puts)
        if self.rewriting:
            snapshot = owner.snapshot()
            store.write(snapshot, {**puts, CONFIG: owner.configuration()}, cleared=tuple(snapshot))
        else:
            appends = {kind: list(records) for kind, records in self.appended.items()}
            for kind, keys in self.marked.items():
                appends.setdefault(kind, []).extend(keyed(key, owner.current(kind, key)) for key in sorted(keys))
            if self.config_changed:
                puts[CONFIG] = owner.configuration()
            store.write(appends, puts)
        self.discard()

    def discard(self) -> None:
        """Forget every mark (after a commit, or when no store is attached)."""
        self.marked.clear()
        self.appended.clear()
        self.puts.clear()
        self.config_changed = self.rewriting = False
