"""What every service of the stack is built from (`StackOptions`) and what it offers (`ServiceHandle`).

Lives in the core so a service module can be built by the stack without importing the stack above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from swoosh.emulator.tls import TlsFiles


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    data_dir: Path | None = None
    strict: bool = False
    config_file: Path | None = None
    tls: tuple[str, str] | None = None  # (certificate chain, key) to serve https with
    tls_files: TlsFiles | None = None  # a local CA's files: serve https, and trust that CA between services
    only: tuple[str, ...] = ()
    locator_dir: Path | None = None  # where stack.json goes; default: the data dir, else the runtime dir
    allowed_hosts: tuple[str, ...] = ()  # names besides loopback and `host` the control API answers to
    control_token: str | None = None  # required as Bearer by every control API when set (--expose)
    bridge_secret: str | None = None  # the bridge's Segment signing secret (the fake Segment signs with it)
    bridge_token: str | None = None  # the Bearer token the bridge's /pushwoosh ingress requires
    workers: int = 1  # processes per worker-capable service (emulator.workers); 1: the stack's process only


class ServiceHandle(Protocol):
    """A service may also offer `worker_role() -> emulator.workers.WorkerRole | None`: how worker
    processes serve its hot routes (`swoosh up --workers N`)."""

    name: str
    app: Any

    def on_started(self, urls: dict[str, str]) -> None:
        """Every service is listening; `urls` maps service name to base URL. Wire up here."""

    def summary(self) -> dict[str, Any]:
        """What a client needs (write keys, app codes, tokens); shown by `swoosh up` and in stack.json."""

    def close(self) -> None:
        """Stop workers and persist state to the data dir, if any."""
