"""One Tracking API request's messages judged before the write step: the per-message Python work.

Validation, enrichment, the tracking plan and serialising run here, outside any lock and outside the
store's write transaction, so concurrent requests do them in parallel with another request's commit.
Only what must see every other writer (is this messageId already in the dedupe window, which seq does
each row get, the cap's evictions) happens in the write step (event_table.EventTable.write), which
calls `Intake.settle` inside its transaction: a message judged good whose messageId turns out to be
in the window is stored as a duplicate, as it arrived (docs/decisions.md, "One write transaction").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from swoosh.emulator.segment import messages as m
from swoosh.emulator.segment.protocols import VIOLATION_EVENT
from swoosh.emulator.segment.sources import Source
from swoosh.emulator.segment.stored import BAD, DROPPED, DUPLICATE, GOOD, Row, serialize, stored_row

MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024  # "500 KB": the edge counts 512,000 bytes
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_EVENTS = 2500
DUPLICATE_REASON = "duplicate_message_id"


class IngestError(Exception):
    """The whole request is refused; rendered as `{"success": false, "code", "message"}`."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or []


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    dropped: int = 0
    single: dict[str, Any] | None = None  # what a one-message request was (type, event, user), for its log line


class _Draft:
    """One message's row before the write step; `message_id` is set when the dedupe window decides it."""

    __slots__ = ("arrived", "index", "item", "message_id", "row", "violations")

    def __init__(self, row: Row, index: int, item: Any = None, message_id: str | None = None, arrived: Any = None):
        self.row = row
        self.index = index
        self.item = item
        self.message_id = message_id
        self.arrived = arrived  # the message before enrichment: what a duplicate is stored as
        self.violations: list[dict[str, str]] | None = None


def _as_arrived(item: dict[str, Any]) -> dict[str, Any]:
    """A copy enrichment does not touch (it sets top-level keys and may add `context.library`)."""
    copy = dict(item)
    context = item.get("context")
    if isinstance(context, dict):
        copy["context"] = dict(context)
    return copy


class Intake:
    """One request's messages, judged (`judge`), then settled against the dedupe window in the write step."""

    def __init__(
        self, source: Source | None, enrichment: m.Enrichment, now: float, strict: bool, single: dict[str, Any] | None
    ) -> None:
        self.source = source
        self.enrichment = enrichment
        self.now = now
        self.strict = strict
        self.result = IngestResult(single=single)
        self.drafts: list[_Draft] = []
        self.dedupe_ids: list[str] = []  # the messageIds the write step looks up in the window
        self.first_seq = 0  # the seq of the first row, given by the write step
        self.refusal: IngestError | None = None  # strict mode refused the request: nothing of it was kept

    def judge(self, call_type: m.CallType, items: list[Any], types: list[str | None], body: Any, size: int) -> None:
        """Every message's verdict as far as it does not depend on the dedupe window."""
        now, source = self.now, self.source
        if source is None:
            self.drafts = [
                _Draft(stored_row(0, DROPPED, m.UNKNOWN_WRITE_KEY, None, t, item, now), i)
                for i, (item, t) in enumerate(zip(items, types, strict=True))
            ]
            return
        envelope = body if isinstance(body, dict) else {}
        fresh: set[str] = set()  # this request's messageIds so far: a second one is a duplicate
        plan = source.tracking_plan
        for index, (item, item_type) in enumerate(zip(items, types, strict=True)):
            reason = _problem(index, item, item_type, call_type, size)
            if reason is not None:
                self.drafts.append(_Draft(stored_row(0, BAD, reason, source.name, item_type, item, now), index))
                continue
            if call_type == m.BATCH:
                m.merge_envelope(item, envelope)
            message_id = item.get("messageId")
            window_ends: float | None = None  # a messageId Segment generates is never sent again
            arrived = None
            if isinstance(message_id, str) and message_id:
                if message_id in fresh:
                    row = stored_row(0, DUPLICATE, DUPLICATE_REASON, source.name, item_type, item, now)
                    self.drafts.append(_Draft(row, index))
                    continue
                fresh.add(message_id)
                self.dedupe_ids.append(message_id)
                window_ends = now + m.DEDUPE_WINDOW
                arrived = _as_arrived(item)
            else:
                message_id = None
            self.enrichment.apply(item, item_type)  # type: ignore[arg-type]  # a good item's type was checked above
            violations = None
            status, reason, payload = GOOD, None, None
            if plan is not None:
                verdict = plan.check(item)
                violations = verdict.violations or None
                if verdict.blocked:
                    status, reason = BAD, m.BLOCKED_BY_TRACKING_PLAN
            if status == GOOD:
                payload = serialize(item)
                if payload is None:
                    if message_id is not None:
                        fresh.discard(message_id)
                    status, reason = BAD, m.TOO_DEEPLY_NESTED
            kept = violations if reason != m.TOO_DEEPLY_NESTED else None
            ends = window_ends if status == GOOD else None
            row = stored_row(0, status, reason, source.name, item_type, item, now, kept, payload, ends)
            draft = _Draft(row, index, item, message_id, arrived)
            draft.violations = violations
            self.drafts.append(draft)

    def settle(self, seen: set[str]) -> list[Row] | None:
        """Inside the write transaction: messages whose id is in the window (`seen`) become duplicates, then
        the rows to store in order (their seq still 0), or None when strict mode refuses the request."""
        source_name, now = (self.source.name if self.source else None), self.now
        if seen:
            for draft in self.drafts:
                if draft.message_id in seen:
                    call_type = draft.row[4]
                    draft.row = stored_row(0, DUPLICATE, DUPLICATE_REASON, source_name, call_type, draft.arrived, now)
        result = self.result
        result.accepted = result.duplicates = result.dropped = 0
        result.rejected = []
        for draft in self.drafts:
            status = draft.row[1]
            if status == GOOD:
                result.accepted += 1
            elif status == DUPLICATE:
                result.duplicates += 1
            elif status == DROPPED:
                result.dropped += 1
            else:
                result.rejected.append({"index": draft.index, "reason": draft.row[2]})
        if self.strict and result.rejected:  # strict refuses the request: nothing of it is kept
            self.refusal = IngestError(
                400, "invalid_events", f"{len(result.rejected)} message(s) rejected", result.rejected
            )
            return None
        return [draft.row for draft in self.drafts]

    def good(self) -> list[tuple[int, dict[str, Any]]]:
        """(seq, message) of the good messages, once written: what destinations are offered."""
        return [(self.first_seq + n, d.item) for n, d in enumerate(self.drafts) if d.row[1] == GOOD]

    def flagged(self) -> list[tuple[dict[str, Any], list[dict[str, str]]]]:
        """The written messages the tracking plan found violations in (not duplicates): for forwarding."""
        return [
            (d.item, d.violations)
            for d in self.drafts
            if d.violations and d.row[1] != DUPLICATE and d.item.get("event") != VIOLATION_EVENT
        ]


def _problem(index: int, item: Any, item_type: str | None, call_type: m.CallType, body_bytes: int) -> str | None:
    if item_type == "batch":
        return m.INVALID_BATCH
    if index >= MAX_BATCH_EVENTS:
        return m.TOO_MANY_EVENTS
    if call_type == m.BATCH and body_bytes > MAX_EVENT_BYTES and len(orjson.dumps(item)) > MAX_EVENT_BYTES:
        return m.MESSAGE_TOO_LARGE
    return m.problem(item, item_type)
