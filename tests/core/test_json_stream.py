"""Exports written a chunk at a time (emulator.json_stream): the same document as one dump, and a part that
fails while it is read still gives well-formed JSON that says so and that an import refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swoosh.emulator import json_stream
from swoosh.emulator.client import ControlAPIError, ControlClient
from swoosh.emulator.json_stream import Lazy, document_chunks
from swoosh.emulator.serving import ServerThread
from tests.core.conftest import NotesBackend, make_app

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def _written(document: dict[str, Any], prepare: Any = lambda record: record) -> bytes:
    return b"".join(document_chunks(document, prepare))


@given(
    head=st.dictionaries(st.text(max_size=5), values, max_size=4),
    records=st.lists(values, max_size=2500),
    nested=st.lists(values, max_size=30),
)
def test_a_streamed_document_is_the_document_dumped_at_once(
    head: dict[str, Any], records: list[Any], nested: list[Any]
) -> None:
    expected = {**head, "events": records, "backend": {"kept": 1, "rows": nested}}
    streamed = {**head, "events": Lazy(iter(records)), "backend": {"kept": 1, "rows": Lazy(iter(nested))}}
    assert orjson.loads(_written(streamed)) == expected


def test_each_lazy_record_is_prepared_and_the_rest_left_as_given() -> None:
    document = {"token": "t", "events": Lazy(iter([{"secret": 1}, {"secret": 2}]))}
    written = orjson.loads(_written(document, lambda record: {**record, "secret": "<redacted>"}))
    assert written == {"token": "t", "events": [{"secret": "<redacted>"}, {"secret": "<redacted>"}]}


def _failing(after: int) -> Iterator[dict[str, int]]:
    for index in range(after):
        yield {"n": index}
    raise OSError("the store is closed")


def test_a_part_that_fails_midway_ends_its_array_and_the_document_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "CHUNK", 10)
    document = {"backend": {"events": Lazy(_failing(25)), "after": True}, "runtime": {}}
    written = orjson.loads(_written(document))
    assert [e["n"] for e in written["backend"]["events"]] == list(range(25))
    assert written["backend"]["after"] is True and written["runtime"] == {}
    assert "after 25 records" in written["error"] and "the store is closed" in written["error"]


class BrokenNotes(NotesBackend):
    def export_state(self, lazy: bool = False) -> dict[str, Any]:
        return {"notes": Lazy(_failing(3))} if lazy else {"notes": list(_failing(3))}


def test_an_incomplete_export_is_refused_by_the_client_and_by_an_import() -> None:
    with ServerThread(make_app(BrokenNotes())) as server:
        client = ControlClient(server.url)
        with pytest.raises(ControlAPIError, match="reading failed after 3 records"):
            client.export_state()
        incomplete = client.call("GET", "/state")
        assert len(incomplete["backend"]["notes"]) == 3
        with pytest.raises(ControlAPIError, match="incomplete and is not imported"):
            client.import_state(incomplete)
