"""The inspector's view of the stack: one control-API client per running service, nothing more.

Built from the stack's URLs and control token once every service listens. A service the stack does
not run (`swoosh up --only ...`) is None, and its pages say so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from swoosh.bridge.client import BridgeClient
from swoosh.emulator.client import ControlClient
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient

CONTROL_TIMEOUT = 10.0
SERVICES_EXTENSION = "swoosh.inspector.services"


class ServiceMissing(LookupError):
    """A page needs a service this stack does not run."""


@dataclass
class Services:
    segment: SegmentClient | None = None
    pushwoosh: PushwooshClient | None = None
    bridge: BridgeClient | None = None

    @classmethod
    def connect(cls, urls: dict[str, str], token: str | None = None, verify: Any = True) -> Services:
        def client(kind: type[ControlClient], name: str) -> Any:
            url = urls.get(name)
            return kind(url, timeout=CONTROL_TIMEOUT, verify=verify, token=token) if url else None

        return cls(
            segment=client(SegmentClient, "segment"),
            pushwoosh=client(PushwooshClient, "pushwoosh"),
            bridge=client(BridgeClient, "bridge"),
        )

    def controls(self) -> dict[str, ControlClient]:
        """Every running service's client by name (for the pages that treat them alike)."""
        found = {"segment": self.segment, "pushwoosh": self.pushwoosh, "bridge": self.bridge}
        return {name: client for name, client in found.items() if client is not None}

    def control(self, name: str) -> ControlClient:
        client = self.controls().get(name)
        if client is None:
            raise ServiceMissing(f"this stack does not run {name} (swoosh up --only ...)")
        return client

    def need_segment(self) -> SegmentClient:
        if self.segment is None:
            raise ServiceMissing("this stack does not run the fake Segment")
        return self.segment

    def need_bridge(self) -> BridgeClient:
        if self.bridge is None:
            raise ServiceMissing("this stack does not run the bridge")
        return self.bridge

    def need_pushwoosh(self) -> PushwooshClient:
        if self.pushwoosh is None:
            raise ServiceMissing("this stack does not run the fake Pushwoosh")
        return self.pushwoosh

    def close(self) -> None:
        for client in self.controls().values():
            client.close()


def services() -> Services:
    """The stack's clients, for the page views (the stack sets them once every service listens)."""
    found: Services = current_app.extensions[SERVICES_EXTENSION]
    return found
