"""An injectable clock: backends ask it for the time so tests can move time forward."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time plus an adjustable offset (never goes backwards on its own)."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = offset_seconds
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, like `time.time()`, including the offset."""
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> datetime:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("the clock only moves forward, by a finite number of seconds")
        with self._lock:
            self._offset = _checked_offset(self._offset + seconds)
        return self.now()

    def set_offset(self, seconds: float) -> None:
        checked = _checked_offset(seconds)
        with self._lock:
            self._offset = checked

    def reset(self) -> None:
        self.set_offset(0.0)


LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def _checked_offset(offset: float) -> float:
    """`offset` when the time it gives stays a datetime (1970 to 9999), else ValueError: a NaN or a
    1e300 offset would make every later timestamp raise, so it is refused before anything changes."""
    if not math.isfinite(offset):
        raise ValueError("the clock offset must be a finite number of seconds")
    moment = time.time() + offset
    if not 0 <= moment <= LATEST:
        raise ValueError(f"the clock would read {moment:.6g} s since the epoch: outside 1970 to 9999")
    return float(offset)


def iso_millis(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and `Z`, the format Segment and Pushwoosh emit."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"; milliseconds are truncated


def parse_iso(value: object) -> datetime | None:
    """Lenient ISO-8601 parsing (offsets, `Z`, any fraction length); None when unparseable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    try:  # fast path: the common canonical forms
        parsed = datetime.fromisoformat(text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        tail = rest[len(digits) :]
        text = f"{head}.{(digits + '000000')[:6]}{tail}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
