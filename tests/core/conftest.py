"""A minimal in-test backend so the shared control API can be exercised on its own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask import Flask, Response

from swoosh.emulator.control import control_blueprint, match_filters
from swoosh.emulator.json_stream import Lazy
from swoosh.emulator.runtime import Runtime, install
from swoosh.emulator.serving import ServerThread


class NotesBackend:
    """Keeps a list of notes; enough state to test reset, export/import, inspection and wait."""

    collections = ("notes",)

    def __init__(self) -> None:
        self.runtime = Runtime("notes")
        self.notes: list[dict[str, Any]] = []

    def add(self, text: str, author: str = "ann") -> None:
        self.notes.append({"text": text, "author": author})
        self.runtime.notify()

    def reset(self) -> None:
        self.notes = []

    def config_view(self) -> dict[str, Any]:
        return {"notes_kept": len(self.notes)}

    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        return {"notes": Lazy(iter(self.notes)) if lazy else list(self.notes)}

    def import_state(self, state: dict[str, Any]) -> None:
        notes = state["notes"]
        if not isinstance(notes, list):
            raise ValueError("notes must be a list")
        self.notes = list(notes)

    def query(self, collection: str, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        found = [n for n in self.notes if match_filters(n, filters, {"author": "author", "text": "text"})]
        return found if limit is None else found[-limit:] if limit else []


def make_app(backend: NotesBackend) -> Flask:
    app = Flask("notes")
    app.register_blueprint(control_blueprint(backend))

    @app.post("/notes/<text>")
    def add(text: str) -> Response:
        backend.add(text)
        return Response("added", status=201)

    return install(app, backend.runtime)


@pytest.fixture
def backend() -> NotesBackend:
    return NotesBackend()


@pytest.fixture
def served(backend: NotesBackend) -> Iterator[tuple[NotesBackend, str]]:
    with ServerThread(make_app(backend)) as server:
        yield backend, server.url
