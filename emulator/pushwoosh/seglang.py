"""Pushwoosh's segmentation language and `conditions` arrays, parsed once into a small filter tree.

    A("ABCDE-12345", ["iOS", "Android"]) * T("Country", EQ, "BR") \\ E("Unsubscribed", 30)

A filter is evaluated per device against `Facts` (what the backend knows about that device), so
targeting 100,000 devices is a walk over plain Python objects with no parsing or regex per device.
Tag comparisons live in `tags.py`, shared by both condition forms.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from swoosh.contracts.shared_names import DEVICE_TYPES, platform_by_name
from swoosh.emulator.pushwoosh.tags import Operator, TagType, TagValueError, check_operand, comparison, parse_operator

MAX_NESTING = 64
MAX_NUMBER_LENGTH = 40
MAX_EVENT_DAYS = 36500
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
    device_type: int
    user_id: str | None

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
        return frozenset().union(*scopes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return " + ".join(f"({part})" if isinstance(part, Disjunction) else str(part) for part in self.parts)


# ---------------------------------------------------------------------------------------------- lexer

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[()\[\],*+\\])""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "string", "punct" or "end"
    value: Any
    position: int
    text: str


@dataclass(frozen=True, slots=True)
class _Name:
    """A bare word used as a value (an operator such as EQ)."""

    text: str


def _tokens(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        found = _TOKEN.match(expression, position)
        if found is None:
            if expression[position] == '"':
                raise SeglangError("unterminated string", position)
            raise SeglangError(f"unexpected {expression[position]!r}", position)
        kind, text = found.lastgroup or "", found.group()
        if kind == "number":
            if len(text) > MAX_NUMBER_LENGTH:
                raise SeglangError(f"number longer than {MAX_NUMBER_LENGTH} characters", position)
            value: Any = float(text) if any(ch in text for ch in ".eE") else int(text)
            if isinstance(value, float) and not math.isfinite(value):
                raise SeglangError(f"number {text} out of range", position)
            tokens.append(_Token(kind, value, position, text))
        elif kind == "string":
            try:
                value = json.loads(text, strict=False)
            except ValueError:
                raise SeglangError("invalid escape in string", position) from None
            tokens.append(_Token(kind, value, position, text))
        elif kind != "space":
            tokens.append(_Token(kind, text, position, text))
        position = found.end()
    tokens.append(_Token("end", None, len(expression), ""))
    return tokens


# --------------------------------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class _Argument:
    value: Any
    position: int


@dataclass(frozen=True, slots=True)
class _Call:
    """A function call as written: its name, where it starts, its arguments, where its `)` is."""

    name: str
    position: int
    arguments: list[_Argument]
    close: int


def _describe(token: _Token) -> str:
    return "end of expression" if token.kind == "end" else repr(token.text)


class _Parser:
    """Recursive descent: `+` binds loosest; `*` and `\\` bind tighter, all left-associative."""

    def __init__(self, expression: str) -> None:
        self.tokens = _tokens(expression)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, punct: str) -> _Token:
        if self.current.kind != "punct" or self.current.value != punct:
            raise SeglangError(f"expected {punct!r}, found {_describe(self.current)}", self.current.position)
        return self.advance()

    def at(self, *puncts: str) -> bool:
        return self.current.kind == "punct" and self.current.value in puncts

    def parse(self) -> Filter:
        if self.current.kind == "end":
            raise SeglangError("empty expression", 0)
        result = self.expression()
        if self.current.kind != "end":
            raise SeglangError(f"unexpected {_describe(self.current)}", self.current.position)
        return result

    def expression(self) -> Filter:
        parts = [self.term()]
        while self.at("+"):
            self.advance()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Disjunction(tuple(parts))

    def term(self) -> Filter:
        first = self.factor()
        rest: list[tuple[str, Filter]] = []
        while self.at(AND, MINUS):
            operator = self.advance().value
            rest.append((operator, self.factor()))
        return first if not rest else Conjunction(first, tuple(rest))

    def factor(self) -> Filter:
        token = self.current
        if self.at("("):
            if self.depth >= MAX_NESTING:
                raise SeglangError(f"parentheses nested deeper than {MAX_NESTING}", token.position)
            self.advance()
            self.depth += 1
            inner = self.expression()
            self.depth -= 1
            self.expect(")")
            return inner
        if token.kind != "name":
            raise SeglangError(f"expected a condition, found {_describe(token)}", token.position)
        builder = _FUNCTIONS.get(token.value.upper())
        if builder is None:
            raise SeglangError(f"unknown function {token.value!r} (expected A, T, AT or E)", token.position)
        self.advance()
        self.expect("(")
        arguments = self.arguments()
        return builder(_Call(token.value, token.position, arguments, self.tokens[self.index - 1].position))

    def arguments(self) -> list[_Argument]:
        """Comma-separated values up to and including the closing parenthesis."""
        arguments: list[_Argument] = []
        if self.at(")"):
            self.advance()
            return arguments
        while True:
            position = self.current.position
            arguments.append(_Argument(self.value(), position))
            if self.at(")"):
                self.advance()
                return arguments
            if not self.at(","):
                raise SeglangError(f"expected ',' or ')', found {_describe(self.current)}", self.current.position)
            self.advance()

    def value(self, in_list: bool = False) -> Any:
        token = self.current
        if token.kind in ("string", "number"):
            self.advance()
            return token.value
        if token.kind == "name":
            self.advance()
            lowered = token.value.lower()
            if lowered in ("true", "false"):
                return lowered == "true"
            if in_list:
                raise SeglangError(f"unexpected {_describe(token)} in a list", token.position)
            return _Name(token.value)
        if self.at("[") and not in_list:
            self.advance()
            items: list[Any] = []
            if not self.at("]"):
                items.append(self.value(in_list=True))
                while self.at(","):
                    self.advance()
                    items.append(self.value(in_list=True))
            self.expect("]")
            return items
        raise SeglangError(f"expected a value, found {_describe(token)}", token.position)


def _string_argument(argument: _Argument, what: str) -> str:
    if not isinstance(argument.value, str) or not argument.value:
        raise SeglangError(f"{what} must be a non-empty string", argument.position)
    return argument.value


def _arity(call: _Call, low: int, high: int) -> list[_Argument]:
    if not low <= len(call.arguments) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise SeglangError(f"{call.name}() takes {wanted} arguments, got {len(call.arguments)}", call.position)
    return call.arguments


def _platform_codes(argument: _Argument) -> tuple[int, ...]:
    if not isinstance(argument.value, list) or not argument.value:
        raise SeglangError('platforms must be a non-empty list such as ["iOS", "Android"]', argument.position)
    codes: list[int] = []
    for item in argument.value:
        if isinstance(item, int) and not isinstance(item, bool) and item in DEVICE_TYPES:
            code = item
        else:
            try:
                code = platform_by_name(item).code
            except KeyError:
                raise SeglangError(f"unknown platform {item!r}", argument.position) from None
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _build_app(call: _Call) -> Filter:
    arguments = _arity(call, 1, 2)
    code = _string_argument(arguments[0], "application code")
    return AppCondition(code, _platform_codes(arguments[1]) if len(arguments) == 2 else None)


def _tag_condition(arguments: list[_Argument], application: str | None, end: int) -> TagCondition:
    """[name, OP, value?] arguments into a TagCondition; `end` is where a missing value would go."""
    tag_name = _string_argument(arguments[0], "tag name")
    raw_operator = arguments[1].value
    try:
        operator = parse_operator(raw_operator.text if isinstance(raw_operator, _Name) else raw_operator)
    except TagValueError as error:
        raise SeglangError(str(error), arguments[1].position) from None
    if len(arguments) < 3 and operator is not Operator.NOTSET:
        raise SeglangError(f"{operator} needs a value", end)
    operand = arguments[2] if len(arguments) == 3 else None
    if operand is not None and isinstance(operand.value, _Name):
        raise SeglangError(f"unexpected {operand.value.text!r}; quote text values", operand.position)
    try:
        checked = check_operand(operator, None if operand is None else operand.value)
    except TagValueError as error:
        raise SeglangError(str(error), operand.position if operand else end) from None
    return TagCondition(tag_name, operator, checked, application)


def _build_tag(call: _Call) -> Filter:
    return _tag_condition(_arity(call, 2, 3), None, call.close)


def _build_app_tag(call: _Call) -> Filter:
    arguments = _arity(call, 3, 4)
    application = _string_argument(arguments[0], "application code")
    return _tag_condition(arguments[1:], application, call.close)


def _days(argument: _Argument) -> int:
    value = argument.value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EVENT_DAYS:
        raise SeglangError(f"days must be a whole number from 1 to {MAX_EVENT_DAYS}", argument.position)
    return value


def _build_event(call: _Call) -> Filter:
    arguments = _arity(call, 1, 3)
    strings = 2 if len(arguments) >= 2 and isinstance(arguments[1].value, str) else 1
    if len(arguments) == 3 and strings == 1:
        raise SeglangError('E() with three arguments is E("APP", "Event", days)', arguments[1].position)
    application = _string_argument(arguments[0], "application code") if strings == 2 else None
    event = _string_argument(arguments[strings - 1], "event name")
    days = _days(arguments[strings]) if len(arguments) > strings else None
    return EventCondition(event, days, application)


_FUNCTIONS: dict[str, Callable[[_Call], Filter]] = {
    "A": _build_app,
    "T": _build_tag,
    "AT": _build_app_tag,
    "E": _build_event,
}


def parse(expression: str) -> Filter:
    """Parse a segmentation-language expression; SeglangError (with the position) when it is not one."""
    if not isinstance(expression, str):
        raise SeglangError("the filter expression must be a string")
    return _Parser(expression).parse()


def from_conditions(conditions: Any, operator: str = "AND") -> Filter:
    """A filter from createMessage/createFilter `conditions` `[[tag, op, value], ...]` joined by AND or OR."""
    if not isinstance(operator, str) or operator.upper() not in ("AND", "OR"):
        raise SeglangError(f"conditions operator must be AND or OR, got {operator!r}")
    if not isinstance(conditions, list) or not conditions:
        raise SeglangError("conditions must be a non-empty array of [tag, operator, value]")
    nodes: list[Filter] = []
    for index, condition in enumerate(conditions):
        if not isinstance(condition, list) or not 2 <= len(condition) <= 3:
            raise SeglangError(f"conditions[{index}] must be [tag, operator, value]")
        tag_name, raw_operator, *operand = condition
        if not isinstance(tag_name, str) or not tag_name:
            raise SeglangError(f"conditions[{index}]: the tag name must be a non-empty string")
        try:
            parsed_operator = parse_operator(raw_operator)
            if not operand and parsed_operator is not Operator.NOTSET:
                raise TagValueError(f"{parsed_operator} needs a value")
            checked = check_operand(parsed_operator, operand[0] if operand else None)
        except TagValueError as error:
            raise SeglangError(f"conditions[{index}]: {error}") from None
        nodes.append(TagCondition(tag_name, parsed_operator, checked))
    if len(nodes) == 1:
        return nodes[0]
    if operator.upper() == "OR":
        return Disjunction(tuple(nodes))
    return Conjunction(nodes[0], tuple((AND, node) for node in nodes[1:]))


def _tag_conditions(segment: Filter) -> Iterator[TagCondition]:
    pending = [segment]
    while pending:
        node = pending.pop()
        if isinstance(node, TagCondition):
            yield node
        elif isinstance(node, Conjunction):
            pending.extend([node.first, *(operand for _, operand in node.rest)])
        elif isinstance(node, Disjunction):
            pending.extend(node.parts)


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
