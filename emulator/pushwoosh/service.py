"""The fake Pushwoosh as a stack service: configured from the TOML file, durable under --data-dir.

Devices, users and their tags (device_table.py), posted events and event histories (posted_table.py) are
rows of the service's store, written before a request is answered: with --data-dir
`<data dir>/pushwoosh.store.db`, without it a temporary file removed at exit. With --workers N, worker
processes record posted events into the same store (worker_role.py, shared_backend.py). With --data-dir the
configuration (applications, tokens, tag and event definitions, filters, webhooks) is in the store before
a request that changed it is answered too (backend/durable.py) and restored at start; without it, the
configuration is in memory only and gone at exit.

[pushwoosh]
strict = false
auto_create_tags = false            # device API setTags: create unknown tags instead of skipping them
max_posted_events = 1000000         # posted events kept in the store; the oldest beyond are evicted, counted
api_tokens = ["KEY123"]
device_tokens = ["DEVICE-TOKEN"]

[[pushwoosh.applications]]
code = "ABCDE-12345"
name = "My app"
seed = 7
delivery_rates = { push = 1.0, email = 0.9 }
segment = { write_key = "pushwoosh-write-key", url = "", events = "Push Sent,Push Delivered" }
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from swoosh.emulator.config_file import read_config
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.pushwoosh.backend.durable import restore
from swoosh.emulator.pushwoosh.model import Application, SegmentSettings
from swoosh.emulator.pushwoosh.shared_backend import SharedBackend, catch_up, follow_before_requests
from swoosh.emulator.pushwoosh.worker_role import role_of
from swoosh.emulator.store import open_store
from swoosh.emulator.tls import trust_context
from swoosh.emulator.workers import WorkerRole

STATE_FILE = "pushwoosh-state.json"
TICK_SECONDS = 0.5


def load_config(path: Path | None, strict: bool = False) -> PushwooshConfig:
    table: dict[str, Any] = read_config(path).get("pushwoosh", {})
    config = PushwooshConfig(
        strict=strict or bool(table.get("strict", False)), auto_create_tags=bool(table.get("auto_create_tags", False))
    )
    if "max_posted_events" in table:
        config.max_posted_events = int(table["max_posted_events"])
    if "api_tokens" in table:
        config.api_tokens = [str(t) for t in table["api_tokens"]]
    if "device_tokens" in table:
        config.device_tokens = [str(t) for t in table["device_tokens"]]
    if "applications" in table:
        config.applications = [
            Application(
                str(a["code"]),
                str(a.get("name", a["code"])),
                SegmentSettings(**a["segment"]) if a.get("segment") else None,
                {str(k): float(v) for k, v in a.get("delivery_rates", {}).items()},
                int(a.get("seed", 0)),
            )
            for a in table["applications"]
        ]
    return config


class PushwooshService:
    name = "pushwoosh"

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.store = open_store(self.name, options.data_dir)
        backend_class = SharedBackend if options.workers > 1 else PushwooshBackend
        self.backend = backend_class(load_config(options.config_file, options.strict), store=self.store)
        if options.tls_files:
            self.backend.webhooks.verify = trust_context(options.tls_files.ca_cert)
        self.app = create_app(self.backend)
        if isinstance(self.backend, SharedBackend):
            follow_before_requests(self.app, self.backend)
        self.url = ""
        if options.data_dir is not None:
            legacy = options.data_dir / STATE_FILE  # written at a clean stop by earlier versions
            if not restore(self.backend) and legacy.exists():
                self.backend.import_state(json.loads(legacy.read_text()))
            self.backend.start_persisting()
            if not isinstance(self.backend, SharedBackend):  # its follower does it
                catch_up(self.backend)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="swoosh-pushwoosh-clock", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        """Scheduled messages go out when the clock reaches them, even if nobody advances it by hand."""
        while not self._stop.wait(TICK_SECONDS):
            self.backend.tick()

    def on_started(self, urls: dict[str, str]) -> None:
        self.url = urls[self.name]

    def worker_role(self) -> WorkerRole | None:
        """With --workers N: how each worker process records posted events over this store."""
        if not isinstance(self.backend, SharedBackend):
            return None
        return role_of(self.backend, self.store)

    def summary(self) -> dict[str, Any]:
        scheme, _, host = self.url.partition("://")
        code = self.backend.default_app().code
        token = self.backend.api_tokens[0] if self.backend.api_tokens else ""
        device_token = self.backend.device_tokens[0] if self.backend.device_tokens else ""
        return {
            "application": code,
            "api_token": token,
            "device_token": device_token,  # the Web SDK's `apiToken` (strict mode demands it of device methods)
            "hints": [
                f"application {code}, API token {token}",
                f'pypushwoosh: client.scheme = "{scheme}"; client.hostname = "{host}"',
            ],
            "env": {
                "SWOOSH_PUSHWOOSH_APP_CODE": code,
                "SWOOSH_PUSHWOOSH_API_TOKEN": token,
                "PUSHWOOSH_BASE_URL": f"{self.url}/json/1.3/",
            },
        }

    def close(self) -> None:
        """Nothing to save: the store already holds every acknowledged change."""
        self._stop.set()
        self._ticker.join(timeout=5)
        self.backend.close()
        self.store.close()


def build(options: StackOptions) -> PushwooshService:
    return PushwooshService(options)
