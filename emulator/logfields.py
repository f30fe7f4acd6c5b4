"""Structured fields on the services' log records, so a handler (the live log of `swoosh up`) never parses text.

A service logs as before and adds `extra=fields(KIND, name=value, ...)`; a handler reads them back with
`fields_of(record)`. Values are plain JSON (str, int, float, bool, None, dicts of those) and never a
secret: no write key, token, signature or Authorization, and no URL's user info or query string.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

# What happened, as the live log names it (docs/architecture.md, "Logging"):
ARRIVAL = "arrival"  # a service received something it took: messages, an API call
REFUSAL = "refusal"  # ... or refused (the reason says why)
DELIVERY = "delivery"  # a service delivered events to the next one
RETRY = "retry"  # a delivery failed and will be tried again
DEAD_LETTER = "dead_letter"  # a delivery failed for good: dead-lettered, or given up on
SKIP = "skip"  # an event the bridge's mapping does not send anywhere
REQUEST = "request"  # one HTTP request whose outcome the service logged otherwise (a detail, at DEBUG)
KINDS = (ARRIVAL, REFUSAL, DELIVERY, RETRY, DEAD_LETTER, SKIP, REQUEST)

_ATTRIBUTE = "swoosh_fields"


def fields(kind: str, **values: Any) -> dict[str, Any]:
    """The `extra=` of a log record: its kind and fields."""
    return {_ATTRIBUTE: {"kind": kind, **values}}


def fields_of(record: logging.LogRecord) -> dict[str, Any] | None:
    """The fields a service put on `record` (with "kind"), or None for a record without them."""
    found = getattr(record, _ATTRIBUTE, None)
    return found if isinstance(found, dict) else None


def safe_url(url: str) -> str:
    """`url` as a log may show it: scheme, host, port and path only (user info and query can hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: not worth showing
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
