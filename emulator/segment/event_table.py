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
from typing import Any, Protocol

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
    # Counters any process reads, updated in the transaction that changes what they count: `seq` (the last
    # one given), `stored`, messages received per status, and `evicted:<status>`.
    "CREATE TABLE IF NOT EXISTS segment_counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
)
TABLES = ("segment_events", "segment_seen")  # what a reset or an import drops and makes anew
SEQ, STORED, EVICTED = "seq", "stored", "evicted:"
OLD_EVICTED_TABLE = "segment_evicted"  # where evicted counts were kept before segment_counts
SEEN_UPSERT = "ON CONFLICT (message_id) DO UPDATE SET expires = excluded.expires"
COUNT_ADD = (
    "INSERT INTO segment_counts (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)
INSERT = f"INSERT INTO segment_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
SELECT = f"SELECT {', '.join(COLUMNS)} FROM segment_events"
STREAM_CHUNK = 1_000  # rows per read of a streamed answer (select_chunks)
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


class Pending(Protocol):
    """One request's rows waiting for the write step (intake.Intake)."""

    now: float
    dedupe_ids: list[str]  # the messageIds to look up in the dedupe window
    first_seq: int  # set by the write step: the seq of the request's first row

    def settle(self, seen: set[str]) -> Sequence[Row] | None:
        """Given which of `dedupe_ids` are in the window: the rows to store (seq 0), or None to keep nothing."""


class EventTable:
    """Stored events, the dedupe window and the counters of one fake Segment, in `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.transaction() as sql:
            for statement in SCHEMA:
                sql.execute(statement)
            if not sql.execute("SELECT 1 FROM segment_counts WHERE name = ?", (SEQ,)):
                _count_what_is_stored(sql)

    # -- writing (one transaction per group of requests) -----------------------------------------
    def write(self, requests: Sequence[Pending], max_events: int) -> Counter[str]:
        """Store the requests' rows in one transaction: for each request in turn, look its messageIds up in
        the dedupe window (which includes the rows of the requests before it), let it settle, give its rows
        the next seqs and insert them; then forget expired dedupe entries, evict the oldest rows beyond
        `max_events` and update the counters. `BEGIN IMMEDIATE` makes all of it one step for every process
        that opens the store. The evicted, per status."""
        now = max(request.now for request in requests)
        with self.store.transaction() as sql:
            counts = dict(sql.execute("SELECT name, value FROM segment_counts WHERE name IN (?, ?)", (SEQ, STORED)))
            seq, stored = counts.get(SEQ, 0), counts.get(STORED, 0)
            added: Counter[str] = Counter()
            for request in requests:
                seen = _in_window(sql.execute, request.dedupe_ids, request.now) if request.dedupe_ids else set()
                rows = request.settle(seen)
                if not rows:
                    continue
                request.first_seq = seq + 1
                sql.executemany(INSERT, [(seq + n, *row[1:]) for n, row in enumerate(rows, 1)])
                seq += len(rows)
                added.update(row[1] for row in rows)
            sql.execute("DELETE FROM segment_seen WHERE expires <= ?", (now,))
            total = sum(added.values())
            overflow = stored + total - max(0, max_events)
            evicted = self._evict(sql, overflow, now) if overflow > 0 else Counter()
            if total:
                changes = [*added.items(), (SEQ, total), (STORED, total - sum(evicted.values()))]
                sql.executemany(COUNT_ADD, [*changes, *((EVICTED + k, n) for k, n in evicted.items())])
        return evicted

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
        return evicted

    def clear(self) -> None:
        """Forget every event, the dedupe window and the counters (a reset); seqs go on from the last one."""
        self.replace((), (), {}, None, keep_seq=True)

    def replace(
        self,
        rows: Iterable[Row],
        seen: Iterable[tuple[str, float]],
        evicted: Mapping[str, int],
        received: Mapping[str, int] | None = None,
        keep_seq: bool = False,
    ) -> None:
        """Forget everything and keep these instead (an imported state), in one transaction; `received` are
        the messages received per status (by default what is stored plus `evicted`), and seqs go on from
        the newest row's. The tables are dropped and made anew: deleting a million rows one by one from
        every index took seconds."""
        rows = list(rows)
        with self.store.transaction() as sql:
            for table in TABLES:
                sql.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA:
                sql.execute(statement)
            sql.executemany(INSERT, rows)
            sql.executemany(f"INSERT INTO segment_seen (message_id, expires) VALUES (?, ?) {SEEN_UPSERT}", list(seen))
            sql.execute("DELETE FROM segment_counts WHERE name <> ?", (SEQ if keep_seq else "",))
            stored = Counter(row[1] for row in rows)
            counts = Counter(received) if received is not None else stored + Counter(evicted)
            sql.executemany(
                COUNT_ADD,
                [
                    *counts.items(),
                    *((EVICTED + status, n) for status, n in evicted.items()),
                    (STORED, len(rows)),
                    (SEQ, 0 if keep_seq else max((row[0] for row in rows), default=0)),
                ],
            )

    # -- reading -------------------------------------------------------------------------------
    def select(self, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        """Stored events matching every filter, oldest first; with `limit`, only the newest `limit` of them.

        Besides the fields (exact text): `since`/`until` (received at or after / before), `after`/`before`
        (seq cursors of a live view and a pager) and `user` (userId or anonymousId)."""
        clauses, params = _filter_clauses(filters)
        if limit is not None and limit <= 0:
            return []
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        if limit is None:
            rows = self.store.read(f"{SELECT}{where} ORDER BY seq", params)
        else:
            rows = self.store.read(f"{SELECT}{where} ORDER BY seq DESC LIMIT ?", (*params, limit))[::-1]
        return [event_dict(row) for row in rows]

    def select_chunks(
        self, filters: Mapping[str, str], chunk: int | None = None
    ) -> tuple[int, Iterator[list[dict[str, Any]]]]:
        """What `select(filters, None)` gives, without holding it all: how many match now, and the matching
        events oldest first, read `chunk` rows at a time (keyset by seq) as the iterator is consumed. Only rows
        up to the newest match at the count are read, so events stored meanwhile are left out; events evicted
        or reset meanwhile are missing, so the iterator can give fewer than the count. Filters are checked
        (ValueError) and the count read before this returns."""
        clauses, params = _filter_clauses(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        count, newest = self.store.read(f"SELECT count(*), max(seq) FROM segment_events{where}", params)[0]
        return count, self._chunks(clauses, params, newest or 0, chunk or STREAM_CHUNK)

    def _chunks(self, clauses: list[str], params: list[Any], newest: int, chunk: int) -> Iterator[list[dict[str, Any]]]:
        where = " AND ".join([*clauses, "seq > ?", "seq <= ?"])
        after = -1
        while after < newest:
            rows = self.store.read(f"{SELECT} WHERE {where} ORDER BY seq LIMIT ?", (*params, after, newest, chunk))
            if not rows:
                return
            yield [event_dict(row) for row in rows]
            after = rows[-1][0]

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

    def counts(self) -> dict[str, int]:
        """Every counter as the last commit left it: `seq`, `stored`, per status, `evicted:<status>`."""
        return dict(self.store.read("SELECT name, value FROM segment_counts"))

    def last_seq(self) -> int:
        return self.counts().get(SEQ, 0)


def _filter_clauses(filters: Mapping[str, str]) -> tuple[list[str], list[Any]]:
    """The WHERE terms and parameters of the control API's event filters (see EventTable.select)."""
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
    return clauses, params


def _in_window(run: Callable[..., list[tuple[Any, ...]]], message_ids: Sequence[str], now: float) -> set[str]:
    """Which of `message_ids` are in the dedupe window at `now`: a stored good event whose window has not
    ended has it, or segment_seen does (evicted, imported). One indexed lookup per chunk."""
    found: set[str] = set()
    for start in range(0, len(message_ids), ID_CHUNK):
        chunk = message_ids[start : start + ID_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = run(
            f"SELECT message_id FROM segment_events WHERE message_id IN ({marks}) AND window_ends > ? "
            f"UNION ALL SELECT message_id FROM segment_seen WHERE message_id IN ({marks}) AND expires > ?",
            (*chunk, now, *chunk, now),
        )
        found.update(m for (m,) in rows)
    return found


def _count_what_is_stored(sql: Sql) -> None:
    """The counters of a store written before segment_counts existed: what its tables hold."""
    seq, stored = sql.execute("SELECT coalesce(max(seq), 0), count(*) FROM segment_events")[0]
    counts = Counter(dict(sql.execute("SELECT status, count(*) FROM segment_events GROUP BY status")))
    evicted: Counter[str] = Counter()
    sql.execute(f"CREATE TABLE IF NOT EXISTS {OLD_EVICTED_TABLE} (status TEXT PRIMARY KEY, count INTEGER NOT NULL)")
    evicted.update(dict(sql.execute(f"SELECT status, count FROM {OLD_EVICTED_TABLE}")))
    sql.execute(f"DROP TABLE {OLD_EVICTED_TABLE}")
    evictions = [(EVICTED + status, n) for status, n in evicted.items()]
    sql.executemany(COUNT_ADD, [*(counts + evicted).items(), *evictions, (SEQ, seq), (STORED, stored)])


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
