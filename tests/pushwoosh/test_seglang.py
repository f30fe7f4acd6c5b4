"""The segmentation language and conditions arrays: parsing, errors with positions, precedence, evaluation."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.pushwoosh.filter_tree import (
    AppCondition,
    Conjunction,
    Disjunction,
    EventCondition,
    Filter,
    SeglangError,
    TagCondition,
    check_types,
)
from swoosh.emulator.pushwoosh.seglang import from_conditions, parse
from swoosh.emulator.pushwoosh.tags import Operator, TagType, coerce, infer_type

APP, OTHER = "ABCDE-12345", "FGHIJ-67890"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp()
DAY = 86400


@dataclass
class Device:
    """A Facts implementation over plain dicts, as small as the protocol allows."""

    application: str = APP
    device_type: int = 1
    user_id: str | None = "u1"
    tags: dict[str, tuple[TagType, Any]] = field(default_factory=dict)
    app_tags: dict[tuple[str, str], tuple[TagType, Any]] = field(default_factory=dict)
    events: list[tuple[str, str, float]] = field(default_factory=list)
    asked: list[tuple[str, float | None, str | None]] = field(default_factory=list)

    def tag(self, name: str, application: str | None = None) -> tuple[TagType, Any] | None:
        if application is not None:
            return self.app_tags.get((application, name))
        return self.tags.get(name) or self.app_tags.get((self.application, name))

    def triggered(self, event: str, since: float | None, application: str | None = None) -> bool:
        self.asked.append((event, since, application))
        return any(
            name == event and (since is None or at >= since) and (application is None or app == application)
            for name, app, at in self.events
        )


def tagged(**values: Any) -> Device:
    """A device of APP whose tags get their types inferred the way setTags with auto-create would."""
    return Device(tags={name: (infer_type(v), coerce(v, infer_type(v))) for name, v in values.items()})


def test_parse_builds_the_tree() -> None:
    result = parse('A("ABCDE-12345", ["iOS", "Android"]) * T("Country", EQ, "BR")')
    assert result == Conjunction(AppCondition(APP, (1, 3)), (("*", TagCondition("Country", Operator.EQ, "BR")),))


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ('A("ABCDE-12345")', 'A("ABCDE-12345")'),
        ('a( "ABCDE-12345" , ["ios","WEB", 3] )', 'A("ABCDE-12345", ["iOS", "Chrome", "Android"])'),
        ('T("Age", gte, 18)', 'T("Age", GTE, 18)'),
        ('t("Price", Between, [1.5, 2e1])', 'T("Price", BETWEEN, [1.5, 20.0])'),
        ('T("VIP", eq, TRUE)', 'T("VIP", EQ, true)'),
        ('T("City", in, ["Paris", "Lyon"])', 'T("City", IN, ["Paris", "Lyon"])'),
        ('T("City", "NOTIN", [])', 'T("City", NOTIN, [])'),
        ('T("Email", NOTSET)', 'T("Email", NOTSET)'),
        ('T("Email", NOTSET, "ignored")', 'T("Email", NOTSET)'),
        ('AT("ABCDE-12345", "Level", LTE, -3)', 'AT("ABCDE-12345", "Level", LTE, -3)'),
        ('T("Signup", GTE, "7 days ago")', 'T("Signup", GTE, "7 days ago")'),
        ('T("Quote", EQ, "say \\"hi\\"\\n")', 'T("Quote", EQ, "say \\"hi\\"\\n")'),
        ('T("Name", EQ, "Zoë")', 'T("Name", EQ, "Zoë")'),
        ('E("SubscribedToOffers")', 'E("SubscribedToOffers")'),
        ('e("SubscribedToOffers", 7)', 'E("SubscribedToOffers", 7)'),
        ('E("ABCDE-12345", "SubscribedToOffers")', 'E("ABCDE-12345", "SubscribedToOffers")'),
        ('E("ABCDE-12345", "SubscribedToOffers", 30)', 'E("ABCDE-12345", "SubscribedToOffers", 30)'),
        ('A("X")+A("Y")*A("Z")', 'A("X") + A("Y") * A("Z")'),
        ('(A("X")+A("Y"))*A("Z")', '(A("X") + A("Y")) * A("Z")'),
        ('A("X")\\(A("Y")+A("Z"))', 'A("X") \\ (A("Y") + A("Z"))'),
        ('((A("X")))', 'A("X")'),
    ],
)
def test_canonical_form(expression: str, canonical: str) -> None:
    result = parse(expression)
    assert str(result) == canonical
    assert parse(canonical) == result


def test_star_and_minus_bind_tighter_than_plus() -> None:
    assert parse('A("X") + A("Y") * A("Z")') == Disjunction(
        (AppCondition("X"), Conjunction(AppCondition("Y"), (("*", AppCondition("Z")),)))
    )
    assert parse('A("X") * A("Y") + A("Z")') == Disjunction(
        (Conjunction(AppCondition("X"), (("*", AppCondition("Y")),)), AppCondition("Z"))
    )
    assert parse('A("X") \\ A("Y") + A("Z")') == Disjunction(
        (Conjunction(AppCondition("X"), (("\\", AppCondition("Y")),)), AppCondition("Z"))
    )


def test_minus_and_star_are_left_associative() -> None:
    # (everyone in APP minus VIPs) then only in Paris: a Parisian VIP is excluded either way,
    # a non-VIP outside Paris is excluded by the final `*`.
    expression = parse('A("ABCDE-12345") \\ T("VIP", EQ, true) * T("City", EQ, "Paris")')
    assert expression.matches(tagged(VIP=False, City="Paris"), NOW)
    assert not expression.matches(tagged(VIP=True, City="Paris"), NOW)
    assert not expression.matches(tagged(VIP=False, City="Lyon"), NOW)
    # Right-grouped with parentheses the meaning changes: APP minus (Parisian VIPs).
    grouped = parse('A("ABCDE-12345") \\ (T("VIP", EQ, true) * T("City", EQ, "Paris"))')
    assert grouped.matches(tagged(VIP=False, City="Lyon"), NOW)
    assert grouped.matches(tagged(VIP=True, City="Lyon"), NOW)
    assert not grouped.matches(tagged(VIP=True, City="Paris"), NOW)


def test_or_and_precedence_evaluated() -> None:
    expression = parse('T("A", EQ, 1) + T("B", EQ, 1) * T("C", EQ, 1)')
    assert expression.matches(tagged(A=1), NOW)
    assert not expression.matches(tagged(B=1), NOW)
    assert expression.matches(tagged(B=1, C=1), NOW)
    assert not parse('(T("A", EQ, 1) + T("B", EQ, 1)) * T("C", EQ, 1)').matches(tagged(A=1), NOW)


@pytest.mark.parametrize(
    ("expression", "message", "position"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ('A("X"))', "unexpected ')'", 6),
        ('A("X") * T("Country", EQ, "BR"))', "unexpected ')'", 31),
        ('A("X"', "expected ',' or ')'", 5),
        ('A("X" "Y")', "expected ',' or ')'", 6),
        ('(A("X")', 'expected ")"', 7),
        ('A("X") +', "expected a condition", 8),
        ('A("X") * * A("Y")', "expected a condition", 9),
        ("Q(1)", 'unknown function "Q"', 0),
        ('A("X") * Tag("a", EQ, 1)', 'unknown function "Tag"', 9),
        ("A", 'expected "("', 1),
        ("A()", "A() takes 1 to 2 arguments, got 0", 0),
        ('T("a", EQ, 1, 2)', "T() takes 2 to 3 arguments, got 4", 0),
        ('AT("a", EQ)', "AT() takes 3 to 4 arguments", 0),
        ('AT("a", EQ, 1)', "tag name must be a non-empty string", 8),
        ('E("X", "Y", 1, 2)', "E() takes 1 to 3 arguments", 0),
        ('E("Event", 7, 8)', 'E("APP", "Event", days)', 11),
        ('E("Event", 0)', "days must be a whole number", 11),
        ('E("Event", 2.5)', "days must be a whole number", 11),
        ('E("Event", true)', "days must be a whole number", 11),
        ('E("")', "event name must be a non-empty string", 2),
        ("A(3)", "application code must be a non-empty string", 2),
        ('A("X", [])', "platforms must be a non-empty list", 7),
        ('A("X", "iOS")', "platforms must be a non-empty list", 7),
        ('A("X", ["iOS", "Nokia"])', 'unknown platform "Nokia"', 7),
        ('A("X", [4])', "unknown platform 4", 7),
        ('T("", EQ, 1)', "tag name must be a non-empty string", 2),
        ('T("a", LIKE, 1)', 'unknown operator "LIKE"', 7),
        ('T("a", 5, 1)', "unknown operator 5", 7),
        ('T("a", EQ)', "EQ needs a value", 9),
        ('AT("X", "a", GTE)', "GTE needs a value", 16),
        ('T("a", EQ, Paris)', "quote text values", 11),
        ('T("a", IN, "x")', "IN needs a list", 11),
        ('T("a", EQ, ["x"])', "EQ needs a single value", 11),
        ('T("a", BETWEEN, [1])', "BETWEEN needs [min, max]", 16),
        ('T("a", IN, [EQ])', "unexpected 'EQ' in a list", 12),
        ('T("a", IN, [[1]])', "expected a value", 12),
        ('T("a", EQ, )', "expected a value", 11),
        ('T("a, EQ, 1)', "unterminated string", 2),
        ('T("a", EQ, "\\x")', "invalid escape in string", 11),
        ('T("a", EQ, 1e999)', "number 1e999 out of range", 11),
        ('T("a", EQ, ' + "9" * 50 + ")", "number longer than", 11),
        ('T("a", EQ, 1) & T("b", EQ, 1)', 'unexpected "&"', 14),
        ('T("a", EQ, 1) - T("b", EQ, 1)', 'unexpected "-"', 14),
        ("(" * 70 + 'A("X")' + ")" * 70, "nested deeper than 64", 64),
    ],
)
def test_malformed_expressions_name_the_position(expression: str, message: str, position: int) -> None:
    with pytest.raises(SeglangError) as caught:
        parse(expression)
    assert message in caught.value.message
    assert caught.value.position == position
    assert str(caught.value).endswith(f" at position {position}")


def test_error_str_points_at_the_offending_text() -> None:
    with pytest.raises(SeglangError) as caught:
        parse('A("X") * T("Country", EQ, "BR"))')
    assert str(caught.value) == "unexpected ')' at position 31"
    assert caught.value.message == "unexpected ')'"


def test_non_string_expression_is_a_seglang_error() -> None:
    with pytest.raises(SeglangError, match="must be a string"):
        parse(None)  # type: ignore[arg-type]


def test_app_condition_with_platforms() -> None:
    expression = parse('A("ABCDE-12345", ["iOS", "Android"])')
    assert expression.matches(Device(device_type=1), NOW)
    assert expression.matches(Device(device_type=3), NOW)
    assert not expression.matches(Device(device_type=11), NOW)
    assert not expression.matches(Device(application=OTHER, device_type=1), NOW)
    assert parse('A("ABCDE-12345")').matches(Device(device_type=14), NOW)


def test_app_tag_needs_the_device_in_that_app_and_asks_for_the_app_specific_tag() -> None:
    expression = parse('AT("ABCDE-12345", "Level", GTE, 3)')
    device = Device(app_tags={(APP, "Level"): (TagType.INTEGER, 5)})
    assert expression.matches(device, NOW)
    assert not expression.matches(Device(application=OTHER, app_tags={(APP, "Level"): (TagType.INTEGER, 5)}), NOW)
    assert not expression.matches(Device(tags={"Level": (TagType.INTEGER, 5)}), NOW)
    assert parse('AT("ABCDE-12345", "Level", NOTSET)').matches(Device(), NOW)


def test_notin_and_noteq_never_match_devices_without_the_tag() -> None:
    without = Device()
    assert not parse('T("City", NOTIN, ["Paris"])').matches(without, NOW)
    assert not parse('T("City", NOTEQ, "Paris")').matches(without, NOW)
    assert parse('T("City", NOTIN, ["Paris"])').matches(tagged(City="Lyon"), NOW)
    assert not parse('T("City", NOTIN, ["Paris"])').matches(tagged(City="Paris"), NOW)


def test_notset_matches_only_devices_without_the_tag() -> None:
    expression = parse('T("Email", NOTSET)')
    assert expression.matches(Device(), NOW)
    assert not expression.matches(tagged(Email="a@x.io"), NOW)
    assert not expression.matches(tagged(Email=""), NOW)


@pytest.mark.parametrize(
    ("expression", "device", "expected"),
    [
        ('T("Age", GTE, 18)', tagged(Age=18), True),
        ('T("Age", GTE, 18)', tagged(Age=17), False),
        ('T("Age", BETWEEN, [18, 30])', tagged(Age=30), True),
        ('T("Age", IN, [1, 2, 3])', tagged(Age=2), True),
        ('T("Price", LTE, 9.99)', tagged(Price=9.99), True),
        ('T("Country", EQ, "BR")', tagged(Country="BR"), True),
        ('T("Country", NOTEQ, "BR")', tagged(Country="US"), True),
        ('T("Interests", EQ, "shoes")', tagged(Interests=["shoes", "hats"]), True),
        ('T("Interests", IN, ["socks", "hats"])', tagged(Interests=["shoes", "hats"]), True),
        ('T("Interests", NOTIN, ["socks"])', tagged(Interests=["shoes"]), True),
        ('T("VIP", EQ, true)', tagged(VIP=True), True),
        ('T("VIP", EQ, false)', tagged(VIP=True), False),
        ('T("Signup", GTE, "2026-11-01 00:00")', tagged(Signup="2026-11-02 10:00"), True),
        ('T("Signup", GTE, "7 days ago")', tagged(Signup="2026-11-20 10:00"), True),
        ('T("Signup", GTE, "7 days ago")', tagged(Signup="2026-11-01 10:00"), False),
        ('T("Signup", LTE, 1700000000)', tagged(Signup="2023-01-01 00:00"), True),
        ('T("Signup", BETWEEN, ["30 days ago", "1 day ago"])', tagged(Signup="2026-11-10 00:00"), True),
        # An operand that does not fit the tag's type matches no device rather than failing the send.
        ('T("Age", GTE, "abc")', tagged(Age=18), False),
        ('T("Country", GTE, "A")', tagged(Country="BR"), False),
    ],
)
def test_tag_conditions_evaluate_with_tag_semantics(expression: str, device: Device, expected: bool) -> None:
    assert parse(expression).matches(device, NOW) is expected


def test_a_stored_value_not_in_its_stored_form_matches_nothing() -> None:
    assert not parse('T("Age", GTE, 3)').matches(Device(tags={"Age": (TagType.INTEGER, "five")}), NOW)
    assert not parse('T("V", GTE, "1.0")').matches(Device(tags={"V": (TagType.VERSION, "x.y")}), NOW)
    assert parse('T("Age", NOTSET)').matches(Device(), NOW)


def test_version_tags_compare_numerically() -> None:
    device = Device(tags={"AppVersion": (TagType.VERSION, "1.10.0")})
    assert parse('T("AppVersion", GTE, "1.9")').matches(device, NOW)
    assert not parse('T("AppVersion", LTE, "1.9.9")').matches(device, NOW)


def test_days_ago_follows_the_evaluation_time() -> None:
    expression = parse('T("Signup", GTE, "7 days ago")')
    device = tagged(Signup="2026-11-20 10:00")
    assert expression.matches(device, NOW)
    assert not expression.matches(device, NOW + 30 * DAY)
    assert expression.matches(device, NOW)


def test_one_filter_serves_devices_with_different_tag_types() -> None:
    expression = parse('T("Score", EQ, "5")')
    assert expression.matches(Device(tags={"Score": (TagType.INTEGER, 5)}), NOW)
    assert expression.matches(Device(tags={"Score": (TagType.STRING, "5")}), NOW)
    assert not expression.matches(Device(tags={"Score": (TagType.STRING, "05")}), NOW)


def test_event_condition_asks_with_the_window() -> None:
    device = Device(events=[("SubscribedToOffers", APP, NOW - 3 * DAY)])
    assert parse('E("SubscribedToOffers")').matches(device, NOW)
    assert parse('E("SubscribedToOffers", 7)').matches(device, NOW)
    assert not parse('E("SubscribedToOffers", 2)').matches(device, NOW)
    assert parse('E("ABCDE-12345", "SubscribedToOffers", 7)').matches(device, NOW)
    assert not parse('E("FGHIJ-67890", "SubscribedToOffers")').matches(device, NOW)
    assert not parse('E("Purchased")').matches(device, NOW)
    assert device.asked[:4] == [
        ("SubscribedToOffers", None, None),
        ("SubscribedToOffers", NOW - 7 * DAY, None),
        ("SubscribedToOffers", NOW - 2 * DAY, None),
        ("SubscribedToOffers", NOW - 7 * DAY, APP),
    ]


def test_seed_segment_users_who_triggered_subscribed_to_offers() -> None:
    segment = parse('A("ABCDE-12345") * E("SubscribedToOffers")')
    subscriber = Device(events=[("SubscribedToOffers", APP, NOW - DAY)])
    assert segment.matches(subscriber, NOW)
    assert not segment.matches(Device(), NOW)
    assert not segment.matches(Device(application=OTHER, events=subscriber.events), NOW)


def test_applications_and_scope() -> None:
    expression = parse('A("X") * T("a", EQ, 1) + AT("Y", "b", NOTSET) \\ E("Z", "ev")')
    assert expression.applications() == {"X", "Y"}
    assert expression.scope() == frozenset({"X", "Y"})
    assert parse('A("X") + T("a", EQ, 1)').applications() == {"X"}
    assert parse('A("X") + T("a", EQ, 1)').scope() is None
    assert parse('T("a", EQ, 1) * A("X") * A("Y")').scope() == frozenset()
    assert parse('A("X") \\ A("Y")').scope() == frozenset({"X"})
    assert parse('E("ev")').applications() == set()
    assert parse('E("ev")').scope() is None


REGISTRY = {("Age", None): TagType.INTEGER, ("Country", None): TagType.STRING, ("Level", APP): TagType.INTEGER}


def registered(name: str, application: str | None) -> TagType | None:
    return REGISTRY.get((name, application))


def test_check_types_accepts_fitting_and_unknown_tags() -> None:
    check_types(parse('T("Age", GTE, "18") * (T("Country", IN, ["BR"]) + T("Unknown", GTE, "x"))'), registered, NOW)
    check_types(from_conditions([["Age", "BETWEEN", [1, 2]], ["Country", "NOTSET"]]), registered, NOW)
    check_types(parse('A("X") \\ E("ev")'), registered, NOW)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('A("X") * T("Age", GTE, "abc")', 'T("Age", GTE, "abc"): integer tag value expected, got a string'),
        ('A("X") + A("Y") \\ T("Country", LTE, "B")', 'T("Country", LTE, "B"): LTE does not apply to string tags'),
        ('AT("ABCDE-12345", "Level", BETWEEN, [5, 1])', "BETWEEN needs [min, max] with min <= max"),
    ],
)
def test_check_types_names_the_condition(expression: str, message: str) -> None:
    with pytest.raises(SeglangError) as caught:
        check_types(parse(expression), registered, NOW)
    assert message in str(caught.value)
    assert caught.value.position is None


def test_from_conditions_and() -> None:
    result = from_conditions([["Country", "EQ", "BR"], ["Age", "gte", 18]])
    assert str(result) == 'T("Country", EQ, "BR") * T("Age", GTE, 18)'
    assert result.matches(tagged(Country="BR", Age=20), NOW)
    assert not result.matches(tagged(Country="BR", Age=10), NOW)
    assert result.applications() == set()


def test_from_conditions_or_and_single() -> None:
    result = from_conditions([["Country", "EQ", "BR"], ["Country", "EQ", "PT"]], "or")
    assert str(result) == 'T("Country", EQ, "BR") + T("Country", EQ, "PT")'
    assert result.matches(tagged(Country="PT"), NOW)
    assert from_conditions([["Country", "EQ", "BR"]]) == TagCondition("Country", Operator.EQ, "BR")


def test_from_conditions_semantics_match_the_language() -> None:
    device = tagged(City="Lyon")
    for operator in ("NOTIN", "NOTSET"):
        condition = ["Email", operator] + ([["x"]] if operator == "NOTIN" else [])
        assert from_conditions([condition]).matches(device, NOW) is (operator == "NOTSET")
    assert from_conditions([["Signup", "GTE", "7 days ago"]]) == parse('T("Signup", GTE, "7 days ago")')
    assert from_conditions([["Email", "NOTSET", ""]]) == parse('T("Email", NOTSET)')


def test_from_conditions_finds_application_specific_tags() -> None:
    device = Device(app_tags={(APP, "Level"): (TagType.INTEGER, 4)})
    assert from_conditions([["Level", "BETWEEN", [1, 5]]]).matches(device, NOW)


@pytest.mark.parametrize(
    ("conditions", "operator", "message"),
    [
        ([], "AND", "non-empty array"),
        ({"Country": "BR"}, "AND", "non-empty array"),
        (None, "AND", "non-empty array"),
        ([["Country", "EQ", "BR"]], "XOR", "AND or OR"),
        ([["Country", "EQ", "BR"]], None, "AND or OR"),
        (["Country"], "AND", r"conditions\[0\] must be \[tag, operator, value\]"),
        ([["Country", "EQ", "BR"], ["Country"]], "AND", r"conditions\[1\] must be"),
        ([["Country", "EQ", "BR", "extra"]], "AND", r"conditions\[0\] must be"),
        ([[5, "EQ", "BR"]], "AND", r"conditions\[0\]: the tag name"),
        ([["", "EQ", "BR"]], "AND", r"conditions\[0\]: the tag name"),
        ([["Country", "LIKE", "BR"]], "AND", r'conditions\[0\]: unknown operator "LIKE"'),
        ([["Country", "EQ"]], "AND", r"conditions\[0\]: EQ needs a value"),
        ([["Country", "IN", "BR"]], "AND", r"conditions\[0\]: IN needs a list"),
        ([["Age", "BETWEEN", [1, 2, 3]]], "AND", r"conditions\[0\]: BETWEEN needs \[min, max\]"),
        ([["Country", "EQ", {"a": 1}]], "AND", r"conditions\[0\]: EQ needs a single value"),
    ],
)
def test_from_conditions_errors(conditions: Any, operator: Any, message: str) -> None:
    with pytest.raises(SeglangError, match=message) as caught:
        from_conditions(conditions, operator)
    assert caught.value.position is None


# ------------------------------------------------------------------------------------------ properties

LANGUAGE_PIECES = st.sampled_from(
    [
        'A("X")',
        'T("a", EQ, 1)',
        "E(",
        "AT(",
        "T(",
        '"s"',
        '"',
        "\\",
        "*",
        "+",
        "(",
        ")",
        "[",
        "]",
        ",",
        " ",
        "EQ",
        "NOTIN",
        "BETWEEN",
        "NOTSET",
        "1",
        "-2.5e3",
        "true",
        "\\u",
        "\\\\",
        "days ago",
        "0",
        "[1, 2]",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_raises_seglang_error(expression: str) -> None:
    try:
        parse(expression)
    except SeglangError as error:
        assert error.position is None or 0 <= error.position <= len(expression)


@settings(max_examples=400, deadline=None)
@given(st.lists(LANGUAGE_PIECES, max_size=25).map("".join))
def test_near_miss_expressions_only_raise_seglang_error(expression: str) -> None:
    try:
        result = parse(expression)
    except SeglangError as error:
        assert error.position is not None and 0 <= error.position <= len(expression)
    else:
        assert parse(str(result)) == result


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=12,
    ),
    st.none() | st.sampled_from(["AND", "or", "Or", "XOR"]),
)
def test_arbitrary_conditions_only_raise_seglang_error(conditions: Any, operator: Any) -> None:
    with contextlib.suppress(SeglangError):
        from_conditions(conditions, operator)


TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
SCALAR = st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False) | TEXT


@st.composite
def tag_conditions(draw: st.DrawFn) -> TagCondition:
    operator = draw(st.sampled_from(list(Operator)))
    if operator is Operator.NOTSET:
        operand = None
    elif operator is Operator.BETWEEN:
        operand = (draw(SCALAR), draw(SCALAR))
    elif operator in (Operator.IN, Operator.NOTIN):
        operand = tuple(draw(st.lists(SCALAR, max_size=3)))
    else:
        operand = draw(SCALAR)
    return TagCondition(draw(TEXT), operator, operand, draw(st.none() | TEXT))


LEAVES = (
    st.builds(
        AppCondition,
        TEXT,
        st.none() | st.lists(st.sampled_from([1, 3, 11, 14, 18]), min_size=1, max_size=3, unique=True).map(tuple),
    )
    | tag_conditions()
    | st.builds(EventCondition, TEXT, st.none() | st.integers(1, 3650), st.none() | TEXT)
)
FILTERS = st.recursive(
    LEAVES,
    lambda inner: (
        st.builds(
            Conjunction,
            inner,
            st.lists(st.tuples(st.sampled_from(["*", "\\"]), inner), min_size=1, max_size=3).map(tuple),
        )
        | st.lists(inner, min_size=2, max_size=3).map(lambda parts: Disjunction(tuple(parts)))
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(FILTERS)
def test_round_trip_through_the_canonical_form(original: Filter) -> None:
    again = parse(str(original))
    assert again == original
    assert str(again) == str(original)
    for device in (Device(), tagged(a=1), Device(device_type=3, events=[("ev", APP, NOW)])):
        assert again.matches(device, NOW) == original.matches(device, NOW)
