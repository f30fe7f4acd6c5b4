"""The live log's per-second summariser, on an injected clock (no sleeping)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from swoosh.log_summary import SUMMARY, Summariser


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def arrival(n: int = 1, service: str = "segment", **outcomes: int) -> dict[str, Any]:
    return {"ts": 1.0, "service": service, "kind": "arrival", "count": n, "outcomes": outcomes or {"good": n}}


def after_a_busy_second_began() -> tuple[FakeClock, Summariser]:
    """A summariser (limit 3) offered 10 entries within one second."""
    clock = FakeClock()
    summariser = Summariser(limit=3, clock=clock)
    for _ in range(10):
        summariser.offer(arrival())
    return clock, summariser


def test_below_the_limit_every_entry_is_shown_and_nothing_summarised() -> None:
    clock = FakeClock()
    summariser = Summariser(limit=5, clock=clock)
    shown = [line for _ in range(5) for line in summariser.offer(arrival())]
    clock.now += 1.0
    assert len(shown) == 5 and all(e["kind"] == "arrival" for e in shown)
    assert summariser.due() == []


def test_a_burst_shows_the_first_lines_then_one_summary_per_service_with_counts_and_outcomes() -> None:
    clock = FakeClock()
    summariser = Summariser(limit=3, clock=clock)
    shown = []
    for i in range(100):
        shown += summariser.offer(arrival(10, good=9, duplicate=1) if i % 2 else arrival(10))
        shown += summariser.offer({"ts": 2.0, "service": "bridge", "kind": "delivery", "to": "pushwoosh", "count": 10})
        clock.now += 0.001
    assert len(shown) == 3
    assert summariser.due() == []  # the second is not over yet
    clock.now += 1.0
    summaries = summariser.due()
    by_service = {s["service"]: s for s in summaries}
    assert set(by_service) == {"segment", "bridge"} and all(s["kind"] == SUMMARY for s in summaries)
    counted_segment = 1000 - 10 * sum(1 for e in shown if e["service"] == "segment")
    assert by_service["segment"]["counts"] == {"arrival": counted_segment}
    assert sum(by_service["segment"]["outcomes"]["arrival"].values()) == counted_segment
    assert by_service["segment"]["outcomes"]["arrival"]["duplicate"] == 49  # the one of entry 1 was shown
    assert by_service["bridge"]["counts"] == {"delivery": 1000 - 10 * sum(1 for e in shown if e["service"] == "bridge")}
    assert by_service["bridge"]["seconds"] == 1.0


def test_while_the_rate_stays_high_nothing_is_shown_one_by_one() -> None:
    clock, summariser = after_a_busy_second_began()
    clock.now += 1.0
    lines = [line for _ in range(10) for line in summariser.offer(arrival())]
    assert [e["kind"] for e in lines] == [SUMMARY]  # the first second's summary, then only counting
    clock.now += 1.0
    (summary,) = summariser.due()
    assert summary["counts"] == {"arrival": 10}


def test_single_lines_resume_once_a_second_was_quiet() -> None:
    clock, summariser = after_a_busy_second_began()
    clock.now += 1.0
    assert len(summariser.due()) == 1  # busy: the next second still counts
    assert summariser.offer(arrival()) == []  # a quiet second, counted as it began busy
    clock.now += 1.0
    assert [e["kind"] for e in summariser.offer(arrival())] == [SUMMARY, "arrival"]


def test_after_a_pause_the_first_entry_is_shown_at_once() -> None:
    clock, summariser = after_a_busy_second_began()
    clock.now += 5.0
    assert [e["kind"] for e in summariser.offer(arrival())] == [SUMMARY, "arrival"]


def test_the_final_flush_reports_what_was_counted_in_an_unfinished_second() -> None:
    clock = FakeClock()
    summariser = Summariser(limit=1, clock=clock)
    summariser.offer(arrival())
    summariser.offer(arrival(7))
    assert summariser.due() == []
    (summary,) = summariser.due(final=True)
    assert summary["counts"] == {"arrival": 7}


@given(
    st.lists(
        st.tuples(st.floats(0, 1.5), st.sampled_from(["segment", "pushwoosh", "bridge"]), st.integers(1, 50)),
        max_size=300,
    ),
    st.integers(1, 10),
)
def test_every_event_is_shown_or_counted_exactly_once_and_no_second_shows_more_than_the_limit(
    steps: list[tuple[float, str, int]], limit: int
) -> None:
    clock = FakeClock()
    summariser = Summariser(limit=limit, clock=clock)
    offered: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    single_lines: list[float] = []
    for pause, service, n in steps:
        clock.now += pause
        offered[service] += n
        for entry in summariser.offer(arrival(n, service)):
            if entry["kind"] == SUMMARY:
                reported[entry["service"]] += entry["counts"]["arrival"]
            else:
                reported[entry["service"]] += entry["count"]
                single_lines.append(clock.now)
    for entry in summariser.due(final=True):
        reported[entry["service"]] += entry["counts"]["arrival"]
    assert reported == offered
    for start in single_lines:  # within any one second, at most `limit` single lines (windows may straddle it)
        assert sum(1 for t in single_lines if start <= t < start + 1.0) <= 2 * limit
