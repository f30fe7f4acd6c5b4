"""The inspector as one service of the stack (`swoosh.stack.SERVICES`): its URL reaches the banner,
stack.json and `swoosh env` (SWOOSH_INSPECTOR_URL) like every other service's."""

from __future__ import annotations

from typing import Any

from flask import Flask

from swoosh.emulator.options import StackOptions
from swoosh.emulator.tls import trust_context
from swoosh.inspector.app import create_app
from swoosh.inspector.services import SERVICES_EXTENSION, Services


class InspectorService:
    name = "inspector"
    loopback_only = True  # the stack serves it on 127.0.0.1, plain http, whatever --host and --tls say

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.services = Services()
        self.app: Flask = create_app(self.services)
        self.url = ""

    def on_started(self, urls: dict[str, str]) -> None:
        self.url = urls[self.name]
        verify: Any = trust_context(self.options.tls_files.ca_cert) if self.options.tls_files else True
        others = {name: url for name, url in urls.items() if name != self.name}
        self.services = Services.connect(others, self.options.control_token, verify)
        self.app.extensions[SERVICES_EXTENSION] = self.services

    def summary(self) -> dict[str, Any]:
        return {"hints": ["a web UI over the stack: open it in a browser (docs/inspector.md)"]}

    def close(self) -> None:
        self.services.close()


def build(options: StackOptions) -> InspectorService:
    return InspectorService(options)
