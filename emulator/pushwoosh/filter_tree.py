"""The filter tree a segment compiles to: conditions and their combinations, evaluated per device.

A filter is evaluated per device against `Facts` (what the backend knows about that device), so
targeting 100,000 devices is a walk over plain Python objects with no parsing or regex per device.
Tag comparisons live in `tags.py`; the language that builds these trees is `seglang.py`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from swoosh.contracts.shared_names import DEVICE_TYPES
from swoosh.emulator.pushwoosh.tags import Operator, TagType, TagValueError, comparison

SECONDS_PER_DAY = 86400


class SeglangError(ValueError):
    """A filter that cannot be parsed; `position` is the 0-based offset of the offending text."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message if self.position is None else f"{self.message} at position {self.position}"


class Facts(Protocol):
    """What a filter may ask about one device; the backend implements it over its own state."""

    application: str
    device_type: int | None  # None: a platform Pushwoosh does not know

    @property
    def user_id(self) -> str | None: ...

    def tag(self, name: str, application: str | None = None) -> tuple[TagType, Any] | None:
        """The device's (or its user's) tag as (type, stored value); None when unset."""
        ...

    def triggered(self, event: str, since: float | None, application: str | None = None) -> bool:
        """Whether the device's user (the device itself when it has no user) posted `event` at or after `since`."""
        ...


class Filter(ABC):
    """A parsed filter: evaluate with `matches`, print canonically with `str()`."""

    @abstractmethod
    def matches(self, facts: Facts, now: float) -> bool:
        """Whether the device described by `facts` is in the segment at unix time `now`."""

    @abstractmethod
    def applications(self) -> set[str]:
        """Every application code the filter names (in A and AT), e.g. to check they exist."""

    @abstractmethod
    def scope(self) -> frozenset[str] | None:
        """The applications a matching device must belong to, or None when any application can match.

        Use this, not `applications()`, to pre-narrow candidates: in `A("X") + T("Tag", EQ, 1)` the
        tag condition matches devices of every application.
        """


def _literal(value: Any) -> str:
    """A value in the language's own spelling (JSON-like), so `parse(str(f))` gives `f` back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class AppCondition(Filter):
    """`A("CODE")`: devices of an application, optionally only on some platforms (device type codes)."""

    code: str
    platforms: tuple[int, ...] | None = None

    def matches(self, facts: Facts, now: float) -> bool:
        return facts.application == self.code and (self.platforms is None or facts.device_type in self.platforms)

    def applications(self) -> set[str]:
        return {self.code}

    def scope(self) -> frozenset[str] | None:
        return frozenset((self.code,))

    def __str__(self) -> str:
        if self.platforms is None:
            return f"A({_literal(self.code)})"
        names = tuple(DEVICE_TYPES[code].name for code in self.platforms)
        return f"A({_literal(self.code)}, {_literal(names)})"


def _never(stored: Any) -> bool:
    return False


@dataclass(frozen=True)
class TagCondition(Filter):
    """`T("Tag", OP, value)`, or `AT("APP", "Tag", OP, value)` when `application` is set."""

    name: str
    operator: Operator
    operand: Any = None
    application: str | None = None
    # (tag type) -> (the `now` it was built for, or None when it does not depend on now; predicate)
    _predicates: dict[TagType, tuple[float | None, Callable[[Any], bool]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def _predicate(self, tag_type: TagType, now: float) -> Callable[[Any], bool]:
        built_for = now if tag_type == TagType.DATE else None
        cached = self._predicates.get(tag_type)
        if cached is not None and cached[0] == built_for:
            return cached[1]
        try:
            predicate = comparison(self.operator, self.operand, tag_type, now)
        except TagValueError:
            # An operand that does not fit this tag's type (GTE "abc" on an integer) matches no device.
            predicate = _never
        self._predicates[tag_type] = (built_for, predicate)
        return predicate

    def matches(self, facts: Facts, now: float) -> bool:
        if self.application is not None and facts.application != self.application:
            return False
        found = facts.tag(self.name, self.application)
        if found is None:
            return self.operator is Operator.NOTSET
        tag_type, stored = found
        try:
            return self._predicate(tag_type, now)(stored)
        except (TypeError, ValueError):
            # A stored value not in its type's stored form (hand-edited imported state) matches nothing.
            return False

    def applications(self) -> set[str]:
        return set() if self.application is None else {self.application}

    def scope(self) -> frozenset[str] | None:
        return None if self.application is None else frozenset((self.application,))

    def __str__(self) -> str:
        args = [_literal(self.name), self.operator.value]
        if self.operator is not Operator.NOTSET:
            args.append(_literal(self.operand))
        if self.application is None:
            return f"T({', '.join(args)})"
        return f"AT({_literal(self.application)}, {', '.join(args)})"


@dataclass(frozen=True)
class EventCondition(Filter):
    """`E("Event"[, days])` or `E("APP", "Event"[, days])`: the user triggered the event (within N days)."""

    event: str
    days: int | None = None
    application: str | None = None

    def matches(self, facts: Facts, now: float) -> bool:
        since = None if self.days is None else now - self.days * SECONDS_PER_DAY
        return facts.triggered(self.event, since, self.application)

    def applications(self) -> set[str]:
        return set()

    def scope(self) -> frozenset[str] | None:
        return None

    def __str__(self) -> str:
        args = [_literal(self.event)]
        if self.application is not None:
            args.insert(0, _literal(self.application))
        if self.days is not None:
            args.append(str(self.days))
        return f"E({', '.join(args)})"


AND, MINUS = "*", "\\"


@dataclass(frozen=True)
class Conjunction(Filter):
    """`first * x \\ y ...`: left to right, `*` keeps devices matching x, `\\` drops devices matching y."""

    first: Filter
    rest: tuple[tuple[str, Filter], ...]

    def matches(self, facts: Facts, now: float) -> bool:
        if not self.first.matches(facts, now):
            return False
        return all(operand.matches(facts, now) == (operator == AND) for operator, operand in self.rest)

    def applications(self) -> set[str]:
        return self.first.applications().union(*(operand.applications() for _, operand in self.rest))

    def scope(self) -> frozenset[str] | None:
        scopes = [self.first.scope()] + [operand.scope() for operator, operand in self.rest if operator == AND]
        known = [scope for scope in scopes if scope is not None]
        return frozenset.intersection(*known) if known else None

    def __str__(self) -> str:
        def part(node: Filter) -> str:
            return f"({node})" if isinstance(node, Conjunction | Disjunction) else str(node)

        return part(self.first) + "".join(f" {operator} {part(operand)}" for operator, operand in self.rest)


@dataclass(frozen=True)
class Disjunction(Filter):
    """`x + y + ...`: devices matching any of the parts."""

    parts: tuple[Filter, ...]

    def matches(self, facts: Facts, now: float) -> bool:
        return any(part.matches(facts, now) for part in self.parts)

    def applications(self) -> set[str]:
        return set().union(*(part.applications() for part in self.parts))

    def scope(self) -> frozenset[str] | None:
        scopes = [part.scope() for part in self.parts]
        if any(scope is None for scope in scopes):
            return None
        return frozenset().union(*scopes)  # type: ignore[arg-type]  # None scopes were returned before this line

    def __str__(self) -> str:
        return " + ".join(f"({part})" if isinstance(part, Disjunction) else str(part) for part in self.parts)


def _conditions(segment: Filter) -> Iterator[Filter]:
    """The conditions a filter combines (its leaves)."""
    pending = [segment]
    while pending:
        node = pending.pop()
        if isinstance(node, Conjunction):
            pending.extend([node.first, *(operand for _, operand in node.rest)])
        elif isinstance(node, Disjunction):
            pending.extend(node.parts)
        else:
            yield node


def _tag_conditions(segment: Filter) -> Iterator[TagCondition]:
    return (node for node in _conditions(segment) if isinstance(node, TagCondition))


def uses_events(segment: Filter) -> bool:
    """Whether matching asks for the devices' event histories (an `E(...)` condition)."""
    return any(isinstance(node, EventCondition) for node in _conditions(segment))


def check_types(segment: Filter, type_of: Callable[[str, str | None], TagType | None], now: float) -> None:
    """Refuse a filter with a condition that cannot apply to its tag's registered type.

    `type_of(name, application)` gives the account's type for a tag (None: unknown, not checked).
    For createFilter/createTargetedMessage, so `T("Age", GTE, "abc")` on an integer tag is a 210
    reply rather than a segment that silently matches nobody.
    """
    for condition in _tag_conditions(segment):
        tag_type = type_of(condition.name, condition.application)
        if tag_type is None:
            continue
        try:
            comparison(condition.operator, condition.operand, tag_type, now)
        except TagValueError as error:
            raise SeglangError(f"{condition}: {error}") from None
