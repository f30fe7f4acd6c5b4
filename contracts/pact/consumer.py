"""Consumer-side Pact machinery: run interaction cases against Pact's mock, write and compare pact files.

A case is one interaction plus the consumer code that must satisfy it. Each case runs on its own
Pact (so a test exercises exactly one interaction), and `write_pacts` replays every case into one
directory, merging the interactions per provider into one V4 pact file per consumer/provider pair.
`pact_differences` compares two pact directories semantically (interactions by description, the
pact library's version metadata ignored), which is what the committed-pacts drift test uses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pact import Pact
from pact.interaction import AsyncMessageInteraction, HttpInteraction

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # offline by design: no usage ping from the FFI

COMMITTED_PACTS = Path(__file__).resolve().parents[1] / "pacts"  # contracts/pacts, beside the schemas
SPECIFICATION = "V4"
# Metadata the pact library stamps with its own versions: different installs, same contract.
VOLATILE_METADATA = ("pactRust", "pactPython")


@dataclass(frozen=True)
class HttpCase:
    """One HTTP interaction: `define` declares it, `exercise(base_url)` runs the consumer's real code."""

    consumer: str
    provider: str
    description: str
    define: Callable[[HttpInteraction], object]
    exercise: Callable[[str], None]


@dataclass(frozen=True)
class MessageCase:
    """One asynchronous message: `define` declares it, `consume(body, metadata)` handles it for real."""

    consumer: str
    provider: str
    description: str
    define: Callable[[AsyncMessageInteraction], object]
    consume: Callable[[str | bytes | None, dict[str, object]], None]


Case = HttpCase | MessageCase


def new_pact(consumer: str, provider: str) -> Pact:
    return Pact(consumer, provider).with_specification(SPECIFICATION)


def run_case(case: Case, pact_dir: Path | None = None) -> None:
    """Run one case against Pact (mock server or message replay); raise on any mismatch; optionally merge
    the interaction into `pact_dir`."""
    pact = new_pact(case.consumer, case.provider)
    if isinstance(case, HttpCase):
        case.define(pact.upon_receiving(case.description))
        with pact.serve(addr="127.0.0.1", verbose=False) as server:
            case.exercise(str(server.url))
    else:
        case.define(pact.upon_receiving(case.description, "Async"))
        pact.verify(case.consume, "Async")
    if pact_dir is not None:
        pact.write_file(pact_dir, overwrite=False)


def write_pacts(cases: Iterable[Case], directory: Path) -> list[Path]:
    """Run every case, writing one pact file per consumer/provider into an empty `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        stale.unlink()
    for case in cases:
        run_case(case, directory)
    return sorted(directory.glob("*.json"))


def normalised(pact: dict[str, Any]) -> dict[str, Any]:
    """The contract itself: version stamps of the pact library dropped, interactions keyed by description."""
    metadata = {k: v for k, v in pact.get("metadata", {}).items() if k not in VOLATILE_METADATA}
    interactions = {item.get("description", ""): item for item in pact.get("interactions", [])}
    return {**pact, "metadata": metadata, "interactions": dict(sorted(interactions.items()))}


def load_pacts(directory: Path) -> dict[str, dict[str, Any]]:
    return {path.name: normalised(json.loads(path.read_text())) for path in sorted(directory.glob("*.json"))}


def pact_differences(expected_dir: Path, actual_dir: Path) -> list[str]:
    """Readable differences between two pact directories (empty when they hold the same contracts)."""
    expected, actual = load_pacts(expected_dir), load_pacts(actual_dir)
    problems = [f"{name}: missing from {expected_dir}" for name in sorted(set(actual) - set(expected))]
    gone = sorted(set(expected) - set(actual))
    problems += [f"{name}: not generated any more (only in {expected_dir})" for name in gone]
    for name in sorted(set(expected) & set(actual)):
        old, new = expected[name], actual[name]
        for description in sorted(set(new["interactions"]) - set(old["interactions"])):
            problems.append(f"{name}: new interaction {description!r}")
        for description in sorted(set(old["interactions"]) - set(new["interactions"])):
            problems.append(f"{name}: interaction {description!r} removed")
        for description in sorted(set(old["interactions"]) & set(new["interactions"])):
            before, after = old["interactions"][description], new["interactions"][description]
            if before != after:
                parts = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                problems.append(f"{name}: interaction {description!r} changed ({', '.join(parts)})")
        rest_old = {k: v for k, v in old.items() if k != "interactions"}
        rest_new = {k: v for k, v in new.items() if k != "interactions"}
        if rest_old != rest_new:
            problems.append(f"{name}: consumer, provider or metadata changed")
    return problems
