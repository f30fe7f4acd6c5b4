"""Typed fields coerced like Segment's action runtime (the cases observed running its code)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.bridge.destination import Mappings, requests_for
from swoosh.bridge.fields import Field, Refused, is_date_like, js_number_text, js_to_number, payload_for

TEXT = Field("country", "Country", "v", nullable=True)
ID = Field("external_id", "External User ID", "v")
NUMBER = Field("latitude", "Latitude", "v", "number")
WHEN = Field("timestamp", "Timestamp", "v", "datetime", required=True)
OBJECT = Field("properties", "Event Properties", "v", "object")


@pytest.mark.parametrize(
    ("number", "text"),
    [(1.0, "1"), (42, "42"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (0.000001, "0.000001")],
)
def test_numbers_become_text_as_javascript_writes_them(number: float, text: str) -> None:
    assert js_number_text(number) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [("30.1", 30.1), (" 42 ", 42), ("1e3", 1000), ("0x1F", 31), ("", 0), ("abc", None), ("1_000", None)],
)
def test_text_becomes_a_number_as_javascript_reads_it(text: str, number: float | None) -> None:
    assert js_to_number(text) == number


@pytest.mark.parametrize(
    ("field", "value", "sent"),
    [
        (TEXT, 42, "42"),
        (TEXT, True, "true"),
        (TEXT, None, None),  # an explicit null where the field allows it
        (TEXT, [5], "5"),
        (TEXT, [None], ""),
        (ID, ["x"], "x"),  # a single-type field takes a one-item array's item as is
        (NUMBER, "30.1", 30.1),
        (NUMBER, ["7.5"], 7.5),
        (NUMBER, True, 1),
        (WHEN, 1763820523, 1763820523),
        (WHEN, "2026-11-22 14:08:43", "2026-11-22 14:08:43"),
        (OBJECT, {"a": [1]}, {"a": [1]}),
    ],
)
def test_values_are_coerced_to_their_fields_type(field: Field, value: Any, sent: Any) -> None:
    assert payload_for({"v": value}, (field,)) == {field.key: sent}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (TEXT, ["one"], "Country must be a string or null but it was a string."),
        (TEXT, {}, "Country must be a string or null but it was an object."),
        (NUMBER, "abc", "Latitude must be a number but it was a string."),
        (WHEN, "yesterday", "Timestamp must be a valid date-like string but it was not."),
        (WHEN, {}, "Timestamp must be a string or number but it was an object."),
        (OBJECT, [1, 2], "Event Properties must be an object but it was an array."),
        (OBJECT, [{}], "Event Properties must be an object but it was an array."),
        (WHEN, "", "The root value is missing the required field 'timestamp'."),
    ],
)
def test_values_that_cannot_be_coerced_are_refused_with_its_text(field: Field, value: Any, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        payload_for({"v": value}, (field,))
    assert str(refused.value) == reason


def test_empty_and_null_values_are_left_out_where_the_field_does_not_take_them() -> None:
    assert payload_for({"v": None}, (ID,)) == {} and payload_for({"v": ""}, (TEXT,)) == {}
    assert payload_for({"v": ""}, (TEXT,), batched=True) == {"country": ""}  # the batch path keeps it


@pytest.mark.parametrize(
    "text", ["2026-11-22T14:08:43.998Z", "1763820523", "20261122", "Sun, 22 Nov 2026 14:08:43 GMT"]
)
def test_date_like(text: str) -> None:
    assert is_date_like(text) and not is_date_like("yesterday")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(["track", "page", "screen", "identify", "group", "delete"])},
    optional={
        key: json_values
        for key in ("userId", "event", "name", "timestamp", "properties", "traits", "context", "messageId")
    },
)


@given(st.lists(events, max_size=8), st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_event_is_mapped_or_skipped_with_a_reason(batch: list[dict[str, Any]], batching: bool) -> None:
    requests, held = requests_for(batch, Mappings("ABCDE-12345", batching=batching))
    sent = sorted(i for request in requests for i in request.sources)
    assert sorted(sent + [h.index for h in held]) == list(range(len(batch)))
    assert all(isinstance(h.reason, str) and h.reason for h in held)
