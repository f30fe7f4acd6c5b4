"""The bridge's ingress: signatures, tokens, bad input (never enqueued, never a 5xx), good neighbours kept."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app

EVENT = {"event": "Push Sent", "message_code": "C-1", "hwid": "h1", "user_id": "u1", "device_type": 3}


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    core = Bridge(
        BridgeSettings(
            app_code="ABCDE-12345",
            segment_secret="s3cret",
            pushwoosh_token="tok-9f3a",
            allow_list="Push Sent, Push Delivered",
        ),
        Outbox(tmp_path / "o.db"),
    )
    yield core
    core.outbox.close()


@pytest.fixture
def client(bridge: Bridge) -> FlaskClient:
    return create_app(bridge).test_client()


def signed(body: bytes, secret: str = "s3cret") -> dict[str, str]:
    return {
        "X-Signature": hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "Content-Type": "application/json",
    }


def queued(bridge: Bridge, direction: str) -> list[dict]:
    return [orjson.loads(i.payload) for i in bridge.outbox.lease(direction, 10_000, now=1e12)]


def test_segment_ingress_verifies_the_signature(client: FlaskClient, bridge: Bridge) -> None:
    body = json.dumps({"batch": [{"type": "track", "userId": "u", "event": "E"}]}).encode()
    assert client.post("/segment", data=body, headers=signed(body)).get_json() == {"accepted": 1, "rejected": []}
    for headers in ({}, signed(body, "wrong"), {"X-Signature": "zz"}):
        response = client.post("/segment", data=body, headers=headers)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "bad_signature"
    assert len(queued(bridge, "segment")) == 1


def test_pushwoosh_ingress_checks_the_token_and_the_allow_list(client: FlaskClient, bridge: Bridge) -> None:
    events = [EVENT, {**EVENT, "event": "Email Bounced"}, {**EVENT, "event": "Push Delivered"}]
    assert client.post("/pushwoosh", json={"events": events}).status_code == 401
    reply = client.post("/pushwoosh", json={"events": events}, headers={"Authorization": "Bearer tok-9f3a"}).get_json()
    assert reply == {"accepted": 2, "rejected": [], "filtered": 1}
    assert [e["event"] for e in queued(bridge, "pushwoosh")] == ["Push Sent", "Push Delivered"]


def test_bad_neighbours_are_reported_and_good_ones_kept(client: FlaskClient, bridge: Bridge) -> None:
    reply = client.post(
        "/pushwoosh", json=[EVENT, {"event": "Push Sent"}, 7], headers={"Authorization": "Bearer tok-9f3a"}
    ).get_json()
    assert reply["accepted"] == 1 and [r["index"] for r in reply["rejected"]] == [1, 2]
    body = json.dumps([{"type": "identify", "userId": "u"}, "nope"]).encode()
    assert client.post("/segment", data=body, headers=signed(body)).get_json()["accepted"] == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{nope", "invalid_json"),
        (b'"text"', "invalid_shape"),
        (b"[1, 2]", "no_valid_events"),
        (b"x" * 6_000_000, "request_too_large"),
    ],
)
def test_bad_bodies_are_4xx_json_and_never_enqueued(
    client: FlaskClient, bridge: Bridge, body: bytes, code: str
) -> None:
    response = client.post("/segment", data=body, headers=signed(body))
    assert 400 <= response.status_code < 500 and response.get_json()["error"]["code"] == code
    assert queued(bridge, "segment") == []


@given(
    body=st.binary(max_size=200)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["event", "hwid", "message_code", "events", "batch", "type", "user_id", "device_type"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    ).map(lambda v: json.dumps(v).encode()),
    path=st.sampled_from(["/segment", "/pushwoosh", "/x"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_never_a_5xx(client: FlaskClient, bridge: Bridge, body: bytes, path: str) -> None:
    before = bridge.describe_stats()
    headers = {**signed(body), "Authorization": "Bearer tok-9f3a"}
    response = client.post(path, data=body, headers=headers)
    assert response.status_code < 500 and response.is_json
    after = bridge.describe_stats()
    if response.status_code >= 400:
        assert after == before


def test_health_stats_metrics_and_secrets_never_shown(client: FlaskClient) -> None:
    assert client.get("/_swoosh/health").get_json()["status"] == "ok"
    stats = client.get("/_swoosh/stats").get_json()
    assert set(stats) == {"segment", "pushwoosh"} and stats["segment"]["queued"] == 0
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'swoosh_bridge_delivered_total{direction="segment"} 0' in metrics
    config = client.get("/_swoosh/config").get_data(as_text=True)
    assert "s3cret" not in config and "tok-9f3a" not in config and "<set>" in config


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_properties_nested_too_deep_to_store_are_rejected_not_a_5xx(client: FlaskClient, bridge: Bridge) -> None:
    deep = {"type": "track", "userId": "u", "event": "E", "properties": _nested(300)}
    body = json.dumps({"batch": [deep, {"type": "track", "userId": "u", "event": "Shallow"}]}).encode()
    reply = client.post("/segment", data=body, headers=signed(body))
    assert reply.status_code == 200 and reply.get_json()["rejected"][0]["index"] == 0
    assert "nested too deeply" in reply.get_json()["rejected"][0]["reason"]
    alone = json.dumps(deep).encode()
    assert client.post("/segment", data=alone, headers=signed(alone)).status_code == 400
    event = {**EVENT, "extra": _nested(300)}
    response = client.post("/pushwoosh", json=[event], headers={"Authorization": "Bearer tok-9f3a"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "no_valid_events"
    assert [e["event"] for e in queued(bridge, "segment")] == ["Shallow"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Signature": "é" * 40},
        {"X-Signature": "\u00ff"},
        {"Authorization": "Bearer tök-9f3a"},
        {"Authorization": "Bearer \u00e9"},
    ],
)
def test_a_non_ascii_signature_or_token_is_a_401(client: FlaskClient, headers: dict[str, str]) -> None:
    path = "/segment" if "X-Signature" in headers else "/pushwoosh"
    response = client.post(path, data=json.dumps(EVENT).encode(), headers=headers)
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("body", [b"{nope", b"\xff\xfe", b"[1", b"nan"])
def test_replaying_dead_letters_with_a_body_that_is_not_json_is_a_400(client: FlaskClient, body: bytes) -> None:
    response = client.post("/_swoosh/dead-letters/replay", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.get_json()["error"]  # the control API's shape
