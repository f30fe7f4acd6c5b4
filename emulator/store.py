"""The durability log of a fake: records appended per kind, configuration put by key, read back at start.

A fake keeps serving from its in-memory structures; the store is what survives the process. A request
that changes state writes its records in one transaction before its answer leaves, so whatever was
acknowledged is on disk even if the process is killed the next instant.

State too large for the heap lives in the store itself, in a fake's own indexed tables: the fake Segment
keeps its stored events and its dedupe window there (swoosh.emulator.segment.event_table), the fake
Pushwoosh its posted events and event histories (swoosh.emulator.pushwoosh.posted_table), written with
`transaction()` and read with `read()`, in the SQL that SQLite and PostgreSQL share (`?` placeholders).

`Store` is the whole interface a fake relies on; `SqliteStore` is the embedded implementation (one
file per service under --data-dir, or a temporary file removed at close). A PostgreSQL implementation
(`PostgresStore`: the same four tables keyed additionally by service, one transaction per `append`)
is the planned way for several hosts to share one state; docs/decisions.md says why it is not built.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import orjson

STORE_FILE = "{service}.store.db"
# The writer's page cache: inserts into a fake's indexes (random keys such as messageIds) touch pages
# all over each index; bench/RESULTS.md has what this bought for 1,000,000 stored events.
WRITER_CACHE_KIB = 32 * 1024
WAL_LIMIT_BYTES = 64 * 1024 * 1024


class StoreError(OSError):
    """The store could not take a write (disk full, file removed): the request is not acknowledged."""


class Sql(Protocol):
    """Statements inside one `Store.transaction()`."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; its result rows (empty for a write)."""

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one write statement once per row."""


class Store(Protocol):
    """Append-only records per kind plus a key/value configuration, each write atomic and durable."""

    def append(self, kind: str, records: Sequence[bytes]) -> None:
        """Add `records` (opaque bytes, usually JSON) to `kind` in one transaction, in order."""

    def load(self, kind: str) -> Iterator[bytes]:
        """Every record of `kind`, oldest first."""

    def clear(self, kind: str) -> None:
        """Forget every record of `kind` (a reset)."""

    def replace(self, kind: str, records: Sequence[bytes]) -> None:
        """Forget `kind` and append `records`, in one transaction (an imported state)."""

    def put(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable configuration value under `key`, replacing the previous one."""

    def write(
        self, appends: Mapping[str, Sequence[bytes]], puts: Mapping[str, Any] | None = None, cleared: Sequence[str] = ()
    ) -> None:
        """Clear the `cleared` kinds, then append and put, all in one transaction (one request's changes)."""

    def get(self, key: str) -> Any | None:
        """The value last put under `key`, or None."""

    def close(self) -> None:
        """Release the store (a temporary one is removed)."""

    def transaction(self) -> contextlib.AbstractContextManager[Sql]:
        """Several statements committed together, or none when the block raises (StoreError when the
        store refuses the commit); creating a fake's own tables is done in one too."""

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement over the last commit; does not wait for a running write."""


class SqliteStore:
    """SQLite in WAL mode with `synchronous=NORMAL`: a commit is in the WAL file when `append` returns, so
    it survives kill -9 of the process; only an OS crash or power loss could lose the last commits
    (FULL would fsync every commit for that; a local emulator does not pay it: docs/decisions.md)."""

    def __init__(self, path: Path | None = None, synchronous: str = "NORMAL") -> None:
        """`synchronous="FULL"` fsyncs every commit (bench/segment_batch.py --store-cost compares them); "OFF"
        never fsyncs, not even at a checkpoint: for a temporary store, which no restart reads."""
        if synchronous not in ("OFF", "NORMAL", "FULL"):
            raise ValueError("synchronous must be OFF, NORMAL or FULL")
        self.synchronous = synchronous  # what a worker process opening the same file uses too
        self._tmp = None if path else tempfile.TemporaryDirectory(prefix="swoosh-store-")
        self.path = Path(path) if path else Path(self._tmp.name) / "store.db"  # type: ignore[union-attr]  # _tmp is set exactly when no path is given
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # It holds credentials (webhook tokens, signing secrets): the user's alone, like stack.json; SQLite
        # gives its -wal and -shm files the database file's mode.
        self.path.touch(mode=0o600, exist_ok=True)
        self.path.chmod(0o600)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._use_wal()
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        # Readers that never pause keep a checkpoint from restarting the WAL at its start; past this size the
        # file is cut back once one does, instead of staying at its high-water mark.
        self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        # Reads have their own connection: in WAL mode they see the last commit while a write runs.
        self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._read_lock = threading.Lock()
        self._db.execute("CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body BLOB)")
        self._db.execute("CREATE INDEX IF NOT EXISTS records_kind ON records (kind, seq)")
        self._db.execute("CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value BLOB NOT NULL)")

    def _use_wal(self, attempts: int = 50) -> None:
        """Switch a new file to WAL. The switch needs the file alone for a moment and SQLite answers
        "locked" at once (no busy wait) while another process is opening the same new file: retried."""
        for attempt in range(attempts):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.1)

    def append(self, kind: str, records: Sequence[bytes]) -> None:
        if records:
            with self._lock, self._transaction():
                self._db.executemany("INSERT INTO records (kind, body) VALUES (?, ?)", [(kind, r) for r in records])

    def load(self, kind: str) -> Iterator[bytes]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM records WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
        return (bytes(body) for (body,) in rows)

    def clear(self, kind: str) -> None:
        self.replace(kind, ())

    def replace(self, kind: str, records: Sequence[bytes]) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM records WHERE kind = ?", (kind,))
            self._db.executemany("INSERT INTO records (kind, body) VALUES (?, ?)", [(kind, r) for r in records])

    def put(self, key: str, value: Any) -> None:
        body = orjson.dumps(value)
        with self._lock, self._transaction():
            self._db.execute("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", (key, body))

    def write(
        self, appends: Mapping[str, Sequence[bytes]], puts: Mapping[str, Any] | None = None, cleared: Sequence[str] = ()
    ) -> None:
        bodies = [(key, orjson.dumps(value)) for key, value in (puts or {}).items()]
        with self._lock, self._transaction():
            for kind in cleared:
                self._db.execute("DELETE FROM records WHERE kind = ?", (kind,))
            for kind, records in appends.items():
                self._db.executemany("INSERT INTO records (kind, body) VALUES (?, ?)", [(kind, r) for r in records])
            self._db.executemany("INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", bodies)

    def get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM config WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._db.close()
            self._reader.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Sql]:
        with self._lock, self._transaction():
            yield cast(Sql, _Statements(self._db))

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.ProgrammingError as exc:  # closed: the service is stopping
                raise StoreError(f"the store at {self.path} is closed") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT, or ROLLBACK when the block raises (the connection runs in autocommit mode)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"the store at {self.path} refused the write: {exc}") from exc


class _Statements:
    """`Sql` over the writer connection, inside the transaction `SqliteStore.transaction` opened."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)


def open_store(service: str, data_dir: Path | None) -> SqliteStore:
    """The service's store in `data_dir`, or a temporary one removed at close when there is none."""
    if data_dir is None:
        return SqliteStore(None, synchronous="OFF")
    return SqliteStore(data_dir / STORE_FILE.format(service=service))


IN_CHUNK = 1000  # values per `IN (...)` (SQLite allows 32,766 parameters; PostgreSQL 65,535)


def read_in(store: Store, select: str, column: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `select WHERE column IN (values)`, asked a chunk of values at a time."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), IN_CHUNK):
        part = values[start : start + IN_CHUNK]
        rows += store.read(f"{select} WHERE {column} IN ({', '.join('?' for _ in part)})", part)
    return rows
