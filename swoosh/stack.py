"""The local stack: every service of `SERVICES` on its own port, wired together, one process.

Each service module provides `build(options) -> ServiceHandle`. The stack starts every server
first (so every port is known), then calls each handle's `on_started(urls)` to wire them, then
writes the locator file `stack.json` so tools, the pytest plugin and scripts can find it.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import os
import secrets
import shlex
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

from swoosh.emulator.guard import access_of
from swoosh.emulator.locator import STACK_FILE, locate_stack, runtime_dir
from swoosh.emulator.options import ServiceHandle, StackOptions
from swoosh.emulator.serving import ServerThread
from swoosh.emulator.tls import LOOPBACK_NAMES, ensure_tls_files
from swoosh.snippets import environment, snippets

SERVICES: dict[str, str] = {
    "segment": "swoosh.emulator.segment.service:build",
    "pushwoosh": "swoosh.emulator.pushwoosh.service:build",
    "bridge": "swoosh.bridge.service:build",
}


class Stack:
    """Builds, serves, wires and stops the services; usable from tests as a context manager."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.handles: dict[str, ServiceHandle] = {}
        self.servers: dict[str, ServerThread] = {}
        self.locator_path: Path | None = None

    def start(self) -> Stack:
        names = self.options.only or tuple(SERVICES)
        try:
            for name in names:
                module, _, attr = SERVICES[name].partition(":")
                self.handles[name] = getattr(importlib.import_module(module), attr)(self.options)
            for name, handle in self.handles.items():
                self.servers[name] = ServerThread(
                    handle.app,
                    self.options.host,
                    self.options.ports.get(name, 0),
                    name=f"swoosh-{name}",
                    tls=self.options.tls_files.server_pair if self.options.tls_files else self.options.tls,
                ).start()
            for handle in self.handles.values():
                access_of(handle.app).configure(
                    self.options.host, self.options.allowed_hosts, self.options.control_token
                )
            urls = self.urls
            for handle in self.handles.values():
                handle.on_started(urls)
            self._write_locator()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "started_at": time.time(),
            "services": {
                name: {"url": self.servers[name].url, **handle.summary()}
                for name, handle in self.handles.items()
                if name in self.servers
            },
        }
        if self.options.tls_files:
            info["tls"] = self.options.tls_files.describe()
        if self.options.control_token:
            info["control_token"] = self.options.control_token
        return info

    def _write_locator(self) -> None:
        folder = self.options.locator_dir or self.options.data_dir or runtime_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.locator_path = folder / STACK_FILE
        tmp = self.locator_path.with_suffix(f".{os.getpid()}.tmp")  # two stacks starting at once both succeed
        # 0600 from the first byte: it holds write keys, API tokens and, when exposed, the control token
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(json.dumps(self.describe(), indent=2))
        os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a file left over from a crash
        tmp.replace(self.locator_path)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        for handle in self.handles.values():
            handle.close()
        if self.locator_path is not None and self.locator_path.exists():
            self.locator_path.unlink()
        self.servers.clear()
        self.handles.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option(
    "--expose",
    is_flag=True,
    help="Allow --host beyond loopback; the control API then requires a generated token (kept in stack.json).",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another Host name the control API answers to (e.g. a compose service name). Repeatable.",
)
@click.option(
    "--port",
    "ports",
    multiple=True,
    metavar="SERVICE=PORT",
    help="Port for a service (0 = any free port), e.g. --port segment=8001. Repeatable.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Persist state here across restarts; stack.json is written here too.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file with sources, applications and settings.",
)
@click.option("--strict", is_flag=True, help="Make silent real-world failures loud (unknown keys, app_id ...).")
@click.option("--only", multiple=True, help="Run only these services (repeatable).")
@click.option("--tls", is_flag=True, help="Serve https with a locally generated CA (written to the data dir).")
@click.option("--tls-name", "tls_names", multiple=True, help="Extra host name or IP for the certificate (repeatable).")
def up(
    host: str,
    expose: bool,
    allowed_hosts: tuple[str, ...],
    ports: tuple[str, ...],
    data_dir: Path | None,
    config_file: Path | None,
    strict: bool,
    only: tuple[str, ...],
    tls: bool,
    tls_names: tuple[str, ...],
) -> None:
    """Start the local stack and serve until Ctrl-C."""
    port_map: dict[str, int] = {}
    for item in ports:
        name, sep, value = item.partition("=")
        if not sep or not value.isdigit() or name not in SERVICES:
            raise click.BadParameter(f"expected SERVICE=PORT with SERVICE in {sorted(SERVICES)}", param_hint="--port")
        port_map[name] = int(value)
    unknown = [name for name in only if name not in SERVICES]
    if unknown:
        raise click.BadParameter(f"unknown service(s) {unknown}; known: {sorted(SERVICES)}", param_hint="--only")
    exposed = not is_loopback(host)
    if exposed and not expose:
        raise click.BadParameter(
            f"{host} is reachable from other machines: add --expose to serve there (the control API then "
            "needs a token)",
            param_hint="--host",
        )
    options = StackOptions(
        host=host,
        ports=port_map,
        data_dir=data_dir,
        strict=strict,
        config_file=config_file,
        only=only,
        allowed_hosts=allowed_hosts + tls_names,
        control_token=secrets.token_urlsafe(24) if exposed else None,
    )
    if tls:
        options.tls_files = ensure_tls_files((data_dir or runtime_dir()) / "tls", LOOPBACK_NAMES + tls_names)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stack = Stack(options).start()
    try:
        _print_banner(stack)
        if options.control_token:
            click.echo(exposure_warning(host, options.control_token, stack.locator_path), err=True)
        stopping.wait()
    finally:
        click.echo("stopping ...", err=True)
        stack.stop()


def exposure_warning(host: str, token: str, locator: Path | None) -> str:
    return (
        f"WARNING: listening on {host}: other machines can reach these services. The control API "
        f"(/_swoosh/) needs `Authorization: Bearer {token}` (shown once; also in {locator}, mode 0600)."
    )


def is_loopback(host: str) -> bool:
    """True for names and addresses only this machine can reach."""
    plain = host.strip("[]").lower()
    if plain == "localhost":
        return True
    try:
        return ipaddress.ip_address(plain).is_loopback
    except ValueError:
        return False


def _print_banner(stack: Stack) -> None:
    info = stack.describe()["services"]
    click.echo("swoosh is up:")
    for name, service in info.items():
        click.echo(f"  {name:<10} {service['url']}")
        for line in service.get("hints", []):
            click.echo(f"             {line}")
    tls = stack.describe().get("tls")
    if tls:
        click.echo(f"tls: CA {tls['ca_cert']} (trust it; `swoosh env` shows how), bundle {tls['ca_bundle']}")
    click.echo(f"locator: {stack.locator_path}")
    click.echo("Ctrl-C to stop.", err=True)


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sdk", help="Print only this SDK's snippet, ready to paste (e.g. python, node, pypushwoosh).")
def env(data_dir: Path | None, sdk: str | None) -> None:
    """Print environment variables (eval-able) and per-SDK snippets for pointing apps at the running stack."""
    locator = locate_stack(data_dir)
    found = snippets(locator)
    if sdk is not None:
        if sdk not in found:
            raise click.BadParameter(f"no snippet for {sdk!r}; known: {', '.join(found)}", param_hint="--sdk")
        click.echo(found[sdk])
        return
    for key, value in environment(locator).items():
        click.echo(f"export {key}={shlex.quote(value)}")
    for name, text in found.items():
        click.echo(f"\n# --- {name} (swoosh env --sdk {name}) ---")
        click.echo("\n".join(f"# {line}" for line in text.splitlines()))
