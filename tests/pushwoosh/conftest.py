from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.serving import ServerThread

APP = "ABCDE-12345"
TOKEN = "KEY123"
INTEGRATION_HEADERS = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP}


@pytest.fixture
def backend() -> Iterator[PushwooshBackend]:
    instance = PushwooshBackend(PushwooshConfig())
    yield instance
    instance.close()


@pytest.fixture
def client(backend: PushwooshBackend) -> FlaskClient:
    return create_app(backend).test_client()


@pytest.fixture
def served(backend: PushwooshBackend) -> Iterator[str]:
    with ServerThread(create_app(backend)) as server:
        yield server.url


def call(client: FlaskClient, method: str, **request: Any) -> dict[str, Any]:
    """POST /json/1.3/<method> and return the parsed envelope (asserting it is HTTP 200 JSON)."""
    response = client.post(f"/json/1.3/{method}", json={"request": request})
    assert response.status_code == 200, response.get_data()
    return response.get_json()


def register(client: FlaskClient, hwid: str, device_type: int = 3, **extra: Any) -> None:
    assert (
        call(
            client,
            "registerDevice",
            application=APP,
            hwid=hwid,
            device_type=device_type,
            push_token=f"tok-{hwid}",
            **extra,
        )["status_code"]
        == 200
    )


def triggered(backend: PushwooshBackend, subject: str, event: str) -> bool:
    """Whether the history segments read has `event` for `subject` ("user:ID", or "device:HWID")."""
    return any(name == event for name, _app, _at in backend.posted.histories([subject]).get(subject, ()))
