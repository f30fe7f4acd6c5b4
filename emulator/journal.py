"""The request journal: what each fake was sent and what it answered, newest last, bounded."""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

REDACTED_HEADERS = frozenset({"authorization", "x-signature", "cookie"})
REDACTED = "<redacted>"
# Body fields that carry credentials: Segment's `writeKey`, Pushwoosh's `auth` (API token), and the usual names.
SECRET_FIELDS = ("writeKey", "auth", "authorization", "token", "api_token", "apiKey", "api_key", "secret", "password")
# What stored records (events, messages) may still carry when they are shown or exported.
STORED_SECRET_FIELDS = frozenset({"writeKey", "auth", "vapid_private_key"})
# An export also carries the configuration, whose credentials for other services must not leave with it: a
# Pushwoosh webhook's `token` and a Segment destination's signing `secret` (under `swoosh up`, the bridge's).
# Importing the export into the same stack keeps the credential of the webhook or destination with the same
# URL (the pytest plugin restores its baseline that way).
EXPORTED_SECRET_FIELDS = STORED_SECRET_FIELDS | {"token", "secret"}
_SECRET_FIELD = re.compile(r'("(?:' + "|".join(SECRET_FIELDS) + r')"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)', re.IGNORECASE)
# Paths that carry a credential: analytics.js fetches its settings from /v1/projects/<write key>/settings.
_SECRET_PATH = re.compile(r"(/projects/)[^/]+", re.IGNORECASE)
_SECRET_QUERY_NAMES = frozenset(name.lower() for name in SECRET_FIELDS)


@dataclass(slots=True)
class JournalEntry:
    id: int
    at: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: str
    body_truncated: bool
    status: int = 0
    response_body: str = ""
    duration_ms: float = 0.0
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def redact_text(text: str) -> str:
    """A JSON body (maybe clipped) with the value of every secret field replaced, at any depth."""
    return _SECRET_FIELD.sub(rf'\1"{REDACTED}"', text)


def redact_path(path: str) -> str:
    """`path` with the credential it may carry replaced."""
    return _SECRET_PATH.sub(rf"\1{REDACTED}", path)


def redact_query(query: str) -> str:
    """A query string without credentials: secret parameters replaced, and a base64 JSON `data` parameter
    (Segment's pixel API carries the whole message, write key included) re-encoded without its secrets."""
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if sep and name.lower() in _SECRET_QUERY_NAMES:
            value = REDACTED
        elif sep and name == "data":
            value = _redacted_base64_json(value)
        parts.append(f"{name}{sep}{value}")
    return "&".join(parts)


def _redacted_base64_json(value: str) -> str:
    try:
        text = base64.b64decode(unquote(value), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
    redacted = redact_text(text)
    return value if redacted == text else base64.b64encode(redacted.encode()).decode("ascii")


def redact_stored(value: Any, fields: frozenset[str] = STORED_SECRET_FIELDS) -> Any:
    """`value` (a record about to be shown or exported) without the secret `fields`, at any depth."""
    out_root: list[Any] = [None]
    copies: list[tuple[Any, Any, Any]] = [(value, out_root, 0)]
    while copies:  # iterative: records may nest deeper than Python's recursion limit
        node, parent, key = copies.pop()
        if isinstance(node, dict):
            copy: Any = dict.fromkeys(node)
            for k, v in node.items():
                if k in fields and v:
                    copy[k] = REDACTED
                else:
                    copies.append((v, copy, k))
        elif isinstance(node, list):
            copy = [None] * len(node)
            copies.extend((v, copy, i) for i, v in enumerate(node))
        else:
            copy = node
        parent[key] = copy
    return out_root[0]


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Keep header names but never secrets: the journal is served over HTTP."""
    return {k: ("<redacted>" if k.lower() in REDACTED_HEADERS else v) for k, v in headers.items()}


class Journal:
    """A bounded ring of JournalEntry; thread-safe; capacity 0 disables recording."""

    def __init__(self, capacity: int = 1000, body_bytes: int = 4096) -> None:
        self.capacity = capacity
        self.body_bytes = body_bytes
        self._entries: deque[JournalEntry] = deque(maxlen=max(capacity, 1))
        self.ids = itertools.count(1)
        self._lock = threading.Lock()
        # Called before every read and clear: takes what worker processes recorded (emulator.shared_state).
        self.pull: Callable[[], object] | None = None

    def clip(self, data: bytes) -> tuple[str, bool]:
        clipped = data[: self.body_bytes]
        return clipped.decode("utf-8", "replace"), len(data) > self.body_bytes

    def new_entry(
        self, at: float, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> JournalEntry:
        text, truncated = self.clip(body)
        return JournalEntry(
            next(self.ids),
            at,
            method,
            redact_path(path),
            redact_query(query),
            redact_headers(headers),
            redact_text(text),
            truncated,
        )

    def record(self, entry: JournalEntry) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        limit: int | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[JournalEntry]:
        """Oldest first; `since`/`until` bound when a request arrived (the service's clock), both inclusive."""
        if self.pull is not None:
            self.pull()
        with self._lock:
            items = list(self._entries)
        if since is not None or until is not None:
            low, high = since if since is not None else float("-inf"), until if until is not None else float("inf")
            items = [e for e in items if low <= e.at <= high]
        if method:
            items = [e for e in items if e.method == method.upper()]
        if path:
            items = [e for e in items if path.lower() in e.path.lower()]
        if status is not None:
            items = [e for e in items if e.status == status]
        if limit is not None:
            items = items[-limit:] if limit > 0 else []
        return items

    def clear(self) -> None:
        if self.pull is not None:
            self.pull()
        with self._lock:
            self._entries.clear()
