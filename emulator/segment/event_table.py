"""The fake Segment's stored events and dedupe window, as indexed tables in its store (emulator.store).

Stored events are not kept in the heap: each is a row with a column for every filter the control API
offers (status, reason, source, call type, event name, userId, anonymousId, messageId, received_at, seq),
one index per filter, and the message as the JSON bytes the fake stores. A request's rows, its new
dedupe entries and the evictions the cap causes are written in one transaction (`write`) before the
request is answered. The dedupe window is a table keyed by messageId, so any process that opens the
same store sees the same window (docs/decisions.md, "Stored events in the store").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from swoosh.emulator.segment.stored import GOOD, Row
from swoosh.emulator.store import Sql, Store

COLUMNS = (
    "seq",
    "status",
    "reason",
    "source",
    "type",
    "event",
    "user_id",
    "anonymous_id",
    "message_id",
    "received_at",
    "violations",
    "payload",
)
# The control API's filter names -> columns (`since` is a range on received_at; `limit` keeps the newest).
FILTER_COLUMNS = {
    "type": "type",
    "event": "event",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "source": "source",
    "status": "status",
    "reason": "reason",
    "messageId": "message_id",
}
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS segment_events (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, reason TEXT, "
    f"source TEXT, type TEXT, event TEXT, user_id TEXT, anonymous_id TEXT, message_id TEXT, "
    f"received_at REAL NOT NULL, violations BLOB, payload BLOB NOT NULL)",
    *(
        f"CREATE INDEX IF NOT EXISTS segment_events_{column} ON segment_events ({column}, seq)"
        for column in (*FILTER_COLUMNS.values(), "received_at")
    ),
    "CREATE TABLE IF NOT EXISTS segment_seen (message_id TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS segment_seen_expires ON segment_seen (expires)",
    "CREATE TABLE IF NOT EXISTS segment_evicted (status TEXT PRIMARY KEY, count INTEGER NOT NULL)",
)
INSERT = f"INSERT INTO segment_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
SELECT = f"SELECT {', '.join(COLUMNS)} FROM segment_events"
ID_CHUNK = 500  # messageIds per lookup (SQLite allows 32,766 parameters; PostgreSQL 65,535)


def event_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the control API, export and import show it."""
    seq, status, reason, source, call_type, _e, _u, _a, _m, received_at, violations, payload = row
    return {
        "seq": seq,
        "status": status,
        "reason": reason,
        "source": source,
        "type": call_type,
        "received_at": received_at,
        "violations": orjson.loads(violations) if violations is not None else None,
        "message": orjson.loads(payload),
    }


class EventTable:
    """Stored events, the dedupe window and the evicted counts of one fake Segment, in `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as sql:
            for statement in SCHEMA:
                sql.execute(statement)

    # -- writing (one request, one transaction) ------------------------------------------------
    def write(
        self, rows: Sequence[Row], seen: Mapping[str, float], now: float, max_events: int, stored: int
    ) -> Counter[str]:
        """Keep a request's rows and remember its new messageIds until their expiry, forget expired ones,
        and evict the oldest rows beyond `max_events` (`stored` is the count before); the evicted per status."""
        with self.store.transaction() as sql:
            sql.execute("DELETE FROM segment_seen WHERE expires <= ?", (now,))
            sql.executemany("INSERT OR REPLACE INTO segment_seen (message_id, expires) VALUES (?, ?)", list(seen.items()))
            sql.executemany(INSERT, rows)
            overflow = stored + len(rows) - max(0, max_events)
            return self._evict(sql, overflow) if overflow > 0 else Counter()

    def _evict(self, sql: Sql, overflow: int) -> Counter[str]:
        oldest = "SELECT seq FROM segment_events ORDER BY seq LIMIT ?"
        evicted = Counter(
            dict(sql.execute(f"SELECT status, count(*) FROM segment_events WHERE seq IN ({oldest}) GROUP BY status", (overflow,)))
        )
        sql.execute(f"DELETE FROM segment_events WHERE seq IN ({oldest})", (overflow,))
        sql.executemany(
            "INSERT INTO segment_evicted (status, count) VALUES (?, ?) "
            "ON CONFLICT (status) DO UPDATE SET count = count + excluded.count",
            list(evicted.items()),
        )
        return evicted

    def replace(self, rows: Iterable[Row], seen: Iterable[tuple[str, float]], evicted: Mapping[str, int]) -> None:
        """Forget everything and keep these instead (a reset, an imported state), in one transaction."""
        with self.store.transaction() as sql:
            for table in ("segment_events", "segment_seen", "segment_evicted"):
                sql.execute(f"DELETE FROM {table}")
            sql.executemany(INSERT, list(rows))
            sql.executemany("INSERT OR REPLACE INTO segment_seen (message_id, expires) VALUES (?, ?)", list(seen))
            sql.executemany("INSERT INTO segment_evicted (status, count) VALUES (?, ?)", list(evicted.items()))

    # -- reading -------------------------------------------------------------------------------
    def seen(self, message_ids: Iterable[str], now: float) -> set[str]:
        """Which of `message_ids` are in the dedupe window at `now`."""
        wanted = list(set(message_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start : start + ID_CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(
                m
                for (m,) in self.store.read(
                    f"SELECT message_id FROM segment_seen WHERE message_id IN ({marks}) AND expires > ?", (*chunk, now)
                )
            )
        return found

    def select(self, filters: Mapping[str, str], since: float | None, limit: int | None) -> list[dict[str, Any]]:
        """Stored events matching every filter (exact text), received at or after `since`, oldest first;
        with `limit`, only the newest `limit` of them."""
        clauses, params = [], []
        for name, value in filters.items():
            column = FILTER_COLUMNS.get(name)
            if column is None:
                raise ValueError(f"unknown filter {name!r}; known: {', '.join(sorted(FILTER_COLUMNS))}")
            clauses.append(f"{column} = ?")
            params.append(value)
        if since is not None:
            clauses.append("received_at >= ?")
            params.append(since)
        if limit is not None and limit <= 0:
            return []
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        if limit is None:
            rows = self.store.read(f"{SELECT}{where} ORDER BY seq", params)
        else:
            rows = self.store.read(f"{SELECT}{where} ORDER BY seq DESC LIMIT ?", (*params, limit))[::-1]
        return [event_dict(row) for row in rows]

    def rows(self, chunk: int = 10_000) -> Iterator[tuple[Any, ...]]:
        """Every stored row, oldest first, read a chunk at a time (an export of a million events)."""
        after = -1
        while True:
            rows = self.store.read(f"{SELECT} WHERE seq > ? ORDER BY seq LIMIT ?", (after, chunk))
            yield from rows
            if len(rows) < chunk:
                return
            after = rows[-1][0]

    def good_after(self, seq: int, limit: int) -> list[tuple[int, str | None, bytes]]:
        """(seq, source, payload) of the good events after `seq`, oldest first: what the warehouse loads."""
        return self.store.read(
            "SELECT seq, source, payload FROM segment_events WHERE status = ? AND seq > ? ORDER BY seq LIMIT ?",
            (GOOD, seq, limit),
        )

    def seen_ids(self) -> list[tuple[str, float]]:
        """The dedupe window, soonest expiry first."""
        return self.store.read("SELECT message_id, expires FROM segment_seen ORDER BY expires")

    def stored_counts(self) -> Counter[str]:
        return Counter(dict(self.store.read("SELECT status, count(*) FROM segment_events GROUP BY status")))

    def evicted_counts(self) -> Counter[str]:
        return Counter(dict(self.store.read("SELECT status, count FROM segment_evicted")))

    def last_seq(self) -> int:
        return int(self.store.read("SELECT coalesce(max(seq), 0) FROM segment_events")[0][0])


class WarehouseBacklog:
    """The good events the warehouse has not loaded yet: those after a cursor in the event table."""

    def __init__(self, table: EventTable, schema_of: Callable[[str], str | None]) -> None:
        self._table = table
        self._schema_of = schema_of  # a source's name -> its warehouse schema (None: the source is gone)
        self.after = 0

    def take(self, limit: int) -> list[tuple[str | None, bytes]]:
        rows = self._table.good_after(self.after, limit)
        if rows:
            self.after = rows[-1][0]
        return [(self._schema_of(source or ""), payload) for _seq, source, payload in rows]
