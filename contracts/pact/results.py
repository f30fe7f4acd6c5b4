"""Verification results on disk: what the deploy gate (deploy_gate.py) reads.

Each `swoosh contracts verify` appends one JSON line per pact verified to the results file
(`$SWOOSH_PACT_RESULTS`, default `.swoosh/pact-results.jsonl` in the working directory): provider,
provider version, consumer, pact file, contract hash, pass/fail, time.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from swoosh.contracts.pact.verify import VerificationResult

RESULTS_ENV = "SWOOSH_PACT_RESULTS"
DEFAULT_RESULTS = Path(".swoosh") / "pact-results.jsonl"


def results_path(override: Path | None = None) -> Path:
    if override is not None:
        return override
    return Path(os.environ[RESULTS_ENV]) if os.environ.get(RESULTS_ENV) else DEFAULT_RESULTS


@dataclass(frozen=True)
class Record:
    provider: str
    provider_version: str
    consumer: str
    pact: str
    sha256: str
    passed: bool
    verified_at: str
    url: str


def record(result: VerificationResult, path: Path) -> list[Record]:
    """Append the outcome of one verification run, one line per pact it covered."""
    records = [
        Record(
            result.provider,
            result.provider_version,
            source.consumer,
            source.location if source.from_broker else Path(source.location).name,
            source.sha256,
            result.passed,
            result.verified_at,
            result.url,
        )
        for source in result.pacts
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for item in records:
            out.write(json.dumps(asdict(item), sort_keys=True) + "\n")
    return records


def _record_of(data: Any) -> Record:
    """A record from one JSON line, every field present and of its type (else TypeError / KeyError)."""
    if not isinstance(data, dict):
        raise TypeError("a line must be a JSON object")
    values = {name: data[name] for name in Record.__dataclass_fields__}
    for name, value in values.items():
        expected = bool if name == "passed" else str
        if not isinstance(value, expected):
            raise TypeError(f"{name} must be a {expected.__name__}")
    return Record(**values)


def load(path: Path) -> tuple[list[Record], list[str]]:
    """The records in `path` (none when it does not exist) and a note per line that could not be read."""
    if not path.exists():
        return [], []
    records: list[Record] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(_record_of(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path}:{number}: not a verification record ({exc})")
    return records, problems
