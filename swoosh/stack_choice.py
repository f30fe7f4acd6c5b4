"""`--stack ID` / `--data-dir DIR`: how every command that needs a running stack chooses one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from swoosh.emulator.locator import StackNotFound, locate_stack

F = TypeVar("F", bound=Callable[..., Any])


def stack_options(command: F) -> F:
    """Adds `--stack` and `--data-dir` (passed on as `stack` and `data_dir`)."""
    command = click.option(
        "--stack",
        metavar="ID",
        help="The running stack to use, by id or id prefix (`swoosh ps`). Default: the only one, else the newest.",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="The running stack started with this --data-dir.",
    )(command)


def chosen_stack(stack: str | None, data_dir: Path | None) -> dict[str, Any]:
    """The chosen stack's locator, or one `Error:` line saying how to start or name one."""
    try:
        return locate_stack(data_dir, stack)
    except StackNotFound as exc:
        raise click.ClickException(str(exc)) from None


def service_endpoint(stack: str | None, data_dir: Path | None, service: str) -> tuple[str, str | None]:
    """The chosen stack's URL for `service`, and the control-API token it needs (an exposed stack's)."""
    locator = chosen_stack(stack, data_dir)
    services = locator["services"]
    if service not in services:
        raise click.ClickException(f"the running stack has no {service} (it runs {', '.join(services)})")
    return str(services[service]["url"]), locator.get("control_token")
