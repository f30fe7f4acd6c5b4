"""The `swoosh` command: a root group whose subcommands live beside the code they drive.

Subcommands are imported lazily so `swoosh --help` stays fast and one broken area cannot take
the others down.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

COMMANDS: dict[str, str] = {
    "up": "swoosh.stack:up",
    "env": "swoosh.stack:env",
    "sql": "swoosh.emulator.segment.cli:sql",
    "bridge": "swoosh.bridge.cli:bridge",
    "contracts": "swoosh.contracts.cli:contracts",
    "fixtures": "swoosh.fixtures.cli:fixtures",
    "traffic": "swoosh.fixtures.traffic_cli:traffic",
}


class LazyGroup(click.Group):
    """A group whose subcommands are "module:attr" strings, imported only when used."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = COMMANDS if lazy_commands is None else lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy_commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: Any = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="swoosh")
def main() -> None:
    """swoosh: local fakes of Segment and Pushwoosh, the bridge between them, and contracts."""
