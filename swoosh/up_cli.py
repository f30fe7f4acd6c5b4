"""`swoosh up`: check every option before anything starts, serve the stack until Ctrl-C or SIGTERM."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import click

from swoosh import live_log
from swoosh.emulator.config_file import ConfigFileError, read_config
from swoosh.emulator.guard import is_loopback_host
from swoosh.emulator.locator import runtime_dir
from swoosh.emulator.options import StackOptions
from swoosh.emulator.tls import LOOPBACK_NAMES, ensure_tls_files
from swoosh.stack import SERVICES, ServiceStartError, Stack
from swoosh.stopping import stop_requests, stop_within

_SERVICE_NAMES = ", ".join(SERVICES)
MAX_WORKERS = 64


def parse_ports(items: tuple[str, ...]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in SERVICES or not value.isdigit():
            raise click.BadParameter(
                f"{item!r}: expected SERVICE=PORT with SERVICE one of {_SERVICE_NAMES}", param_hint="--port"
            )
        if not 0 <= int(value) <= 65535:
            raise click.BadParameter(
                f"{item!r}: a port is a number from 0 to 65535 (0 = any free port)", param_hint="--port"
            )
        ports[name] = int(value)
    return ports


def default_workers() -> int:
    """One process per core this process may run on (its CPU affinity, as a container's limit sets it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def check_host(host: str) -> None:
    """A dotted quad that is no IPv4 address is a typo, not a host name to look up."""
    if host.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise click.BadParameter(f"{host} is not an IPv4 address (e.g. 127.0.0.1)", param_hint="--host") from None


def check_data_dir(data_dir: Path | None) -> None:
    """The folder may exist (a folder) or be new in an existing folder; never a whole new path."""
    if data_dir is None:
        return
    if data_dir.exists() and not data_dir.is_dir():
        raise click.BadParameter(f"{data_dir} is a file, not a folder", param_hint="--data-dir")
    parent = data_dir.resolve().parent
    if not data_dir.exists() and not parent.is_dir():
        why = "is a file" if parent.exists() else "does not exist"
        raise click.BadParameter(f"{parent} {why}; create the parent folder first", param_hint="--data-dir")


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="SWOOSH_HOST",
    help="Interface to listen on ($SWOOSH_HOST). Beyond loopback the control API needs its token.",
)
@click.option(
    "--expose",
    is_flag=True,
    envvar="SWOOSH_EXPOSE",
    help="Allow --host beyond loopback; the control API then requires a token ($SWOOSH_CONTROL_TOKEN, "
    "else generated and shown once; kept in stack.json, mode 0600).",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    envvar="SWOOSH_ALLOW_HOST",
    help="Another Host name the control API answers to, e.g. a compose service name ($SWOOSH_ALLOW_HOST). Repeatable.",
)
@click.option(
    "--port",
    "ports",
    multiple=True,
    metavar="SERVICE=PORT",
    help=f"Port for a service ({_SERVICE_NAMES}; 0 = any free port), e.g. --port segment=8001. Repeatable.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar="SWOOSH_DATA_DIR",
    help="Persist state here across restarts; stack.json is written here too ($SWOOSH_DATA_DIR). "
    "Default: state in memory only.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SWOOSH_CONFIG",
    help="swoosh.toml with sources, applications and settings ($SWOOSH_CONFIG; `swoosh init` writes one).",
)
@click.option(
    "--strict",
    is_flag=True,
    envvar="SWOOSH_STRICT",
    help="Make silent real-world failures loud: unknown keys, app_id ... ($SWOOSH_STRICT=1).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    default=None,
    envvar="SWOOSH_WORKERS",
    help="Processes serving each fake's hot ingest routes, all on the service's one port ($SWOOSH_WORKERS;"
    " default: the cores this process may use); the rest of the stack stays in this process.",
)
@click.option("--only", multiple=True, type=click.Choice(list(SERVICES)), help="Run only these services. Repeatable.")
@click.option("--tls", is_flag=True, help="Serve https with a locally generated CA (written to the data dir).")
@click.option("--tls-name", "tls_names", multiple=True, help="Extra host name or IP for the certificate. Repeatable.")
@live_log.options
def up(
    host: str,
    expose: bool,
    allowed_hosts: tuple[str, ...],
    ports: tuple[str, ...],
    data_dir: Path | None,
    config_file: Path | None,
    strict: bool,
    workers: int | None,
    only: tuple[str, ...],
    tls: bool,
    tls_names: tuple[str, ...],
    quiet: bool,
    log_format: str,
) -> None:
    """Start the local stack and serve until Ctrl-C."""
    port_map = parse_ports(ports)
    check_host(host)
    check_data_dir(data_dir)
    try:
        read_config(config_file)
    except ConfigFileError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    exposed = not is_loopback_host(host)
    if exposed and not expose:
        raise click.BadParameter(
            f"{host} is reachable from other machines: add --expose to serve there (the control API then"
            " needs a token)",
            param_hint="--host",
        )
    token = (os.environ.get("SWOOSH_CONTROL_TOKEN") or secrets.token_urlsafe(24)) if exposed else None
    options = StackOptions(
        host=host,
        ports=port_map,
        data_dir=data_dir,
        strict=strict,
        config_file=config_file,
        only=only,
        allowed_hosts=allowed_hosts + tls_names,
        control_token=token,
        workers=workers or default_workers(),
    )
    if tls:
        options.tls_files = ensure_tls_files((data_dir or runtime_dir()) / "tls", LOOPBACK_NAMES + tls_names)
    stopping = stop_requests()
    try:
        stack = Stack(options).start()
    except ServiceStartError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with live_log.running(stack, quiet, log_format):
            _print_banner(stack)
            if token:
                click.echo(exposure_warning(host, token, stack.locator_path), err=True)
            stopping.wait()
    finally:
        click.echo("stopping ...", err=True)
        stop_within(stack.stop)


def exposure_warning(host: str, token: str, locator: Path | None) -> str:
    return (
        f"WARNING: listening on {host}: other machines can reach these services. The control API "
        f"(/_swoosh/) needs `Authorization: Bearer {token}` (shown once; also in {locator}, mode 0600)."
    )


def reachable(text: str) -> str:
    """URLs and host:port pairs a person can use: a wildcard listening address is reached through localhost."""
    for wildcard in ("0.0.0.0", "[::]"):
        text = text.replace(f"{wildcard}:", "localhost:")
    return text


def _print_banner(stack: Stack) -> None:
    info = stack.describe()
    click.echo(f"swoosh is up (stack {stack.id}):")
    for name, service in info["services"].items():
        processes = service.get("processes", 1)
        served_by = f" ({processes} processes on this port)" if processes > 1 else ""
        click.echo(f"  {name:<10} {reachable(service['url'])}{served_by}")
        for line in service.get("hints", []):
            click.echo(f"             {reachable(line)}")
    tls = info.get("tls")
    if tls:
        click.echo(f"tls: CA {tls['ca_cert']} (trust it; `swoosh env` shows how), bundle {tls['ca_bundle']}")
    click.echo(f"locator: {stack.locator_path}")
    if not stack.options.data_dir:
        click.echo("state: in memory only (gone at stop; --data-dir DIR keeps it)")
    click.echo("Ctrl-C to stop.", err=True)
