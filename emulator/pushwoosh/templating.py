"""Pushwoosh personalisation: `{Tag|Modifier|default}` placeholders in content, titles and subjects.

Three forms, differing only in what happens when the device has no value for the tag:
    {Tag|Modifier|default}  -> the default text
    {Tag|Modifier}          -> the device gets no message at all (`render` returns None)
    {Tag|Modifier|}         -> the placeholder stays as written
A template is parsed once (and cached) and rendered per device without a regex pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

# `{` name `|` modifier [ `|` default ] `}`; no braces inside, the default may contain `|`.
_PLACEHOLDER = re.compile(r"\{([^{}|]+)\|([^{}|]*)(?:\|([^{}]*))?\}")
_WORD_START = re.compile(r"(^|\s)(\S)")


def _capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _capitalize_all_first(text: str) -> str:
    return _WORD_START.sub(lambda found: found.group(1) + found.group(2).upper(), text)


def _as_is(text: str) -> str:
    return text


# Looked up case-insensitively. An unknown modifier leaves the value as it is: a typo should not
# stop a campaign, and the value is still the right one.
MODIFIERS: dict[str, Callable[[str], str]] = {
    "": _as_is,
    "capitalizefirst": _capitalize_first,
    "capitalizeallfirst": _capitalize_all_first,
    "uppercase": str.upper,
    "lowercase": str.lower,
}


def value_text(value: Any) -> str | None:
    """A tag or placeholder value as message text; None when there is no value.

    Lists are joined with ", ", booleans are "true"/"false", whole decimals drop their ".0".
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        whole = math.isfinite(value) and value.is_integer() and abs(value) < 1e16
        return str(int(value)) if whole else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(text for text in map(value_text, value) if text is not None)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return str(value)


@dataclass(frozen=True, slots=True)
class _Placeholder:
    written: str
    tag: str
    modify: Callable[[str], str]
    default: str | None  # None: the two-part form, "": keep as written, else the default text


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and placeholders, in order."""

    parts: tuple[str | _Placeholder, ...]

    def render(self, values: Mapping[str, Any]) -> str | None:
        """The personalised text, or None when a `{Tag|Modifier}` tag has no value (no message)."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text = value_text(values.get(part.tag))
            if text is not None:
                out.append(part.modify(text))
            elif part.default is None:
                return None
            else:
                out.append(part.default or part.written)
        return "".join(out)

    def placeholders(self) -> list[str]:
        """The tag names the template uses, each once, in order of first use."""
        return list(dict.fromkeys(part.tag for part in self.parts if isinstance(part, _Placeholder)))


@lru_cache(maxsize=512)
def compile_template(template: str) -> Template:
    """Parse `template` once; braces that are not placeholders stay as text."""
    parts: list[str | _Placeholder] = []
    position = 0
    for found in _PLACEHOLDER.finditer(template):
        tag = found.group(1).strip()
        if not tag:
            continue
        if found.start() > position:
            parts.append(template[position : found.start()])
        modify = MODIFIERS.get(found.group(2).strip().casefold(), _as_is)
        parts.append(_Placeholder(found.group(), tag, modify, found.group(3)))
        position = found.end()
    if position < len(template):
        parts.append(template[position:])
    return Template(tuple(parts))


def render(template: str, values: Mapping[str, Any]) -> str | None:
    """`template` personalised with `values` (tag values merged with dynamic_content_placeholders)."""
    return compile_template(template).render(values)


def placeholders(template: str) -> list[str]:
    """The tag names `template` uses, each once, in order of first use."""
    return compile_template(template).placeholders()
