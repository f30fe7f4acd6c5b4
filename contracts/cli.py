"""`swoosh contracts ...`: schema validation and docs, Pact verification and the deploy gate."""

from __future__ import annotations

import click

from swoosh.lazy_group import LazyGroup

SUBCOMMANDS: dict[str, str] = {
    "verify": "swoosh.contracts.pact.cli:verify",
    "can-i-deploy": "swoosh.contracts.pact.cli:can_i_deploy",
    "validate": "swoosh.contracts.schema_cli:validate",
    "docs": "swoosh.contracts.schema_cli:docs",
}


@click.group(cls=LazyGroup, lazy_commands=SUBCOMMANDS)
def contracts() -> None:
    """Check payloads against the JSON Schemas and providers against the Pact contracts."""
