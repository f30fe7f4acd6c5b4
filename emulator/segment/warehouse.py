"""A real SQLite warehouse with Segment's layout: one database per source, attached as its schema.

Tables per source: `tracks`, `identifies`, `users` (latest traits per user), `pages`, `screens`,
`groups`, `aliases`, and one table per track event named in snake_case whose columns are the
event's properties flattened in snake_case plus the common columns. Columns appear as new
properties do; rows dedupe on `id` (the messageId). Loading runs on a background thread, deferred
until ingest is quiet or someone reads, so ingest never waits on SQLite.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import orjson

CALL_TABLES = {
    "identify": "identifies",
    "track": "tracks",
    "page": "pages",
    "screen": "screens",
    "group": "groups",
    "alias": "aliases",
}
RESERVED_TABLES = frozenset({*CALL_TABLES.values(), "users"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[a-z0-9])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_READ_ONLY = re.compile(r"^\s*(select|with|explain)\b", re.IGNORECASE)


class WarehouseError(ValueError):
    """A query the warehouse refuses (not read-only, or SQLite's own error)."""


@functools.lru_cache(maxsize=65536)
def snake(name: str) -> str:
    """Segment's column/table naming: camelCase and punctuation become snake_case."""
    text = _NON_WORD.sub("_", _CAMEL.sub("_", name).lower()).strip("_")
    if text and text[0].isdigit():
        text = "_" + text
    return text


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """Nested objects become `parent_child` columns; lists are stored as JSON text."""
    if isinstance(value, dict):
        for key, inner in value.items():
            name = snake(str(key))
            if name:
                flatten(f"{prefix}_{name}" if prefix else name, inner, out)
    elif prefix:
        if isinstance(value, list):
            out[prefix] = orjson.dumps(value).decode()
        elif isinstance(value, bool):
            out[prefix] = int(value)
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            out[prefix] = str(value)
        else:
            out[prefix] = value


def common_columns(message: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": message.get("messageId"),
        "received_at": message.get("receivedAt"),
        "sent_at": message.get("sentAt"),
        "timestamp": message.get("timestamp"),
        "original_timestamp": message.get("originalTimestamp"),
        "user_id": message.get("userId"),
        "anonymous_id": message.get("anonymousId"),
    }
    context = message.get("context")
    if isinstance(context, dict):
        flatten("context", context, row)
    return row


def event_table(event: str) -> str:
    """The per-event table; a name that would collide with a reserved table gets `_event` appended."""
    name = snake(event) or "unnamed_event"
    return f"{name}_event" if name in RESERVED_TABLES else name


def rows_for(message: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(table, row, upsert) for one accepted message; `users` rows are upserts, the rest insert-once."""
    call_type = message["type"]
    row = common_columns(message)
    out: list[tuple[str, dict[str, Any], bool]] = []
    if call_type == "track":
        event = str(message.get("event"))
        row["event"] = event_table(event)
        row["event_text"] = event
        out.append(("tracks", dict(row), False))
        flatten("", message.get("properties") or {}, row)
        out.append((event_table(event), row, False))
    elif call_type == "identify":
        traits = message.get("traits") or {}
        flatten("", traits, row)
        out.append(("identifies", row, False))
        user_id = message.get("userId")
        if user_id:
            user: dict[str, Any] = {"id": user_id, "received_at": message.get("receivedAt")}
            flatten("", traits, user)
            user["id"] = user_id
            out.append(("users", user, True))
    elif call_type in ("page", "screen"):
        row["name"] = message.get("name")
        row["category"] = message.get("category")
        flatten("", message.get("properties") or {}, row)
        out.append((CALL_TABLES[call_type], row, False))
    elif call_type == "group":
        row["group_id"] = message.get("groupId")
        flatten("", message.get("traits") or {}, row)
        out.append(("groups", row, False))
    elif call_type == "alias":
        row["previous_id"] = message.get("previousId")
        out.append(("aliases", row, False))
    return out


class Backlog(Protocol):
    """Where the accepted messages wait to be loaded (the fake Segment's event table)."""

    def take(self, limit: int) -> list[tuple[str | None, bytes]]:
        """Up to `limit` (schema, message JSON) not loaded yet, oldest first, each handed out once; a
        message whose schema is None (its source is gone) is skipped."""
        ...


class Warehouse:
    """Databases under `folder` (a temp dir when None), one per source schema, loaded by one thread.

    Loading is deferred like Segment's own warehouse syncs: accepted messages wait in `backlog` (the
    stored events on disk, so waiting costs no memory) and load in small slices while ingest is quiet
    (nothing added for `quiet_seconds`), regardless once `max_pending` are waiting, and at once when
    anything reads (`query`, `tables`, `flush`). Under load, ingest does not share the interpreter with
    flattening; the warehouse catches up as soon as the load pauses.
    """

    def __init__(
        self,
        backlog: Backlog,
        folder: Path | None = None,
        batch: int = 2000,
        quiet_seconds: float = 0.25,
        max_pending: int = 1_000_000,
    ) -> None:
        self._tmp = None if folder else tempfile.TemporaryDirectory(prefix="swoosh-warehouse-")
        self.folder = Path(folder) if folder else Path(self._tmp.name)  # type: ignore[union-attr]  # _tmp is set exactly when no folder is given
        self.folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._schemas: set[str] = set()
        self._columns: dict[tuple[str, str], set[str]] = {}
        self._backlog = backlog
        self._batch = batch
        self._quiet = quiet_seconds
        self._max_pending = max_pending
        self._pending_count = 0  # how many `added` says wait in the backlog (at least 1 while unsure)
        self._added = 0  # bumped by every `added`, to tell whether a short slice emptied the backlog
        self._loading = False
        self._last_add = 0.0
        self._sync_requested = False
        self._closing = False
        self.errors: list[str] = []
        self._state = threading.Condition()
        self._writer = threading.Thread(target=self._run, name="swoosh-warehouse", daemon=True)
        self._writer.start()

    # -- writing ---------------------------------------------------------------------------
    def added(self, count: int) -> None:
        """`count` more accepted messages are in the backlog (committed before this call)."""
        if count <= 0:
            return
        with self._state:
            was_idle = self._pending_count == 0
            self._pending_count += count
            self._added += 1
            self._last_add = time.monotonic()
            if was_idle or self._pending_count >= self._max_pending:
                self._state.notify_all()  # the writer starts timing the quiet period, or must load now

    def flush(self, timeout: float = 30.0) -> bool:
        """Load everything waiting now and wait until it is written (reads call this)."""
        with self._state:
            self._sync_requested = True
            self._state.notify_all()
            done = self._state.wait_for(lambda: not self._pending_count and not self._loading, timeout=timeout)
            self._sync_requested = False
            return done

    def _run(self) -> None:
        while True:
            with self._state:
                while not self._due():
                    quiet_left = self._quiet - (time.monotonic() - self._last_add)
                    self._state.wait(timeout=max(quiet_left, 0.001) if self._pending_count else None)
                if self._closing and not self._pending_count:
                    return
                self._loading, added = True, self._added
            try:
                slice_ = self._backlog.take(self._batch)
            except Exception as exc:  # the store is closing: nothing more can be loaded
                self.errors.append(f"{type(exc).__name__}: {exc}")
                slice_ = []
                added = -1
            self._write_safely([(schema, payload) for schema, payload in slice_ if schema is not None])
            with self._state:
                emptied = len(slice_) < self._batch and added in (self._added, -1)
                self._pending_count = 0 if emptied else max(1, self._pending_count - len(slice_))
                self._loading = False
                self._state.notify_all()

    def _due(self) -> bool:
        """Whether to load a slice now; re-checked between slices, so resumed ingest pauses loading."""
        if self._closing:
            return True
        if not self._pending_count:
            return False
        quiet_for = time.monotonic() - self._last_add
        return self._sync_requested or self._pending_count >= self._max_pending or quiet_for >= self._quiet

    def _write_safely(self, items: list[tuple[str, bytes]]) -> None:
        try:
            self._write(items)
        except Exception as exc:  # keep the writer alive; the failure is visible in inspection
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _write(self, items: list[tuple[str, bytes]]) -> None:
        grouped: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
        for schema, payload in items:
            for table, row, upsert in rows_for(orjson.loads(payload)):
                grouped.setdefault((schema, table, upsert), []).append(row)
        with self._lock:
            for schema in {schema for schema, _, _ in grouped}:
                self._ensure_schema(schema)
            self._db.execute("BEGIN")
            try:
                for (schema, table, upsert), rows in grouped.items():
                    self._insert(schema, table, rows, upsert)
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise

    def attach_existing(self) -> None:
        """Attach every schema file already in the folder (a restart), so its tables answer at once."""
        with self._lock:
            for path in sorted(self.folder.glob("*.db")):
                if _SCHEMA_NAME.match(path.stem):
                    self._ensure_schema(path.stem)

    def _ensure_schema(self, schema: str) -> None:
        if schema in self._schemas:
            return
        if not _SCHEMA_NAME.match(schema):
            raise WarehouseError(f"invalid schema name {schema!r}")
        self._db.execute("ATTACH DATABASE ? AS " + schema, (str(self.folder / f"{schema}.db"),))
        self._db.execute(f"PRAGMA {schema}.journal_mode=WAL")
        self._db.execute(f"PRAGMA {schema}.synchronous=OFF")
        self._schemas.add(schema)
        for (table,) in self._db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type='table'"):
            cols = {r[1] for r in self._db.execute(f'PRAGMA {schema}.table_info("{table}")')}
            self._columns[(schema, table)] = cols

    def _insert(self, schema: str, table: str, rows: list[dict[str, Any]], upsert: bool) -> None:
        self._ensure_schema(schema)
        key = (schema, table)
        known = self._columns.get(key)
        if known is None:
            self._db.execute(f'CREATE TABLE {schema}."{table}" (id TEXT PRIMARY KEY)')
            known = self._columns[key] = {"id"}
        wanted: dict[str, None] = {}
        for row in rows:
            wanted.update(dict.fromkeys(row))
        for column in wanted:
            if column not in known:
                self._db.execute(f'ALTER TABLE {schema}."{table}" ADD COLUMN "{column}"')
                known.add(column)
        for columns, group in _by_shape(rows):
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            if upsert:
                updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
                sql = (
                    f'INSERT INTO {schema}."{table}" ({names}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}'
                )
            else:
                sql = f'INSERT OR IGNORE INTO {schema}."{table}" ({names}) VALUES ({marks})'
            self._db.executemany(sql, [tuple(row[c] for c in columns) for row in group])

    # -- reading ---------------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one read-only statement over every schema; returns (column names, rows)."""
        if not _READ_ONLY.match(sql):
            raise WarehouseError("only SELECT, WITH and EXPLAIN statements are allowed")
        self.flush()
        with self._lock:
            self._db.execute("PRAGMA query_only = ON")
            deadline = time.monotonic() + QUERY_SECONDS
            self._db.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
            longest = self._db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_RESULT_BYTES)
            try:
                cursor = self._db.execute(sql, tuple(params))
                columns = [d[0] for d in cursor.description or ()]
                return columns, _bounded_rows(cursor)
            except sqlite3.Error as exc:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"the query ran longer than {QUERY_SECONDS:g} s and was stopped") from exc
                if isinstance(exc, sqlite3.DataError) or "too big" in str(exc):
                    raise WarehouseError(f"a value of the query is larger than {_MIB} MiB") from exc
                raise WarehouseError(str(exc)) from exc
            finally:
                self._db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, longest)
                self._db.set_progress_handler(None, 0)
                self._db.execute("PRAGMA query_only = OFF")

    def tables(self) -> dict[str, list[str]]:
        self.flush()
        with self._lock:
            return {schema: sorted(t for s, t in self._columns if s == schema) for schema in sorted(self._schemas)}

    def clear(self) -> None:
        """Forget what waits and drop every table (reset); the database files stay attached."""
        with self._state:
            self._pending_count = 0
            self._state.wait_for(lambda: not self._loading, timeout=30.0)
        with self._lock:
            for schema, table in list(self._columns):
                self._db.execute(f'DROP TABLE IF EXISTS {schema}."{table}"')
            self._columns.clear()

    def close(self) -> None:
        """Load what waits (so a data dir keeps it), then stop the writer."""
        with self._state:
            self._closing = True
            self._state.notify_all()
        self._writer.join(timeout=60)
        with self._lock:
            self._db.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def _by_shape(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    return list(shapes.items())


QUERY_SECONDS = 5.0  # a control-API query holds the warehouse (and reset) at most this long
PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between deadline checks
MAX_RESULT_BYTES = 4 * 1024 * 1024  # the largest answer, and the largest single value SQLite may build

_MIB = MAX_RESULT_BYTES // (1024 * 1024)


def _bounded_rows(cursor: sqlite3.Cursor) -> list[tuple[Any, ...]]:
    """Every row, or WarehouseError once the answer passes MAX_RESULT_BYTES (values counted by size)."""
    rows: list[tuple[Any, ...]] = []
    size = 0
    while batch := cursor.fetchmany(1000):
        for row in batch:
            size += 16 + sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
        if size > MAX_RESULT_BYTES:
            raise WarehouseError(f"the result is larger than {_MIB} MiB: add a LIMIT or select fewer columns")
        rows.extend(batch)
    return rows


def attach_files(folder: Path) -> sqlite3.Connection:
    """A connection with every `<schema>.db` under `folder` attached as its schema (for `swoosh sql`)."""
    db = sqlite3.connect("file::memory:", uri=True)
    for path in sorted(Path(folder).glob("*.db")):
        if _SCHEMA_NAME.match(path.stem):
            db.execute(f"ATTACH DATABASE ? AS {path.stem}", (f"file:{path}?mode=ro",))
    return db
