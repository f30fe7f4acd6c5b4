"""The fake Pushwoosh's devices and users, as indexed tables in its store (emulator.store).

A device is a row of `pushwoosh_devices` keyed by (hwid, application), with a column for every field the
control API shows and filters on, and its own tags as JSON; a user is a row of `pushwoosh_users` with its
tags and profile fields as JSON. A device's `user_id` column is the link both ways (a user's devices are
the rows with its id, indexed). Indexed: what the device API looks up (hwid per application, push token,
user id) and every scalar filter of the control API (application, device type and so platform, language,
versions, model, email, badge, unsubscribed; a text column's index holds only the rows with a value, as
no filter matches a missing one); `timezone`, `web_push`, `extra` and a user's `hwids`, `profile` and
`tags` are compared on the rows read, newest first, so a page stops once full.

`Device` and `User` objects (model.py) are made from rows on demand and written back as rows: the backend
(backend/base.py) keeps the ones one request reads and changes, and writes the changed ones in one
transaction when the request ends. Scans (a send's audience, a segment's count, an export) read a chunk
of rows at a time, users' tags joined and, when a filter asks, their event histories (posted_table.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from swoosh.contracts.shared_names import DEVICE_TYPES
from swoosh.emulator.pushwoosh.model import Device, EventHistory, TagDefinition, User
from swoosh.emulator.store import Sql, Store, read_in

CHUNK = 1000  # rows read at a time by a scan
DEVICE_COLUMNS = (
    "application",
    "hwid",
    "device_type",
    "push_token",
    "unsubscribed",
    "user_id",
    "language",
    "timezone",
    "app_version",
    "device_model",
    "os_version",
    "email",
    "badge",
    "web_push",
    "extra",
    "tags",
)
# Control-API filters SQL narrows by an index: text compared as is, numbers and flags parsed from the text.
TEXT_FILTERS = (
    "hwid",
    "application",
    "push_token",
    "user_id",
    "language",
    "app_version",
    "device_model",
    "os_version",
    "email",
)
NUMBER_FILTERS = ("device_type", "badge")
INDEXED = (*TEXT_FILTERS[2:], *NUMBER_FILTERS, "unsubscribed", "application")
# `badge` has no declared type: a number column would store a badge of 3.0 (JSON Schema's integer) as 3.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pushwoosh_devices (seq INTEGER PRIMARY KEY, application TEXT NOT NULL, "
    "hwid TEXT NOT NULL, device_type INTEGER, push_token TEXT, unsubscribed INTEGER NOT NULL, user_id TEXT, "
    "language TEXT, timezone BLOB, app_version TEXT, device_model TEXT, os_version TEXT, email TEXT, "
    "badge NOT NULL, web_push BLOB, extra BLOB, tags BLOB NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS pushwoosh_devices_key ON pushwoosh_devices (hwid, application)",
    *(
        f"CREATE INDEX IF NOT EXISTS pushwoosh_devices_{column} ON pushwoosh_devices ({column})"
        + (f" WHERE {column} IS NOT NULL" if column in TEXT_FILTERS else "")
        for column in INDEXED
    ),
    "CREATE TABLE IF NOT EXISTS pushwoosh_users (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL UNIQUE, "
    "tags BLOB NOT NULL, profile BLOB NOT NULL)",
)
TABLES = ("pushwoosh_devices", "pushwoosh_users")
DEVICE_SELECT = f"SELECT d.seq, {', '.join(f'd.{c}' for c in DEVICE_COLUMNS)}, u.tags FROM pushwoosh_devices d"
USER_JOIN = " LEFT JOIN pushwoosh_users u ON u.user_id = d.user_id"
DEVICE_UPSERT = (
    f"INSERT INTO pushwoosh_devices ({', '.join(DEVICE_COLUMNS)}) VALUES ({', '.join('?' for _ in DEVICE_COLUMNS)}) "
    "ON CONFLICT (hwid, application) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in DEVICE_COLUMNS[2:])
)
USER_UPSERT = (
    "INSERT INTO pushwoosh_users (user_id, tags, profile) VALUES (?, ?, ?) "
    "ON CONFLICT (user_id) DO UPDATE SET tags = excluded.tags, profile = excluded.profile"
)
USER_SELECT = "SELECT seq, user_id, tags, profile FROM pushwoosh_users"

DeviceKey = tuple[str, str]  # (application, hwid)
Linked = list[tuple[str, dict[str, Any]]]  # a user's devices: (hwid, the device's own tags)


def _json(value: Any) -> bytes | None:
    return None if value is None else orjson.dumps(value)


def _loaded(value: bytes | None) -> Any:
    return None if value is None else orjson.loads(value)


def device_row(device: Device) -> tuple[Any, ...]:
    """A device as a row of `pushwoosh_devices` (its columns in DEVICE_COLUMNS order)."""
    return (
        device.application,
        device.hwid,
        device.device_type,
        device.push_token,
        int(device.unsubscribed),
        device.user_id,
        device.language,
        _json(device.timezone),
        device.app_version,
        device.device_model,
        device.os_version,
        device.email,
        device.badge,
        _json(device.web_push),
        _json(device.extra or None),
        orjson.dumps(device.tags),
    )


def user_row(user: User) -> tuple[str, bytes, bytes]:
    return (user.user_id, orjson.dumps(user.tags), orjson.dumps(user.profile))


def _user(row: Sequence[Any]) -> User:
    _seq, user_id, tags, profile = row
    user = User(user_id)
    user.tags = orjson.loads(tags)
    user.profile = orjson.loads(profile)
    return user


class DeviceTable:
    """The devices and users of one fake Pushwoosh in `store`: lookups, scans, filtered pages, writes."""

    def __init__(self, store: Store, registry: dict[str, TagDefinition]) -> None:
        self.store = store
        self.registry = registry  # the backend's tag definitions, which every device reads its tags' types from
        with store.transaction() as sql:
            for statement in SCHEMA:
                sql.execute(statement)

    # -- making objects from rows ----------------------------------------------------------------
    def _device(self, row: Sequence[Any], user: User | None) -> Device:
        (_seq, app, hwid, device_type, token, unsubscribed, _user_id, language, timezone, app_version, model,
         os_version, email, badge, web_push, extra, tags, *_user_tags) = row  # fmt: skip
        device = Device(app, hwid, device_type, self.registry)
        device.push_token, device.unsubscribed = token, bool(unsubscribed)
        device.language, device.timezone, device.app_version = language, _loaded(timezone), app_version
        device.device_model, device.os_version, device.email, device.badge = model, os_version, email, badge
        device.web_push, device.extra, device.tags = _loaded(web_push), _loaded(extra) or {}, orjson.loads(tags)
        device.user = user
        return device

    # -- lookups (the device API's) --------------------------------------------------------------
    def device(self, app: str, hwid: str, user_of: Any) -> Device | None:
        """The device `hwid` of `app`; `user_of(user_id)` gives its user object."""
        rows = self.store.read(f"{DEVICE_SELECT}{USER_JOIN} WHERE d.hwid = ? AND d.application = ?", (hwid, app))
        return self._device(rows[0], user_of(rows[0][6])) if rows else None

    def device_with_token(self, app: str, token: str) -> DeviceKey | None:
        """The latest registered device of `app` with this push token."""
        rows = self.store.read(
            "SELECT hwid FROM pushwoosh_devices WHERE push_token = ? AND application = ? ORDER BY seq DESC LIMIT 1",
            (token, app),
        )
        return (app, rows[0][0]) if rows else None

    def user(self, user_id: str) -> User | None:
        rows = self.store.read(f"{USER_SELECT} WHERE user_id = ?", (user_id,))
        return _user(rows[0]) if rows else None

    def known_users(self, user_ids: Sequence[str]) -> set[str]:
        """Which of these users exist."""
        return {u for (u,) in read_in(self.store, "SELECT user_id FROM pushwoosh_users", "user_id", user_ids)}

    def devices_of(self, user_id: str, app: str | None = None) -> list[DeviceKey]:
        """The devices linked to a user (of one application, or of all), in registration order."""
        scope, params = ("", (user_id,)) if app is None else (" AND application = ?", (user_id, app))
        rows = self.store.read(
            f"SELECT application, hwid FROM pushwoosh_devices WHERE user_id = ?{scope} ORDER BY seq", params
        )
        return [(a, h) for a, h in rows]

    # -- scans ---------------------------------------------------------------------------------
    def scan(
        self, apps: Collection[str] | None = None, history: Any = None, where: str = "", params: Sequence[Any] = ()
    ) -> Iterator[Device]:
        """Devices in registration order (of `apps`, or all), a chunk of rows at a time, each with its user's
        tags; `history(subjects)` gives the event histories when the caller's filter needs them."""
        clauses = [where] if where else []
        scope: list[Any] = list(params)
        if apps is not None:
            codes = sorted(apps)
            if not codes:
                return
            clauses.append(f"d.application IN ({', '.join('?' for _ in codes)})")
            scope.extend(codes)
        after = -1
        while True:
            condition = " AND ".join(["d.seq > ?", *clauses])
            rows = self.store.read(
                f"{DEVICE_SELECT}{USER_JOIN} WHERE {condition} ORDER BY d.seq LIMIT {CHUNK}", (after, *scope)
            )
            yield from self._devices(rows, history)
            if len(rows) < CHUNK:
                return
            after = rows[-1][0]

    def _devices(self, rows: Sequence[Sequence[Any]], history: Any) -> Iterator[Device]:
        """The rows' devices, made one at a time as the caller takes them: a send holds one device at a time,
        so they die young (a chunk's thousand objects alive at once would reach the older GC generations,
        whose collections then walk the send's deliveries again and again: 5.6 s instead of 2 s measured for
        100,000 devices). A user's tags are made for each of its devices, which never change them."""
        found: Mapping[str, Iterable[tuple[str, str, float]]] = {}
        if history is not None:
            found = history({f"user:{row[6]}" if row[6] is not None else f"device:{row[2]}" for row in rows})
        for row in rows:
            user_id, user_tags = row[6], row[-1]
            user = None
            if user_id is not None:
                user = User(user_id)
                if user_tags is not None:
                    user.tags = orjson.loads(user_tags)
                _fill(user.events, found.get(f"user:{user_id}", ()), None)
            device = self._device(row, user)
            if user is None:
                _fill(device.events, found.get(f"device:{device.hwid}", ()), device.application)
            yield device

    def users(self) -> Iterator[User]:
        """Every user in the order first seen, a chunk at a time."""
        after = -1
        while True:
            rows = self.store.read(f"{USER_SELECT} WHERE seq > ? ORDER BY seq LIMIT {CHUNK}", (after,))
            yield from (_user(row) for row in rows)
            if len(rows) < CHUNK:
                return
            after = rows[-1][0]

    # -- the control API's filtered pages --------------------------------------------------------
    def newest_devices(self, filters: Mapping[str, str], wanted: int | None = None) -> Iterator[Device]:
        """Devices newest first, narrowed by SQL to a superset of those matching `filters` (the indexed ones;
        the caller checks every filter on the shown records, compared as text as the control API does).
        `wanted`: how many the caller takes at most, the size of the first read."""
        clauses: list[str] = []
        params: list[Any] = []
        for name, value in filters.items():
            narrowed = _narrowing(name, value)
            if narrowed is None:
                return
            if narrowed:
                clauses.append(narrowed[0])
                params.extend(narrowed[1])
        for rows in self._newest(f"{DEVICE_SELECT}{USER_JOIN}", "d.seq", clauses, params, wanted):
            yield from self._devices(rows, None)

    def newest_users(
        self, filters: Mapping[str, str], wanted: int | None = None
    ) -> Iterator[list[tuple[User, Linked]]]:
        """Users newest first, a chunk at a time, each with its devices' (hwid, tags) in registration order;
        narrowed by `user_id` when it is a filter (the caller checks every filter on the shown records)."""
        clauses, params = (["user_id = ?"], [filters["user_id"]]) if "user_id" in filters else ([], [])
        for rows in self._newest(USER_SELECT, "seq", clauses, params, wanted):
            users = [_user(row) for row in rows]
            linked: dict[str, Linked] = {u.user_id: [] for u in users}
            marks = ", ".join("?" for _ in users)
            for user_id, hwid, tags in self.store.read(
                f"SELECT user_id, hwid, tags FROM pushwoosh_devices WHERE user_id IN ({marks}) ORDER BY seq",
                list(linked),
            ):
                linked[user_id].append((hwid, orjson.loads(tags)))
            yield [(u, linked[u.user_id]) for u in users]

    def _newest(
        self, select: str, seq: str, clauses: list[str], params: list[Any], wanted: int | None
    ) -> Iterator[list[Any]]:
        """The rows of `select` matching `clauses`, newest first, a chunk at a time (the first one no larger
        than `wanted`: a page of 50 reads 50 rows when SQL decides every filter)."""
        before: int | None = None
        size = CHUNK if wanted is None else max(1, min(wanted, CHUNK))
        while True:
            bound = [] if before is None else [f"{seq} < ?"]
            where = " AND ".join([*clauses, *bound]) or "1 = 1"
            rows = self.store.read(
                f"{select} WHERE {where} ORDER BY {seq} DESC LIMIT {size}",
                (*params, *(() if before is None else (before,))),
            )
            if rows:
                yield rows
            if len(rows) < size:
                return
            before, size = rows[-1][0], CHUNK

    # -- writing ---------------------------------------------------------------------------------
    def write(
        self,
        devices: Sequence[Device],
        gone_devices: Sequence[DeviceKey],
        users: Sequence[User],
        gone_users: Sequence[str],
    ) -> None:
        """One request's changed and deleted devices and users, in one transaction (StoreError: none of them)."""
        with self.store.transaction() as sql:
            sql.executemany("DELETE FROM pushwoosh_devices WHERE hwid = ? AND application = ?", [
                (hwid, app) for app, hwid in gone_devices
            ])  # fmt: skip
            sql.executemany("DELETE FROM pushwoosh_users WHERE user_id = ?", [(u,) for u in gone_users])
            sql.executemany(USER_UPSERT, [user_row(u) for u in users])
            sql.executemany(DEVICE_UPSERT, [device_row(d) for d in devices])

    def clear(self) -> None:
        """Forget every device and user (a reset, an import): the tables are dropped and made anew."""
        with self.store.transaction() as sql:
            for table in TABLES:
                sql.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA:
                sql.execute(statement)

    def drop_tag(self, name: str) -> None:
        """A deleted tag definition: every device and user loses its value, in one transaction."""
        needle = orjson.dumps(name)  # rows whose tags' JSON holds the name somewhere, then checked whole
        with self.store.transaction() as sql:
            for table in TABLES:
                _drop_tag(sql, table, name, needle)


def _drop_tag(sql: Sql, table: str, name: str, needle: bytes) -> None:
    rows = sql.execute(f"SELECT seq, tags FROM {table} WHERE instr(tags, ?) > 0", (needle,))
    changed = []
    for seq, tags in rows:
        values = orjson.loads(tags)
        if values.pop(name, None) is not None:
            changed.append((orjson.dumps(values), seq))
    sql.executemany(f"UPDATE {table} SET tags = ? WHERE seq = ?", changed)


def _fill(history: EventHistory, entries: Iterable[tuple[str, str, float]], application: str | None) -> None:
    """A history from its entries (name, application, latest time); a device's own: its application's only."""
    for name, app, at in entries:
        if application is None or app == application:
            history.add(name, at, app)


def _narrowing(name: str, text: str) -> tuple[str, list[Any]] | tuple[()] | None:
    """The SQL that narrows devices to a superset of those whose shown `name` is `text`: () when the filter
    is checked on the rows only, None when no device can match."""
    if name in TEXT_FILTERS:
        return (f"d.{name} = ?", [text])
    if name in NUMBER_FILTERS:
        number = _number(text)
        return None if number is None else (f"d.{name} = ?", [number])
    if name == "unsubscribed":
        return None if text not in ("True", "False") else ("d.unsubscribed = ?", [int(text == "True")])
    if name == "platform":
        codes = [code for code, platform in DEVICE_TYPES.items() if platform.name == text]
        return None if not codes else (f"d.device_type IN ({', '.join('?' for _ in codes)})", codes)
    return ()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
