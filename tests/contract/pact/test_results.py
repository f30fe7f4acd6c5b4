"""The results file and the deploy gate: records round-trip, unreadable lines are reported, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.contracts.pact.deploy_gate import can_i_deploy
from swoosh.contracts.pact.results import Record, load, record
from swoosh.contracts.pact.sources import PactSource
from swoosh.contracts.pact.verify import VerificationResult

PACT = PactSource("swoosh-bridge", "pushwoosh-integration-api", "/x/swoosh-bridge-p.json", "a" * 64, False)


def result(passed: bool, version: str, at: str) -> VerificationResult:
    return VerificationResult(PACT.provider, version, "http://127.0.0.1:1", passed, "", [PACT], verified_at=at)


def test_records_round_trip_and_the_newest_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "results.jsonl"
    record(result(False, "1.0", "2026-11-23T08:00:00+00:00"), path)
    record(result(True, "1.0", "2026-11-23T08:00:00+00:00"), path)  # same second: the later line is newer
    records, problems = load(path)
    assert problems == [] and [r.passed for r in records] == [False, True]
    assert records[0] == Record(PACT.provider, "1.0", "swoosh-bridge", "swoosh-bridge-p.json", "a" * 64, False,
                                "2026-11-23T08:00:00+00:00", "http://127.0.0.1:1")
    [row] = can_i_deploy([PACT], records, "1.0")
    assert row.ok and row.status == "verified"
    [row] = can_i_deploy([PACT], records, None)  # the latest recorded version by default
    assert row.version == "1.0" and row.ok


def test_a_failed_newer_run_blocks_and_another_hash_is_not_verified(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    record(result(True, "2.0", "2026-11-23T08:00:00+00:00"), path)
    record(result(False, "2.0", "2026-11-23T08:05:00+00:00"), path)
    records, _ = load(path)
    assert can_i_deploy([PACT], records, "2.0")[0].status == "failed"
    edited = PactSource(PACT.consumer, PACT.provider, PACT.location, "b" * 64, False)
    assert can_i_deploy([edited], records, "2.0")[0].status == "not verified"
    assert can_i_deploy([PACT], [], None)[0].version is None


def test_missing_file_is_no_records(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.jsonl") == ([], [])


FIELD_VALUES = st.none() | st.integers() | st.text(max_size=5) | st.booleans()
RECORD_LIKE = st.dictionaries(st.sampled_from(list(Record.__dataclass_fields__)), FIELD_VALUES).map(json.dumps)
LINES = st.lists(st.text(max_size=40) | RECORD_LIKE, max_size=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_any_file_content_loads_or_is_reported_line_by_line(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines) + "\n", encoding="utf-8")
    records, problems = load(path)
    assert all(isinstance(r.passed, bool) and isinstance(r.verified_at, str) for r in records)
    assert all("not a verification record" in p for p in problems)
    can_i_deploy([PACT], records, None)  # whatever was readable, the gate answers
