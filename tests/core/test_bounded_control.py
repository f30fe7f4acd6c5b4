"""Control requests do bounded work and never poison a service: clock values, fault path patterns."""

from __future__ import annotations

import time

import httpx
import pytest

from swoosh.emulator.clock import Clock
from swoosh.emulator.faults import MATCHED_PATH_CHARS, FaultRuleError, FaultRules, compile_path_pattern


@pytest.mark.parametrize(
    "body",
    [
        b'{"advance": "nan"}',
        b'{"advance": "inf"}',
        b'{"advance": 9223372036854775808}',
        b'{"advance": 1e308}',
        b'{"advance": 1' + b"0" * 400 + b"}",
        b'{"offset": 1e300}',
        b'{"offset": -1e300}',
        b'{"offset": "-nan"}',
        b'{"offset": 1e12}',
    ],
)
def test_a_clock_value_out_of_range_is_refused_and_changes_nothing(served, body: bytes) -> None:
    _backend, url = served
    response = httpx.post(f"{url}/_swoosh/clock", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]
    clock = httpx.get(f"{url}/_swoosh/clock").json()
    assert clock["offset_seconds"] == 0 and clock["now"].startswith(str(time.gmtime().tm_year))


def test_the_clock_takes_any_finite_move_inside_the_calendar() -> None:
    clock = Clock()
    clock.advance(86400 * 365 * 100)
    assert clock.now().year >= 2100
    clock.set_offset(-time.time() + 1)
    assert clock.now().year == 1970
    with pytest.raises(ValueError, match="finite"):
        clock.set_offset(float("nan"))
    assert clock.now().year == 1970


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"(a*)*b", r"(a|aa)*b", r"(\w+\s?)+$", r"a*a*b", r".*x.*y", r"(.)\1", "a" * 201]
)
def test_a_path_pattern_whose_matching_time_explodes_is_refused(pattern: str) -> None:
    with pytest.raises(FaultRuleError, match="path"):
        FaultRules().add({"path": pattern, "status": 500})


@pytest.mark.parametrize(
    "pattern", [r"^/v1/batch", r"^/integration-segment/v1/ping$", r"/v1/(track|batch)$", r"^/json/1\.3/.*", "/"]
)
def test_ordinary_path_patterns_still_work(pattern: str) -> None:
    assert compile_path_pattern(pattern)


def test_matching_an_allowed_pattern_on_a_hostile_path_stays_cheap() -> None:
    """The worst the rules allow (alternatives before the one repetition) over the longest path a rule sees;
    the refused `(a+)+$` took 1.16 s on 25 characters. Generous bound: this is a regression guard, not a
    benchmark."""
    rules = FaultRules()
    rules.add({"path": "(a|a)(a|a)(a|a)a*b", "status": 500})
    started = time.perf_counter()
    assert rules.pick("GET", "/" + "a" * 100_000) is None
    assert time.perf_counter() - started < 1.0
    assert MATCHED_PATH_CHARS <= 1024
