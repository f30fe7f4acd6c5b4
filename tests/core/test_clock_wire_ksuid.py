import gzip
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.clock import Clock, iso_millis, parse_iso
from swoosh.emulator.ksuid import ksuid, ksuid_timestamp
from swoosh.emulator.wire import BodyError, decode_body, gunzip_bounded, parse_json


def test_clock_advances_and_resets() -> None:
    clock = Clock()
    before = clock.time()
    clock.advance(3600)
    assert clock.time() - before >= 3600
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.offset == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T14:08:43.998Z", "2026-11-22T14:08:43.998Z"),
        ("2026-11-22T14:08:43Z", "2026-11-22T14:08:43.000Z"),
        ("2026-11-22T16:08:43.998123+02:00", "2026-11-22T14:08:43.998Z"),
        ("2026-11-22T14:08:43.9Z", "2026-11-22T14:08:43.900Z"),
        ("2026-11-22T14:08:43.123456789Z", "2026-11-22T14:08:43.123Z"),
        ("2026-11-22 14:08:43", "2026-11-22T14:08:43.000Z"),
    ],
)
def test_parse_iso_is_lenient_and_iso_millis_is_canonical(text: str, expected: str) -> None:
    parsed = parse_iso(text)
    assert parsed is not None
    assert iso_millis(parsed) == expected


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-01T00:00:00Z", 12345, None, "2026-11-22T25:00:00Z"])
def test_parse_iso_rejects_garbage(bad: object) -> None:
    assert parse_iso(bad) is None


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_parse_iso_never_raises(text: str) -> None:
    result = parse_iso(text)
    assert result is None or result.tzinfo is not None


def test_ksuid_is_27_chars_sortable_and_carries_its_time() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC).timestamp()
    first, second = ksuid(now, b"\x00" * 16), ksuid(now + 1, b"\x00" * 16)
    assert len(first) == 27 and first.isalnum()
    assert first < second
    assert ksuid_timestamp(first) == int(now)
    assert ksuid(now) != ksuid(now)


def test_gzip_round_trip_and_limits() -> None:
    body = b'{"a": 1}'
    assert decode_body(gzip.compress(body), "gzip", 100) == body
    with pytest.raises(BodyError) as bomb:
        gunzip_bounded(gzip.compress(b"0" * 50_000_000), 512_000)
    assert bomb.value.code == "request_too_large"
    with pytest.raises(BodyError) as garbage:
        decode_body(b"definitely not gzip", "gzip", 100)
    assert garbage.value.code == "malformed_gzip"
    with pytest.raises(BodyError) as truncated:
        decode_body(gzip.compress(body)[:-6], "gzip", 100)
    assert truncated.value.code == "malformed_gzip"
    with pytest.raises(BodyError) as big:
        decode_body(b"x" * 101, None, 100)
    assert big.value.code == "request_too_large"


def test_parse_json_errors_are_body_errors() -> None:
    assert parse_json(b'{"x": [1, 2]}') == {"x": [1, 2]}
    with pytest.raises(BodyError) as exc:
        parse_json(b"{not json")
    assert exc.value.code == "invalid_json"
    with pytest.raises(BodyError):
        parse_json(b"[" * 5000 + b"]" * 5000)
