"""The one retry policy: what is retried, how long to wait, and Retry-After in both its forms."""

from __future__ import annotations

import random
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swoosh.emulator.retry import RetryPolicy, classify, is_retryable, retry_after


@pytest.mark.parametrize(
    ("status", "retried"),
    [(408, True), (423, True), (429, True), (500, True), (501, False), (503, True), (400, False), (404, False)],
)
def test_segments_delivery_rules(status: int, retried: bool) -> None:
    assert is_retryable(status) is retried
    assert classify(httpx.Response(status)).retry is retried


def test_a_connection_error_is_retried_and_a_2xx_delivered() -> None:
    assert classify(None, httpx.ConnectError("refused")).retry
    assert classify(httpx.Response(204)).ok


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert retry_after(httpx.Headers({"Retry-After": formatdate(1_000_030, usegmt=True)}), now=1_000_000) == 30.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({})) is None


@given(attempts=st.integers(1, 60), asked=st.none() | st.floats(0, 1e6), seed=st.integers(0, 2**32))
def test_the_delay_grows_is_capped_jittered_and_never_shorter_than_asked(
    attempts: int, asked: float | None, seed: int
) -> None:
    policy = RetryPolicy(base=1.0, cap=600.0)
    delay = policy.delay(attempts, asked, random.Random(seed))
    exponential = min(600.0, 2.0 ** (attempts - 1))
    assert delay >= (asked or 0.0)
    assert delay >= 0.5 * exponential
    assert delay <= max(1.5 * exponential, asked or 0.0)
