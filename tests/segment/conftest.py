from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.emulator.serving import ServerThread

APP_KEY = "app-write-key"


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


@pytest.fixture
def backend() -> Iterator[SegmentBackend]:
    instance = SegmentBackend(SegmentConfig())
    yield instance
    instance.close()


@pytest.fixture
def strict_backend() -> Iterator[SegmentBackend]:
    instance = SegmentBackend(SegmentConfig(strict=True))
    yield instance
    instance.close()


@pytest.fixture
def client(backend: SegmentBackend) -> FlaskClient:
    return create_app(backend).test_client()


@pytest.fixture
def served(backend: SegmentBackend) -> Iterator[str]:
    with ServerThread(create_app(backend)) as server:
        yield server.url
