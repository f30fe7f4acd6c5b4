"""Typed mapping fields, resolved and coerced the way Segment's action runtime does it. Pure, no I/O.

Segment's destination actions declare each field's type (string, number, integer, boolean, datetime,
object) and whether it allows null. Its runtime then (1) reads each field's path from the event, (2)
drops values that are empty for their type (null where null is not allowed, "" at the top level), (3)
checks the payload against the fields as a JSON Schema, coercing scalars to the declared type (a
number in a string field becomes a string, "30.1" in a number field becomes 30.1), and refuses the
event with a sentence naming the field's label when a value cannot be coerced or a required field is
missing. This module does the same with the same texts, so the bridge skips exactly the events the
destination skips and sends the values it sends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

FieldType = Literal["string", "number", "integer", "boolean", "datetime", "object"]
# The JSON types each field type accepts as they are (datetime: a string or a number, as the runtime has it).
_ACCEPTS: dict[str, tuple[str, ...]] = {
    "string": ("string",),
    "number": ("number",),
    "integer": ("integer",),
    "boolean": ("boolean",),
    "datetime": ("string", "number"),
    "object": ("object",),
}


class _Undefined:
    """A path that resolves to nothing (JavaScript's `undefined`): the field is left out."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class Field:
    """One field of a destination action: where its value comes from and what type it must have.

    `path` is a dotted path into the event (`context.device.id`); `a|b` takes `a` when it exists (is
    neither missing nor null), else `b`, like the destination's `@if exists`. An object field with
    `members` is built from them (each with its own path) instead of read from one path.
    """

    key: str
    label: str
    path: str
    type: FieldType = "string"
    nullable: bool = False
    required: bool = False
    members: tuple[Field, ...] = ()

    def types(self) -> tuple[str, ...]:
        return _ACCEPTS[self.type] + (("null",) if self.nullable else ())


class Refused(ValueError):
    """The event is refused before anything is sent; the message is the destination's own text."""


# -- reading paths, as JavaScript's `a && a[key]` chain does ---------------------------------------------
def _truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def get(event: Any, path: str) -> Any:
    """The value at a dotted path; a falsy value on the way is the answer (JavaScript's `&&`)."""
    current = event
    for key in path.split("."):
        if not _truthy(current):
            return current
        if isinstance(current, Mapping):
            current = current.get(key, UNDEFINED)
        elif isinstance(current, (list, str)) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            current = UNDEFINED
    return current


def resolve(event: Any, field: Field) -> Any:
    """The field's raw value before coercion (UNDEFINED when nothing is there)."""
    if field.members:
        built = {member.key: resolve(event, member) for member in field.members}
        return {k: v for k, v in built.items() if v is not UNDEFINED}
    first, _, otherwise = field.path.partition("|")
    value = get(event, first)
    if otherwise and (value is UNDEFINED or value is None):
        value = get(event, otherwise)
    return value


# -- JavaScript's number <-> string conversions -----------------------------------------------------------
def js_number_text(number: float) -> str:
    """`String(number)` in JavaScript: 1.0 -> "1", 1e21 -> "1e+21", 1e-7 -> "1e-7"."""
    if isinstance(number, int) and abs(number) < 2**53:
        return str(number)
    number = float(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = f"{abs(number)!r}".partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction.rstrip("0")).lstrip("0") or "0"
    point = len(whole.lstrip("0")) if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")))
    point += int(exponent or 0)  # the value is 0.DIGITS x 10^point
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = (digits if k == 1 else digits[0] + "." + digits[1:]) + f"e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + text


_DECIMAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)")
_RADIX = {"0x": 16, "0o": 8, "0b": 2}
# The characters JavaScript's Number() trims (WhiteSpace and LineTerminator).
_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_to_number(text: str) -> float | None:
    """`Number(text)` in JavaScript; None where it is NaN."""
    text = text.strip(_JS_SPACE)
    if not text:
        return 0.0
    radix = _RADIX.get(text[:2].lower())
    if radix:
        try:
            return float(int(text[2:], radix)) if text[2:].isalnum() else None
        except ValueError:
            return None
    if not _DECIMAL.fullmatch(text):
        return None
    return float(text.replace("Infinity", "inf"))


def _number(value: float) -> int | float:
    """A JavaScript number as Python sends it: integral values without a fraction (30 not 30.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# -- the runtime's steps ----------------------------------------------------------------------------------
def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _matches(value: Any, types: tuple[str, ...]) -> bool:
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def drop_empty(payload: dict[str, Any], fields: tuple[Field, ...], top: bool = True) -> dict[str, Any]:
    """Leave out null where the field does not allow it, "" where it is not a string, and "" at the top."""
    by_key = {field.key: field for field in fields}
    kept: dict[str, Any] = {}
    for key, value in payload.items():
        field = by_key.get(key)
        if field is not None:
            if isinstance(value, dict) and field.members:
                value = drop_empty(value, field.members, top=False)
            elif (value is None and "null" not in field.types()) or (value == "" and "string" not in field.types()):
                continue
        if top and value == "":
            continue
        kept[key] = value
    return kept


def _article(text: str) -> str:
    return "an" if text[:1] in "aeiou" else "a"


def _humanize_types(types: tuple[str, ...]) -> str:
    if len(types) <= 2:
        return " or ".join(types)
    return ", ".join(types[:-1]) + ", or " + types[-1]


def _type_of(value: Any) -> str:
    """How the runtime's refusals name a value's type ("an array", "a number", "null")."""
    kind = _json_type(value).replace("integer", "number")
    return kind if kind == "null" else f"{_article(kind)} {kind}"


_COERCIBLE = frozenset({"string", "number", "integer", "boolean", "null"})  # the runtime never coerces to object


def _coerce(value: Any, field: Field) -> Any:
    """The value as the field's type, or raise a Refused naming the field (the runtime's coercion rules)."""
    types = field.types()
    if _matches(value, types):
        return value
    if not _COERCIBLE.intersection(types):
        raise Refused(_type_refusal(field, value))
    if isinstance(value, list) and len(value) == 1:  # a one-item array stands for its item...
        value = value[0]
        if len(types) == 1 and _matches(value, types):  # ...taken as is only by a single-type field
            return value
    for wanted in types:
        coerced = _coerce_to(value, wanted)
        if coerced is not UNDEFINED:
            return coerced
    raise Refused(_type_refusal(field, value))


def _type_refusal(field: Field, value: Any) -> str:
    expected = _humanize_types(field.types())
    return f"{field.label} must be {_article(expected)} {expected} but it was {_type_of(value)}."


def _coerce_to(value: Any, wanted: str) -> Any:
    kind = _json_type(value)
    if wanted == "string":
        if kind in ("integer", "number"):
            return js_number_text(value)
        if kind == "boolean":
            return "true" if value else "false"
        return "" if value is None else UNDEFINED
    if wanted in ("number", "integer"):
        if kind == "boolean":
            return int(value)
        if value is None:
            return 0
        if kind == "string" and value:
            number = js_to_number(value)
            if number is not None and (wanted == "number" or number.is_integer()):
                return _number(number)
        return UNDEFINED
    if wanted == "boolean":
        if value in ("false", 0, None) and kind != "boolean":
            return False
        if value in ("true", 1) and kind != "boolean":
            return True
        return UNDEFINED
    if wanted == "null":
        return None if value in ("", 0) or value is False else UNDEFINED
    return UNDEFINED


MAX_DATE_MS = 8.64e15  # the range of a JavaScript Date
_DAYJS = re.compile(r"^(\d{4})[-/]?(\d{1,2})?[-/]?(\d{0,2})[Tt\s]*(\d{1,2})?:?(\d{1,2})?:?(\d{1,2})?[.:]?(\d+)?$")


def is_date_like(text: str) -> bool:
    """Whether the runtime's date check (dayjs) reads `text` as a date: epoch seconds or milliseconds,
    its own `YYYY-MM-DD hh:mm:ss` forms, or what a JavaScript Date parses (ISO 8601 here)."""
    number = js_to_number(text) if text.strip(_JS_SPACE) else None
    if number is not None and js_number_text(number) == text:
        return math.isfinite(number) and abs(number) * 1000 <= MAX_DATE_MS
    if _DAYJS.match(text) and not text.upper().endswith("Z"):
        return True
    try:
        datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        try:
            parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return False
    return True


def validate(payload: dict[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """Coerce every value to its field's type; raise Refused with all the runtime's complaints, in its order."""
    problems = [
        f"The root value is missing the required field '{field.key}'."
        for field in fields
        if field.required and field.key not in payload
    ]
    coerced = dict(payload)
    for field in fields:
        if field.key not in payload:
            continue
        try:
            coerced[field.key] = _checked(payload[field.key], field)
        except Refused as refusal:
            problems.append(str(refusal))
    if problems:
        raise Refused(" ".join(problems))
    return coerced


def _checked(value: Any, field: Field) -> Any:
    value = _coerce(value, field)
    if field.type == "datetime" and isinstance(value, str) and not is_date_like(value):
        raise Refused(f"{field.label} must be a valid date-like string but it was not.")
    if field.members and isinstance(value, dict):
        known = {member.key for member in field.members}
        value = validate({k: v for k, v in value.items() if k in known}, field.members)
    return value


def payload_for(event: Mapping[str, Any], fields: tuple[Field, ...], batched: bool = False) -> dict[str, Any]:
    """The action's payload for `event`: resolved, emptied of empty values, coerced; Refused if it cannot be.

    `batched`: the runtime's batch path keeps top-level empty strings (so `userId: ""` is sent as "").
    """
    resolved = {field.key: resolve(event, field) for field in fields}
    present = {k: v for k, v in resolved.items() if v is not UNDEFINED}
    return validate(drop_empty(present, fields, top=not batched), fields)
