"""The `swoosh` command: a root group whose subcommands live beside the code they drive.

Subcommands are imported lazily so `swoosh --help` stays fast and one broken area cannot take
the others down.
"""

from __future__ import annotations

import click

from swoosh.lazy_group import LazyGroup

COMMANDS: dict[str, str] = {
    "up": "swoosh.stack:up",
    "env": "swoosh.stack:env",
    "sql": "swoosh.emulator.segment.cli:sql",
    "bridge": "swoosh.bridge.cli:bridge",
    "contracts": "swoosh.contracts.cli:contracts",
    "fixtures": "swoosh.fixtures.cli:fixtures",
    "traffic": "swoosh.fixtures.traffic.cli:traffic",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="swoosh")
def main() -> None:
    """swoosh: local fakes of Segment and Pushwoosh, the bridge between them, and contracts."""
