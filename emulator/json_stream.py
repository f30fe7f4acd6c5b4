"""A JSON document written a piece at a time: the parts a backend marks `Lazy` (a million stored events in
an export) are read and written a chunk of records at a time, never held whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

CHUNK = 1000  # records per written piece


class Lazy:
    """Records read as the document is written (an iterable of JSON values, e.g. a store's rows)."""

    __slots__ = ("records",)

    def __init__(self, records: Iterable[Any]) -> None:
        self.records = records


def document_chunks(document: dict[str, Any], prepare: Callable[[Any], Any]) -> Iterator[bytes]:
    """`document` as JSON bytes, each record of a `Lazy` part passed through `prepare` (redaction: the rest
    of the document is the caller's to redact, `Lazy` parts left in place) as it is written.

    A `Lazy` part that fails while it is read (the store closed, a reset replaced it) still gives a
    well-formed document: its array ends where the failure came, and the document gets an `"error"`
    member saying so, which an import refuses (the status line went out before the records were read)."""
    problems: list[str] = []
    yield from _object(document, prepare, problems)
    if problems:
        yield b',"error":' + _dumps("; ".join(problems)) + b"}"
    else:
        yield b"}"


def _object(value: dict[str, Any], prepare: Callable[[Any], Any], problems: list[str]) -> Iterator[bytes]:
    """The members of `value` after an opening brace; the caller closes it."""
    yield b"{"
    for index, (key, item) in enumerate(value.items()):
        yield (b"," if index else b"") + _dumps(str(key)) + b":"
        if isinstance(item, Lazy):
            yield from _array(item, prepare, problems, str(key))
        elif isinstance(item, dict) and _holds_lazy(item):
            yield from _object(item, prepare, problems)
            yield b"}"
        else:
            yield _dumps(item)


def _array(lazy: Lazy, prepare: Callable[[Any], Any], problems: list[str], name: str) -> Iterator[bytes]:
    yield b"["
    written = 0
    piece: list[bytes] = []
    try:
        for record in lazy.records:
            piece.append(_dumps(prepare(record)))
            if len(piece) == CHUNK:
                yield (b"," if written else b"") + b",".join(piece)
                written += len(piece)
                piece = []
    except Exception as exc:  # the status line is out: the body is the only place to say it
        problems.append(f"{name}: reading failed after {written + len(piece)} records: {exc}")
    if piece:
        yield (b"," if written else b"") + b",".join(piece)
    yield b"]"


def _holds_lazy(value: dict[str, Any]) -> bool:
    return any(isinstance(item, Lazy) or (isinstance(item, dict) and _holds_lazy(item)) for item in value.values())


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
