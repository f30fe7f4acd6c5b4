"""KSUIDs as Segment assigns them (`api-<27 chars>`): time-sortable, base62, 20 bytes."""

from __future__ import annotations

import os

_EPOCH = 1_400_000_000
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 27


def ksuid(unix_seconds: float, payload: bytes | None = None) -> str:
    """A 27-character KSUID: 4 bytes of seconds since 2014-05-13 then 16 random bytes."""
    stamp = max(0, int(unix_seconds) - _EPOCH) & 0xFFFFFFFF
    body = payload if payload is not None else os.urandom(16)
    number = int.from_bytes(stamp.to_bytes(4, "big") + body, "big")
    chars = []
    while number:
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(_LENGTH, "0")


def ksuid_timestamp(value: str) -> int:
    """The unix second a KSUID was made at (for tests and inspection)."""
    number = 0
    for ch in value:
        number = number * 62 + _ALPHABET.index(ch)
    return (number >> 128) + _EPOCH
