"""The local stack: every service of `SERVICES` on its own port, wired together, one process.

Each service module provides `build(options) -> ServiceHandle`. The stack starts every server
first (so every port is known), then calls each handle's `on_started(urls)` to wire them, then
writes the locator file `stack.json` so tools, the pytest plugin and scripts can find it.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import secrets
import socket
import time
from pathlib import Path
from typing import Any

from swoosh.emulator.guard import access_of
from swoosh.emulator.locator import STACK_FILE, stacks_dir, write_locator
from swoosh.emulator.options import ServiceHandle, StackOptions
from swoosh.emulator.serving import ServerThread, bind_listener
from swoosh.emulator.workers import WorkerGroup

log = logging.getLogger("swoosh.stack")
SLOW_STEP_SECONDS = 2.0  # a stop step slower than this is named in the log (a container gives 10 s in all)

SERVICES: dict[str, str] = {
    "segment": "swoosh.emulator.segment.service:build",
    "pushwoosh": "swoosh.emulator.pushwoosh.service:build",
    "bridge": "swoosh.bridge.service:build",
    "inspector": "swoosh.inspector.service:build",
}


class ServiceStartError(RuntimeError):
    """A service could not listen; the message names the service, the port and the way out."""


def _why_not_listening(name: str, host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} for {name} is already in use on {host}; choose another: --port {name}=PORT (0 = any free)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port} for {name} (below 1024 needs privileges); --port {name}=PORT"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: not a host name or address this machine knows (--host)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: no such address on this machine (--host 127.0.0.1 for loopback)"
    return f"cannot listen on {host}:{port} for {name}: {exc}"


def _loopback_only(handle: ServiceHandle) -> bool:
    """Served on loopback, plain http, without the control token (the inspector: it holds the token)."""
    return bool(getattr(handle, "loopback_only", False))


class Stack:
    """Builds, serves, wires and stops the services; usable from tests as a context manager."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.handles: dict[str, ServiceHandle] = {}
        self.servers: dict[str, ServerThread] = {}
        self.worker_groups: dict[str, WorkerGroup] = {}
        self.id = f"{os.getpid()}-{secrets.token_hex(2)}"  # in-process stacks (tests) share a pid
        self.started_at = 0.0
        self.locator_paths: list[Path] = []

    def start(self) -> Stack:
        names = self.options.only or tuple(SERVICES)
        try:
            for name in names:
                module, _, attr = SERVICES[name].partition(":")
                self.handles[name] = getattr(importlib.import_module(module), attr)(self.options)
            runtimes = [r for h in self.handles.values() if (r := h.app.extensions.get("swoosh.runtime"))]
            for runtime in runtimes:
                runtime.ready.clear()  # health says "starting" until the stack is wired and its locator written
            for name, handle in self.handles.items():
                self.servers[name] = self._serve(name, handle)
                private = _loopback_only(handle)
                access_of(handle.app).configure(
                    self._host_of(handle), self.options.allowed_hosts, None if private else self.options.control_token
                )
            self.started_at = time.time()
            urls = self.urls
            for handle in self.handles.values():
                handle.on_started(urls)
            self._write_locator()
            for runtime in runtimes:
                runtime.ready.set()
        except BaseException:
            self.stop()
            raise
        return self

    def _host_of(self, handle: ServiceHandle) -> str:
        """A loopback-only service (the inspector) stays on loopback, whatever --host the stack has."""
        return "127.0.0.1" if _loopback_only(handle) else self.options.host

    def _serve(self, name: str, handle: ServiceHandle) -> ServerThread:
        host, port = self._host_of(handle), self.options.ports.get(name, 0)
        tls = self.options.tls_files.server_pair if self.options.tls_files else self.options.tls
        if _loopback_only(handle):
            tls = None  # a browser on this machine, without the local CA to trust
        try:
            listener = bind_listener(host, port)
        except OSError as exc:
            raise ServiceStartError(_why_not_listening(name, host, port, exc)) from None
        role = getattr(handle, "worker_role", lambda: None)() if self.options.workers > 1 else None
        if role is not None:  # the workers inherit the socket: one port, the kernel spreads connections
            group = WorkerGroup(name, handle.app, listener, role, self.options.workers - 1, tls)
            self.worker_groups[name] = group.start()
        shared = name in self.worker_groups
        return ServerThread(handle.app, host, name=f"swoosh-{name}", tls=tls, listener=listener, shared=shared).start()

    @property
    def locator_path(self) -> Path | None:
        """The locator other tools read (the data dir's, or the one in the runtime dir)."""
        return self.locator_paths[0] if self.locator_paths else None

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "data_dir": str(self.options.data_dir) if self.options.data_dir else None,
            "services": {
                name: {"url": self.servers[name].url, **handle.summary(), **self._processes(name)}
                for name, handle in self.handles.items()
                if name in self.servers
            },
        }
        if self.options.tls_files:
            info["tls"] = self.options.tls_files.describe()
        if self.options.control_token:
            info["control_token"] = self.options.control_token
        return info

    def _processes(self, name: str) -> dict[str, Any]:
        group = self.worker_groups.get(name)
        return {"processes": 1 + group.count} if group else {}

    def _write_locator(self) -> None:
        """Its own locators only: the data dir's `stack.json` and one per stack in the runtime dir
        (or just `locator_dir`'s, for the pytest plugin's private stacks)."""
        if self.options.locator_dir:
            self.locator_paths = [self.options.locator_dir / STACK_FILE]
        else:
            self.locator_paths = [stacks_dir() / f"{self.id}.json"]
            if self.options.data_dir:
                self.locator_paths.insert(0, self.options.data_dir / STACK_FILE)
        info = self.describe()
        for path in self.locator_paths:
            write_locator(path, {**info, "locator": str(path)})

    def stop(self) -> None:
        steps = [(f"the {name} workers", group.stop) for name, group in self.worker_groups.items()]
        steps += [(f"the {name} server", server.stop) for name, server in self.servers.items()]
        steps += [(f"the {name} service", handle.close) for name, handle in self.handles.items()]
        for what, step in steps:
            started = time.monotonic()
            step()
            took = time.monotonic() - started
            if took > SLOW_STEP_SECONDS:
                log.warning("stopping %s took %.1f s", what, took)
        self.worker_groups.clear()
        for path in self.locator_paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.locator_paths = []
        self.servers.clear()
        self.handles.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
