"""`swoosh contracts verify --broker-url`: pacts fetched from a Pact Broker, here a minimal one on loopback.

The broker speaks just the HAL the Pact verifier walks: the index names `pb:provider-pacts-for-verification`,
which is fetched, then POSTed with the consumer version selectors, and lists pact URLs, each then fetched.
It serves the committed pacts and records what was asked, so the test also shows the walk happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask, Response, jsonify, request

from contracts.cli import contracts
from contracts.pact_bridge import INTEGRATION_API, MESSAGE_EVENTS
from contracts.pact_consumer import COMMITTED_PACTS
from contracts.pact_results import RESULTS_ENV, load
from emulator.pushwoosh.app import create_app as pushwoosh_app
from emulator.pushwoosh.backend import PushwooshBackend
from emulator.serving import ServerThread


def broker_app(pacts: dict[str, dict], asked: list[str]) -> Flask:
    """A Pact Broker reduced to the verifier's walk, serving `pacts` by provider name."""
    app = Flask("pact-broker")

    @app.before_request
    def note() -> None:
        asked.append(f"{request.method} {request.path}")

    @app.get("/")
    def index() -> Response:
        href = request.host_url + "pacts/provider/{provider}/for-verification"
        return jsonify({"_links": {"pb:provider-pacts-for-verification": {"href": href, "templated": True}}})

    @app.get("/pacts/provider/<provider>/for-verification")
    def for_verification_resource(provider: str) -> Response:
        return jsonify({"_links": {"self": {"href": request.base_url}}})

    @app.post("/pacts/provider/<provider>/for-verification")
    def for_verification(provider: str) -> Response:
        found = []
        if provider in pacts:
            consumer = pacts[provider]["consumer"]["name"]
            href = f"{request.host_url}pacts/provider/{provider}/consumer/{consumer}/latest"
            found.append(
                {
                    "shortDescription": "latest",
                    "verificationProperties": {"pending": False, "notices": []},
                    "_links": {"self": {"href": href, "name": f"Pact between {consumer} and {provider}"}},
                }
            )
        return jsonify({"_embedded": {"pacts": found}, "_links": {"self": {"href": request.base_url}}})

    @app.get("/pacts/provider/<provider>/consumer/<consumer>/latest")
    def pact(provider: str, consumer: str) -> Response:
        return jsonify(pacts[provider])

    return app


@pytest.fixture
def asked() -> list[str]:
    return []


@pytest.fixture
def broker_url(asked: list[str]) -> Iterator[str]:
    committed = [json.loads(path.read_text()) for path in sorted(Path(COMMITTED_PACTS).glob("*.json"))]
    with ServerThread(broker_app({p["provider"]["name"]: p for p in committed}, asked), threads=4) as server:
        yield server.url


@pytest.fixture
def pushwoosh_url() -> Iterator[str]:
    with ServerThread(pushwoosh_app(PushwooshBackend()), threads=4) as server:
        yield server.url


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_ENV, str(path))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(contracts, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("provider", [INTEGRATION_API, MESSAGE_EVENTS])
def test_pacts_from_a_broker_verify_the_fake_and_the_result_is_recorded(
    provider: str, broker_url: str, pushwoosh_url: str, results: Path, asked: list[str]
) -> None:
    code, output = run("verify", "--provider", provider, "--url", pushwoosh_url, "--broker-url", broker_url)
    assert code == 0, output
    assert f"POST /pacts/provider/{provider}/for-verification" in asked
    assert f"GET /pacts/provider/{provider}/consumer/swoosh-bridge/latest" in asked
    records, _ = load(results)
    assert [(r.provider, r.pact, r.passed) for r in records] == [(provider, broker_url, True)]


def test_a_provider_that_breaks_a_brokered_pact_fails_with_the_mismatch(
    broker_url: str, pushwoosh_url: str, results: Path
) -> None:
    httpx.post(f"{pushwoosh_url}/_swoosh/faults", json={"path": "ping", "status": 401, "times": 1}).raise_for_status()
    code, output = run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url, "--broker-url", broker_url)
    assert code == 1
    assert "expected 200 but was 401" in output
    records, _ = load(results)
    assert [(r.pact, r.passed) for r in records] == [(broker_url, False)]


def test_a_broker_without_a_pact_for_the_provider_fails_readably(
    broker_url: str, pushwoosh_url: str, results: Path
) -> None:
    provider = "nobody-provides-this"
    code, output = run("verify", "--provider", provider, "--url", pushwoosh_url, "--broker-url", broker_url)
    assert code == 1
    assert "No pacts found" in output and provider in output
