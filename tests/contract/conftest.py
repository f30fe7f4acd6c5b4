"""Shared fixtures of the contract tests: a fake Pushwoosh in-process (`backend`, `client`; the Segment
schema tests define their own `backend`, which wins in that module), and the pact files generated from
the consumer cases, per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from swoosh.contracts.pact.bridge import all_cases
from swoosh.contracts.pact.consumer import COMMITTED_PACTS, write_pacts
from tests.pushwoosh.conftest import backend, client  # noqa: F401  (the fake Pushwoosh fixtures, shared)

UPDATE_ENV = "SWOOSH_UPDATE_PACTS"


@pytest.fixture(scope="session")
def generated_pacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bridge's pacts as the consumer cases write them now (a temp dir; never the committed files).

    With SWOOSH_UPDATE_PACTS=1 they also replace the committed files under contracts/pacts/.
    """
    directory = tmp_path_factory.mktemp("pacts")
    write_pacts(all_cases(), directory)
    if os.environ.get(UPDATE_ENV) == "1":
        for stale in COMMITTED_PACTS.glob("*.json"):
            stale.unlink()
        for path in directory.glob("*.json"):
            shutil.copy(path, COMMITTED_PACTS / path.name)
    return directory
