"""`swoosh contracts validate` and `swoosh contracts docs`: the JSON Schemas from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from swoosh.contracts.docs import write_all
from swoosh.contracts.schemas import names
from swoosh.contracts.schemas import validate as validate_payload

DEFAULT_DOCS = Path("docs/schemas")


class _Unparseable:
    """A line or document that is not JSON; carries the parser's complaint."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _parse(text: str) -> tuple[Any, int]:
    """(the JSON value of `text` or an `_Unparseable` saying why not, the line of the problem)."""
    try:
        return json.loads(text), 1
    except json.JSONDecodeError as exc:
        return _Unparseable(f"invalid JSON: {exc.msg} (column {exc.colno})"), exc.lineno
    except RecursionError:
        return _Unparseable("invalid JSON: nested too deeply"), 1


def payloads(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, payload) of a JSON document or an NDJSON stream: NDJSON when the whole text is not one JSON
    document but its first line is."""
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield 1, _Unparseable(f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        return
    if not text.strip():
        return  # an empty file holds no payload (validate says so), not a JSON error on line 1
    whole, error_line = _parse(text)
    lines = text.splitlines()
    first_line = next((line for line in lines if line.strip()), "")
    if not isinstance(whole, _Unparseable) or isinstance(_parse(first_line)[0], _Unparseable):
        yield error_line, whole
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, _parse(line)[0]


def _schema_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if value not in names():
        raise click.BadParameter(f"unknown schema {value!r}; known: {', '.join(names())}")
    return value


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.File("rb"))
@click.option(
    "--schema",
    "schema_name",
    required=True,
    callback=_schema_name,
    help=f"Schema name, one of: {', '.join(names())}.",
)
def validate(files: tuple[IO[bytes], ...], schema_name: str) -> None:
    """Validate JSON or NDJSON FILES ('-' = stdin) against a schema; one line per problem, exit 1 if any."""
    checked = invalid = 0
    empty = []
    for stream in files:
        name = getattr(stream, "name", None)
        label = name if isinstance(name, str) and name not in ("-", "<stdin>") else "<stdin>"
        before = checked
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
        if checked == before:
            empty.append(label)
            click.echo(f"{label}: empty, no payload to check")
    if empty:
        raise click.ClickException(f"{len(empty)} of {len(files)} inputs held no payload")
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
