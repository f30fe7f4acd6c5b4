"""Personalisation placeholders: the three missing-value behaviours, the modifiers, plain braces."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.pushwoosh.templating import compile_template, placeholders, render, value_text


def test_seed_example() -> None:
    assert (
        render("Get 10% off {searched_product|CapitalizeFirst|}!", {"searched_product": "sports shoes"})
        == "Get 10% off Sports shoes!"
    )


def test_default_form_uses_the_default_when_missing() -> None:
    template = "Hello {Name|CapitalizeFirst|friend}!"
    assert render(template, {"Name": "ann"}) == "Hello Ann!"
    assert render(template, {}) == "Hello friend!"
    assert render(template, {"Name": None}) == "Hello friend!"
    assert render("{City||somewhere|else}", {}) == "somewhere|else"


def test_two_part_form_means_no_message_when_missing() -> None:
    template = "Hello {Name|CapitalizeFirst}!"
    assert render(template, {"Name": "ann"}) == "Hello Ann!"
    assert render(template, {}) is None
    assert render("{Name|} and {City|}", {"Name": "x"}) is None


def test_empty_default_leaves_the_placeholder_as_written() -> None:
    template = "Get 10% off {searched_product|CapitalizeFirst|}!"
    assert render(template, {}) == template
    assert render("Hi { Name | UPPERCASE |}", {}) == "Hi { Name | UPPERCASE |}"


def test_empty_string_value_is_a_value() -> None:
    assert render("[{Name||x}]", {"Name": ""}) == "[]"
    assert render("[{Name|}]", {"Name": ""}) == "[]"


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [
        ("CapitalizeFirst", "Sports shoes and mORE"),
        ("CapitalizeAllFirst", "Sports Shoes And MORE"),
        ("UPPERCASE", "SPORTS SHOES AND MORE"),
        ("lowercase", "sports shoes and more"),
        ("", "sports shoes and mORE"),
        ("capitalizefirst", "Sports shoes and mORE"),
        ("Shout", "sports shoes and mORE"),
    ],
)
def test_modifiers(modifier: str, expected: str) -> None:
    assert render(f"{{p|{modifier}|}}", {"p": "sports shoes and mORE"}) == expected


def test_capitalize_all_first_keeps_whitespace() -> None:
    assert render("{p|CapitalizeAllFirst|}", {"p": " new\tyork  city"}) == " New\tYork  City"


def test_default_is_not_modified() -> None:
    assert render("{Name|UPPERCASE|friend}", {}) == "friend"


def test_whitespace_around_name_and_modifier_is_ignored() -> None:
    assert render("{ Name | UPPERCASE |x}", {"Name": "ann"}) == "ANN"


@pytest.mark.parametrize(
    "template",
    [
        "no placeholders",
        "{}",
        "{Name}",
        '{"json": 1}',
        "{ |x|y}",
        "{|UPPERCASE|x}",
        "{{",
        "}{",
        "{Name|x|{y}",
    ],
)
def test_braces_that_are_not_placeholders_stay_as_text(template: str) -> None:
    assert render(template, {"Name": "ann", "json": "no"}) == template


def test_nested_braces_around_a_placeholder() -> None:
    assert render("{{Name|UPPERCASE|}}", {"Name": "ann"}) == "{ANN}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "x"),
        (5, "5"),
        (9.99, "9.99"),
        (10.0, "10"),
        (True, "true"),
        (False, "false"),
        (["a", "b", None], "a, b"),
        ({"b": 1, "a": [2]}, '{"a":[2],"b":1}'),
        (None, None),
    ],
)
def test_value_text(value: Any, text: str | None) -> None:
    assert value_text(value) == text


def test_values_render_as_text_in_templates() -> None:
    assert render("{n||} {f||} {l||} {b|UPPERCASE|}", {"n": 3, "f": 2.5, "l": ["x", "y"], "b": True}) == (
        "3 2.5 x, y TRUE"
    )


def test_dynamic_placeholders_are_plain_values() -> None:
    tags = {"firstname": "ann"}
    merged = {**tags, "firstname": "John"}
    assert render("Hi {firstname|CapitalizeFirst|there}", merged) == "Hi John"


def test_placeholders_lists_tag_names_once_in_order() -> None:
    assert placeholders("{b|x|} {a|} {b||y} {not one} {c|UPPERCASE|z}") == ["b", "a", "c"]
    assert placeholders("plain") == []


def test_templates_are_parsed_once() -> None:
    assert compile_template("Hi {Name|}") is compile_template("Hi {Name|}")


TEMPLATE_PIECES = st.sampled_from(["{", "}", "|", "Name", "UPPERCASE", "CapitalizeAllFirst", " ", "x", "%", "{Name|"])


@settings(max_examples=400, deadline=None)
@given(
    template=st.text(max_size=60) | st.lists(TEMPLATE_PIECES, max_size=20).map("".join),
    values=st.dictionaries(
        st.sampled_from(["Name", "x", " Name"]),
        st.none() | st.text(max_size=10) | st.integers() | st.floats() | st.booleans() | st.lists(st.text(max_size=3)),
    ),
)
def test_arbitrary_templates_never_raise(template: str, values: dict[str, Any]) -> None:
    result = render(template, values)
    assert result is None or isinstance(result, str)
    if not placeholders(template):
        assert result == template


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40).filter(lambda text: "{" not in text and "}" not in text))
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert render(text, {"Name": "x"}) == text
