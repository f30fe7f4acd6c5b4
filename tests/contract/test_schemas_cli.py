"""`swoosh contracts validate` (JSON and NDJSON, stdin, line numbers, exit codes) and `swoosh contracts docs`
(deterministic pages; the committed docs/schemas/ are up to date)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.cli import main
from swoosh.contracts.docs import render_all

REPO = Path(__file__).resolve().parents[2]
GOOD = {"userId": "u1", "event": "Signed Up"}


def run(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["contracts", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_ndjson_problems_carry_file_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join([json.dumps(GOOD), json.dumps({"event": 5}), "", "{oops", json.dumps(GOOD)]) + "\n")
    code, out, err = run("validate", str(path), "--schema", "segment/track")
    assert code == 1
    assert out.splitlines() == [
        f"{path}:2: $: needs a userId or an anonymousId (a non-empty string or a number)",
        f"{path}:2: $.event: must be a string with a non-blank character",
        f"{path}:4: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
    ]
    assert "2 of 4 payloads do not match segment/track" in err


def test_json_documents_and_stdin_that_match_exit_0(tmp_path: Path) -> None:
    document = tmp_path / "batch.json"
    document.write_text(json.dumps({"batch": [{"type": "track", **GOOD}] * 3}, indent=2))
    code, out, _err = run("validate", str(document), "-", "--schema", "segment/batch", stdin=json.dumps({"batch": []}))
    assert (code, out) == (0, "2 payloads match segment/batch\n")


def test_a_broken_json_document_is_reported_with_its_line(tmp_path: Path) -> None:
    document = tmp_path / "bad.json"
    document.write_text('{\n  "userId": "u1",\n  "event": \n}\n')
    code, out, _err = run("validate", str(document), "--schema", "segment/track")
    assert code == 1
    assert out.startswith(f"{document}:4: invalid JSON:")


def test_unknown_schema_is_a_usage_error_listing_the_names() -> None:
    code, _out, err = run("validate", "-", "--schema", "segment/nope", stdin="{}")
    assert code == 2
    assert "unknown schema 'segment/nope'" in err and "segment/track" in err


def test_docs_are_deterministic_and_remove_stale_pages(tmp_path: Path) -> None:
    stale = tmp_path / "segment" / "gone.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    code, out, _err = run("docs", "--out", str(tmp_path))
    assert code == 0 and out.startswith("wrote ")
    first = {p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.rglob("*.md")}
    run("docs", "--out", str(tmp_path))
    second = {p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.rglob("*.md")}
    assert first == second == render_all()
    assert "| `event` | string | yes |" in first["segment/track.md"]
    assert "[segment/common](../segment/common.md)" in first["segment/track.md"]


def test_committed_schema_pages_are_up_to_date() -> None:
    committed_dir = REPO / "docs" / "schemas"
    committed = {p.relative_to(committed_dir).as_posix(): p.read_text() for p in committed_dir.rglob("*.md")}
    assert committed == render_all(), "run `swoosh contracts docs` and commit docs/schemas/"


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_input_gets_a_verdict_never_a_crash(data: bytes) -> None:
    result = CliRunner().invoke(main, ["contracts", "validate", "-", "--schema", "segment/message"], input=data)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_input_that_is_not_utf8_is_reported() -> None:
    code, out, _err = run("validate", "-", "--schema", "segment/track", stdin=b"\xff\xfe{}")
    assert (code, out) == (1, "<stdin>:1: not UTF-8 text: invalid start byte at byte 0\n")
