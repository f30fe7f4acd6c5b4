"""Tag values: inference, coercion per type, setTags operations, wire rendering and comparisons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.pushwoosh.tags import (
    Operator,
    TagType,
    TagValueError,
    apply_operation,
    check_operand,
    coerce,
    compare,
    comparison,
    date_operand,
    infer_type,
    parse_operator,
    render_value,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
DAY = 86400


def unix(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp())


def test_tag_type_codes_match_pushwoosh() -> None:
    assert [(t.name, t.value) for t in TagType] == [
        ("INTEGER", 1),
        ("STRING", 2),
        ("LIST", 3),
        ("DATE", 4),
        ("BOOLEAN", 5),
        ("DECIMAL", 6),
        ("VERSION", 7),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, TagType.BOOLEAN),
        (False, TagType.BOOLEAN),
        (0, TagType.INTEGER),
        (42, TagType.INTEGER),
        (9.99, TagType.DECIMAL),
        (["a", "b"], TagType.LIST),
        ([], TagType.LIST),
        ("2026-11-22 14:08", TagType.DATE),
        ("2026-13-22 14:08", TagType.STRING),
        ("2026-11-22T14:08:43.998Z", TagType.STRING),
        ("sports shoes", TagType.STRING),
        ("42", TagType.STRING),
        ({"city": "Paris"}, TagType.STRING),
    ],
)
def test_infer_type(value: Any, expected: TagType) -> None:
    assert infer_type(value) is expected


@pytest.mark.parametrize(
    ("value", "tag_type", "stored"),
    [
        (7, TagType.INTEGER, 7),
        ("7", TagType.INTEGER, 7),
        (7.0, TagType.INTEGER, 7),
        (2**63 - 1, TagType.INTEGER, 2**63 - 1),
        ("hello", TagType.STRING, "hello"),
        (12, TagType.STRING, "12"),
        (True, TagType.STRING, "true"),
        (1.5, TagType.STRING, "1.5"),
        ({"b": 1, "a": 2}, TagType.STRING, '{"a":2,"b":1}'),
        (["a", "b", "a"], TagType.LIST, ["a", "b"]),
        ([1, True, "x"], TagType.LIST, ["1", "true", "x"]),
        ("solo", TagType.LIST, ["solo"]),
        ("2026-11-22 14:08", TagType.DATE, unix("2026-11-22 14:08")),
        ("2026-11-22", TagType.DATE, unix("2026-11-22 00:00")),
        ("2026-11-22T14:08:43.998Z", TagType.DATE, unix("2026-11-22 14:08")),
        ("2026-11-22 14:08:59", TagType.DATE, unix("2026-11-22 14:08")),
        (1700000000, TagType.DATE, 1699999980),
        (1700000000.9, TagType.DATE, 1699999980),
        (True, TagType.BOOLEAN, True),
        (0, TagType.BOOLEAN, False),
        ("TRUE", TagType.BOOLEAN, True),
        ("0", TagType.BOOLEAN, False),
        (9.99, TagType.DECIMAL, 9.99),
        (3, TagType.DECIMAL, 3.0),
        ("2.5", TagType.DECIMAL, 2.5),
        ("1.2.3", TagType.VERSION, "1.2.3"),
        ("01.02.03", TagType.VERSION, "1.2.3"),
        (2, TagType.VERSION, "2"),
        (1.5, TagType.VERSION, "1.5"),
    ],
)
def test_coerce_normalises(value: Any, tag_type: TagType, stored: Any) -> None:
    assert coerce(value, tag_type) == stored


@pytest.mark.parametrize(
    ("value", "tag_type", "message"),
    [
        (None, TagType.STRING, "null"),
        (True, TagType.INTEGER, "boolean"),
        ("seven", TagType.INTEGER, "integer"),
        (1.5, TagType.INTEGER, "integer"),
        (2**63, TagType.INTEGER, "64-bit"),
        (["a"], TagType.STRING, "list"),
        ([["nested"]], TagType.LIST, "list tag items"),
        ([{"a": 1}], TagType.LIST, "list tag items"),
        ("yesterday", TagType.DATE, "YYYY-MM-DD HH:mm"),
        (10**20, TagType.DATE, "out of range"),
        (True, TagType.DATE, "boolean"),
        ("maybe", TagType.BOOLEAN, "boolean"),
        (2, TagType.BOOLEAN, "boolean"),
        ("nan", TagType.DECIMAL, "decimal"),
        (float("inf"), TagType.DECIMAL, "decimal"),
        (10**400, TagType.DECIMAL, "out of range"),
        ("v1.2", TagType.VERSION, "version"),
        ("1.2.3.4.5", TagType.VERSION, "version"),
        (-1, TagType.VERSION, "version"),
    ],
)
def test_coerce_rejects_with_a_clear_message(value: Any, tag_type: TagType, message: str) -> None:
    with pytest.raises(TagValueError, match=message):
        coerce(value, tag_type)


def test_render_value_gives_the_wire_form() -> None:
    assert render_value(coerce("2026-11-22 14:08", TagType.DATE), TagType.DATE) == "2026-11-22 14:08"
    stored = coerce(["a"], TagType.LIST)
    rendered = render_value(stored, TagType.LIST)
    assert rendered == ["a"] and rendered is not stored
    assert render_value(5, TagType.INTEGER) == 5
    assert render_value(True, TagType.BOOLEAN) is True
    assert render_value("1.2", TagType.VERSION) == "1.2"


@pytest.mark.parametrize(
    ("current", "operation", "tag_type", "result"),
    [
        (5, {"operation": "increment", "value": 2}, TagType.INTEGER, 7),
        (None, {"operation": "increment", "value": -3}, TagType.INTEGER, -3),
        (1.5, {"operation": "increment", "value": 0.25}, TagType.DECIMAL, 1.75),
        (None, {"operation": "increment", "value": "2"}, TagType.DECIMAL, 2.0),
        (["a"], {"operation": "append", "value": ["b", "a"]}, TagType.LIST, ["a", "b"]),
        (None, {"operation": "append", "value": "x"}, TagType.LIST, ["x"]),
        (["a", "b", "c"], {"operation": "remove", "value": ["b", "z"]}, TagType.LIST, ["a", "c"]),
        (None, {"operation": "REMOVE", "value": ["b"]}, TagType.LIST, []),
    ],
)
def test_apply_operation(current: Any, operation: dict[str, Any], tag_type: TagType, result: Any) -> None:
    assert apply_operation(current, operation, tag_type) == result


def test_apply_operation_does_not_mutate_current() -> None:
    current = ["a"]
    apply_operation(current, {"operation": "append", "value": ["b"]}, TagType.LIST)
    assert current == ["a"]


@pytest.mark.parametrize(
    ("current", "operation", "tag_type", "message"),
    [
        (1, {"operation": "increment", "value": 1}, TagType.STRING, "integer and decimal"),
        ("a", {"operation": "append", "value": "b"}, TagType.STRING, "list tags"),
        (1, {"operation": "remove", "value": 1}, TagType.INTEGER, "list tags"),
        (1, {"operation": "multiply", "value": 2}, TagType.INTEGER, "unknown tag operation"),
        (1, {"operation": "increment"}, TagType.INTEGER, "needs a value"),
        (1, {"operation": "increment", "value": None}, TagType.INTEGER, "needs a value"),
        (1, {"value": 1}, TagType.INTEGER, "must be"),
        (1, "increment", TagType.INTEGER, "must be"),
        (2**63 - 1, {"operation": "increment", "value": 1}, TagType.INTEGER, "64-bit"),
        (1, {"operation": "increment", "value": "x"}, TagType.INTEGER, "integer"),
        ([], {"operation": "append", "value": [None]}, TagType.LIST, "list tag items"),
    ],
)
def test_apply_operation_errors(current: Any, operation: Any, tag_type: TagType, message: str) -> None:
    with pytest.raises(TagValueError, match=message):
        apply_operation(current, operation, tag_type)


def test_parse_operator_is_case_insensitive() -> None:
    assert parse_operator("notin") is Operator.NOTIN
    assert parse_operator("Between") is Operator.BETWEEN
    for bad in ("LIKE", "", None, 3):
        with pytest.raises(TagValueError, match="unknown operator"):
            parse_operator(bad)


@pytest.mark.parametrize(
    ("operator", "operand", "message"),
    [
        (Operator.IN, "a", "needs a list"),
        (Operator.NOTIN, [["a"]], "needs a list"),
        (Operator.BETWEEN, [1], r"\[min, max\]"),
        (Operator.BETWEEN, [1, 2, 3], r"\[min, max\]"),
        (Operator.EQ, [1], "single value"),
        (Operator.GTE, None, "single value"),
        (Operator.LTE, {"a": 1}, "single value"),
    ],
)
def test_check_operand_shapes(operator: Operator, operand: Any, message: str) -> None:
    with pytest.raises(TagValueError, match=message):
        check_operand(operator, operand)


def test_check_operand_normalises() -> None:
    assert check_operand(Operator.IN, ["a", "b"]) == ("a", "b")
    assert check_operand(Operator.NOTSET, "ignored") is None
    assert check_operand(Operator.EQ, 3) == 3


def test_date_operand_forms() -> None:
    assert date_operand("3 days ago", NOW) == NOW - 3 * DAY
    assert date_operand(" 1 Day Ago ", NOW) == NOW - DAY
    assert date_operand("2026-11-01 00:00", NOW) == unix("2026-11-01 00:00")
    assert date_operand(1699999980, NOW) == 1699999980
    with pytest.raises(TagValueError):
        date_operand("three days ago", NOW)


# (tag type, stored, operator, operand, expected): every operator for every type it applies to.
CASES: list[tuple[TagType, Any, Operator, Any, bool]] = [
    (TagType.INTEGER, 5, Operator.EQ, 5, True),
    (TagType.INTEGER, 5, Operator.EQ, "5", True),
    (TagType.INTEGER, 5, Operator.NOTEQ, 5, False),
    (TagType.INTEGER, 5, Operator.NOTEQ, 6, True),
    (TagType.INTEGER, 5, Operator.IN, [1, 5], True),
    (TagType.INTEGER, 5, Operator.IN, [1, 2], False),
    (TagType.INTEGER, 5, Operator.NOTIN, [1, 2], True),
    (TagType.INTEGER, 5, Operator.NOTIN, [5], False),
    (TagType.INTEGER, 5, Operator.GTE, 5, True),
    (TagType.INTEGER, 5, Operator.GTE, 6, False),
    (TagType.INTEGER, 5, Operator.LTE, 5, True),
    (TagType.INTEGER, 5, Operator.LTE, 4.5, False),
    (TagType.INTEGER, 5, Operator.BETWEEN, [5, 10], True),
    (TagType.INTEGER, 10, Operator.BETWEEN, [5, 10], True),
    (TagType.INTEGER, 11, Operator.BETWEEN, [5, 10], False),
    (TagType.INTEGER, 5, Operator.NOTSET, None, False),
    (TagType.DECIMAL, 9.99, Operator.EQ, 9.99, True),
    (TagType.DECIMAL, 9.99, Operator.NOTEQ, "9.99", False),
    (TagType.DECIMAL, 9.99, Operator.IN, [9.99, 1], True),
    (TagType.DECIMAL, 9.99, Operator.NOTIN, [1.5], True),
    (TagType.DECIMAL, 9.99, Operator.GTE, 10, False),
    (TagType.DECIMAL, 9.99, Operator.LTE, 10, True),
    (TagType.DECIMAL, 9.99, Operator.BETWEEN, [9, "10.5"], True),
    (TagType.STRING, "BR", Operator.EQ, "BR", True),
    (TagType.STRING, "BR", Operator.EQ, "br", False),
    (TagType.STRING, "BR", Operator.NOTEQ, "US", True),
    (TagType.STRING, "BR", Operator.IN, ["US", "BR"], True),
    (TagType.STRING, "BR", Operator.NOTIN, ["US", "BR"], False),
    (TagType.STRING, "12", Operator.EQ, 12, True),
    (TagType.LIST, ["a", "b"], Operator.EQ, "a", True),
    (TagType.LIST, ["a", "b"], Operator.EQ, "c", False),
    (TagType.LIST, ["a", "b"], Operator.NOTEQ, "c", True),
    (TagType.LIST, ["a", "b"], Operator.NOTEQ, "a", False),
    (TagType.LIST, ["a", "b"], Operator.IN, ["c", "b"], True),
    (TagType.LIST, ["a", "b"], Operator.IN, ["c"], False),
    (TagType.LIST, ["a", "b"], Operator.NOTIN, ["c"], True),
    (TagType.LIST, ["a", "b"], Operator.NOTIN, ["c", "a"], False),
    (TagType.BOOLEAN, True, Operator.EQ, True, True),
    (TagType.BOOLEAN, True, Operator.EQ, "false", False),
    (TagType.BOOLEAN, False, Operator.NOTEQ, 1, True),
    (TagType.BOOLEAN, False, Operator.IN, [False], True),
    (TagType.BOOLEAN, False, Operator.NOTIN, [False], False),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.EQ, "2026-11-20 10:00", True),
    (TagType.DATE, unix("2026-11-20 10:00") + 59, Operator.EQ, "2026-11-20 10:00", True),
    (TagType.DATE, unix("2026-11-20 10:01"), Operator.EQ, "2026-11-20 10:00", False),
    (TagType.DATE, unix("2026-11-20 10:01"), Operator.NOTEQ, "2026-11-20 10:00", True),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.IN, ["2026-11-20 10:00"], True),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.NOTIN, ["2026-11-21 10:00"], True),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.GTE, "3 days ago", True),
    (TagType.DATE, unix("2026-11-18 10:00"), Operator.GTE, "3 days ago", False),
    (TagType.DATE, unix("2026-11-18 10:00"), Operator.LTE, "3 days ago", True),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.LTE, unix("2026-11-20 09:00"), False),
    (TagType.DATE, unix("2026-11-20 10:00"), Operator.BETWEEN, ["7 days ago", "1 day ago"], True),
    (TagType.DATE, unix("2026-11-22 10:00"), Operator.BETWEEN, ["7 days ago", "1 day ago"], False),
    (TagType.VERSION, "1.10", Operator.GTE, "1.9", True),
    (TagType.VERSION, "1.2", Operator.EQ, "1.2.0", True),
    (TagType.VERSION, "1.2", Operator.NOTEQ, "1.2.1", True),
    (TagType.VERSION, "1.2.3", Operator.LTE, "1.2.2", False),
    (TagType.VERSION, "1.2.3", Operator.IN, ["1.2.3", "2"], True),
    (TagType.VERSION, "1.2.3", Operator.NOTIN, ["01.2.3"], False),
    (TagType.VERSION, "1.5", Operator.BETWEEN, ["1.2", "2.0"], True),
]


@pytest.mark.parametrize(("tag_type", "stored", "operator", "operand", "expected"), CASES)
def test_compare_every_operator_per_type(
    tag_type: TagType, stored: Any, operator: Operator, operand: Any, expected: bool
) -> None:
    assert compare(operator, stored, tag_type, operand, NOW) is expected


@pytest.mark.parametrize("operator", [op for op in Operator if op is not Operator.NOTSET])
def test_unset_tag_matches_nothing_but_notset(operator: Operator) -> None:
    operand = [1, 2] if operator in (Operator.IN, Operator.NOTIN, Operator.BETWEEN) else 1
    assert compare(operator, None, None, operand, NOW) is False
    assert compare(Operator.NOTSET, None, None, None, NOW) is True


@pytest.mark.parametrize(
    ("tag_type", "operator", "operand", "message"),
    [
        (TagType.STRING, Operator.GTE, "a", "does not apply to string"),
        (TagType.BOOLEAN, Operator.BETWEEN, [False, True], "does not apply to boolean"),
        (TagType.LIST, Operator.LTE, "a", "does not apply to list"),
        (TagType.INTEGER, Operator.GTE, "abc", "integer"),
        (TagType.INTEGER, Operator.BETWEEN, [10, 5], "min <= max"),
        (TagType.DATE, Operator.GTE, "soon", "date"),
        (TagType.VERSION, Operator.EQ, "one", "version"),
    ],
)
def test_comparison_rejects_operands_that_do_not_fit_the_type(
    tag_type: TagType, operator: Operator, operand: Any, message: str
) -> None:
    with pytest.raises(TagValueError, match=message):
        comparison(operator, check_operand(operator, operand), tag_type, NOW)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, tag_type=st.sampled_from(TagType))
def test_coerce_only_ever_raises_tag_value_error(value: Any, tag_type: TagType) -> None:
    try:
        stored = coerce(value, tag_type)
    except TagValueError:
        return
    assert coerce(render_value(stored, tag_type), tag_type) == stored


@settings(max_examples=300, deadline=None)
@given(
    current=JSON_VALUES,
    operation=st.fixed_dictionaries({"operation": st.sampled_from(["increment", "append", "remove", "x"])})
    | st.fixed_dictionaries({"operation": st.sampled_from(["increment", "append", "remove"]), "value": JSON_VALUES}),
    tag_type=st.sampled_from(TagType),
)
def test_apply_operation_only_ever_raises_tag_value_error(current: Any, operation: Any, tag_type: TagType) -> None:
    try:
        current = coerce(current, tag_type)
    except TagValueError:
        current = None
    try:
        result = apply_operation(current, operation, tag_type)
    except TagValueError:
        return
    assert coerce(result, tag_type) == result


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_inferred_type_accepts_its_value_or_says_why(value: Any) -> None:
    try:
        coerce(value, infer_type(value))
    except TagValueError as error:
        assert str(error)
