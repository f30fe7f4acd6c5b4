"""`swoosh trace ID`: one messageId, push message code or userId followed across the running stack."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from swoosh.inspector.hops import Chain, Hop, Trace
from swoosh.inspector.trace import TraceNotFound, collect, services_of
from swoosh.stack_choice import chosen_stack, stack_options

MARKS = {"ok": "ok", "retry": "retry", "failed": "FAILED", "skipped": "skipped", "waiting": "waiting"}


@click.command()
@click.argument("wanted", metavar="ID")
@stack_options
@click.option("--json", "as_json", is_flag=True, help="Print the trace as one JSON object (as /api/trace/ID gives it).")
def trace(wanted: str, stack: str | None, data_dir: Path | None, as_json: bool) -> None:
    """Follow ID (a messageId, a push message code or a userId) hop by hop, with timings: Segment, the bridge,
    Pushwoosh, and for a push its message events back to Segment's warehouse."""
    services = services_of(chosen_stack(stack, data_dir))
    try:
        found = collect(services, wanted)
    except TraceNotFound as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    if as_json:
        click.echo(orjson.dumps(found.to_dict(), default=str).decode())
        return
    click.echo(timeline(found))


def timeline(found: Trace) -> str:
    """The trace as text: per chain, one line per hop with its time from the chain's start and its duration."""
    lines = [f"trace of {found.kind} {found.id}: {len(found.chains)} chain(s)"]
    for chain in found.chains:
        lines += ["", f"{chain.title}  [{chain.subject}]", *(_line(chain, hop) for hop in chain.hops)]
        if chain.took_ms is not None:
            lines.append(f"  {'':>10}  took {chain.took_ms:.1f} ms end to end")
    return "\n".join(lines)


def _line(chain: Chain, hop: Hop) -> str:
    start = chain.started_at
    when = "-" if hop.at is None or start is None else f"+{(hop.at - start) * 1000:.1f} ms"
    took = f"  ({hop.duration_ms:.1f} ms)" if hop.duration_ms is not None else ""
    return f"  {when:>10}  {hop.service:<9}  {MARKS.get(hop.status, hop.status):<7}  {hop.step}: {hop.summary}{took}"
