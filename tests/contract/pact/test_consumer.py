"""Consumer tests: the bridge's real code against Pact's mock of each provider, one interaction per test."""

from __future__ import annotations

import pytest

from swoosh.contracts.pact.bridge import all_cases
from swoosh.contracts.pact.consumer import Case, run_case

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.provider}: {c.description}" for c in CASES])
def test_bridge_satisfies_interaction(case: Case) -> None:
    run_case(case)
