"""The `swoosh` command: a root group whose subcommands live beside the code they drive.

Subcommands are imported lazily so `swoosh --help` stays fast and one broken area cannot take
the others down.
"""

from __future__ import annotations

from typing import Any

import click

from swoosh.errors import report
from swoosh.lazy_group import LazyGroup

COMMANDS: dict[str, str] = {
    "up": "swoosh.up_cli:up",
    "env": "swoosh.stacks_cli:env",
    "ps": "swoosh.stacks_cli:ps",
    "init": "swoosh.stacks_cli:init",
    "sql": "swoosh.emulator.segment.cli:sql",
    "bridge": "swoosh.bridge.cli:bridge",
    "contracts": "swoosh.contracts.cli:contracts",
    "fixtures": "swoosh.fixtures.cli:fixtures",
    "traffic": "swoosh.fixtures.traffic.cli:traffic",
    "trace": "swoosh.trace_cli:trace",
}


class RootGroup(LazyGroup):
    """Turns any failure below it into one `Error:` line (see swoosh.errors); `--debug` shows tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise report(exc) from None


@click.group(cls=RootGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="swoosh")
@click.option("--debug", is_flag=True, help="Show the full traceback when swoosh fails.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """swoosh: local fakes of Segment and Pushwoosh, the bridge between them, and contracts."""
    ctx.obj = {"debug": debug}
