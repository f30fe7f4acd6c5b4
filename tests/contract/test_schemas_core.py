"""The schema registry itself: names, offline `$ref` resolution, readable sorted problems, `check`."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import referencing.exceptions
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh import contracts
from swoosh.contracts.schemas import BASE_URI, registry, schemas, validator, verdict_validator


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_names_cover_every_area() -> None:
    names = contracts.names()
    assert names == sorted(names)
    for expected in (
        "segment/track",
        "segment/batch",
        "segment/enriched",
        "pushwoosh/track-user",
        "pushwoosh/post-events",
        "events/message-event",
        "events/tracking-plan",
    ):
        assert expected in names


@pytest.mark.parametrize("name", sorted(schemas()))
def test_every_schema_is_valid_2020_12_with_its_id(name: str) -> None:
    schema = contracts.schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE_URI}{name}.json"
    assert schema.get("title") and schema.get("description")


@pytest.mark.parametrize("name", sorted(schemas()))
def test_every_ref_resolves_offline(name: str) -> None:
    resolver = registry().resolver(base_uri=contracts.schema(name)["$id"])
    for ref in _refs(contracts.schema(name)):
        assert resolver.lookup(ref).contents is not None, ref


def test_unknown_ref_fails_fast_instead_of_fetching() -> None:
    resolver = registry().resolver(base_uri=f"{BASE_URI}segment/track.json")
    with pytest.raises(referencing.exceptions.Unresolvable):
        resolver.lookup("https://swoosh.invalid/schemas/nowhere.json")
    validator = jsonschema.Draft202012Validator({"$ref": "https://swoosh.invalid/x.json"}, registry=registry())
    with pytest.raises(referencing.exceptions.Unresolvable):
        validator.is_valid({})


def test_problems_are_sorted_paths_with_messages() -> None:
    good = {"type": "track", "userId": "u", "event": "x"}
    batch = [good] * 12
    batch[0] = {"type": "alias", "userId": "a"}
    batch[1] = {"type": "track", "userId": "u", "event": "   "}
    batch[10] = {"type": "nope", "userId": "u"}
    batch[2] = {"type": "group", "groupId": ""}
    problems = contracts.validate("segment/batch", {"batch": batch})
    assert [str(p) for p in problems] == [
        "$.batch[0]: 'previousId' is a required property",
        "$.batch[1].event: must be a string with a non-blank character",
        "$.batch[2]: needs a userId or an anonymousId (a non-empty string or a number)",
        "$.batch[2].groupId: must be a non-empty string or a number",
        "$.batch[10].type: 'nope' is not one of ['identify', 'track', 'page', 'screen', 'group', 'alias']",
    ]


def test_keys_that_are_not_identifiers_are_quoted_in_paths() -> None:
    problems = contracts.validate(
        "segment/track", {"userId": "u", "event": "x", "context": {"app": {"build version": 1, "version": 3}}}
    )
    assert [p.path for p in problems] == ["$.context.app.version"]
    assert contracts.validate("segment/identify", {"userId": "u", "traits": {"a b": 1}}) == []


def test_authored_problems_say_so() -> None:
    (authored,) = contracts.validate("pushwoosh/delete-user", {})
    assert (authored.message, authored.authored) == ("external_id is required", True)
    (generic,) = contracts.validate("pushwoosh/ping", {"body": {"name": 5}})
    assert generic.authored is False


def test_check_raises_with_every_problem_listed() -> None:
    contracts.check("segment/track", {"userId": "u1", "event": "Signed Up"})
    with pytest.raises(contracts.SchemaViolation) as caught:
        contracts.check("segment/track", {"event": 5})
    assert caught.value.name == "segment/track"
    assert len(caught.value.problems) == 2
    assert "$.event: must be a string with a non-blank character" in str(caught.value)
    assert "needs a userId or an anonymousId" in str(caught.value)


def test_unknown_schema_name_lists_the_known_ones() -> None:
    with pytest.raises(contracts.UnknownSchema, match="segment/track"):
        contracts.validate("segment/nope", {})


def test_is_valid_agrees_with_validate() -> None:
    assert contracts.is_valid("segment/track", {"anonymousId": 7, "event": "x"})
    assert not contracts.is_valid("segment/track", {"anonymousId": "", "event": "x"})


@pytest.mark.parametrize("name", sorted(schemas()))
def test_every_schema_example_validates_against_its_schema(name: str) -> None:
    for example in contracts.schema(name).get("examples", []):
        assert contracts.validate(name, example) == [], example


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(schemas())), payload=JSON_VALUES)
def test_any_json_value_gets_problems_never_an_exception(name: str, payload: Any) -> None:
    problems = contracts.validate(name, payload)
    assert all(isinstance(p, contracts.ValidationProblem) and p.path.startswith("$") and p.message for p in problems)
    assert (problems == []) == contracts.is_valid(name, payload)


def _mutated(payload: Any, data: st.DataObject) -> Any:
    """`payload` with one value somewhere inside it replaced by arbitrary JSON, or removed."""
    if not isinstance(payload, dict | list) or not payload or data.draw(st.booleans()):
        return data.draw(JSON_VALUES)
    keys = list(payload) if isinstance(payload, dict) else list(range(len(payload)))
    key = data.draw(st.sampled_from(keys))
    changed = copy.copy(payload)
    if isinstance(changed, dict) and data.draw(st.integers(0, 4)) == 0:
        del changed[key]
    else:
        changed[key] = _mutated(payload[key], data)
    return changed


@settings(max_examples=1500, deadline=None)
@given(name=st.sampled_from(sorted(schemas())), data=st.data())
def test_the_native_verdict_agrees_with_jsonschema_near_every_example(name: str, data: st.DataObject) -> None:
    """The fakes trust `verdict_validator` (jsonschema-rs) for the verdict: it must judge like jsonschema."""
    payload = data.draw(st.sampled_from(contracts.schema(name).get("examples") or [{}]))
    for _ in range(data.draw(st.integers(0, 3))):
        payload = _mutated(payload, data)
    assert verdict_validator(name).is_valid(payload) == validator(name).is_valid(payload), payload


def test_a_payload_deeper_than_the_stack_is_a_problem_not_a_crash() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    assert [str(p) for p in contracts.validate("segment/track", deep)] == ["$: nested too deeply to validate"]
