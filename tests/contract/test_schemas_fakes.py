"""The fakes validate with the schemas: the integration API's refusals (the real service's texts, byte for
byte), and any body at all gets a 2xx or a refusal in the real service's shape, never a 5xx."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh import contracts
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from tests.captured import POST_EVENTS
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS

[EVENT] = POST_EVENTS["events"]


def failure(text: str) -> bytes:
    return orjson.dumps({"action": "post event", "status": "failure", "error": {"message": text}})


def message(text: str) -> bytes:
    return orjson.dumps({"message": text})


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("track-user", {"attributes": {}}, message("user_id or device_id is required")),
        ("track-user", {"user_id": "", "device_id": None}, message("user_id or device_id is required")),
        ("track-user", {"user_id": "u1", "attributes": ["a"]}, message("attributes must be an object")),
        ("delete-user", {}, message("external_id is required")),
        ("delete-user", {"external_id": ""}, message("external_id is required")),
        ("post-events", {}, failure('"events" must be an array')),
        ("post-events", {"events": {}}, failure('"events" must be an array')),
        ("post-events", {"events": [EVENT, 5]}, failure("each event must be an object")),
        (
            "post-events",
            {"events": [{**EVENT, "timestamp": 1763820523}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
        (
            "post-events",
            {"events": [{**EVENT, "timestamp": "22/11/2026"}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
        (
            "post-events",
            {"events": [{**EVENT, "timestamp": "2026-13-22T14:08:43Z"}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
        (
            "post-events",
            {"events": [{k: v for k, v in EVENT.items() if k != "timestamp"}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
        ("post-events", {"events": [{**EVENT, "name": ""}]}, failure("event name is required")),
        ("post-events", {"events": [{**EVENT, "user_id": None}]}, failure("user_id is required")),
        ("post-events", {"events": [EVENT, {**EVENT, "attributes": "gold"}]}, failure("attributes must be an object")),
        (
            "post-events",
            {"events": [{**EVENT, "app_code": "NOPE0-00000"}]},
            failure("application NOPE0-00000 not found"),
        ),
        # several problems in one event: the timestamp is reported first, as before the schemas
        (
            "post-events",
            {"events": [{**EVENT, "timestamp": 5, "name": "", "attributes": 1}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
        (
            "post-events",
            {"events": [{"name": "", "attributes": 1}]},
            failure("Time.UnmarshalJSON: input is not a JSON string"),
        ),
    ],
)
def test_refusals_are_the_real_service_texts(client: FlaskClient, path: str, body: Any, expected: bytes) -> None:
    reply = client.post(f"/integration-segment/v1/{path}", json=body, headers=INTEGRATION_HEADERS)
    assert (reply.status_code, reply.data) == (400, expected)


def test_more_than_100_events_only_a_strict_fake_refuses(client: FlaskClient, backend: PushwooshBackend) -> None:
    body = {"events": [EVENT] * 101}
    assert client.post("/integration-segment/v1/post-events", json=body, headers=INTEGRATION_HEADERS).status_code == 200
    backend.strict = True
    reply = client.post("/integration-segment/v1/post-events", json=body, headers=INTEGRATION_HEADERS)
    assert (reply.status_code, reply.data) == (400, failure("at most 100 events per request"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "u1", "2026-11-22T14:08:43Z", APP, "x y"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "name", "user_id"]), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["user_id", "device_id", "name", "timestamp", "attributes", "app_code", "app_id", "external_id"]
ITEM = st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6) | JSON
BODY = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6),
    st.fixed_dictionaries({"events": st.lists(ITEM, max_size=4) | JSON}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["track-user", "post-events", "delete-user"]), body=BODY)
def test_any_body_gets_2xx_or_a_refusal_in_shape(client: FlaskClient, path: str, body: Any) -> None:
    reply = client.post(f"/integration-segment/v1/{path}", json=body, headers=INTEGRATION_HEADERS)
    assert reply.status_code in (200, 400), reply.data
    if reply.status_code == 400:
        schema = "pushwoosh/post-event-failure" if path == "post-events" else "pushwoosh/error"
        assert contracts.validate(schema, orjson.loads(reply.data)) == []
    else:
        assert reply.data == b""
        request_schema = {
            "post-events": "pushwoosh/post-events",
            "track-user": "pushwoosh/track-user",
            "delete-user": "pushwoosh/delete-user",
        }[path]
        assert contracts.validate(request_schema, body) == []
