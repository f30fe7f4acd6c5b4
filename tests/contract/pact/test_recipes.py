"""The recipes of docs/contracts.md ("Pact"), run as written: a team's own services on either side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask, Response, request
from pact import Pact, match

from swoosh.contracts.cli import contracts
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.serving import ServerThread


# -- Recipe 1: your Segment-side service is a consumer of the Pushwoosh integration API -------------------
class LoyaltyService:
    """The team's own code: tells Pushwoosh about a user's loyalty tier."""

    def __init__(self, pushwoosh_url: str, api_key: str, app_code: str) -> None:
        self.client = httpx.Client(
            base_url=pushwoosh_url, headers={"Authorization": f"Token {api_key}", "X-PW-Appcode": app_code}
        )

    def set_tier(self, user_id: str, tier: str) -> bool:
        profile = {"user_id": user_id, "attributes": {"tier": tier}}
        reply = self.client.post("/integration-segment/v1/track-user", json=profile)
        return reply.status_code == 200


@pytest.fixture
def pushwoosh_url() -> Iterator[str]:
    with ServerThread(pushwoosh_app(PushwooshBackend()), threads=4) as server:
        yield server.url


def test_recipe_consumer_pact_verified_against_the_fake_pushwoosh(
    tmp_path: Path, pushwoosh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWOOSH_PACT_RESULTS", str(tmp_path / "results.jsonl"))
    pact = Pact("loyalty-service", "pushwoosh-integration-api").with_specification("V4")
    (
        pact.upon_receiving("a loyalty tier update")
        .given("application ABCDE-12345 exists with API key KEY123")
        .with_request("POST", "/integration-segment/v1/track-user")
        .with_header("Authorization", "Token KEY123")
        .with_header("X-PW-Appcode", "ABCDE-12345")
        .with_body({"user_id": match.str("u42"), "attributes": {"tier": match.str("gold")}}, "application/json")
        .will_respond_with(200)
    )
    with pact.serve(addr="127.0.0.1") as mock:
        assert LoyaltyService(str(mock.url), "KEY123", "ABCDE-12345").set_tier("u42", "gold")
    pact.write_file(tmp_path / "pacts")

    result = CliRunner().invoke(
        contracts,
        ["verify", "--provider", "pushwoosh-integration-api", "--url", pushwoosh_url,
         "--pact-dir", str(tmp_path / "pacts"), "--provider-version", "fake"],
    )
    assert result.exit_code == 0, result.output
    assert "loyalty-service" in result.output
    # and the fake really stored the tag, as the real service would
    tags = httpx.get(f"{pushwoosh_url}/_swoosh/users", params={"user_id": "u42"}).json()["items"]
    assert tags and tags[0]["tags"]["tier"] == "gold"


# -- Recipe 2: your Pushwoosh-side service is a provider of message events ---------------------------------
def create_team_provider(broken: bool = False) -> Flask:
    """The team's own message-event producer, with the two endpoints `swoosh contracts verify` calls."""
    app = Flask("team-message-events")
    pending: list[dict[str, str]] = []

    @app.post("/pact/states")
    def state() -> Response:
        body = request.get_json(force=True)
        if body.get("action") == "setup" and body.get("state"):
            pending.append({"state": body["state"]})  # a real service would seed its database here
        return Response("{}", mimetype="application/json")

    @app.post("/pact/messages")
    def message() -> Response:
        description = request.get_json(force=True)["description"]
        name = description.removeprefix("an ").removeprefix("a ").removesuffix(" message event")
        kind = name.split(" ")[0]
        event = {
            "id": f"4F2A-0B1C2D3E-4F5A6B7C:device-1:{name}",
            "event": name,
            "message_code": "4F2A-0B1C2D3E-4F5A6B7C",
            "campaign_code": "SPRING-SALE",
            "message_type": kind,
            "application": "ABCDE-12345",
            "hwid": "device-1",
            "user_id": "u1",
            "device_type": {"Push": 3, "Email": 14, "SMS": 18}[kind],
            "platform": {"Push": "Android", "Email": "Email", "SMS": "SMS"}[kind],
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        if broken:
            event["device_type"] = str(event["device_type"])  # drift: the bridge reads an integer
        return Response(json.dumps(event), mimetype="application/json")

    return app


@pytest.mark.parametrize("broken", [False, True], ids=["honours", "drifted"])
def test_recipe_own_message_event_provider_verified(broken: bool, tmp_path: Path) -> None:
    with ServerThread(create_team_provider(broken), threads=2) as server:
        result = CliRunner().invoke(
            contracts,
            ["verify", "--provider", "pushwoosh-message-events", "--url", f"{server.url}/pact/messages",
             "--state-url", f"{server.url}/pact/states", "--results", str(tmp_path / "results.jsonl")],
        )
    if broken:
        assert result.exit_code == 1
        assert "$.device_type" in result.output and "a Push Sent message event" in result.output
    else:
        assert result.exit_code == 0, result.output
