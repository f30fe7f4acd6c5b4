"""Provider states on the fakes' control API: plain-words states set up, bad input refused in the control format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.contracts.shared_names import MESSAGE_EVENT_NAMES
from swoosh.emulator.provider_states import ProviderStateError, ProviderStates
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.pushwoosh.provider_states import send_message_event
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend


@pytest.fixture
def pushwoosh() -> Iterator[tuple[FlaskClient, PushwooshBackend]]:
    backend = PushwooshBackend()
    yield pushwoosh_app(backend).test_client(), backend


@pytest.fixture
def segment() -> Iterator[tuple[FlaskClient, SegmentBackend]]:
    backend = SegmentBackend()
    yield segment_app(backend).test_client(), backend


def test_application_state_adds_the_application_and_key(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, backend = pushwoosh
    reply = client.post("/_swoosh/provider-states", json={"state": "application ZZZZZ-00001 exists with API key K9"})
    assert reply.status_code == 200 and reply.json["applied"] is True
    assert "ZZZZZ-00001" in backend.applications and "K9" in backend.api_tokens
    assert "KEY123" in backend.api_tokens  # setup adds, never wipes


def test_params_win_over_the_words(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, backend = pushwoosh
    body = {"state": "application ABCDE-12345 exists with API key KEY123", "params": {"api_key": "OTHER"}}
    assert client.post("/_swoosh/provider-states", json=body).status_code == 200
    assert "OTHER" in backend.api_tokens


def test_refused_key_state_removes_the_key(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, backend = pushwoosh
    assert client.post("/_swoosh/provider-states", json={"state": "API key KEY123 is not accepted"}).status_code == 200
    assert "KEY123" not in backend.api_tokens
    reply = client.post("/integration-segment/v1/ping", headers={"Authorization": "Token KEY123",
                                                                 "X-PW-Appcode": "ABCDE-12345"}, json={})
    assert reply.status_code == 401


def test_unknown_state_is_a_400_listing_the_known_patterns(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, _ = pushwoosh
    reply = client.post("/_swoosh/provider-states", json={"state": "the moon is full"})
    assert reply.status_code == 400  # not 5xx: the Pact verifier fails at once instead of retrying for minutes
    assert "unknown provider state 'the moon is full'" in reply.json["error"]
    assert "exists with API key" in reply.json["error"]
    assert len(client.get("/_swoosh/provider-states").json["patterns"]) == 4


def test_teardown_and_the_empty_state_do_nothing(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, backend = pushwoosh
    before = list(backend.api_tokens)
    for body in ({"state": "API key KEY123 is not accepted", "action": "teardown"}, {"state": ""}):
        reply = client.post("/_swoosh/provider-states", json=body)
        assert reply.status_code == 200 and reply.json["applied"] is False
    assert backend.api_tokens == before


@pytest.mark.parametrize("name", MESSAGE_EVENT_NAMES)
def test_message_states_send_a_real_message_and_the_producer_returns_its_event(
    pushwoosh: tuple[FlaskClient, PushwooshBackend], name: str
) -> None:
    client, backend = pushwoosh
    kind, outcome = name.split(" ")
    words = {"Sent": "was sent", "Delivered": "was delivered", "Bounced": "bounced"}[outcome]
    state = f"a {kind} message of campaign CMP-7 to user u7 {words}"
    assert client.post("/_swoosh/provider-states", json={"state": state}).status_code == 200
    reply = client.post("/_swoosh/provider-messages", json={"description": f"an {name} message event"})
    assert reply.status_code == 200, reply.json
    event = reply.json
    assert event["event"] == name and event["user_id"] == "u7" and event["campaign_code"] == "CMP-7"
    assert event["message_code"] in backend.messages  # a message the fake really created and delivered
    assert backend.applications["ABCDE-12345"].delivery_rates == {}  # the per-send rate is not left behind


def test_only_emails_bounce(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, _backend = pushwoosh
    reply = client.post("/_swoosh/provider-states", json={"state": "a Push message of campaign C to user u1 bounced"})
    assert reply.status_code == 400 and "only emails bounce" in reply.json["error"]
    with pytest.raises(ValueError, match="kind"):
        send_message_event(PushwooshBackend(), "Fax", "was sent", "u1", "C", "ABCDE-12345")


def test_producer_without_a_produced_event_is_a_clear_error(pushwoosh: tuple[FlaskClient, PushwooshBackend]) -> None:
    client, _ = pushwoosh
    reply = client.post("/_swoosh/provider-messages", json={"description": "a Push Sent message event"})
    assert reply.status_code == 404 and "no Push Sent message event produced yet" in reply.json["error"]
    reply = client.post("/_swoosh/provider-messages", json={"description": "a postcard"})
    assert reply.status_code == 400 and "names none of the message events" in reply.json["error"]


def test_segment_source_state_keeps_an_existing_source_id(segment: tuple[FlaskClient, SegmentBackend]) -> None:
    client, backend = segment
    source_id = backend.sources["pushwoosh"].source_id
    body = {"state": "source pushwoosh exists with write key another-key"}
    assert client.post("/_swoosh/provider-states", json=body).status_code == 200
    assert backend.sources["pushwoosh"].write_key == "another-key"
    assert backend.sources["pushwoosh"].source_id == source_id
    body = {"state": "source web exists with write key web-key"}
    assert client.post("/_swoosh/provider-states", json=body).status_code == 200
    assert backend.source_for_key("web-key") is backend.sources["web"]


def test_a_failing_setup_is_a_provider_state_error() -> None:
    def broken(_values: dict[str, object]) -> None:
        raise KeyError("app_code")

    with pytest.raises(ProviderStateError, match="could not be set up"):
        ProviderStates({"anything": broken}).apply("anything")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
BODIES = (
    st.fixed_dictionaries({}, optional={"state": JSON_VALUES | st.text(max_size=60), "params": JSON_VALUES,
                                        "action": JSON_VALUES | st.sampled_from(["setup", "teardown"])})
    | JSON_VALUES
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_any_body_is_answered_without_a_server_error(
    pushwoosh: tuple[FlaskClient, PushwooshBackend], body: object
) -> None:
    client, _ = pushwoosh
    for path in ("/_swoosh/provider-states", "/_swoosh/provider-messages"):
        reply = client.post(path, data=orjson.dumps(body), content_type="application/json")
        assert reply.status_code in (200, 400, 404), (path, body, reply.data)
        assert isinstance(reply.json, dict)


def test_a_fake_refusing_the_setup_is_a_400_not_a_500(
    pushwoosh: tuple[FlaskClient, PushwooshBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, backend = pushwoosh

    def inconsistent(request: dict[str, Any]) -> None:  # an inconsistent fake: registering the device fails inside
        raise KeyError(request["application"])

    monkeypatch.setattr(backend, "register_device", inconsistent)
    body = {"state": "a Push message of campaign C to user u1 was sent"}
    reply = client.post("/_swoosh/provider-states", json=body)
    assert reply.status_code == 400 and "could not be set up" in reply.json["error"]
