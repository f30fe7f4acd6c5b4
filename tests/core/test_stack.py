"""The stack starts services, wires them after every port is known, and writes a locator file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from swoosh import stack as stack_module
from swoosh.emulator.locator import locate_stack
from swoosh.stack import Stack, StackOptions
from tests.core.conftest import NotesBackend, make_app


class NotesService:
    def __init__(self, name: str) -> None:
        self.name = name
        self.backend = NotesBackend()
        self.app = make_app(self.backend)
        self.seen_urls: dict[str, str] = {}
        self.closed = False

    def on_started(self, urls: dict[str, str]) -> None:
        self.seen_urls = urls

    def summary(self) -> dict[str, Any]:
        return {"notes": len(self.backend.notes), "env": {"NOTES_KEY": "k"}}

    def close(self) -> None:
        self.closed = True


BUILT: list[NotesService] = []


def build_first(options: StackOptions) -> NotesService:
    BUILT.append(NotesService("first"))
    return BUILT[-1]


def build_second(options: StackOptions) -> NotesService:
    BUILT.append(NotesService("second"))
    return BUILT[-1]


@pytest.fixture
def two_services(monkeypatch: pytest.MonkeyPatch) -> None:
    BUILT.clear()
    monkeypatch.setattr(
        stack_module, "SERVICES", {"first": f"{__name__}:build_first", "second": f"{__name__}:build_second"}
    )


def test_stack_wires_every_service_and_writes_then_removes_the_locator(two_services, tmp_path: Path) -> None:
    with Stack(StackOptions(data_dir=tmp_path)) as running:
        urls = running.urls
        assert set(urls) == {"first", "second"}
        assert all(service.seen_urls == urls for service in BUILT)
        for url in urls.values():
            assert httpx.get(f"{url}/_swoosh/health").status_code == 200
        locator = json.loads((tmp_path / "stack.json").read_text())
        assert locator["services"]["second"]["url"] == urls["second"]
        assert locate_stack(tmp_path)["services"]["first"]["env"] == {"NOTES_KEY": "k"}
    assert all(service.closed for service in BUILT)
    assert not (tmp_path / "stack.json").exists()


def test_only_runs_the_named_services(two_services, tmp_path: Path) -> None:
    with Stack(StackOptions(data_dir=tmp_path, only=("second",))) as running:
        assert list(running.urls) == ["second"]


def test_a_failing_build_stops_what_already_started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    BUILT.clear()
    monkeypatch.setattr(
        stack_module, "SERVICES", {"first": f"{__name__}:build_first", "broken": f"{__name__}:does_not_exist"}
    )
    with pytest.raises(AttributeError):
        Stack(StackOptions(data_dir=tmp_path)).start()
    assert BUILT[0].closed


class _SlowToClose:
    """A service whose close takes a while (the shape of a store flushing at stop)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.closed = False

    def close(self) -> None:
        time.sleep(self.seconds)
        self.closed = True


def test_a_slow_stop_step_is_named_in_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(stack_module, "SLOW_STEP_SECONDS", 0.05)
    stack = Stack(StackOptions())
    slow, quick = _SlowToClose(0.2), _SlowToClose(0.0)
    stack.handles = {"slowpoke": slow, "quick": quick}  # type: ignore[dict-item]  # only close() is used at stop
    with caplog.at_level("WARNING", logger="swoosh.stack"):
        stack.stop()
    assert slow.closed and quick.closed
    named = [r.getMessage() for r in caplog.records]
    assert len(named) == 1 and named[0].startswith("stopping the slowpoke service took 0.")


def test_health_says_starting_until_the_stack_is_wired_and_its_locator_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A script that waits for health then reads the locator (the container's HEALTHCHECK does) never
    finds it missing: while the stack starts, health answers 503 "starting"."""
    seen: list[tuple[int, str]] = []
    write_locator = Stack._write_locator

    def observed(self: Stack) -> None:
        answer = httpx.get(f"{self.urls['segment']}/_swoosh/health")
        seen.append((answer.status_code, answer.json()["status"]))
        write_locator(self)

    monkeypatch.setattr(Stack, "_write_locator", observed)
    with Stack(StackOptions(only=("segment",), locator_dir=tmp_path)) as stack:
        after = httpx.get(f"{stack.urls['segment']}/_swoosh/health")
        assert (after.status_code, after.json()["status"]) == (200, "ok")
    assert seen == [(503, "starting")]
