"""The fake Segment as a stack service: configured from the TOML file, durable under --data-dir.

Stored events live in the service's store (emulator.store): with --data-dir `<data dir>/segment.store.db`,
where every acknowledged event and configuration change is before it is answered and from which the
next start serves; without it, a temporary store removed at exit.
"""

from __future__ import annotations

import json
from typing import Any

from swoosh.emulator.options import StackOptions
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.config import load_config
from swoosh.emulator.segment.durable import restore, saved_configuration
from swoosh.emulator.segment.shared_backend import SharedBackend
from swoosh.emulator.segment.worker_role import role_of
from swoosh.emulator.store import open_store
from swoosh.emulator.tls import trust_context
from swoosh.emulator.workers import WorkerRole

STATE_FILE = "segment-state.json"


class SegmentService:
    name = "segment"

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        warehouse_dir = options.data_dir / "warehouse" if options.data_dir else None
        config = load_config(options.config_file, options.strict, warehouse_dir)
        self.store = open_store(self.name, options.data_dir)
        saved = saved_configuration(self.store)
        backend_class = SharedBackend if options.workers > 1 else SegmentBackend
        self.backend = backend_class(config, store=self.store)
        if options.tls_files:
            self.backend.deliverer.verify = trust_context(options.tls_files.ca_cert)
        self.app = create_app(self.backend)
        self.url = ""
        if options.data_dir:
            legacy = options.data_dir / STATE_FILE  # written at shutdown by earlier versions
            if saved is not None:
                restore(self.backend, saved)
            elif legacy.exists():
                self.backend.import_state(json.loads(legacy.read_text()))
            if saved is not None or legacy.exists():
                for configured in config.sources:  # the config file's plans win over the ones saved last time
                    if configured.tracking_plan and configured.name in self.backend.sources:
                        self.backend.sources[configured.name].tracking_plan = configured.tracking_plan
            self.backend.warehouse.attach_existing()
        self.backend.persist_configuration()

    def on_started(self, urls: dict[str, str]) -> None:
        self.url = urls[self.name]

    def worker_role(self) -> WorkerRole | None:
        """With --workers N: how each worker process serves the Tracking API over this store."""
        if not isinstance(self.backend, SharedBackend):
            return None
        return role_of(self.backend, self.store)

    def summary(self) -> dict[str, Any]:
        sources = [
            {"name": s.name, "write_key": s.write_key, "source_id": s.source_id} for s in self.backend.sources.values()
        ]
        app_key = sources[0]["write_key"] if sources else ""
        return {
            "sources": sources,
            "hints": [f"{s['name']}: write key {s['write_key']}" for s in sources]
            + [f"python: segment.analytics.Client('{app_key}', host='{self.url}')"],
            "env": {"SWOOSH_SEGMENT_WRITE_KEY": app_key, "SEGMENT_HOST": self.url},
        }

    def close(self) -> None:
        """Nothing to save: the store already holds every acknowledged change."""
        self.backend.close()
        self.store.close()


def build(options: StackOptions) -> SegmentService:
    return SegmentService(options)
