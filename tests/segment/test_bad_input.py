"""Arbitrary input to every route: never a 5xx, never a crash, and the counts always add up."""

from __future__ import annotations

import gzip
import json

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.emulator.segment.api import CALL_ROUTES
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.stored import STATUSES
from tests.segment.conftest import APP_KEY, basic

ROUTES = [f"/v1/{route}" for route in CALL_ROUTES] + ["/v1/pixel/track", "/v1/projects/k/settings", "/v1/x"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "bogus"]) | json_values,
        "userId": st.text(max_size=5) | json_values,
        "anonymousId": st.text(max_size=5) | st.none(),
        "event": st.text(max_size=10) | json_values,
        "messageId": st.text(max_size=120) | json_values,
        "timestamp": st.text(max_size=30) | json_values,
        "sentAt": st.text(max_size=30) | json_values,
        "context": json_values,
        "properties": json_values,
        "traits": json_values,
        "integrations": json_values,
        "groupId": json_values,
        "previousId": json_values,
        "writeKey": st.sampled_from([APP_KEY, "", "other"]) | json_values,
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    messages.map(lambda m: json.dumps(m).encode()),
    st.lists(messages, max_size=8).map(lambda items: json.dumps({"batch": items, "writeKey": APP_KEY}).encode()),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
)
headers = st.sampled_from(
    [
        {},
        basic(APP_KEY),
        basic("unknown"),
        {"Authorization": "Bearer t"},
        {"Authorization": "Basic ###"},
        {"Content-Encoding": "gzip", **basic(APP_KEY)},
        {"Content-Encoding": "br"},
    ]
)


def assert_consistent(backend: SegmentBackend) -> None:
    counts = backend.counts()
    assert sum(counts[s] for s in STATUSES) == counts["stored"] + counts["evicted"]
    assert len(backend.events({})) == counts["stored"]


@given(
    route=st.sampled_from(ROUTES),
    method=st.sampled_from(["POST", "PUT", "GET", "OPTIONS", "DELETE"]),
    body=bodies,
    header=headers,
    compress=st.booleans(),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_never_a_5xx(
    client: FlaskClient, backend: SegmentBackend, route: str, method: str, body: bytes, header: dict, compress: bool
) -> None:
    data = gzip.compress(body) if compress and header.get("Content-Encoding") == "gzip" else body
    response = client.open(route, method=method, data=data, headers=header)
    assert response.status_code < 500
    if response.status_code >= 400 and response.mimetype == "application/json":
        assert {"code", "message"} <= set(response.get_json())
    assert_consistent(backend)


@given(st.lists(messages, min_size=1, max_size=20))
@settings(max_examples=150, deadline=None)
def test_every_batch_item_is_accounted_for(items: list[dict]) -> None:
    backend = SegmentBackend()
    try:
        client = create_app(backend).test_client()
        response = client.post("/v1/batch", json={"batch": items}, headers=basic(APP_KEY))
        assert response.status_code == 200, response.get_data()
        assert backend.counts()["stored"] == len(items)
        good = backend.events({"status": "good"})
        for event in good:
            message = event["message"]
            assert message["messageId"] and message["receivedAt"] and message["timestamp"].endswith("Z")
        assert_consistent(backend)
    finally:
        backend.close()


def test_huge_and_deep_bodies(client: FlaskClient, backend: SegmentBackend) -> None:
    deep = b'{"batch": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    assert client.post("/v1/batch", data=deep, headers=basic(APP_KEY)).status_code == 400
    for depth in (200, 500):
        nested: dict = {"userId": "u", "event": "e", "properties": {}}
        cursor = nested["properties"]
        for _ in range(depth):
            cursor["n"] = {}
            cursor = cursor["n"]
        assert client.post("/v1/track", json=nested, headers=basic(APP_KEY)).status_code == 200
    assert client.post("/v1/batch", data=b"x" * 2_000_000, headers=basic(APP_KEY)).status_code == 400
    assert backend.warehouse.flush() and backend.counts()["good"] == 1
    assert [e["reason"] for e in backend.events({"status": "bad"})] == ["too_deeply_nested"]
    assert backend.warehouse.errors == []
    assert_consistent(backend)


def test_eviction_keeps_memory_bounded_and_counts_it() -> None:
    from swoosh.emulator.segment.backend import SegmentConfig

    backend = SegmentBackend(SegmentConfig(max_events=10))
    try:
        backend.ingest(
            "batch", {"writeKey": APP_KEY, "batch": [{"type": "identify", "userId": f"u{i}"} for i in range(25)]}
        )
        counts = backend.counts()
        assert counts["stored"] == 10 and counts["evicted"] == 15 and counts["good"] == 25
        assert backend.events({})[0]["message"]["userId"] == "u15"
    finally:
        backend.close()
