"""Reading request bodies the way the real edges do: any Content-Type, gzip, hard size caps."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

ORJSON_WRITE_DEPTH = 255  # orjson.dumps refuses deeper values ("Recursion limit reached")
MAX_STORED_DEPTH = 200  # what a kept request may nest, leaving room for the records and answers around it


class BodyError(Exception):
    """A body the service refuses as a whole; `code` and `message` go on the wire."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def read_raw(stream: Any, content_length: int | None, limit: int) -> bytes:
    """Read at most `limit + 1` bytes, so an oversize body is detected without buffering it all."""
    if content_length is not None and content_length > limit:
        # Drain nothing more: the caller answers 400 and the connection is closed by the server.
        raise BodyError("request_too_large", f"Request body exceeds {limit} bytes")
    data = stream.read(limit + 1) if content_length is None else stream.read(min(content_length, limit + 1))
    if len(data) > limit:
        raise BodyError("request_too_large", f"Request body exceeds {limit} bytes")
    return data


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """Decompress gzip, stopping as soon as the output passes `limit` (a gzip bomb costs nothing)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise BodyError("request_too_large", f"Decompressed body exceeds {limit} bytes")
        if not inflater.eof:
            raise BodyError("malformed_gzip", "Malformed gzip content")
    except zlib.error as exc:
        raise BodyError("malformed_gzip", "Malformed gzip content") from exc
    return out


def decode_body(raw: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Apply Content-Encoding (gzip only, like Segment's edge) and the post-decompression limit."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return gunzip_bounded(raw, limit)
    if encoding not in ("", "identity"):
        raise BodyError("unsupported_encoding", f"Unsupported Content-Encoding: {encoding}")
    if len(raw) > limit:
        raise BodyError("request_too_large", f"Request body exceeds {limit} bytes")
    return raw


def parse_json(data: bytes) -> Any:
    """Parse JSON whatever the declared Content-Type; invalid JSON is a BodyError."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BodyError("invalid_json", "Invalid JSON") from exc


def parse_storable_json(data: bytes) -> Any:
    """`parse_json` for a service that keeps what it is sent: a body nested deeper than it could be written
    back (a stored record, an export, a control API answer) is a BodyError, before any of it is kept."""
    body = parse_json(data)
    if not storable(body):
        raise BodyError("too_deeply_nested", f"JSON nested more than {MAX_STORED_DEPTH} levels deep")
    return body


def storable(value: Any) -> bool:
    """Whether `value` can be written as JSON a few levels down (in a stored record, an export): orjson
    reads up to 1,024 levels but writes only 255, so a request could carry what could never be written."""
    for _ in range(ORJSON_WRITE_DEPTH - MAX_STORED_DEPTH):
        value = [value]
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


def dumps(value: Any) -> bytes:
    """Fast JSON encoding; non-JSON values (datetimes, sets) are turned into strings."""
    return orjson.dumps(value, default=str)


def shown(value: Any) -> str:
    """A value as a reply names it: JSON (`"three"`, `null`, `42`), never a Python repr (`'three'`, `None`)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return orjson.dumps(str(value)).decode()
