"""The durability log: records per kind in order, configuration by key, surviving a reopen and kill -9."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.changes import keyed, latest
from swoosh.emulator.store import SqliteStore, StoreError, open_store


def test_records_come_back_per_kind_in_order(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.append("events", [b"1", b"2"])
    store.append("devices", [b"d"])
    store.append("events", [b"3"])
    assert list(store.load("events")) == [b"1", b"2", b"3"]
    assert list(store.load("devices")) == [b"d"]
    store.replace("events", [b"x"])
    assert list(store.load("events")) == [b"x"]
    store.clear("devices")
    assert list(store.load("devices")) == []
    store.close()


def test_configuration_is_replaced_by_key_and_survives_a_reopen(tmp_path: Path) -> None:
    store = open_store("segment", tmp_path)
    assert store.get("config") is None
    store.put("config", {"sources": [1]})
    store.put("config", {"sources": [1, 2]})
    store.append("events", [b"e"])
    store.close()
    again = open_store("segment", tmp_path)
    assert again.get("config") == {"sources": [1, 2]}
    assert list(again.load("events")) == [b"e"]
    again.close()


def test_a_temporary_store_is_removed_at_close() -> None:
    store = open_store("segment", None)
    store.append("events", [b"e"])
    assert store.path.exists()
    store.close()
    assert not store.path.parent.exists()


def test_an_appended_record_survives_kill_9(tmp_path: Path) -> None:
    """The process appends, says so, and is killed without closing anything: the record is there."""
    script = (
        "import os, signal, sys; from pathlib import Path; from swoosh.emulator.store import SqliteStore; "
        "s = SqliteStore(Path(sys.argv[1])); s.append('events', [b'acked']); s.put('config', {'a': 1}); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s.db")], timeout=60, check=False)
    assert done.returncode == -9
    store = SqliteStore(tmp_path / "s.db")
    assert list(store.load("events")) == [b"acked"]
    assert store.get("config") == {"a": 1}
    store.close()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.binary(max_size=64), max_size=5), max_size=5))
def test_any_appends_load_back_concatenated(batches: list[list[bytes]]) -> None:
    store = SqliteStore()
    for batch in batches:
        store.append("k", batch)
    assert list(store.load("k")) == [record for batch in batches for record in batch]
    store.close()


def test_a_write_clears_appends_and_puts_in_one_transaction(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    store.append("devices", [b"old"])
    store.write({"devices": [b"new"], "events": [b"e1"]}, {"config": {"v": 1}}, cleared=("devices",))
    assert (list(store.load("devices")), list(store.load("events")), store.get("config")) == (
        [b"new"],
        [b"e1"],
        {"v": 1},
    )
    with pytest.raises(StoreError):  # the second record cannot be stored: the clear and the first go back too
        store.write({"events": [b"e2", {"not": "bytes"}]}, {"config": {"v": 2}}, cleared=("devices",))  # type: ignore[list-item]
    assert store.get("config") == {"v": 1}
    assert list(store.load("devices")) == [b"new"] and list(store.load("events")) == [b"e1"]
    store.close()
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600


@settings(max_examples=50, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
        min_size=1,
        max_size=30,
    )
)
def test_keyed_records_fold_back_to_the_latest_value_of_each_key(ops: list[tuple[str, int | None]]) -> None:
    expected: dict[str, int] = {}
    for key, value in ops:
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = value
    assert latest(keyed(key, value) for key, value in ops) == expected
