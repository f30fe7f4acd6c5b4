"""`swoosh contracts ...`: schema validation and docs, Pact verification and the deploy gate."""

from __future__ import annotations

import click

from swoosh.cli import LazyGroup

SUBCOMMANDS: dict[str, str] = {}


@click.group(cls=LazyGroup, lazy_commands=SUBCOMMANDS)
def contracts() -> None:
    """Check payloads against the JSON Schemas and providers against the Pact contracts."""
