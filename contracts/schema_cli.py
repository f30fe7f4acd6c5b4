"""`swoosh contracts validate` and `swoosh contracts docs`: the JSON Schemas from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from contracts.docs import write_all
from contracts.schemas import names
from contracts.schemas import validate as validate_payload

DEFAULT_DOCS = Path("docs/schemas")


class _Unparseable:
    """A line or document that is not JSON; carries the parser's complaint."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def payloads(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """(line number, payload) of a JSON document or an NDJSON stream: NDJSON when the whole text is not one JSON
    document but its first line is."""
    text = stream.read()
    try:
        yield 1, json.loads(text)
        return
    except json.JSONDecodeError as whole:
        lines = text.splitlines()
        if not _is_json(next((line for line in lines if line.strip()), "")):  # a broken JSON document
            yield whole.lineno, _Unparseable(f"invalid JSON: {whole.msg} (column {whole.colno})")
            return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _Unparseable(f"invalid JSON: {exc.msg} (column {exc.colno})")


def _schema_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if value not in names():
        raise click.BadParameter(f"unknown schema {value!r}; known: {', '.join(names())}")
    return value


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.File("r", encoding="utf-8"))
@click.option(
    "--schema",
    "schema_name",
    required=True,
    callback=_schema_name,
    help="Schema name, e.g. segment/track, segment/batch, events/message-event.",
)
def validate(files: tuple[IO[str], ...], schema_name: str) -> None:
    """Validate JSON or NDJSON FILES ('-' = stdin) against a schema; one line per problem, exit 1 if any."""
    checked = invalid = 0
    for stream in files:
        label = "<stdin>" if stream is sys.stdin or stream.name == "<stdin>" else stream.name
        for line, payload in payloads(stream):
            checked += 1
            problems = (
                [payload.reason]
                if isinstance(payload, _Unparseable)
                else [str(p) for p in validate_payload(schema_name, payload)]
            )
            if problems:
                invalid += 1
            for problem in problems:
                click.echo(f"{label}:{line}: {problem}")
    if invalid:
        click.echo(f"{invalid} of {checked} payloads do not match {schema_name}", err=True)
        raise SystemExit(1)
    click.echo(f"{checked} payloads match {schema_name}")


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DOCS,
    show_default=True,
    help="Directory for the Markdown pages.",
)
def docs(out: Path) -> None:
    """Write one Markdown page per schema plus an index (deterministic: commit the output)."""
    written = write_all(out)
    click.echo(f"wrote {len(written)} pages to {out}")
