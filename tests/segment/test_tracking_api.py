"""The Tracking API on the wire: routes, auth variants, bodies, limits, strict mode."""

import base64
import gzip
import json

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from tests.segment.conftest import APP_KEY, basic

TRACK = {"userId": "u1", "event": "Push Sent"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/track",
        "/v1/t",
        "/V1/TRACK/",
        "/v1/Track",
        "/v1/t/",
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_track_routes_case_insensitive_with_trailing_slash(
    client: FlaskClient, backend: SegmentBackend, path: str, method: str
) -> None:
    response = client.open(path, method=method, json=TRACK, headers=basic(APP_KEY))
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert backend.events({})[-1]["type"] == "track"


@pytest.mark.parametrize(
    ("route", "call_type", "body"),
    [
        ("identify", "identify", {"userId": "u"}),
        ("i", "identify", {"userId": "u"}),
        ("page", "page", {"anonymousId": "a"}),
        ("p", "page", {"anonymousId": "a"}),
        ("screen", "screen", {"userId": "u"}),
        ("s", "screen", {"userId": "u"}),
        ("group", "group", {"userId": "u", "groupId": "g"}),
        ("g", "group", {"userId": "u", "groupId": "g"}),
        ("alias", "alias", {"userId": "u", "previousId": "p"}),
        ("a", "alias", {"userId": "u", "previousId": "p"}),
    ],
)
def test_every_call_route(client: FlaskClient, backend: SegmentBackend, route: str, call_type: str, body: dict) -> None:
    assert client.post(f"/v1/{route}", json=body, headers=basic(APP_KEY)).status_code == 200
    assert backend.events({"status": "good"})[-1]["type"] == call_type


@pytest.mark.parametrize("route", ["batch", "import", "b", "import/"])
def test_batch_routes(client: FlaskClient, backend: SegmentBackend, route: str) -> None:
    body = {"batch": [{"type": "track", **TRACK}, {"type": "identify", "userId": "u1"}]}
    assert client.post(f"/v1/{route}", json=body, headers=basic(APP_KEY)).status_code == 200
    assert backend.counts()["good"] == 2


def test_write_key_in_body_and_oauth(client: FlaskClient, backend: SegmentBackend) -> None:
    assert client.post("/v1/track", json={**TRACK, "writeKey": APP_KEY}).status_code == 200
    bearer = {"Authorization": "Bearer some.jwt.token"}
    assert client.post("/v1/track", json={**TRACK, "writeKey": APP_KEY}, headers=bearer).status_code == 200
    assert backend.counts()["good"] == 2
    refused = client.post("/v1/track", json=TRACK, headers=bearer)
    assert refused.status_code == 400 and refused.get_json()["code"] == "missing_write_key"


def test_text_plain_and_missing_content_type_are_parsed(client: FlaskClient, backend: SegmentBackend) -> None:
    payload = json.dumps({**TRACK, "writeKey": APP_KEY})
    assert client.post("/v1/t", data=payload, content_type="text/plain").status_code == 200
    assert client.post("/v1/t", data=payload.encode()).status_code == 200
    assert backend.counts()["good"] == 2


@pytest.mark.parametrize("headers", [{}, basic(""), {"Authorization": "Basic !!!notbase64"}])
def test_empty_write_key_is_400_with_code_and_message(client: FlaskClient, headers: dict) -> None:
    response = client.post("/v1/track", json=TRACK, headers=headers)
    assert response.status_code == 400
    assert {"code", "message"} <= set(response.get_json())


def test_unknown_write_key_is_200_and_recorded_as_dropped(client: FlaskClient, backend: SegmentBackend) -> None:
    response = client.post("/v1/batch", json={"batch": [{"type": "track", **TRACK}] * 3}, headers=basic("nope"))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    dropped = backend.events({"status": "dropped"})
    assert len(dropped) == 3 and {e["reason"] for e in dropped} == {"unknown_write_key"}
    assert backend.counts()["good"] == 0


def test_strict_mode_makes_unknown_keys_and_bad_events_loud(strict_backend: SegmentBackend) -> None:
    client = create_app(strict_backend).test_client()
    unknown = client.post("/v1/track", json=TRACK, headers=basic("nope"))
    assert unknown.status_code == 401 and unknown.get_json()["code"] == "invalid_write_key"
    mixed = client.post(
        "/v1/batch",
        json={"batch": [{"type": "track", **TRACK, "messageId": "ok-1"}, {"type": "track", "event": "x"}]},
        headers=basic(APP_KEY),
    )
    assert mixed.status_code == 400
    assert mixed.get_json()["errors"] == [{"index": 1, "reason": "no_user_anon_id"}]
    assert strict_backend.counts()["good"] == 0
    # the refused request left no dedupe entry behind: the good message can be resent
    assert client.post("/v1/track", json={**TRACK, "messageId": "ok-1"}, headers=basic(APP_KEY)).status_code == 200
    assert strict_backend.counts()["good"] == 1


@pytest.mark.parametrize(
    ("route", "body", "reason"),
    [
        ("track", {"event": "x"}, "no_user_anon_id"),
        ("track", {"userId": "", "anonymousId": None, "event": "x"}, "no_user_anon_id"),
        ("track", {"userId": "u"}, "missing_event_name"),
        ("track", {"userId": "u", "event": "  "}, "missing_event_name"),
        ("group", {"userId": "u"}, "missing_group_id"),
        ("alias", {"userId": "u"}, "missing_previous_id"),
        ("alias", {"anonymousId": "a", "previousId": "p"}, "missing_user_id"),
        ("identify", {"userId": "u", "messageId": "m" * 101}, "message_id_too_long"),
        ("identify", [1, 2], "invalid_message"),
        ("batch", {"batch": "nope"}, "invalid_batch"),
        ("batch", {"batch": [{"userId": "u"}]}, "invalid_type"),
        ("batch", {"batch": [{"type": "launch", "userId": "u"}]}, "invalid_type"),
        ("batch", {"batch": [7]}, "invalid_message"),
    ],
)
def test_invalid_messages_are_200_and_kept_as_bad_with_a_reason(
    client: FlaskClient, backend: SegmentBackend, route: str, body: object, reason: str
) -> None:
    response = client.post(f"/v1/{route}", json=body, headers=basic(APP_KEY))
    assert response.status_code == 200
    bad = backend.events({"status": "bad"})
    assert [e["reason"] for e in bad] == [reason]
    assert backend.counts()["good"] == 0


def test_bad_neighbours_do_not_sink_good_items(client: FlaskClient, backend: SegmentBackend) -> None:
    batch = [{"type": "track", **TRACK}, {"type": "track", "event": "no user"}, {"type": "identify", "userId": "u"}]
    client.post("/v1/batch", json={"batch": batch}, headers=basic(APP_KEY))
    assert backend.counts()["good"] == 2 and backend.counts()["bad"] == 1


def test_more_than_2500_events_are_accepted_up_to_the_limit(client: FlaskClient, backend: SegmentBackend) -> None:
    batch = [{"type": "track", "userId": "u", "event": "e"}] * 2503
    assert client.post("/v1/batch", json={"batch": batch}, headers=basic(APP_KEY)).status_code == 200
    counts = backend.counts()
    assert counts["good"] == 2500 and counts["bad"] == 3
    assert {e["reason"] for e in backend.events({"status": "bad"})} == {"too_many_events"}


def test_size_limits(client: FlaskClient, backend: SegmentBackend) -> None:
    big_call = {**TRACK, "properties": {"blob": "x" * 33_000}}
    response = client.post("/v1/track", json=big_call, headers=basic(APP_KEY))
    assert response.status_code == 400 and response.get_json()["code"] == "request_too_large"
    big_item = {"type": "track", **TRACK, "properties": {"blob": "x" * 33_000}}
    small_item = {"type": "track", **TRACK}
    assert client.post("/v1/batch", json={"batch": [big_item, small_item]}, headers=basic(APP_KEY)).status_code == 200
    assert [e["reason"] for e in backend.events({"status": "bad"})] == ["message_too_large"]
    huge_batch = {"batch": [{"type": "track", **TRACK, "properties": {"p": "y" * 20_000}}] * 30}
    too_big = client.post("/v1/batch", json=huge_batch, headers=basic(APP_KEY))
    assert too_big.status_code == 400 and too_big.get_json()["code"] == "request_too_large"
    assert backend.counts()["good"] == 1


def test_the_batch_limit_is_512000_bytes(client: FlaskClient, backend: SegmentBackend) -> None:
    """Segment's "500 KB" is 512,000 bytes: a body of exactly that many is taken, one byte more is not."""
    item = {"type": "track", **TRACK, "properties": {"p": "y" * 20_000}}
    body = json.dumps({"batch": [item] * 25}).encode()
    padded = body[:-1] + b" " * (512_000 - len(body)) + b"}"
    assert len(padded) == 512_000
    headers = {"Content-Type": "application/json", **basic(APP_KEY)}
    assert client.post("/v1/batch", data=padded, headers=headers).status_code == 200
    over = client.post("/v1/batch", data=padded[:-1] + b" }", headers=headers)
    assert over.status_code == 400 and over.get_json()["code"] == "request_too_large"
    assert backend.counts()["good"] == 25


def test_gzip_bodies_limits_after_decompression_and_bombs(client: FlaskClient, backend: SegmentBackend) -> None:
    gz = {"Content-Encoding": "gzip", **basic(APP_KEY)}
    assert client.post("/v1/track", data=gzip.compress(json.dumps(TRACK).encode()), headers=gz).status_code == 200
    assert backend.counts()["good"] == 1
    bomb = gzip.compress(b'{"batch": [' + b" " * 200_000_000 + b"]}")
    response = client.post("/v1/batch", data=bomb, headers=gz)
    assert response.status_code == 400 and response.get_json()["code"] == "request_too_large"
    garbage = client.post("/v1/track", data=b"\x1f\x8b not really gzip", headers=gz)
    assert garbage.status_code == 400
    assert garbage.get_json() == {"success": False, "code": "malformed_gzip", "message": "Malformed gzip content"}


def test_invalid_json_is_400_with_code_and_message(client: FlaskClient) -> None:
    response = client.post("/v1/batch", data=b"{not json", headers=basic(APP_KEY))
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_json"


def test_cors_preflight_and_headers(client: FlaskClient) -> None:
    preflight = client.options(
        "/v1/batch", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    for header in ("Authorization", "Content-Type", "X-Retry-Count"):
        assert header in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" in client.post("/v1/t", json=TRACK).headers


def test_pixel_and_cdn_settings(client: FlaskClient, backend: SegmentBackend) -> None:
    data = base64.b64encode(json.dumps({**TRACK, "writeKey": APP_KEY}).encode()).decode()
    pixel = client.get(f"/v1/pixel/track?data={data}")
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    assert client.get("/v1/pixel/track?data=%%%").status_code == 200
    launch = client.get(f"/v1/pixel/launch?data={data}")  # not a call type: still the GIF, nothing kept
    assert launch.status_code == 200 and launch.mimetype == "image/gif"
    assert backend.counts()["good"] == 1
    settings = client.get("/v1/projects/MyKey/settings").get_json()
    assert settings["integrations"]["Segment.io"]["apiKey"] == "MyKey"
    assert settings["integrations"]["Segment.io"]["apiHost"].endswith("/v1")


def test_the_pixels_write_key_never_reaches_the_journal(client: FlaskClient) -> None:
    data = base64.b64encode(json.dumps({**TRACK, "writeKey": APP_KEY}).encode()).decode()
    assert client.get(f"/v1/pixel/track?data={data}&writeKey={APP_KEY}").status_code == 200
    entry = client.get("/_swoosh/journal").get_json()["requests"][-1]
    journaled = dict(part.split("=", 1) for part in entry["query"].split("&"))
    assert journaled["writeKey"] == "<redacted>"
    message = json.loads(base64.b64decode(journaled["data"]))
    assert message["writeKey"] == "<redacted>" and message["event"] == TRACK["event"]
    assert APP_KEY not in json.dumps(entry)


def test_unknown_routes_are_json_404(client: FlaskClient) -> None:
    for path in ("/v1/launch", "/v2/track", "/nothing"):
        response = client.post(path, json=TRACK)
        assert response.status_code in (404, 405)
        assert {"code", "message"} <= set(response.get_json())


def test_an_injected_429_has_segments_body_and_rate_limit_headers_on_the_emulator_clock(
    client: FlaskClient, backend: SegmentBackend
) -> None:
    backend.runtime.clock.set_offset(10_000.0)
    backend.runtime.faults.add({"path": "/v1/batch", "status": 429, "times": 1})
    before = backend.runtime.clock.time()
    reply = client.post("/v1/batch", json={"batch": [{"type": "track", **TRACK}]}, headers=basic(APP_KEY))
    after = backend.runtime.clock.time()
    assert reply.status_code == 429
    assert reply.get_json() == {"success": False, "code": "fault_injected", "message": reply.get_json()["message"]}
    assert reply.headers["Retry-After"] == "1"  # none given: Segment's 429s always carry one
    # whole seconds on the emulator clock, one second after the answer (was: a bound that failed at the edge)
    assert int(before + 1) <= int(reply.headers["X-RateLimit-Reset"]) <= int(after + 1)
    assert backend.counts()["good"] == 0
