"""The live log's rate limit: above `limit` lines a second, one summary line per service per second.

Pure logic over entries (dicts with "service", "kind" and the record's fields) and an injected clock,
so it is tested without sleeping. A second with more than `limit` entries shows its first `limit` one by
one and counts the rest; while the previous second was that busy, every entry is counted; the counts
come out as one summary entry per service once the second is over (`offer` or `due`), and single lines
resume in the first second after one that was not busy.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from swoosh.emulator.logfields import KINDS

Entry = dict[str, Any]
LINES_PER_SECOND = 20
SUMMARY = "summary"


class Summariser:
    def __init__(self, limit: int = LINES_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = 1.0
        self.clock = clock
        self._start = clock()
        self._seen = 0  # entries offered in the current window, shown or counted
        self._summarising = False
        self._counts: dict[str, Counter[str]] = {}  # service -> kind -> events
        self._outcomes: dict[str, dict[str, Counter[str]]] = {}  # service -> kind -> outcome -> messages
        self._last_ts = 0.0  # of the latest entry counted: the summaries' time

    def offer(self, entry: Entry) -> list[Entry]:
        """What to show now: summaries of a window that just ended, then `entry` unless it is counted."""
        shown = self.due()
        self._seen += 1
        if self._summarising or self._seen > self.limit:
            self._summarising = True
            self._count(entry)
        else:
            shown.append(entry)
        return shown

    def due(self, final: bool = False) -> list[Entry]:
        """The summaries of the window once it is over (call it now and then: nothing may come to end it),
        or at once when `final` (the log stops)."""
        now = self.clock()
        if now < self._start + self.window and not final:
            return []
        summaries = [self._summary(service) for service in sorted(self._counts, key=_flow_order)]
        busy = self._seen > self.limit and now < self._start + 2 * self.window
        self._summarising = busy
        self._start = self._start + self.window if busy else now
        self._seen = 0
        self._counts.clear()
        self._outcomes.clear()
        return summaries

    def _count(self, entry: Entry) -> None:
        service, kind = entry.get("service", ""), entry.get("kind", "")
        weight = entry.get("count")
        counts = self._counts.get(service)
        if counts is None:
            counts = self._counts[service] = Counter()
        counts[kind] += weight if isinstance(weight, int) else 1
        outcomes = entry.get("outcomes")
        if outcomes:
            by_kind = self._outcomes.setdefault(service, {})
            found = by_kind.get(kind)
            if found is None:
                found = by_kind[kind] = Counter()
            for outcome, n in outcomes.items():
                found[outcome] += n
        self._last_ts = max(self._last_ts, entry.get("ts", 0.0))

    def _summary(self, service: str) -> Entry:
        outcomes = {kind: dict(found) for kind, found in self._outcomes.get(service, {}).items()}
        return {
            "ts": self._last_ts,
            "service": service,
            "kind": SUMMARY,
            "seconds": self.window,
            "counts": dict(sorted(self._counts[service].items(), key=lambda item: _kind_order(item[0]))),
            "outcomes": outcomes,
        }


def _flow_order(service: str) -> tuple[int, str]:
    """Summaries in the order events flow: the fake Segment, the fake Pushwoosh, the bridge, the rest."""
    flow = ("segment", "pushwoosh", "bridge")
    return (flow.index(service) if service in flow else len(flow), service)


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)
