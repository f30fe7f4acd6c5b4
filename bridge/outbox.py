"""The bridge's durable outbox: SQLite in WAL mode. At-least-once, nothing lost across kill -9.

An item is committed before the ingress answers 2xx and deleted only after the downstream confirmed
it. Workers `lease` items (a crashed worker's lease simply expires and the item is leased again),
then `ack`, `retry` (with the next attempt time) or `bury` (dead letter, with the reply). Dead letters
can be listed and replayed.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swoosh.emulator.journal import redact_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    direction TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    next_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'queued',
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (direction, state, next_at, id);
"""


@dataclass(frozen=True)
class Item:
    id: int
    direction: str
    payload: bytes
    created_at: float
    attempts: int


class Outbox:
    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a committed row survives a process kill
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def enqueue(self, direction: str, payloads: list[bytes], now: float) -> int:
        """Commit payloads durably; returns how many were stored."""
        if payloads:
            self._write(
                "INSERT INTO outbox (direction, payload, created_at, next_at) VALUES (?, ?, ?, ?)",
                [(direction, payload, now, now) for payload in payloads],
            )
        return len(payloads)

    def lease(self, direction: str, limit: int, now: float, visibility: float = 30.0) -> list[Item]:
        """Take up to `limit` due items for `visibility` seconds, oldest first."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT id, direction, payload, created_at, attempts FROM outbox WHERE direction = ? AND "
                    "state = 'queued' AND next_at <= ? AND lease_until <= ? ORDER BY id LIMIT ?",
                    (direction, now, now, limit),
                ).fetchall()
                self._db.executemany(
                    "UPDATE outbox SET lease_until = ? WHERE id = ?", [(now + visibility, row[0]) for row in rows]
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [Item(*row) for row in rows]

    def ack(self, ids: list[int]) -> None:
        self._write("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def retry(self, ids: list[int], next_at: float, status: int | None, error: str | None) -> None:
        self._write(
            "UPDATE outbox SET attempts = attempts + 1, next_at = ?, lease_until = 0, last_status = ?, "
            "last_error = ? WHERE id = ?",
            [(next_at, status, error, i) for i in ids],
        )

    def bury(self, ids: list[int], status: int | None, error: str | None) -> None:
        """Move items to the dead letters, keeping the downstream's reply."""
        self._write(
            "UPDATE outbox SET state = 'dead', attempts = attempts + 1, lease_until = 0, last_status = ?, "
            "last_error = ? WHERE id = ?",
            [(status, error, i) for i in ids],
        )

    def dead_letters(self, direction: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        keys = ("id", "direction", "payload", "created_at", "attempts", "last_status", "last_error")
        rows = self._listed("dead", keys, direction, limit)
        # shown, never re-sent from here: a Segment event's writeKey (a credential) is redacted
        return [{**row, "payload": redact_text(row["payload"].decode("utf-8", "replace"))} for row in rows]

    def queued(self, direction: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Items waiting or being sent, oldest first: attempts so far, the next attempt, the last reply.
        One `leased_until` in the future means a worker holds it now (in flight)."""
        keys = ("id", "direction", "created_at", "next_at", "lease_until", "attempts", "last_status", "last_error")
        rows = self._listed("queued", keys, direction, limit)
        for row in rows:
            row["leased_until"] = row.pop("lease_until")
        return rows

    def _listed(self, state: str, columns: tuple[str, ...], direction: str | None, limit: int) -> list[dict[str, Any]]:
        """The oldest `limit` items in `state` (of one direction, or both), as column -> value."""
        where = "state = ?" + (" AND direction = ?" if direction else "")
        params: tuple[Any, ...] = (state, direction, limit) if direction else (state, limit)
        sql = f"SELECT {', '.join(columns)} FROM outbox WHERE {where} ORDER BY id LIMIT ?"  # columns: fixed names
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def replay(self, ids: list[int] | None, now: float) -> int:
        """Queue dead letters again (all when `ids` is None); returns how many."""
        with self._lock:
            if ids is None:
                cursor = self._db.execute(
                    "UPDATE outbox SET state = 'queued', attempts = 0, next_at = ?, "
                    "created_at = ? WHERE state = 'dead'",
                    (now, now),
                )
                return cursor.rowcount
            count = 0
            for item_id in ids:
                count += self._db.execute(
                    "UPDATE outbox SET state = 'queued', attempts = 0, next_at = ?, "
                    "created_at = ? WHERE state = 'dead' AND id = ?",
                    (now, now, item_id),
                ).rowcount
            return count

    def counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            rows = self._db.execute("SELECT direction, state, COUNT(*) FROM outbox GROUP BY direction, state")
            result: dict[str, dict[str, int]] = {}
            for direction, state, count in rows:
                result.setdefault(direction, {})[state] = count
        return result

    def purge(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox")

    def close(self) -> None:
        with self._lock:
            self._db.close()
