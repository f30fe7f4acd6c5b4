"""Servers for the reliability suite, and a connection count the machine's file-descriptor limit allows.

Everything runs on loopback, bounded in count and time. Each flooding test opens `flood_size`
connections (1,000, or fewer where RLIMIT_NOFILE cannot be raised that far: both ends of every
connection live in this process) and prints its figures; docs/reliability.md keeps them.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app as bridge_app
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.serving import ServerThread

WANTED_CONNECTIONS = 1000
FD_MARGIN = 200  # for the suite's own files, sockets and the server's pools


@pytest.fixture(scope="session")
def flood_size() -> int:
    """1,000 connections if the soft fd limit can be raised to hold both ends of each, else the most it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * WANTED_CONNECTIONS + FD_MARGIN
    if soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
        soft = ceiling
    return max(1, min(WANTED_CONNECTIONS, (soft - FD_MARGIN) // 2))


@pytest.fixture
def segment_backend() -> SegmentBackend:
    return SegmentBackend()


@pytest.fixture
def segment(segment_backend: SegmentBackend) -> Iterator[ServerThread]:
    with ServerThread(segment_app(segment_backend), threads=8) as server:
        yield server


@pytest.fixture
def pushwoosh() -> Iterator[ServerThread]:
    with ServerThread(pushwoosh_app(PushwooshBackend()), threads=8) as server:
        yield server


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[ServerThread]:
    core = Bridge(BridgeSettings(app_code="ABCDE-12345", segment_secret="s3cret"), Outbox(tmp_path / "outbox.db"))
    with ServerThread(bridge_app(core), threads=8) as server:
        yield server
    core.outbox.close()
