"""Where the pacts to verify come from: a directory of pact files (default: the committed contracts/pacts/)
or a Pact Broker, each source named with a hash of the contract it holds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pact import Verifier

from swoosh.contracts.pact.consumer import COMMITTED_PACTS, normalised  # (also opts out of the Pact usage ping)

BROKER = "broker"  # the hash of a broker's pacts: unknown until the verifier fetches them


class VerificationSetupError(ValueError):
    """Verification could not start (no pacts for the provider, a bad URL); the message says why."""


@dataclass(frozen=True)
class PactSource:
    """One pact file verified: who it is between and a hash of the contract it holds."""

    consumer: str
    provider: str
    location: str
    sha256: str
    messages: bool

    @property
    def from_broker(self) -> bool:
        return self.sha256 == BROKER


def contract_hash(pact: dict[str, Any]) -> str:
    """Hash of the contract itself (pact library version stamps excluded), stable across installs."""
    canonical = json.dumps(normalised(pact), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def pacts_for(provider: str, pact_dir: Path = COMMITTED_PACTS) -> list[PactSource]:
    """The pact files in `pact_dir` whose provider is `provider`."""
    found: list[PactSource] = []
    for path in sorted(Path(pact_dir).glob("*.json")):
        try:
            pact = json.loads(path.read_text())
            named, consumer = pact["provider"]["name"], pact["consumer"]["name"]
            interactions = [i for i in pact.get("interactions", []) if isinstance(i, dict)]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VerificationSetupError(f"{path} is not a readable pact file: {exc!r}") from exc
        if named != provider:
            continue
        messages = any(str(i.get("type", "")).startswith("Asynchronous") for i in interactions)
        found.append(PactSource(consumer, provider, str(path), contract_hash(pact), messages))
    return found


def providers_in(pact_dir: Path = COMMITTED_PACTS) -> list[str]:
    names = set()
    for path in Path(pact_dir).glob("*.json"):
        try:
            names.add(json.loads(path.read_text())["provider"]["name"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(names)


def add_sources(verifier: Verifier, provider: str, pact_dir: Path | None, broker_url: str | None) -> list[PactSource]:
    """Point `verifier` at the broker, or at `provider`'s pact files in `pact_dir`; the sources it will verify."""
    if broker_url:
        verifier.broker_source(broker_url)
        return [PactSource("*", provider, broker_url, BROKER, False)]
    directory = pact_dir or COMMITTED_PACTS
    sources = pacts_for(provider, directory)
    if not sources:
        raise VerificationSetupError(f"no pact in {directory} names provider {provider!r}")
    for source in sources:
        verifier.add_source(Path(source.location))
    return sources
