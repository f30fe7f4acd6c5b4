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

from swoosh.emulator.segment.stored import GOOD, Row, seq_bound, since_time
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
    "window_ends",
    "violations",
    "payload",
)
WINDOW_FILTERS = ("since", "until", "after", "before", "user")
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
# Every filter has an index ending in seq (so `limit` reads the newest matches first). Status and reason
# are indexed only where they tell something (not good): a good event, nearly every row, pays nothing for
# them, and `status=good` reads the table itself in seq order. Each index costs every insert a B-tree
# write; bench/RESULTS.md has the measured cost per event.
NOT_GOOD = "status <> 'good'"  # the partial index's own term: a query repeats it to be allowed to use it
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS segment_events (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, reason TEXT, "
    "source TEXT, type TEXT, event TEXT, user_id TEXT, anonymous_id TEXT, message_id TEXT, "
    "received_at REAL NOT NULL, window_ends REAL, violations BLOB, payload BLOB NOT NULL)",
    *(
        f"CREATE INDEX IF NOT EXISTS segment_events_{column} ON segment_events ({column}, seq)"
        for column in ("source", "type", "event", "user_id", "anonymous_id", "message_id", "received_at")
    ),
    f"CREATE INDEX IF NOT EXISTS segment_events_status ON segment_events (status, seq) WHERE {NOT_GOOD}",
    "CREATE INDEX IF NOT EXISTS segment_events_reason ON segment_events (reason, seq) WHERE reason IS NOT NULL",
    # The dedupe window beyond the table: messageIds of good events the cap evicted (or an imported state
    # listed) that still count as duplicates. Stored good events answer for themselves (`seen`).
    "CREATE TABLE IF NOT EXISTS segment_seen (message_id TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS segment_seen_expires ON segment_seen (expires)",
    "CREATE TABLE IF NOT EXISTS segment_evicted (status TEXT PRIMARY KEY, count INTEGER NOT NULL)",
)
TABLES = ("segment_events", "segment_seen", "segment_evicted")
SEEN_UPSERT = "ON CONFLICT (message_id) DO UPDATE SET expires = excluded.expires"
INSERT = f"INSERT INTO segment_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
SELECT = f"SELECT {', '.join(COLUMNS)} FROM segment_events"
ID_CHUNK = 500  # messageIds per lookup (SQLite allows 32,766 parameters; PostgreSQL 65,535)


def event_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the control API, export and import show it."""
    seq, status, reason, source, call_type, _e, _u, _a, _m, received_at, _w, violations, payload = row
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
    def write(self, rows: Sequence[Row], now: float, max_events: int, stored: int) -> Counter[str]:
        """Keep a request's rows, forget expired dedupe entries and evict the oldest rows beyond `max_events`
        (`stored` is the count before), in one transaction; the evicted, per status."""
        with self.store.transaction() as sql:
            sql.execute("DELETE FROM segment_seen WHERE expires <= ?", (now,))
            sql.executemany(INSERT, rows)
            overflow = stored + len(rows) - max(0, max_events)
            return self._evict(sql, overflow, now) if overflow > 0 else Counter()

    def _evict(self, sql: Sql, overflow: int, now: float) -> Counter[str]:
        """Delete the `overflow` oldest rows; their messageIds still in the window move to segment_seen."""
        oldest = f"seq IN (SELECT seq FROM segment_events ORDER BY seq LIMIT {int(overflow)})"
        evicted = Counter(
            dict(sql.execute(f"SELECT status, count(*) FROM segment_events WHERE {oldest} GROUP BY status"))
        )
        sql.execute(
            "INSERT INTO segment_seen (message_id, expires) SELECT message_id, window_ends "
            f"FROM segment_events WHERE {oldest} AND window_ends > ? {SEEN_UPSERT}",
            (now,),
        )
        sql.execute(f"DELETE FROM segment_events WHERE {oldest}")
        sql.executemany(
            "INSERT INTO segment_evicted (status, count) VALUES (?, ?) "
            "ON CONFLICT (status) DO UPDATE SET count = count + excluded.count",
            list(evicted.items()),
        )
        return evicted

    def replace(self, rows: Iterable[Row], seen: Iterable[tuple[str, float]], evicted: Mapping[str, int]) -> None:
        """Forget everything and keep these instead (a reset, an imported state), in one transaction. The
        tables are dropped and made anew: deleting a million rows one by one from every index took seconds."""
        with self.store.transaction() as sql:
            for table in TABLES:
                sql.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA:
                sql.execute(statement)
            sql.executemany(INSERT, list(rows))
            sql.executemany(f"INSERT INTO segment_seen (message_id, expires) VALUES (?, ?) {SEEN_UPSERT}", list(seen))
            sql.executemany("INSERT INTO segment_evicted (status, count) VALUES (?, ?)", list(evicted.items()))

    # -- reading -------------------------------------------------------------------------------
    def seen(self, message_ids: Iterable[str], now: float) -> set[str]:
        """Which of `message_ids` are in the dedupe window at `now`: a stored good event whose window has not
        ended has it, or segment_seen does (evicted, imported). One indexed lookup per chunk."""
        wanted = list(set(message_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), ID_CHUNK):
            chunk = wanted[start : start + ID_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self.store.read(
                f"SELECT message_id FROM segment_events WHERE message_id IN ({marks}) AND window_ends > ? "
                f"UNION SELECT message_id FROM segment_seen WHERE message_id IN ({marks}) AND expires > ?",
                (*chunk, now, *chunk, now),
            )
            found.update(m for (m,) in rows)
        return found

    def select(self, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        """Stored events matching every filter, oldest first; with `limit`, only the newest `limit` of them.

        Besides the fields (exact text): `since`/`until` (received at or after / before), `after`/`before`
        (seq cursors of a live view and a pager) and `user` (userId or anonymousId)."""
        window = dict(filters)
        since = since_time(window.pop("since", None))
        until = since_time(window.pop("until", None), "until")
        after = seq_bound(window.pop("after", None), "after")
        before = seq_bound(window.pop("before", None), "before")
        user = window.pop("user", None)
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in window.items():
            column = FILTER_COLUMNS.get(name)
            if column is None:
                known = ", ".join(sorted([*FILTER_COLUMNS, *WINDOW_FILTERS]))
                raise ValueError(f"unknown filter {name!r}; known: {known}")
            clauses.append(f"{column} = ?")
            params.append(value)
            if column == "status" and value != GOOD:
                clauses.append(NOT_GOOD)
        if user is not None:
            clauses.append("(user_id = ? OR anonymous_id = ?)")
            params += [user, user]
        if since is not None:  # bounded by seq too (`+seq`: found through the received_at index), so only
            # the rows from the first match on are read, not the whole table
            clauses.append("received_at >= ? AND seq >= (SELECT min(+seq) FROM segment_events WHERE received_at >= ?)")
            params += [since, since]
        if until is not None:
            clauses.append("received_at < ?")
            params.append(until)
        if after is not None:
            clauses.append("seq > ?")
            params.append(after)
        if before is not None:
            clauses.append("seq < ?")
            params.append(before)
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

    def seen_ids(self, now: float) -> list[tuple[str, float]]:
        """The dedupe window at `now` (messageId, end of its window), soonest end first."""
        return self.store.read(
            "SELECT message_id, max(expires) AS ends FROM (SELECT message_id, expires FROM segment_seen UNION ALL "
            "SELECT message_id, window_ends FROM segment_events WHERE window_ends IS NOT NULL) "
            "WHERE expires > ? GROUP BY message_id ORDER BY ends",
            (now,),
        )

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
