"""The committed pact files are exactly what the consumer tests generate, so a contract change is reviewed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from swoosh.contracts.pact.consumer import COMMITTED_PACTS, pact_differences


def test_committed_pacts_match_the_consumer_tests(generated_pacts: Path) -> None:
    problems = pact_differences(COMMITTED_PACTS, generated_pacts)
    assert not problems, "pacts drifted; review and refresh with SWOOSH_UPDATE_PACTS=1 pytest tests/contract:\n" + (
        "\n".join(problems)
    )


def test_pact_files_are_v4_between_the_bridge_and_its_providers(generated_pacts: Path) -> None:
    for path in generated_pacts.glob("*.json"):
        pact = json.loads(path.read_text())
        assert pact["metadata"]["pactSpecification"]["version"] == "4.0"
        assert pact["consumer"]["name"] == "swoosh-bridge"
        assert path.name == f"swoosh-bridge-{pact['provider']['name']}.json"


def test_a_changed_interaction_is_reported_by_name(generated_pacts: Path, tmp_path: Path) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(generated_pacts, edited)
    path = edited / "swoosh-bridge-pushwoosh-integration-api.json"
    pact = json.loads(path.read_text())
    pact["interactions"][0]["response"]["status"] = 204
    pact["interactions"].pop()
    pact["metadata"]["pactRust"] = {"ffi": "9.9.9"}  # a library version bump alone is not drift
    path.write_text(json.dumps(pact))
    problems = pact_differences(edited, generated_pacts)
    first, last = pact["interactions"][0]["description"], json.loads(
        (generated_pacts / path.name).read_text()
    )["interactions"][-1]["description"]
    assert f"{path.name}: interaction {first!r} changed (response)" in problems
    assert f"{path.name}: new interaction {last!r}" in problems
    assert len(problems) == 2
