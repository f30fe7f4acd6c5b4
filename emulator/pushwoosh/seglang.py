"""Pushwoosh's segmentation language and `conditions` arrays, parsed once into a small filter tree.

    A("ABCDE-12345", ["iOS", "Android"]) * T("Country", EQ, "BR") \\ E("Unsubscribed", 30)

The tree (conditions, combinations, how a device matches) is `filter_tree.py`; this module is the
language: a lexer, a recursive-descent parser and the builders of each function (A, T, AT, E).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swoosh.contracts.shared_names import DEVICE_TYPES, platform_by_name
from swoosh.emulator.pushwoosh.filter_tree import (
    AND,
    MINUS,
    AppCondition,
    Conjunction,
    Disjunction,
    EventCondition,
    Filter,
    SeglangError,
    TagCondition,
)
from swoosh.emulator.pushwoosh.tags import Operator, TagValueError, check_operand, parse_operator
from swoosh.emulator.wire import shown

MAX_NESTING = 64
MAX_NUMBER_LENGTH = 40
MAX_EVENT_DAYS = 36500

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
            raise SeglangError(f"unexpected {shown(expression[position])}", position)
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
            raise SeglangError(f"expected {shown(punct)}, found {_describe(self.current)}", self.current.position)
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
            raise SeglangError(f"unknown function {shown(token.value)} (expected A, T, AT or E)", token.position)
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
                raise SeglangError(f"unknown platform {shown(item)}", argument.position) from None
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
        raise SeglangError(f"unexpected {shown(operand.value.text)}; quote text values", operand.position)
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
        raise SeglangError(f"conditions operator must be AND or OR, got {shown(operator)}")
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
