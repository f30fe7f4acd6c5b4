"""The fake Pushwoosh's posted events and event histories, as indexed tables in its store (emulator.store).

Posted events (integration post-events, postEvent) are not kept in the heap: each is a row with a column
for every filter the control API offers on them (name, subject, application, timestamp, stored_at), one
index per filter (SQLite ends every index entry with the rowid, seq here, so `limit` reads the newest
matches first without a second column), and the attributes as JSON bytes. The cap evicts the oldest rows in the
same transaction as the request's new ones and counts them (`pushwoosh_counts`), so any process that
opens the same store sees the same events and counts.

What segments read is the history: per subject (a user, or a device without one), event name and
application, the latest time the event was posted (`pushwoosh_history`). "Triggered `E` since `t`" needs
nothing more, so the history is bounded by those triples, not by the events, and the cap does not touch
it (docs/decisions.md, "Pushwoosh state in the store").

With worker processes (`swoosh up --workers N`) a transaction's rows also carry what the primary must
learn of them (user, device, name, application per event: users made, links, auto-created definitions)
into `pushwoosh_follow`, as one JSON row per
transaction (a row per event cost a third more per request): the primary applies those in order and
exactly once (pushwoosh/shared_backend.py). It is its own table, which neither the cap nor a reset's
replace touches: an acknowledged event's effects are applied even when the cap already evicted its row.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from swoosh.emulator.group_commit import GroupCommit
from swoosh.emulator.store import Sql, Store, read_in

# A posted event as the control API shows it, the column each field is in, and whether SQL can test it
# exactly (`attributes` is compared as text, as every control-API filter is, after the row is read).
FIELDS = {
    "name": "name",
    "timestamp": "at",
    "application": "application",
    "attributes": "attributes",
    "subject": "subject",
    "stored_at": "stored_at",
}
TEXT_COLUMNS = ("name", "subject", "application")
NUMBER_COLUMNS = ("at", "stored_at")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pushwoosh_events (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "subject TEXT NOT NULL, application TEXT NOT NULL, at REAL NOT NULL, stored_at REAL NOT NULL, "
    "attributes BLOB NOT NULL)",
    *(
        f"CREATE INDEX IF NOT EXISTS pushwoosh_events_{column} ON pushwoosh_events ({column})"
        for column in (*TEXT_COLUMNS, *NUMBER_COLUMNS)
    ),
    "CREATE TABLE IF NOT EXISTS pushwoosh_history (subject TEXT NOT NULL, name TEXT NOT NULL, "
    "application TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (subject, name, application)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS pushwoosh_counts (name TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    # AUTOINCREMENT: a seq is never reused once the primary removed the rows it applied.
    "CREATE TABLE IF NOT EXISTS pushwoosh_follow (seq INTEGER PRIMARY KEY AUTOINCREMENT, effects BLOB NOT NULL)",
)
TABLES = ("pushwoosh_events", "pushwoosh_history", "pushwoosh_counts")
STORED, EVICTED = "stored", "evicted"
INSERT = (
    "INSERT INTO pushwoosh_events (name, subject, application, at, stored_at, attributes) VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT = "SELECT seq, name, at, application, attributes, subject, stored_at FROM pushwoosh_events"
HISTORY_UPSERT = (
    "INSERT INTO pushwoosh_history (subject, name, application, at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (subject, name, application) DO UPDATE SET at = excluded.at WHERE excluded.at > pushwoosh_history.at"
)
COUNT_ADD = (
    "INSERT INTO pushwoosh_counts (name, count) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET count = pushwoosh_counts.count + excluded.count RETURNING count"
)
CHUNK = 1000  # rows read at a time when a filter is tested after reading

# (name, subject, application, at, stored_at, attributes as JSON bytes)
Row = tuple[str, str, str, float, float, bytes]
# (user_id, hwid, name, application): what the primary learns of one posted event (worker mode)
Effect = tuple[str | None, str | None, str, str]


def posted_row(name: str, subject: str, application: str, at: float, stored_at: float, attributes: Any) -> Row:
    return (name, subject, application, at, stored_at, orjson.dumps(attributes))


def event_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A stored row as the control API and an export show it."""
    _seq, name, at, application, attributes, subject, stored_at = row
    return {
        "name": name,
        "timestamp": at,
        "application": application,
        "attributes": orjson.loads(attributes),
        "subject": subject,
        "stored_at": stored_at,
    }


class PostedTable:
    """Posted events, their count and evictions, and the event histories of one fake Pushwoosh, in `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._commits: GroupCommit[tuple[Sequence[Row], int, Sequence[Effect]]] = GroupCommit(self._write_group)
        with store.transaction() as sql:
            for statement in SCHEMA:
                sql.execute(statement)

    # -- writing (requests that arrive together, one transaction) -------------------------------
    def write(self, rows: Sequence[Row], cap: int, effects: Sequence[Effect] = ()) -> None:
        """Keep a request's rows and their history entries, evicting the oldest rows beyond `cap`, committed
        when this returns (StoreError when the store refused them); `effects` go to `pushwoosh_follow` in the
        same transaction.

        Group commit (emulator.group_commit): requests that arrive while a transaction writes share the
        next one. Each commit writes the index pages it dirtied, and a user id's index is dirtied at random,
        so requests arriving together share those writes (bench/RESULTS.md, "Pushwoosh state in the store")."""
        self._commits.submit((rows, cap, effects))

    def _write_group(self, group: Sequence[tuple[Sequence[Row], int, Sequence[Effect]]]) -> None:
        with self.store.transaction() as sql:
            self._write(sql, [row for rows, _cap, _effects in group for row in rows], group[-1][1])
            effects = [effect for _rows, _cap, request_effects in group for effect in request_effects]
            if effects:
                sql.execute("INSERT INTO pushwoosh_follow (effects) VALUES (?)", (orjson.dumps(effects),))

    def _write(self, sql: Sql, rows: Sequence[Row], cap: int) -> int:
        sql.executemany(INSERT, rows)
        latest: dict[tuple[str, str, str], float] = {}
        for name, subject, application, at, _stored_at, _attributes in rows:
            key = (subject, name, application)
            if at > latest.get(key, float("-inf")):
                latest[key] = at
        sql.executemany(HISTORY_UPSERT, [(*key, at) for key, at in latest.items()])
        stored = sql.execute(COUNT_ADD, (STORED, len(rows)))[0][0]
        overflow = stored - max(0, cap)
        if overflow <= 0:
            return 0
        oldest = f"SELECT seq FROM pushwoosh_events ORDER BY seq LIMIT {int(overflow)}"
        sql.execute(f"DELETE FROM pushwoosh_events WHERE seq IN ({oldest})")
        sql.execute(COUNT_ADD, (STORED, -overflow))
        sql.execute(COUNT_ADD, (EVICTED, overflow))
        return overflow

    def replace(self, rows: Iterable[Row], cap: int) -> None:
        """Forget everything and keep these instead (a reset, an imported state), in one transaction; the
        tables are dropped and made anew (deleting a million rows one by one from every index takes seconds)."""
        with self.store.transaction() as sql:
            for table in TABLES:
                sql.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA:
                sql.execute(statement)
            batch = list(rows)
            for start in range(0, len(batch), CHUNK):
                self._write(sql, batch[start : start + CHUNK], cap)

    def count_evicted(self, evicted: int) -> None:
        """Add to the evicted count posted events evicted elsewhere (a store written by an earlier version)."""
        with self.store.transaction() as sql:
            sql.execute(COUNT_ADD, (EVICTED, evicted))

    def forget_subject(self, subject: str) -> None:
        """A deleted user: their posted events and history go (they are no longer counted as stored)."""
        with self.store.transaction() as sql:
            gone = sql.execute("SELECT count(*) FROM pushwoosh_events WHERE subject = ?", (subject,))[0][0]
            sql.execute("DELETE FROM pushwoosh_events WHERE subject = ?", (subject,))
            sql.execute("DELETE FROM pushwoosh_history WHERE subject = ?", (subject,))
            sql.execute(COUNT_ADD, (STORED, -gone))

    # -- reading -------------------------------------------------------------------------------
    def select(self, filters: Mapping[str, str], limit: int | None, offset: int = 0) -> list[dict[str, Any]]:
        """Posted events matching every filter (each compared as text, as the control API does), oldest
        first; with `limit`, the newest `limit` once the newest `offset` matches are skipped. Name, subject,
        application, timestamp and stored_at are indexed; `attributes` is compared on the rows read."""
        unknown = sorted(set(filters) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown filter {unknown[0]!r}; known: {', '.join(sorted(FIELDS))}")
        if limit is not None and limit <= 0:
            return []
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in filters.items():
            column = FIELDS[name]
            if column in TEXT_COLUMNS:
                clauses.append(f"{column} = ?")
                params.append(value)
            elif column in NUMBER_COLUMNS:
                number = _number(value)
                if number is None:
                    return []
                clauses.append(f"{column} = ?")
                params.append(number)
        checked = {name: value for name, value in filters.items() if FIELDS[name] not in TEXT_COLUMNS}
        where = " AND ".join(clauses) or "1 = 1"
        if not checked:
            if limit is None:
                rows = self.store.read(f"{SELECT} WHERE {where} ORDER BY seq", params)
                return [event_dict(row) for row in rows[: max(len(rows) - offset, 0)]]
            newest = f"{SELECT} WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?"
            rows = self.store.read(newest, (*params, limit, offset))
            return [event_dict(row) for row in reversed(rows)]
        found = (e for e in self._newest_first(where, params) if _shows(e, checked))
        page = list(found) if limit is None else list(itertools.islice(found, limit + offset))
        return list(reversed(page[offset:]))

    def _newest_first(self, where: str, params: Sequence[Any]) -> Iterator[dict[str, Any]]:
        before = None
        while True:
            bound = "" if before is None else " AND seq < ?"
            rows = self.store.read(
                f"{SELECT} WHERE {where}{bound} ORDER BY seq DESC LIMIT ?",
                (*params, *(() if before is None else (before,)), CHUNK),
            )
            yield from (event_dict(row) for row in rows)
            if len(rows) < CHUNK:
                return
            before = rows[-1][0]

    def rows(self, chunk: int = 10_000) -> Iterator[dict[str, Any]]:
        """Every posted event, oldest first, read a chunk at a time (an export of a million events)."""
        after = -1
        while True:
            rows = self.store.read(f"{SELECT} WHERE seq > ? ORDER BY seq LIMIT ?", (after, chunk))
            yield from (event_dict(row) for row in rows)
            if len(rows) < chunk:
                return
            after = rows[-1][0]

    def histories(self, subjects: Collection[str]) -> dict[str, list[tuple[str, str, float]]]:
        """The history entries (name, application, latest time) of each subject: what a scan of devices
        gives the ones it read when their events are asked about."""
        found: dict[str, list[tuple[str, str, float]]] = {}
        select = "SELECT subject, name, application, at FROM pushwoosh_history"
        for subject, name, application, at in read_in(self.store, select, "subject", list(subjects)):
            found.setdefault(subject, []).append((name, application, at))
        return found

    def last_effect(self) -> int:
        """The seq of the newest effect waiting in `pushwoosh_follow` (0 when there is none)."""
        return int(self.store.read("SELECT max(seq) FROM pushwoosh_follow")[0][0] or 0)

    def effects_after(self, seq: int, limit: int) -> list[tuple[int, list[Effect]]]:
        """The effects of the transactions stored after `seq` (at most `limit` of them), oldest first."""
        rows = self.store.read(
            "SELECT seq, effects FROM pushwoosh_follow WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        )
        return [(row_seq, [tuple(e) for e in orjson.loads(effects)]) for row_seq, effects in rows]

    def forget_effects(self, upto: int) -> None:
        """The effects up to `upto` were applied (and what they changed committed): they go."""
        with self.store.transaction() as sql:
            sql.execute("DELETE FROM pushwoosh_follow WHERE seq <= ?", (upto,))

    def count(self, name: str) -> int:
        """The posted events `STORED` now, or `EVICTED` by the cap since the last reset."""
        rows = self.store.read("SELECT count FROM pushwoosh_counts WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _shows(event: Mapping[str, Any], checked: Mapping[str, str]) -> bool:
    """Whether the event, as the control API shows it, has each checked field's text (floats as Python prints them)."""
    return all(event[name] is not None and str(event[name]) == value for name, value in checked.items())
