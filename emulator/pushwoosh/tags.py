"""Pushwoosh tag values: types, inference, validation, the setTags operations and comparisons.

Both targeting forms (createMessage `conditions` and the segmentation language) compare tags through
`comparison()` here, so a condition means the same thing whichever way it is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

import orjson

from swoosh.emulator.clock import parse_iso
from swoosh.emulator.wire import shown


class TagType(IntEnum):
    """Tag types with Pushwoosh's numeric codes (as in addTag / listTags)."""

    INTEGER = 1
    STRING = 2
    LIST = 3
    DATE = 4
    BOOLEAN = 5
    DECIMAL = 6
    VERSION = 7


class TagValueError(ValueError):
    """A value or operand a tag of that type cannot take; the text is fit for a 210 status_message."""


class Operator(StrEnum):
    """Condition operators; NOTSET is the only one that matches devices without the tag."""

    EQ = "EQ"
    NOTEQ = "NOTEQ"
    IN = "IN"
    NOTIN = "NOTIN"
    GTE = "GTE"
    LTE = "LTE"
    BETWEEN = "BETWEEN"
    NOTSET = "NOTSET"


def parse_operator(text: object) -> Operator:
    """The operator named `text`, case-insensitively."""
    if isinstance(text, str):
        try:
            return Operator(text.upper())
        except ValueError:
            pass
    raise TagValueError(f"unknown operator {shown(text)}; expected one of {', '.join(Operator)}")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DATE_FORMAT = "%Y-%m-%d %H:%M"
_PUSHWOOSH_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
_DAYS_AGO = re.compile(r"\s*(\d{1,6})\s+days?\s+ago\s*", re.IGNORECASE)
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d{1,19}\s*")
_VERSION_TEXT = re.compile(r"\d{1,9}(?:\.\d{1,9}){0,3}")
# Unix seconds representable as a datetime (years 1 to 9999), so every stored date renders.
_MIN_UNIX, _MAX_UNIX = -62135596800, 253402300799
_DATE_INPUT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
_SCALARS = (str, int, float, bool)


def _is_pushwoosh_date(text: str) -> bool:
    if not _PUSHWOOSH_DATE.fullmatch(text):
        return False
    try:
        datetime.strptime(text, DATE_FORMAT)
    except ValueError:
        return False
    return True


def infer_type(value: Any) -> TagType:
    """The type a new tag gets from its first value (setTags with auto-create, track-user traits).

    bool -> BOOLEAN, int -> INTEGER, float -> DECIMAL, list -> LIST, a string in Pushwoosh's own
    date format "YYYY-MM-DD HH:mm" -> DATE, anything else STRING. Other date-looking strings (ISO
    8601) stay STRING: guessing wrong would make the tag refuse its later, non-date values.
    """
    if isinstance(value, bool):
        return TagType.BOOLEAN
    if isinstance(value, int):
        return TagType.INTEGER
    if isinstance(value, float):
        return TagType.DECIMAL
    if isinstance(value, list | tuple):
        return TagType.LIST
    if isinstance(value, str) and _is_pushwoosh_date(value):
        return TagType.DATE
    return TagType.STRING


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TagValueError("integer tag value expected, got a boolean")
    if (isinstance(value, float) and value.is_integer()) or (isinstance(value, str) and _INTEGER_TEXT.fullmatch(value)):
        value = int(value)
    if not isinstance(value, int):
        raise TagValueError(f"integer tag value expected, got {_describe(value)}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise TagValueError("integer tag value out of the 64-bit range")
    return value


def _number(value: Any, what: str = "decimal") -> int | float:
    """A finite number from a number or numeric text (ints stay ints so big integers stay exact)."""
    if isinstance(value, bool):
        raise TagValueError(f"{what} tag value expected, got a boolean")
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if _INTEGER_TEXT.fullmatch(text) else float(text)
        except ValueError:
            raise TagValueError(f"{what} tag value expected, got {_describe(value)}") from None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    shown = value if isinstance(value, float) else _describe(value)
    raise TagValueError(f"{what} tag value expected, got {shown}")


def _decimal(value: Any) -> float:
    number = _number(value)
    try:
        result = float(number)
    except OverflowError:
        raise TagValueError("decimal tag value out of range") from None
    return result


def _text(value: Any) -> str:
    """A scalar as the text a string tag stores: JSON spelling for booleans and numbers."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise TagValueError(f"string tag value expected, got {_describe(value)}")


def _string(value: Any) -> str:
    if isinstance(value, dict):
        # A nested object (a Segment trait such as `address`) is kept as its JSON text, not lost.
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            raise TagValueError("string tag value expected, got an object that is not JSON") from None
    return _text(value)


def _list(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    result: list[str] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, _SCALARS):
            raise TagValueError(f"list tag items must be strings or numbers, got {_describe(item)}")
        text = _text(item)
        if text not in seen:
            seen.add(text)
            result.append(text)
    return result


def _unix(seconds: float) -> int:
    if not math.isfinite(seconds) or not _MIN_UNIX <= seconds <= _MAX_UNIX:
        raise TagValueError("date tag value out of range")
    return int(seconds)


def _date(value: Any) -> int:
    """Unix seconds, to the whole minute (the wire form's precision, so a value survives a getTags
    round trip), from "YYYY-MM-DD HH:mm" (UTC), "YYYY-MM-DD[ HH:mm:ss]", ISO 8601 or a unix time."""
    return _seconds(value) // 60 * 60


def _seconds(value: Any) -> int:
    if isinstance(value, bool):
        raise TagValueError("date tag value expected, got a boolean")
    if isinstance(value, int | float):
        return _unix(value)
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_INPUT_FORMATS:
            try:
                return _unix(datetime.strptime(text, pattern).replace(tzinfo=UTC).timestamp())
            except ValueError:
                continue
        parsed = parse_iso(text) if "T" in text else None
        if parsed is not None:
            return _unix(parsed.timestamp())
        raise TagValueError(f'date tag value expected as "YYYY-MM-DD HH:mm", got {shown(value)}')
    raise TagValueError(f"date tag value expected, got {_describe(value)}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise TagValueError(f"boolean tag value expected, got {_describe(value)}")


def _version(value: Any) -> str:
    """A canonical "1.2.3" (up to four numeric parts, leading zeros dropped)."""
    if isinstance(value, bool):
        raise TagValueError("version tag value expected, got a boolean")
    if isinstance(value, int) and value >= 0:
        value = str(value)
    elif isinstance(value, float) and math.isfinite(value) and value >= 0:
        value = repr(value)
    if isinstance(value, str) and _VERSION_TEXT.fullmatch(value.strip()):
        return ".".join(str(int(part)) for part in value.strip().split("."))
    raise TagValueError(f'version tag value expected like "1.2.3", got {shown(value)}')


_COERCERS: dict[TagType, Callable[[Any], Any]] = {
    TagType.INTEGER: _integer,
    TagType.STRING: _string,
    TagType.LIST: _list,
    TagType.DATE: _date,
    TagType.BOOLEAN: _boolean,
    TagType.DECIMAL: _decimal,
    TagType.VERSION: _version,
}


def coerce(value: Any, tag_type: TagType) -> Any:
    """The stored form of `value` for a tag of `tag_type`, or TagValueError.

    Stored forms: int, str, list[str] (deduplicated, order kept), date as int unix seconds (whole minutes), bool,
    float, version as canonical str. Numeric text is accepted for numbers, as SDKs send it.
    """
    if value is None:
        raise TagValueError("null is not a tag value (it removes the tag)")
    return _COERCERS[TagType(tag_type)](value)


def apply_operation(current: Any, operation: Any, tag_type: TagType) -> Any:
    """The value after a setTags operation `{"operation": "increment"|"append"|"remove", "value": v}`.

    `current` is the stored value or None when the tag is unset (increment starts from 0, append and
    remove from an empty list).
    """
    if not isinstance(operation, dict) or not isinstance(operation.get("operation"), str):
        raise TagValueError('tag operation must be {"operation": "increment" | "append" | "remove", "value": ...}')
    name = operation["operation"].lower()
    if "value" not in operation or operation["value"] is None:
        raise TagValueError(f"tag operation {shown(name)} needs a value")
    tag_type = TagType(tag_type)
    if name == "increment":
        if tag_type is TagType.INTEGER:
            return _integer((current or 0) + _integer(operation["value"]))
        if tag_type is TagType.DECIMAL:
            return _decimal((current or 0.0) + _decimal(operation["value"]))
        raise TagValueError(f"increment applies to integer and decimal tags, not {tag_type.name.lower()}")
    if name in ("append", "remove"):
        if tag_type is not TagType.LIST:
            raise TagValueError(f"{name} applies to list tags, not {tag_type.name.lower()}")
        items = _list(operation["value"])
        existing = list(current or [])
        if name == "append":
            return existing + [item for item in items if item not in existing]
        dropped = set(items)
        return [item for item in existing if item not in dropped]
    raise TagValueError(f"unknown tag operation {shown(operation['operation'])}; expected increment, append or remove")


def render_value(stored: Any, tag_type: TagType) -> Any:
    """The wire form of a stored value (getTags replies, personalisation): dates as "YYYY-MM-DD HH:mm"."""
    if tag_type == TagType.DATE:
        return datetime.fromtimestamp(stored, tz=UTC).strftime(DATE_FORMAT)
    if tag_type == TagType.LIST:
        return list(stored)
    return stored


def check_operand(operator: Operator, operand: Any) -> Any:
    """The operand in the shape `operator` needs, checked before any tag type is known.

    IN/NOTIN take a list, BETWEEN a [min, max] pair (as a tuple), NOTSET nothing (None), the rest
    one scalar (string, number or boolean).
    """
    if operator is Operator.NOTSET:
        return None
    if operator in (Operator.IN, Operator.NOTIN, Operator.BETWEEN):
        if not isinstance(operand, list | tuple) or not all(isinstance(item, _SCALARS) for item in operand):
            raise TagValueError(f"{operator} needs a list of values, got {_describe(operand)}")
        if operator is Operator.BETWEEN and len(operand) != 2:
            raise TagValueError(f"BETWEEN needs [min, max], got a list of {len(operand)}")
        return tuple(operand)
    if not isinstance(operand, _SCALARS):
        raise TagValueError(f"{operator} needs a single value, got {_describe(operand)}")
    return operand


def date_operand(value: Any, now: float) -> int:
    """Unix seconds from a date operand: a date, a unix time, or "N days ago" (relative to `now`)."""
    if isinstance(value, str):
        relative = _DAYS_AGO.fullmatch(value)
        if relative:
            return _unix(now - int(relative.group(1)) * 86400)
    return _date(value)


def _version_key(version: str) -> tuple[int, ...]:
    parts = tuple(int(part) for part in version.split("."))
    return parts + (0,) * (4 - len(parts))


Predicate = Callable[[Any], bool]
_ORDERED = (TagType.INTEGER, TagType.DECIMAL, TagType.DATE, TagType.VERSION)


# A tag's comparable key: a number, a string, a boolean or a version tuple; ordered within its own type.
Key = Any


def _operand_key(tag_type: TagType, now: float) -> tuple[Callable[[Any], Key], Callable[[Any], Key]]:
    """(stored value -> comparable key, operand -> comparable key) for a scalar tag type."""
    if tag_type in (TagType.INTEGER, TagType.DECIMAL):
        return (lambda stored: stored), (lambda operand: _number(operand, tag_type.name.lower()))
    if tag_type is TagType.DATE:
        # Dates compare to the minute, the precision of the "YYYY-MM-DD HH:mm" wire form.
        return (lambda stored: stored // 60), (lambda operand: date_operand(operand, now) // 60)
    if tag_type is TagType.VERSION:
        return (lambda stored: _version_key(stored)), (lambda operand: _version_key(_version(operand)))
    if tag_type is TagType.BOOLEAN:
        return (lambda stored: stored), _boolean
    return (lambda stored: stored), _text


def _list_comparison(operator: Operator, operand: Any) -> Predicate:
    """List tags: EQ/NOTEQ test membership of one value, IN/NOTIN any overlap with the operand list."""
    if operator is Operator.EQ:
        wanted = _text(operand)
        return lambda stored: wanted in stored
    if operator is Operator.NOTEQ:
        unwanted = _text(operand)
        return lambda stored: unwanted not in stored
    if operator in (Operator.IN, Operator.NOTIN):
        values = frozenset(_text(item) for item in operand)
        if operator is Operator.IN:
            return lambda stored: not values.isdisjoint(stored)
        return lambda stored: values.isdisjoint(stored)
    raise TagValueError(f"{operator} does not apply to list tags")


def comparison(operator: Operator, operand: Any, tag_type: TagType, now: float) -> Predicate:
    """A predicate over a SET tag's stored value; build it once per condition and type, call per device.

    `operand` must have passed `check_operand`. Raises TagValueError when the operand does not fit
    the type (e.g. GTE "abc" on an integer tag, GTE on a string tag).
    """
    tag_type = TagType(tag_type)
    if operator is Operator.NOTSET:
        return lambda stored: False
    if tag_type is TagType.LIST:
        return _list_comparison(operator, operand)
    if operator in (Operator.GTE, Operator.LTE, Operator.BETWEEN) and tag_type not in _ORDERED:
        raise TagValueError(f"{operator} does not apply to {tag_type.name.lower()} tags")
    key, operand_key = _operand_key(tag_type, now)
    if operator in (Operator.IN, Operator.NOTIN):
        values = frozenset(operand_key(item) for item in operand)
        if operator is Operator.IN:
            return lambda stored: key(stored) in values
        return lambda stored: key(stored) not in values
    if operator is Operator.BETWEEN:
        low, high = operand_key(operand[0]), operand_key(operand[1])
        if low > high:
            raise TagValueError("BETWEEN needs [min, max] with min <= max")
        return lambda stored: low <= key(stored) <= high
    target = operand_key(operand)
    if operator is Operator.EQ:
        return lambda stored: key(stored) == target
    if operator is Operator.NOTEQ:
        return lambda stored: key(stored) != target
    if operator is Operator.GTE:
        return lambda stored: key(stored) >= target
    return lambda stored: key(stored) <= target


def compare(operator: Operator, stored: Any, tag_type: TagType | None, operand: Any, now: float) -> bool:
    """Whether a device whose tag holds `stored` (None: unset) meets `[tag, operator, operand]`.

    Every operator but NOTSET needs the tag to be set: NOTIN and NOTEQ never match a device
    without the tag, as in Pushwoosh.
    """
    if stored is None or tag_type is None:
        return operator is Operator.NOTSET
    return comparison(operator, check_operand(operator, operand), tag_type, now)(stored)
