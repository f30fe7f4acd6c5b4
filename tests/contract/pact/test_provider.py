"""Provider verification: both fakes honour the bridge's pacts; a drifted provider fails with a readable report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask, Response
from pact import Pact

from swoosh.contracts.pact.bridge import INTEGRATION_API, MESSAGE_EVENTS, TRACKING_API
from swoosh.contracts.pact.sources import VerificationSetupError, pacts_for
from swoosh.contracts.pact.verify import verify
from swoosh.contracts.shared_names import MESSAGE_EVENT_NAMES
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.serving import ServerThread


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def pushwoosh(request: pytest.FixtureRequest) -> Iterator[tuple[ServerThread, PushwooshBackend]]:
    """The fake Pushwoosh in both modes: the bridge's contract must hold in either."""
    backend = PushwooshBackend(PushwooshConfig(strict=request.param))
    with ServerThread(pushwoosh_app(backend), threads=4) as server:
        yield server, backend


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def segment(request: pytest.FixtureRequest) -> Iterator[tuple[ServerThread, SegmentBackend]]:
    backend = SegmentBackend(SegmentConfig(strict=request.param))
    with ServerThread(segment_app(backend), threads=4) as server:
        yield server, backend


def test_fake_pushwoosh_honours_the_integration_api_pact(pushwoosh: tuple[ServerThread, PushwooshBackend]) -> None:
    server, backend = pushwoosh
    result = verify(INTEGRATION_API, server.url, provider_version="fake")
    assert result.passed, result.report
    assert [p.consumer for p in result.pacts] == ["swoosh-bridge"]
    # the replayed requests reached the fake's real integration API, not a stub
    paths = {entry.path for entry in backend.runtime.journal.entries(None, "/integration-segment", None, None)}
    assert {f"/integration-segment/v1/{e}" for e in ("ping", "track-user", "post-events", "delete-user")} <= paths


def test_fake_pushwoosh_produces_every_message_event_of_the_message_pact(
    pushwoosh: tuple[ServerThread, PushwooshBackend],
) -> None:
    server, backend = pushwoosh
    result = verify(MESSAGE_EVENTS, server.url)
    assert result.passed, result.report
    produced = {event["event"] for event in backend.lifecycle.events}
    assert produced == set(MESSAGE_EVENT_NAMES)  # by the delivery simulation, one real send per state


def test_fake_segment_honours_the_tracking_api_pact(segment: tuple[ServerThread, SegmentBackend]) -> None:
    server, backend = segment
    result = verify(TRACKING_API, server.url)
    assert result.passed, result.report
    assert backend.counts()  # the batch was ingested for real


def test_a_provider_answering_an_error_fails_with_the_interaction_named(
    pushwoosh: tuple[ServerThread, PushwooshBackend],
) -> None:
    server, _backend = pushwoosh
    rule = {"method": "POST", "path": "^/integration-segment/v1/ping$", "status": 503, "body": {"error": "down"}}
    assert httpx.post(f"{server.url}/_swoosh/faults", json=rule).status_code == 201
    result = verify(INTEGRATION_API, server.url)
    assert not result.passed
    assert "a credentials check" in result.report
    assert "expected 200 but was 503" in result.report
    assert any("a credentials check" in failure for failure in result.failures)


def test_a_provider_answering_another_shape_fails_readably() -> None:
    drifted = Flask("drifted-segment")

    @drifted.route("/<path:_rest>", methods=["GET", "POST"])
    def anything(_rest: str) -> Response:
        return Response('{"ok": 1}', status=200, mimetype="application/json")

    with ServerThread(drifted, threads=2) as server:
        result = verify(TRACKING_API, server.url)
    assert not result.passed
    assert "a batch of message events as track calls" in result.report
    assert "missing the following keys: code, message, success" in result.report  # what the consumer relies on
    assert "\x1b[" not in result.report  # plain text, fit for a CI log
    assert "expected 400 but was 200" in result.report


def test_unknown_provider_and_bad_url_are_setup_errors() -> None:
    with pytest.raises(VerificationSetupError, match="no pact"):
        verify("no-such-provider", "http://127.0.0.1:9")
    with pytest.raises(VerificationSetupError, match="http"):
        verify(INTEGRATION_API, "ftp://example")
    assert [p.provider for p in pacts_for(MESSAGE_EVENTS)] == [MESSAGE_EVENTS]
    assert pacts_for(MESSAGE_EVENTS)[0].messages


def test_a_state_the_provider_does_not_know_is_explained(
    pushwoosh: tuple[ServerThread, PushwooshBackend], tmp_path: Path
) -> None:
    server, _backend = pushwoosh
    pact = Pact("someone", "moon-api").with_specification("V4")
    (
        pact.upon_receiving("a ping under a full moon")
        .given("the moon is full")
        .with_request("POST", "/integration-segment/v1/ping")
        .will_respond_with(401)
    )
    pact.write_file(tmp_path)
    result = verify("moon-api", server.url, pact_dir=tmp_path)
    assert not result.passed
    assert any("unknown provider state 'the moon is full'" in line for line in result.failures), result.failures
