"""`swoosh contracts verify` and `swoosh contracts can-i-deploy`: Pact verification of any running provider
and the local deploy gate over the recorded results."""

from __future__ import annotations

from pathlib import Path

import click

from swoosh.contracts.pact.consumer import COMMITTED_PACTS
from swoosh.contracts.pact.deploy_gate import can_i_deploy as gate
from swoosh.contracts.pact.results import load, record, results_path
from swoosh.contracts.pact.sources import VerificationSetupError, pacts_for, providers_in
from swoosh.contracts.pact.verify import verify as run_verification
from swoosh.stack_choice import service_endpoint, stack_options

# The providers a swoosh stack plays, and the service that plays each.
STACK_PROVIDERS = {
    "segment-tracking-api": "segment",
    "pushwoosh-integration-api": "pushwoosh",
    "pushwoosh-message-events": "pushwoosh",
}
RESULTS_HELP = "Results file. Default: $SWOOSH_PACT_RESULTS or .swoosh/pact-results.jsonl."


@click.command()
@click.option("--provider", required=True, help="Provider name as the pacts spell it, e.g. pushwoosh-integration-api.")
@click.option(
    "--url",
    help="Base URL of the running provider (for message pacts: its producer URL). Default: the running swoosh "
    "stack's fake for a provider it plays.",
)
@stack_options
@click.option(
    "--pact-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory of pact files. Default: the committed contracts/pacts.",
)
@click.option("--broker-url", help="Read the pacts from a Pact Broker instead of a directory.")
@click.option("--provider-version", default="dev", show_default=True, help="Version recorded with the result.")
@click.option("--state-url", help="Provider-state endpoint. Default: <url>/_swoosh/provider-states when it answers.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), help=RESULTS_HELP)
def verify(
    provider: str,
    url: str | None,
    stack: str | None,
    data_dir: Path | None,
    pact_dir: Path | None,
    broker_url: str | None,
    provider_version: str,
    state_url: str | None,
    results: Path | None,
) -> None:
    """Verify a running provider against its pacts; exit 1 with the mismatches when it does not honour them."""
    if pact_dir is not None and broker_url:
        raise click.UsageError("use --pact-dir or --broker-url, not both")
    if url is None:
        if provider not in STACK_PROVIDERS:
            raise click.UsageError(f"pass --url: the swoosh stack plays only {', '.join(STACK_PROVIDERS)}")
        url, _token = service_endpoint(stack, data_dir, STACK_PROVIDERS[provider])
    try:
        result = run_verification(
            provider,
            url,
            pact_dir=pact_dir,
            broker_url=broker_url,
            provider_version=provider_version,
            state_url=state_url,
        )
    except VerificationSetupError as exc:
        raise click.UsageError(str(exc)) from exc
    path = results_path(results)
    record(result, path)
    pacts = ", ".join(f"{p.consumer} ({Path(p.location).name})" for p in result.pacts)
    if result.passed:
        click.echo(f"OK: {provider} {provider_version} at {url} honours {pacts}")
    else:
        click.echo(f"FAILED: {provider} {provider_version} at {url} does not honour {pacts}", err=True)
        for line in result.failures:
            click.echo(f"  - {line}", err=True)
    click.echo(f"result recorded in {path.resolve()} (--results or $SWOOSH_PACT_RESULTS to choose)")
    if not result.passed:
        raise SystemExit(1)


@click.command("can-i-deploy")
@click.option("--provider", help="Only this provider. Default: every provider with a pact.")
@click.option("--version", help="Provider version. Default: the latest verified version of each provider.")
@click.option(
    "--pact-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The pacts that must be verified. Default: the committed contracts/pacts.",
)
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path), help=RESULTS_HELP)
def can_i_deploy(provider: str | None, version: str | None, pact_dir: Path | None, results: Path | None) -> None:
    """Exit 0 when every current pact has a passing verification of the version, else 1; prints a table."""
    directory = pact_dir or COMMITTED_PACTS
    providers = [provider] if provider else providers_in(directory)
    pacts = [pact for name in providers for pact in pacts_for(name, directory)]
    if not pacts:
        raise click.UsageError(f"no pact in {directory} names provider {provider!r}")
    records, problems = load(results_path(results))
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    rows = gate(pacts, records, version)
    header = ("provider", "version", "consumer", "pact", "status", "verified at")
    table = [header] + [
        (r.provider, r.version or "-", r.consumer, r.pact, r.status, r.verified_at or "-") for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    ok = all(r.ok for r in rows)
    click.echo("yes: every pact is verified" if ok else "no: some pacts are not verified for that version")
    if not ok:
        raise SystemExit(1)
