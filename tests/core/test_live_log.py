"""The live log's handler: records of the services as aligned text or JSON lines, colour on a TTY only,
a broken pipe tolerated, and no credential in any line (the services never log one; the handler also
replaces every credential the stack lists)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from pathlib import Path

import pytest

from swoosh.emulator.logfields import fields
from swoosh.emulator.segment.app import create_app as create_segment
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
from swoosh.live_log import LiveLogHandler, stack_secrets
from swoosh.log_lines import as_text
from swoosh.log_summary import Summariser

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} (?P<service>.{9}) (?P<kind>.{11}) (?P<what>.+)$")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(name: str, level: int, message: str, extra: dict[str, object] | None = None) -> logging.LogRecord:
    return logging.getLogger(name).makeRecord(name, level, __file__, 1, message, (), None, extra=extra)


def emitted(handler: LiveLogHandler, *records: logging.LogRecord) -> list[str]:
    for item in records:
        handler.handle(item)
    return handler.stream.getvalue().splitlines()  # type: ignore[attr-defined]


RECORDS = [
    record(
        "swoosh.segment",
        logging.INFO,
        "app: 2 good, 1 bad (no_user_anon_id), 0 duplicate",
        fields("arrival", source="app", count=3, outcomes={"good": 2, "bad": 1}, reasons={"no_user_anon_id": 1}),
    ),
    record(
        "swoosh.pushwoosh",
        logging.INFO,
        "POST /json/1.3/createMessage -> 200 in 0.6 ms",
        fields(
            "refusal",
            method="POST",
            path="/json/1.3/createMessage",
            status=200,
            duration_ms=0.6,
            reason="210 Account not found",
        ),
    ),
    record(
        "swoosh.segment",
        logging.INFO,
        "delivered",
        fields("delivery", destination="Pushwoosh", count=2, status=200, reason=None),
    ),
    record(
        "swoosh.bridge",
        logging.INFO,
        "retry",
        fields("retry", direction="segment", to="pushwoosh", count=1, status=503, reason="busy", retry_in=1.25),
    ),
    record(
        "swoosh.pushwoosh.webhooks",
        logging.WARNING,
        "refused",
        fields("dead_letter", webhook="http://127.0.0.1:9/pushwoosh", count=4, status=400, reason='{"message": "no"}'),
    ),
    record(
        "swoosh.bridge", logging.INFO, "skip", fields("skip", direction="segment", message_id="m-1", reason="no user")
    ),
    record("swoosh.serving", logging.ERROR, "GET /x failed"),
]


def test_each_kind_reads_as_one_aligned_line_from_its_fields() -> None:
    handler = LiveLogHandler(io.StringIO(), json_lines=False)
    lines = emitted(handler, *RECORDS)
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["service"].strip(), m["kind"].strip(), m["what"]) for m in parsed if m] == [
        ("segment", "arrival", "app: 2 good, 1 bad (no_user_anon_id)"),
        ("pushwoosh", "refusal", "POST /json/1.3/createMessage 200: 210 Account not found (0.6 ms)"),
        ("segment", "delivery", "2 events to destination Pushwoosh: 200"),
        ("bridge", "retry", "1 event to pushwoosh: 503 busy, again in 1.2 s"),
        ("pushwoosh", "dead letter", '4 events to webhook http://127.0.0.1:9/pushwoosh: 400 {"message": "no"}'),
        ("bridge", "skip", "segment event m-1: no user"),
        ("serving", "error", "GET /x failed"),
    ]
    assert "\033[" not in "".join(lines)  # not a terminal: no colour


def test_json_lines_carry_ts_service_kind_and_the_record_fields() -> None:
    handler = LiveLogHandler(io.StringIO(), json_lines=True)
    objects = [json.loads(line) for line in emitted(handler, *RECORDS)]
    assert [o["kind"] for o in objects] == ["arrival", "refusal", "delivery", "retry", "dead_letter", "skip", "error"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]) for o in objects)
    assert objects[0] == {
        "ts": objects[0]["ts"],
        "service": "segment",
        "kind": "arrival",
        "source": "app",
        "count": 3,
        "outcomes": {"good": 2, "bad": 1},
        "reasons": {"no_user_anon_id": 1},
    }
    assert objects[-1]["message"] == "GET /x failed"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    coloured = emitted(LiveLogHandler(Terminal(), json_lines=False), RECORDS[0])
    assert "\033[32m" in coloured[0]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in emitted(LiveLogHandler(Terminal(), json_lines=False), RECORDS[0])[0]
    assert "\033[" not in emitted(LiveLogHandler(Terminal(), json_lines=True), RECORDS[0])[0]


def test_an_exception_is_shown_as_its_type_and_text_without_a_traceback() -> None:
    try:
        raise ValueError("bad thing")
    except ValueError:
        failed = logging.getLogger("swoosh.serving").makeRecord(
            "swoosh.serving", logging.ERROR, __file__, 1, "POST /v1/t failed", (), sys.exc_info()
        )
    (line,) = emitted(LiveLogHandler(io.StringIO(), json_lines=False), failed)
    assert line.endswith("POST /v1/t failed (ValueError: bad thing)")


def test_a_burst_is_summarised_into_one_line_per_service() -> None:
    clock = [0.0]
    handler = LiveLogHandler(io.StringIO(), json_lines=False, summariser=Summariser(limit=2, clock=lambda: clock[0]))
    emitted(handler, *[RECORDS[0]] * 50)
    clock[0] = 1.5
    handler.tick()
    lines = handler.stream.getvalue().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 3
    assert lines[-1].endswith("summary     144 arrivals (96 good, 48 bad) in the last 1 s")


def test_the_stack_credentials_are_replaced_in_every_line() -> None:
    described = {
        "services": {
            "segment": {"sources": [{"name": "app", "write_key": "wk-secret-1"}], "hints": ["wk-secret-1"]},
            "pushwoosh": {"api_token": "tok-secret-2", "device_token": "dev-secret-3", "application": "ABCDE-12345"},
            "bridge": {"settings": {"api_key": "<set>"}},
        },
        "control_token": "ctl-secret-4",
    }
    secrets = tuple(stack_secrets(described))
    assert sorted(secrets) == ["ctl-secret-4", "dev-secret-3", "tok-secret-2", "wk-secret-1"]
    handler = LiveLogHandler(io.StringIO(), json_lines=True, secrets=(*secrets, "", "a"))  # too short: kept
    leaky = record("swoosh.pushwoosh", logging.WARNING, "token tok-secret-2 and wk-secret-1 in a message")
    (line,) = emitted(handler, leaky)
    assert "secret" not in line and "<redacted>" in line and "and <redacted> in a message" in line


def test_a_closed_stream_stops_the_log_without_an_error() -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    handler = LiveLogHandler(Closed(), json_lines=False)
    handler.handle(RECORDS[0])
    handler.handle(RECORDS[1])
    assert handler.broken


def test_a_strict_fake_segment_refusing_an_unknown_key_never_shows_the_key() -> None:
    """Its reply quotes the key; the log line shows the refusal's code only."""
    backend = SegmentBackend(SegmentConfig(strict=True))
    client = create_segment(backend).test_client()
    handler = LiveLogHandler(io.StringIO(), json_lines=False)
    logger = logging.getLogger("swoosh")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        answer = client.post("/v1/track", json={"writeKey": "unknown-secret-77", "userId": "u", "event": "E"})
        reply = answer.get_data(as_text=True)  # the journal's line is written once the answer is read
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        backend.close()
    assert "unknown-secret-77" in reply
    (line,) = handler.stream.getvalue().splitlines()  # type: ignore[attr-defined]
    assert "refusal" in line and "invalid_write_key" in line and "unknown-secret-77" not in line


def test_a_summary_entry_renders_every_kind_it_counted() -> None:
    summary = {
        "ts": 0.0,
        "service": "bridge",
        "kind": "summary",
        "seconds": 1.0,
        "counts": {"delivery": 9790, "retry": 12, "dead_letter": 1},
        "outcomes": {},
    }
    assert as_text(summary).endswith("9,790 delivered, 12 retried, 1 dead-lettered in the last 1 s")


def test_the_readme_shows_lines_exactly_as_the_live_log_draws_them() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```text\n(.*?)```", readme, flags=re.S) if " segment   arrival " in b]
    midnight = time.mktime((2026, 11, 30, 0, 0, 0, 0, 0, -1))

    def at(clock: str) -> float:
        hours, minutes, seconds = clock.split(":")
        return midnight + int(hours) * 3600 + int(minutes) * 60 + float(seconds) + 0.0004

    entries = [
        (
            "segment",
            "arrival",
            {
                "source": "app",
                "count": 1,
                "outcomes": {"good": 1},
                "reasons": {},
                "call": {"type": "identify", "event": None, "user": "ada"},
            },
        ),
        ("segment", "delivery", {"destination": "Pushwoosh", "count": 1, "status": 200, "reason": None}),
        (
            "pushwoosh",
            "arrival",
            {"method": "POST", "path": "/integration-segment/v1/track-user", "status": 200, "duration_ms": 4.8},
        ),
        ("bridge", "delivery", {"direction": "segment", "to": "pushwoosh", "count": 1, "status": 200, "reason": None}),
        (
            "segment",
            "refusal",
            {
                "source": "app",
                "count": 1,
                "outcomes": {"bad": 1},
                "reasons": {"no_user_anon_id": 1},
                "call": {"type": "track", "event": "Order Completed", "user": None},
            },
        ),
        (
            "pushwoosh",
            "refusal",
            {
                "method": "POST",
                "path": "/json/1.3/createMessage",
                "status": 200,
                "duration_ms": 0.6,
                "reason": "210 Account not found",
            },
        ),
        (
            "segment",
            "summary",
            {
                "seconds": 1.0,
                "counts": {"arrival": 9812, "delivery": 9790},
                "outcomes": {"arrival": {"good": 9790, "duplicate": 22}},
            },
        ),
    ]
    shown = block.splitlines()
    assert len(shown) == len(entries)
    for line, (service, kind, values) in zip(shown, entries, strict=True):
        assert as_text({"ts": at(line[:12]), "service": service, "kind": kind, **values}) == line
