"""The fake Segment keeps its own per-message acceptance rule (it returns Segment's specific reasons in
Segment's order and is more lenient than a contract, see docs/contracts.md); this property test proves it
agrees with the schema elsewhere: schema-valid <=> accepted, over generated messages.

Domain: every rule the fake checks (type, the identities, messageId length, event, groupId, previousId) is
drawn from good and bad values, on top of realistic well-typed messages from fixtures. Two documented
differences are kept out of the domain: the fake, like Segment, tolerates a non-string messageId (it assigns
one) and an unusable identity next to a usable one (it drops it); the schemas call both wrong.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from swoosh import contracts, fixtures
from swoosh.emulator.segment.messages import CALL_TYPES, problem

ABSENT = object()
BASES = list(fixtures.generate("segment", 60, seed=21))
IDENTITY = st.sampled_from([ABSENT, None, "", "u1", 0, 7, 2.5, True, [], {"id": 1}])
TEXT = st.sampled_from([ABSENT, None, "", "   ", "Signed Up", 5, True, ["x"]])
MESSAGE_ID = st.sampled_from([ABSENT, "m-1", "x" * 100, "x" * 101, ""])
TYPE = st.sampled_from([*CALL_TYPES, "nope", "Track", 5, None, ABSENT])


def _usable(value: Any) -> bool:
    """An identity the fake keeps: a non-empty string or a number (not a boolean)."""
    return (isinstance(value, str) and value != "") or (isinstance(value, int | float) and not isinstance(value, bool))


def _in_schema_types(value: Any) -> bool:
    return value is ABSENT or value is None or isinstance(value, str) or _usable(value)


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(BASES),
    call_type=TYPE,
    user_id=IDENTITY,
    anonymous_id=IDENTITY,
    message_id=MESSAGE_ID,
    event=TEXT,
    group_id=IDENTITY,
    previous_id=IDENTITY,
)
def test_schema_valid_iff_the_fake_accepts(
    base: dict[str, Any],
    call_type: Any,
    user_id: Any,
    anonymous_id: Any,
    message_id: Any,
    event: Any,
    group_id: Any,
    previous_id: Any,
) -> None:
    if _usable(user_id) or _usable(anonymous_id):  # documented difference: an unusable id next to a usable one
        assume(_in_schema_types(user_id) and _in_schema_types(anonymous_id))
    message = {
        k: v
        for k, v in base.items()
        if k
        not in (
            "type",
            "userId",
            "anonymousId",
            "messageId",
            "event",
            "groupId",
            "previousId",
            "name",
            "traits",
            "properties",
        )
    }
    for key, value in (
        ("type", call_type),
        ("userId", user_id),
        ("anonymousId", anonymous_id),
        ("messageId", message_id),
        ("event", event),
        ("groupId", group_id),
        ("previousId", previous_id),
    ):
        if value is not ABSENT:
            message[key] = value
    reason = problem(message, message.get("type") if isinstance(message.get("type"), str) else None)
    problems = contracts.validate("segment/message", message)
    assert (problems == []) == (reason is None), (reason, problems, message)


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2)))
def test_a_message_that_is_not_an_object_is_refused_by_both(value: Any) -> None:
    assert problem(value, "track") is not None
    assert contracts.validate("segment/message", value)
