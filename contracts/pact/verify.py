"""Provider verification: replay the pacts of one provider against a running service and report.

Works for any provider on a URL: the fakes, a staging service, a team's own reimplementation. Pacts
come from a directory (default: the committed contracts/pacts/) or a Pact Broker (sources.py). Provider states
are set up by POSTing to a state URL (`--state-url`); when none is given and the provider answers
`GET /_swoosh/provider-states` (both fakes do), that is used. Message pacts are verified through an
HTTP message producer: the provider URL itself when it has a path, else the fake's
`/_swoosh/provider-messages`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from pact import Verifier

from swoosh.contracts.pact.sources import PactSource, VerificationSetupError, add_sources

STATES_PATH = "/_swoosh/provider-states"
MESSAGES_PATH = "/_swoosh/provider-messages"
REQUEST_TIMEOUT_MS = 10_000
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass
class VerificationResult:
    provider: str
    provider_version: str
    url: str
    passed: bool
    report: str
    pacts: list[PactSource] = field(default_factory=list)
    verified_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    failures: list[str] = field(default_factory=list)


def discover_state_url(url: str) -> str | None:
    """The provider's own provider-state endpoint when it has one (the fakes do)."""
    candidate = url.rstrip("/") + STATES_PATH
    try:
        response = httpx.get(candidate, timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError:
        return None
    return candidate if response.status_code == 200 else None


def _failure_line(error: dict[str, Any]) -> str:
    """One failed interaction in a line: which one, and each mismatch with its JSON path."""
    mismatch = error.get("mismatch") or {}
    details = [
        f"{item.get('path') or item.get('type', '')}: {item.get('mismatch', '')}".strip()
        for item in mismatch.get("mismatches", [])
    ] or [str(mismatch.get("message", "failed"))]
    return f"{error.get('interaction', '?')}: " + "; ".join(details)


def _state_refusals(state_url: str, results: dict[str, Any]) -> list[str]:
    """Why the provider refused its states: the verifier only says a state call failed, so ask again."""
    states = sorted(
        {
            name
            for item in results.get("interactionResults", [])
            if item.get("result") != "Success"
            for name in item.get("providerStates", [])
        }
    )
    reasons = []
    for name in states:
        try:
            body = {"state": name, "params": {}, "action": "setup"}
            reply = httpx.post(state_url, json=body, timeout=PROBE_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            reasons.append(f"state {name!r}: {state_url} unreachable ({exc})")
            continue
        if reply.status_code >= 300:
            reasons.append(f"state {name!r}: {state_url} answered {reply.status_code} {reply.text[:500]}")
    return reasons


def verify(
    provider: str,
    url: str,
    *,
    pact_dir: Path | None = None,
    broker_url: str | None = None,
    provider_version: str = "dev",
    state_url: str | None = None,
) -> VerificationResult:
    """Replay every interaction of `provider`'s pacts against `url`; never raises on a mismatch."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VerificationSetupError(f"--url {url!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VerificationSetupError(f"--url must be an http(s) URL, not {url!r}")
    base = f"{parts.scheme}://{parts.netloc}"
    verifier = Verifier(provider, host=parts.hostname).set_request_timeout(REQUEST_TIMEOUT_MS)
    verifier.set_coloured_output(enabled=False)
    sources = add_sources(verifier, provider, pact_dir, broker_url)
    verifier.add_transport(url=url)
    if broker_url or any(source.messages for source in sources):  # a broker's pacts are unknown until fetched
        message_path = parts.path if parts.path.strip("/") else MESSAGES_PATH
        verifier.add_transport(protocol="message", port=port, path=message_path, scheme=parts.scheme)
    state = state_url or discover_state_url(base)
    if state:
        verifier.state_handler(state, body=True)
    try:
        verifier.verify()
        passed = True
    except RuntimeError:
        passed = False
    results = verifier.results
    failures = [_failure_line(error) for error in results.get("errors", [])]
    report = verifier.output(strip_ansi=True).strip()
    if state and any("state change" in line for line in failures):
        failures += _state_refusals(state, results)
    return VerificationResult(
        provider, provider_version, url, passed and not failures, report, sources, failures=failures
    )
