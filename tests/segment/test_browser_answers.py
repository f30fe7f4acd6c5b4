"""What a browser can read of the fake Segment: CORS on every answer, preflights outside fault rules,
analytics.js's `/v1/m` counters, `context.ip` for client-side libraries. (tests/browser/ drives the
same paths with the real SDK in Chromium; these run without a browser.)"""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from tests.segment.conftest import APP_KEY, basic

ORIGIN = "http://127.0.0.1:5173"
TRACK = {"userId": "u1", "event": "Viewed", "context": {"library": {"name": "analytics.js", "version": "1.84.3"}}}
COUNTER = {"type": "Counter", "metric": "analytics_js.invoke.track", "value": 1, "tags": {"library": "analytics.js"}}


def _assert_browser_readable(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({"status": 400}, 400),
        ({"status": 429, "retry_after": 5}, 429),
        ({"status": 503, "delay_ms": 20}, 503),
        ({"delay_ms": 20}, 200),
    ],
)
def test_injected_faults_carry_cors_headers(client: FlaskClient, rule: dict[str, object], status: int) -> None:
    client.post("/_swoosh/faults", json={"path": "^/v1/t$", **rule})
    response = client.post("/v1/t", json=TRACK, headers={"Origin": ORIGIN, **basic(APP_KEY)})
    assert response.status_code == status
    _assert_browser_readable(response)
    if status == 429:
        assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/b", b"x" * 600_000, 400),  # request_too_large, answered before the body is read
        ("POST", "/v1/t", b"{not json", 400),
        ("POST", "/v1/m", b'{"series": 3}', 400),
        ("POST", "/nowhere", b"{}", 404),  # werkzeug's routing, below the Tracking API's routes
        ("DELETE", "/v1", b"", 404),
    ],
)
def test_errors_below_the_routes_carry_cors_headers(
    client: FlaskClient, method: str, path: str, body: bytes, status: int
) -> None:
    response = client.open(path, method=method, data=body, headers={"Origin": ORIGIN})
    assert response.status_code == status
    _assert_browser_readable(response)


def test_a_preflight_is_answered_before_fault_rules(client: FlaskClient) -> None:
    client.post("/_swoosh/faults", json={"path": "^/v1/t$", "status": 400, "times": 1})
    preflight = client.options("/v1/t", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    _assert_browser_readable(preflight)
    assert client.get("/_swoosh/faults").get_json()["faults"][0]["fired"] == 0  # still there for the app's own request
    assert client.post("/v1/t", json=TRACK, headers={"Origin": ORIGIN, **basic(APP_KEY)}).status_code == 400


def test_control_routes_get_no_cors(client: FlaskClient) -> None:
    response = client.get("/_swoosh/health", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_dropped_connection_stays_dropped(served: str, backend: SegmentBackend) -> None:
    httpx.post(f"{served}/_swoosh/faults", json={"path": "^/v1/t$", "drop": True})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{served}/v1/t", json=TRACK, headers={"Origin": ORIGIN, **basic(APP_KEY)})


def test_metrics_are_summed_per_metric_and_tags_and_forgotten_on_reset(client: FlaskClient) -> None:
    other = {**COUNTER, "metric": "analytics_js.invoke.page"}
    for _ in range(2):
        answer = client.post("/v1/m", data=json.dumps({"series": [COUNTER, other]}), content_type="text/plain")
        assert answer.status_code == 200 and answer.get_json() == {"success": True}
    metrics = client.get("/_swoosh/metrics").get_json()
    assert metrics["posts"] == 2
    assert {c["metric"]: c["value"] for c in metrics["counters"]} == {
        "analytics_js.invoke.page": 2,
        "analytics_js.invoke.track": 2,
    }
    client.post("/_swoosh/reset")
    assert client.get("/_swoosh/metrics").get_json() == {"posts": 0, "counters": []}


def test_a_bad_metrics_post_counts_nothing(client: FlaskClient) -> None:
    bad = {"series": [COUNTER, {**COUNTER, "value": "1"}]}
    answer = client.post("/v1/m", data=json.dumps(bad))
    assert answer.status_code == 400 and answer.get_json()["success"] is False
    assert client.get("/_swoosh/metrics").get_json()["posts"] == 0


@settings(max_examples=60, deadline=None)
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_any_json_to_v1_m_is_a_200_or_a_clear_400(body: object) -> None:
    client = create_app(SegmentBackend()).test_client()
    answer = client.post("/v1/m", data=json.dumps(body))
    assert answer.status_code in (200, 400) and "success" in answer.get_json()


def test_context_ip_is_added_for_analytics_js_only_and_never_overwritten(
    client: FlaskClient, backend: SegmentBackend
) -> None:
    server_side = {**TRACK, "event": "Server", "context": {"library": {"name": "analytics-python"}}}
    given_ip = {**TRACK, "event": "Given", "context": {**TRACK["context"], "ip": "0.0.0.0"}}
    for body in (TRACK, server_side, given_ip):
        assert client.post("/v1/t", json=body, headers=basic(APP_KEY)).status_code == 200
    client.post("/v1/b", json={"batch": [{**TRACK, "type": "track", "event": "Batched"}]}, headers=basic(APP_KEY))
    tracks = [e["message"] for e in backend.events({"type": "track"})]
    ips = {m["event"]: m["context"].get("ip") for m in tracks}
    assert ips == {"Viewed": "127.0.0.1", "Server": None, "Given": "0.0.0.0", "Batched": "127.0.0.1"}


def test_the_http_layers_own_refusals_carry_cors_headers(served: str) -> None:
    """A head over the server's limit is refused before any route or middleware runs (emulator/http_errors.py)."""
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /v1/t HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nX-Big: {'a' * 70_000}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.split(" ", 2)[1] == "431"
    assert "\r\nAccess-Control-Allow-Origin: *" in head
    assert "Retry-After" in head  # in Access-Control-Expose-Headers
