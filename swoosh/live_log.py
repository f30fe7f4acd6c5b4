"""The live log of `swoosh up`: one line per arrival, delivery, refusal, retry and dead letter.

The services only emit log records (loggers `swoosh.segment`, `swoosh.pushwoosh`, `swoosh.bridge`) with
their fields (swoosh.emulator.logfields); this handler, installed on the `swoosh` logger for as long as
`swoosh up` runs, turns them into lines (swoosh.log_lines), rate-limited by swoosh.log_summary. Every
service runs in this process, so every line comes through here. `--quiet` shows errors only (WARNING
and above: dead letters, server errors) and leaves the INFO records uncreated; `--log-format json`
writes one JSON object per line to stdout and moves the banner to stderr, so stdout is JSON only.
As a last net, every credential the stack lists (write keys, tokens) is replaced in each line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import click

from swoosh.emulator.journal import REDACTED
from swoosh.log_lines import as_json, as_text, entry_of
from swoosh.log_summary import Entry, Summariser
from swoosh.stack import Stack

FORMATS = ("text", "json")
TICK_SECONDS = 0.25
_SECRET_KEYS = ("key", "token", "secret")
MIN_SECRET_CHARS = 6


def options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--quiet` and `--log-format` for `swoosh up`, each also from the environment."""
    command = click.option(
        "--log-format",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        envvar="SWOOSH_LOG_FORMAT",
        help="The live log's lines: text for people, or json, one object per line on stdout (the banner "
        "then goes to stderr) ($SWOOSH_LOG_FORMAT).",
    )(command)
    return click.option(
        "--quiet",
        is_flag=True,
        envvar="SWOOSH_QUIET",
        help="Print the banner and errors only, no line per event ($SWOOSH_QUIET=1).",
    )(command)


class LiveLogHandler(logging.Handler):
    """Writes each record as a line, through the summariser; thread-safe (the handler's lock)."""

    def __init__(
        self, stream: TextIO, json_lines: bool, secrets: tuple[str, ...] = (), summariser: Summariser | None = None
    ) -> None:
        super().__init__()
        self.stream = stream
        self.json_lines = json_lines
        self.colour = not json_lines and _is_terminal(stream)
        # longest first; very short values are left out: replacing every "a" would garble, not protect
        self.secrets = tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True))
        self.summariser = summariser or Summariser()
        self.broken = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._write(self.summariser.offer(entry_of(record)))
        except Exception:  # a log line must never break a request
            self.handleError(record)

    def tick(self, final: bool = False) -> None:
        """Write the summaries of a second that ended without a record to end it (`final`: all counted)."""
        with self.lock or contextlib.nullcontext():
            self._write(self.summariser.due(final))

    def _write(self, entries: list[Entry]) -> None:
        if not entries or self.broken:
            return
        text = "".join(
            self._redacted(as_json(e) if self.json_lines else as_text(e, self.colour)) + "\n" for e in entries
        )
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the reader went away (a closed pipe): stop writing, keep serving
            self.broken = True

    def _redacted(self, line: str) -> str:
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


def _is_terminal(stream: TextIO) -> bool:
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def stack_secrets(value: Any, under: str = "") -> Iterator[str]:
    """Every credential in a stack's description: the values under keys naming a key, token or secret."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from stack_secrets(item, str(key).lower())
    elif isinstance(value, list):
        for item in value:
            yield from stack_secrets(item, under)
    elif isinstance(value, str) and any(word in under for word in _SECRET_KEYS) and value != "<set>":
        yield value


@contextlib.contextmanager
def running(stack: Stack, quiet: bool, log_format: str) -> Iterator[LiveLogHandler]:
    """The live log for the body of the `with` (the whole time `swoosh up` serves)."""
    stream = sys.stdout
    handler = LiveLogHandler(stream, log_format == "json", tuple(stack_secrets(stack.describe())))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    logger = logging.getLogger("swoosh")
    saved = logger.level, logger.propagate
    logger.setLevel(handler.level)  # quiet: INFO records are not even made
    logger.propagate = False
    logger.addHandler(handler)
    stop = threading.Event()
    ticker = threading.Thread(target=_tick, args=(handler, stop), name="swoosh-live-log", daemon=True)
    ticker.start()
    try:
        with contextlib.redirect_stdout(sys.stderr) if log_format == "json" else contextlib.nullcontext():
            yield handler
    finally:
        stop.set()
        ticker.join()
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        handler.tick(final=True)


def _tick(handler: LiveLogHandler, stop: threading.Event) -> None:
    while not stop.wait(TICK_SECONDS):
        handler.tick()
