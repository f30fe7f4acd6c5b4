"""`can-i-deploy`, locally: whether every current pact of a provider has a passing verification of a version.

Pacts are matched by contract hash, so an edited pact needs a new verification; the verifications are
the records of results.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from swoosh.contracts.pact.results import Record
from swoosh.contracts.pact.sources import PactSource


@dataclass(frozen=True)
class GateRow:
    provider: str
    version: str | None
    consumer: str
    pact: str
    status: str  # verified | failed | not verified (this contract, this version)
    verified_at: str | None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


def latest_version(records: Iterable[Record], provider: str) -> str | None:
    mine = newest_last(r for r in records if r.provider == provider)
    return mine[-1].provider_version if mine else None


def newest_last(records: Iterable[Record]) -> list[Record]:
    """By verification time; records of the same second keep file order (the later line is newer)."""
    return sorted(records, key=lambda r: r.verified_at)


def can_i_deploy(pacts: Iterable[PactSource], records: list[Record], version: str | None) -> list[GateRow]:
    """One row per current pact: whether `version` of its provider (default: the latest recorded) passed it."""
    rows: list[GateRow] = []
    for pact in pacts:
        wanted = version or latest_version(records, pact.provider)
        matching = newest_last(
            r for r in records if (r.provider, r.provider_version, r.sha256) == (pact.provider, wanted, pact.sha256)
        )
        last = matching[-1] if matching else None
        status = "not verified" if last is None else ("verified" if last.passed else "failed")
        rows.append(
            GateRow(
                pact.provider,
                wanted,
                pact.consumer,
                Path(pact.location).name,
                status,
                last.verified_at if last else None,
            )
        )
    return rows
