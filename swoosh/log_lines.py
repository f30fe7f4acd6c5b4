"""The live log's lines: a log record as an entry (its fields), and an entry as a human or a JSON line.

An entry is `{"ts", "service", "kind", ...the record's fields}` (swoosh.emulator.logfields); records
without fields (a server error, say) become kind "error" (WARNING and above) or "log", with "message".
The human line is rendered from the fields, never from the record's sentence; the JSON line is the
entry itself, `ts` in ISO 8601 UTC. docs/architecture.md ("Logging") lists the fields of each kind.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from swoosh.emulator.logfields import fields_of
from swoosh.log_summary import SUMMARY, Entry

ERROR, LOG = "error", "log"
# summary wording of each kind's count
_COUNTED = {
    "arrival": "arrivals",
    "refusal": "refusals",
    "delivery": "delivered",
    "retry": "retried",
    "dead_letter": "dead-lettered",
    "skip": "skipped",
    ERROR: "errors",
    LOG: "other lines",
}
_TARGETS = ("to", "destination", "webhook")  # the bridge's downstream, a fake Segment destination, a webhook
_COLOURS = {
    "arrival": "32",
    "delivery": "36",
    "refusal": "33",
    "retry": "33",
    "dead_letter": "31",
    ERROR: "31",
    "skip": "2",
    SUMMARY: "1",
}


def entry_of(record: logging.LogRecord) -> Entry:
    name = record.name.split(".")
    service = name[1] if len(name) > 1 and name[0] == "swoosh" else record.name
    found = fields_of(record)
    if found is not None:
        return {"ts": record.created, "service": service, **found}
    entry: Entry = {
        "ts": record.created,
        "service": service,
        "kind": ERROR if record.levelno >= logging.WARNING else LOG,
        "message": record.getMessage(),
    }
    if record.exc_info and record.exc_info[1] is not None:
        entry["error"] = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return entry


def as_json(entry: Entry) -> str:
    ts = float(entry.get("ts", 0.0))
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
    return orjson.dumps({**entry, "ts": iso}, default=str).decode()


def as_text(entry: Entry, colour: bool = False) -> str:
    """`HH:MM:SS.mmm service   kind        what`, aligned; the kind coloured when `colour`."""
    ts = float(entry.get("ts", 0.0))
    clock = time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int(ts * 1000) % 1000:03d}"
    kind = str(entry.get("kind", ""))
    label = f"{kind.replace('_', ' '):<11}"
    if colour and kind in _COLOURS:
        label = f"\033[{_COLOURS[kind]}m{label}\033[0m"
    return f"{clock} {entry.get('service', ''):<9} {label} {_what(entry)}"


def _what(entry: Entry) -> str:
    kind = entry.get("kind")
    if kind == SUMMARY:
        return _summary(entry)
    if "outcomes" in entry:  # messages of one request to the fake Segment
        return _messages(entry)
    if "method" in entry:  # one request
        reason = f": {entry['reason']}" if entry.get("reason") else ""
        return f"{entry['method']} {entry['path']} {entry['status']}{reason} ({entry.get('duration_ms', 0):.1f} ms)"
    if "count" in entry and any(key in entry for key in _TARGETS):  # a delivery attempt
        return _sent(entry)
    if kind == "skip":
        return f"{entry.get('direction')} event {entry.get('message_id')}: {entry.get('reason')}"
    if kind == "refusal" and "count" in entry:
        return f"{_events(entry['count'])} from {entry.get('direction')} refused: {entry.get('reason')}"
    if "message" in entry:
        return str(entry["message"]) + (f" ({entry['error']})" if entry.get("error") else "")
    return " ".join(f"{k}={v}" for k, v in entry.items() if k not in ("ts", "service", "kind"))


def _events(count: Any) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"


def _messages(entry: Entry) -> str:
    reasons = entry.get("reasons") or {}
    parts = []
    for outcome, n in entry["outcomes"].items():
        why = f" ({', '.join(reasons)})" if outcome in ("bad", "dropped") and reasons else ""
        parts.append(f"{n:,} {outcome}{why}")
    source = entry.get("source") or "unknown write key"
    call = entry.get("call")
    if call:  # one message: say what it was
        named = f' "{_one_line(str(call["event"]), 60)}"' if call.get("event") else ""
        user = f" by {_one_line(str(call['user']), 40)}" if call.get("user") is not None else ""
        source += f" {call.get('type') or 'message'}{named}{user}"
    return f"{source}: {', '.join(parts)}"


def _sent(entry: Entry) -> str:
    key = next(key for key in _TARGETS if key in entry)
    target = entry[key] if key == "to" else f"{key} {entry[key]}"
    text = f"{_events(entry.get('count', 0))} to {target}"
    if entry.get("status") is not None:
        text += f": {entry['status']}"
    if entry.get("reason") and entry.get("kind") != "delivery":
        text += f" {_one_line(entry['reason'])}"
    if entry.get("retry_in") is not None:
        text += f", again in {entry['retry_in']:.1f} s"
    return text


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _summary(entry: Entry) -> str:
    outcomes = entry.get("outcomes") or {}
    parts = []
    for kind, n in entry.get("counts", {}).items():
        inner = ", ".join(f"{m:,} {outcome}" for outcome, m in outcomes.get(kind, {}).items())
        parts.append(f"{n:,} {_COUNTED.get(kind, kind)}" + (f" ({inner})" if inner else ""))
    seconds = entry.get("seconds", 1.0)
    return f"{', '.join(parts)} in the last {seconds:g} s"
