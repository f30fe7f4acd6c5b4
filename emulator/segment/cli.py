"""`swoosh sql`: query the warehouse of a running stack, or the database files in a data dir."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import click

from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.segment.warehouse import attach_files
from swoosh.stack_choice import service_endpoint


def _print_table(columns: list[str], rows: list[Any]) -> None:
    text = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in text)]) for i, c in enumerate(columns)]
    click.echo(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    click.echo("-+-".join("-" * w for w in widths))
    for row in text:
        click.echo(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


@click.command()
@click.argument("statement")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read DIR/warehouse/*.db directly (no running stack needed), else the stack started with it.",
)
@click.option("--stack", metavar="ID", help="The running stack to query (`swoosh ps`). Default: the only, else newest.")
@click.option("--url", help="The fake Segment's URL. Default: the running stack's.")
def sql(statement: str, data_dir: Path | None, stack: str | None, url: str | None) -> None:
    """Run a read-only SQL query over every source's schema: swoosh sql "select * from pushwoosh.push_sent"."""
    if not statement.strip():
        raise click.BadParameter("the SQL statement is empty", param_hint="STATEMENT")
    if data_dir is not None and url is None and (data_dir / "warehouse").is_dir():
        db = attach_files(data_dir / "warehouse")
        try:
            cursor = db.execute(statement)
            _print_table([d[0] for d in cursor.description or ()], cursor.fetchall())
        except sqlite3.Error as exc:
            raise click.ClickException(str(exc)) from exc
        return
    token = os.environ.get("SWOOSH_CONTROL_TOKEN")
    if url is None:
        url, token = service_endpoint(stack, data_dir, "segment")
    try:
        result = SegmentClient(url, token=token).call("POST", "/sql", json={"sql": statement})
    except ControlAPIError as exc:
        raise click.ClickException(str(exc).partition(": ")[2] or str(exc)) from None
    _print_table(result["columns"], result["rows"])
