"""What a service's primary process and its worker processes share through the service's store.

- The *published* record: the primary is the only writer of configuration (the control API runs only
  there), and writes what its workers need (sources, plans, the clock offset, whether fault rules exist)
  as one versioned row whenever it changed; a worker reads the version on every request (one indexed
  read) and reloads only when it moved, so a change applies to the very next request on any worker.
- The *relay*: journal entries and log records made in a worker, appended to the store and taken by the
  primary, which keeps the one journal and the one live log. A journal entry is written before the last
  byte of its answer leaves, so a client that read its answer and then reads the journal sees it.

docs/decisions.md ("Worker processes on one port") says why this shape.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import orjson

from swoosh.emulator.journal import Journal, JournalEntry
from swoosh.emulator.store import Store, StoreError

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS swoosh_published (service TEXT PRIMARY KEY, version INTEGER NOT NULL, body BLOB)",
    "CREATE TABLE IF NOT EXISTS swoosh_relay (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL)",
)
JOURNAL, LOG = "journal", "log"
RELAY_BATCH = 5000


def create_tables(store: Store) -> None:
    with store.transaction() as sql:
        for statement in SCHEMA:
            sql.execute(statement)


class Publisher:
    """The primary's side: writes `snapshot()` under a new version when it differs from the last one."""

    def __init__(self, store: Store, service: str, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._store = store
        self._service = service
        self._snapshot = snapshot
        self._last = b""
        self._lock = threading.Lock()
        create_tables(store)

    def publish(self) -> None:
        body = orjson.dumps(self._snapshot(), option=orjson.OPT_SORT_KEYS)
        with self._lock:
            if body == self._last:
                return
            with self._store.transaction() as sql:
                sql.execute(
                    "INSERT INTO swoosh_published (service, version, body) VALUES (?, 1, ?) ON CONFLICT (service) "
                    "DO UPDATE SET version = version + 1, body = excluded.body",
                    (self._service, body),
                )
            self._last = body


class Subscriber:
    """A worker's side: `current()` is the published snapshot, re-read only when its version moved."""

    def __init__(self, store: Store, service: str, apply: Callable[[dict[str, Any]], None]) -> None:
        self._store = store
        self._service = service
        self._apply = apply
        self._version = -1
        self._snapshot: dict[str, Any] = {}
        self._lock = threading.Lock()
        create_tables(store)

    def current(self) -> dict[str, Any]:
        rows = self._store.read("SELECT version FROM swoosh_published WHERE service = ?", (self._service,))
        version = int(rows[0][0]) if rows else 0
        if version != self._version:
            with self._lock:
                if version != self._version:
                    found = self._store.read(
                        "SELECT version, body FROM swoosh_published WHERE service = ?", (self._service,)
                    )
                    if found:
                        self._snapshot = orjson.loads(found[0][1])
                        self._apply(self._snapshot)
                        self._version = int(found[0][0])
        return self._snapshot


class RelayedJournal(Journal):
    """A worker's journal: each entry goes to the store (the primary's journal takes it), none stays here."""

    def __init__(self, store: Store, capacity: int = 1000, body_bytes: int = 4096) -> None:
        super().__init__(capacity, body_bytes)
        self._store = store

    def record(self, entry: JournalEntry) -> None:
        if self.capacity <= 0:
            return
        entry.extra["worker_pid"] = os.getpid()  # which process served it (the primary's entries have none)
        try:
            with self._store.transaction() as sql:
                # orjson writes the dataclass itself: the same bytes as `to_dict()`, without its deep copy (~20 µs)
                sql.execute("INSERT INTO swoosh_relay (kind, body) VALUES (?, ?)", (JOURNAL, orjson.dumps(entry)))
        except StoreError:  # the journal is a view: a request never fails for it
            pass


class RelayHandler(logging.Handler):
    """A worker's log records, kept for the primary to log (flushed every `interval` seconds by a thread)."""

    def __init__(self, store: Store, interval: float = 0.05) -> None:
        super().__init__()
        self._store = store
        self._pending: list[bytes] = []
        self._lock_pending = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swoosh-log-relay", daemon=True)
        self._interval = interval
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        values = {k: v for k, v in record.__dict__.items() if k not in ("args", "msg", "exc_info", "exc_text")}
        values["msg"] = record.getMessage()
        body = orjson.dumps(values, default=str)
        with self._lock_pending:
            self._pending.append(body)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def flush(self) -> None:
        with self._lock_pending:
            pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            with self._store.transaction() as sql:
                sql.executemany("INSERT INTO swoosh_relay (kind, body) VALUES (?, ?)", [(LOG, b) for b in pending])
        except StoreError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.flush()
        super().close()


class RelayReader:
    """The primary's side: takes what workers relayed into its journal and onto its own loggers."""

    def __init__(self, store: Store, journal: Journal) -> None:
        self._store = store
        self._journal = journal
        self._lock = threading.Lock()
        create_tables(store)

    def take(self) -> int:
        """Move what workers relayed into the journal and the logs; how many records it took."""
        with self._lock:
            try:
                with self._store.transaction() as sql:
                    rows = sql.execute("SELECT id, kind, body FROM swoosh_relay ORDER BY id LIMIT ?", (RELAY_BATCH,))
                    if rows:
                        sql.execute("DELETE FROM swoosh_relay WHERE id <= ?", (rows[-1][0],))
            except StoreError:
                return 0
            for _id, kind, body in rows:
                values = orjson.loads(body)
                if kind == JOURNAL:
                    values["id"] = next(self._journal.ids)
                    self._journal.record(JournalEntry(**values))
                else:
                    record = logging.makeLogRecord(values)
                    logger = logging.getLogger(record.name)
                    if logger.isEnabledFor(record.levelno):
                        logger.handle(record)
            return len(rows)
