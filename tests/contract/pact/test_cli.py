"""`swoosh contracts verify` and `can-i-deploy` through click's CliRunner, against fakes on ephemeral ports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask, Response, jsonify, request

from swoosh.contracts.cli import contracts
from swoosh.contracts.pact.bridge import INTEGRATION_API, MESSAGE_EVENTS, TRACKING_API
from swoosh.contracts.pact.consumer import COMMITTED_PACTS
from swoosh.contracts.pact.results import RESULTS_ENV, load
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.serving import ServerThread


@pytest.fixture
def pushwoosh_url() -> Iterator[str]:
    with ServerThread(pushwoosh_app(PushwooshBackend()), threads=4) as server:
        yield server.url


@pytest.fixture
def segment_url() -> Iterator[str]:
    with ServerThread(segment_app(SegmentBackend()), threads=4) as server:
        yield server.url


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(RESULTS_ENV, str(path))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(contracts, list(args))
    return result.exit_code, result.output


def test_verify_passes_and_records_the_result(pushwoosh_url: str, results: Path) -> None:
    code, output = run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url, "--provider-version", "1.2.0")
    assert code == 0, output
    assert f"OK: {INTEGRATION_API} 1.2.0" in output and f"result recorded in {results}" in output
    [line] = results.read_text().splitlines()
    entry = json.loads(line)
    assert entry["provider"] == INTEGRATION_API and entry["provider_version"] == "1.2.0" and entry["passed"] is True
    assert entry["consumer"] == "swoosh-bridge" and entry["pact"] == f"swoosh-bridge-{INTEGRATION_API}.json"
    assert len(entry["sha256"]) == 64 and entry["verified_at"]


def test_verify_fails_with_the_mismatches_and_exit_1(pushwoosh_url: str, results: Path) -> None:
    rule = {"method": "POST", "path": "post-events", "status": 500}
    httpx.post(f"{pushwoosh_url}/_swoosh/faults", json=rule).raise_for_status()
    code, output = run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url)
    assert code == 1
    assert f"FAILED: {INTEGRATION_API} dev" in output
    assert "one track event" in output and "expected 200 but was 500" in output
    records, _ = load(results)
    assert [r.passed for r in records] == [False]


def test_can_i_deploy_answers_from_the_recorded_results(
    pushwoosh_url: str, segment_url: str, results: Path, tmp_path: Path
) -> None:
    code, output = run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "2.0")
    assert code == 1 and "not verified" in output  # nothing recorded yet
    assert run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url, "--provider-version", "2.0")[0] == 0
    code, output = run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "2.0")
    assert code == 0, output
    assert "verified" in output and "yes: every pact is verified" in output
    assert run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "1.9")[0] == 1  # another version

    # every provider, each at its latest version: the two others are still unverified
    code, output = run("can-i-deploy")
    assert code == 1 and TRACKING_API in output and MESSAGE_EVENTS in output
    assert run("verify", "--provider", TRACKING_API, "--url", segment_url)[0] == 0
    assert run("verify", "--provider", MESSAGE_EVENTS, "--url", pushwoosh_url)[0] == 0
    code, output = run("can-i-deploy")
    assert code == 0, output

    # a changed contract needs a new verification: the old result was for another contract hash
    edited = tmp_path / "pacts"
    shutil.copytree(COMMITTED_PACTS, edited)
    path = edited / f"swoosh-bridge-{INTEGRATION_API}.json"
    pact = json.loads(path.read_text())
    pact["interactions"][0]["response"]["status"] = 202
    path.write_text(json.dumps(pact))
    code, output = run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "2.0", "--pact-dir", str(edited))
    assert code == 1 and "not verified" in output


def test_can_i_deploy_reports_a_failed_verification(pushwoosh_url: str, results: Path) -> None:
    httpx.post(f"{pushwoosh_url}/_swoosh/faults", json={"path": "ping", "status": 401, "times": 1}).raise_for_status()
    assert run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url, "--provider-version", "3")[0] == 1
    code, output = run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "3")
    assert code == 1 and "failed" in output
    results.write_text(results.read_text() + "not json\n")
    code, output = run("can-i-deploy", "--provider", INTEGRATION_API, "--version", "3")
    assert code == 1 and "not a verification record" in output


def test_usage_errors_exit_2(results: Path, tmp_path: Path) -> None:
    code, output = run("verify", "--provider", "nobody", "--url", "http://127.0.0.1:9")
    assert code == 2 and "no pact" in output
    code, output = run(
        "verify", "--provider", INTEGRATION_API, "--url", "http://127.0.0.1:9", "--pact-dir", str(tmp_path),
        "--broker-url", "http://127.0.0.1:9",
    )
    assert code == 2 and "not both" in output
    for url in ("http://[::1", "http://127.0.0.1:99999", "127.0.0.1:8080", "http://"):
        code, output = run("verify", "--provider", INTEGRATION_API, "--url", url)
        assert code == 2 and "--url" in output, (url, output)
    code, output = run("can-i-deploy", "--provider", "nobody")
    assert code == 2 and "no pact" in output
    assert not results.exists()


@pytest.mark.parametrize("text", ['{"provider": "x"}', "[1]", '{"provider": {"name": "p"}}', "{not json"])
def test_a_malformed_pact_file_is_a_usage_error_not_a_traceback(text: str, tmp_path: Path, results: Path) -> None:
    (tmp_path / "broken.json").write_text(text)
    nowhere = "http://127.0.0.1:9"
    code, output = run("verify", "--provider", INTEGRATION_API, "--url", nowhere, "--pact-dir", str(tmp_path))
    assert code == 2 and "is not a readable pact file" in output, output
    assert not results.exists()


def test_an_unreachable_broker_fails_readably_and_is_recorded(pushwoosh_url: str, results: Path) -> None:
    broker = "http://127.0.0.1:9"  # nothing listens on the discard port
    code, output = run("verify", "--provider", INTEGRATION_API, "--url", pushwoosh_url, "--broker-url", broker)
    assert code == 1
    assert "Failed to load pact" in output and broker in output
    records, _ = load(results)
    assert [(r.pact, r.passed) for r in records] == [(broker, False)]


# -- --broker-url: a Pact Broker reduced to the HAL walk the Pact verifier makes (index ->
# pb:provider-pacts-for-verification, fetched then POSTed with the consumer version selectors -> each pact URL),
# serving the committed pacts and recording what was asked, so the tests also show the walk happened.


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
