"""The HTTP/1.1 request parser: any bytes give requests or an HttpError (never another exception), and how
the bytes are split across reads never changes what comes out."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from swoosh.emulator.http1 import HttpError, HttpRequest, Limits, RequestReader

LIMITS = Limits(request_line_bytes=256, header_bytes=1024, header_count=10, body_bytes=4096)

fragments = st.sampled_from([
    b"GET / HTTP/1.1\r\n", b"POST /v1/batch HTTP/1.1\r\n", b"Host: x\r\n", b"Content-Length: 3\r\n",
    b"Content-Length: -1\r\n", b"Transfer-Encoding: chunked\r\n", b"\r\n", b"abc", b"3\r\nabc\r\n", b"0\r\n",
    b"zz\r\n", b"ffffffffffffffff\r\n", b"X: \x00\r\n", b" folded\r\n", b"HTTP/1.0", b"\n", b"Connection: close\r\n",
])
wire = st.one_of(st.binary(max_size=400), st.lists(fragments, max_size=20).map(b"".join))


def read_all(pieces: list[bytes]) -> tuple[list[tuple[str, str, bytes, bool]], int | None]:
    reader = RequestReader(LIMITS)
    out: list[tuple[str, str, bytes, bool]] = []
    try:
        for piece in pieces:
            reader.feed(piece)
            while (request := reader.next_request()) is not None:
                out.append(_key(request))
    except HttpError as error:
        assert 400 <= error.status < 600 and error.status != 500
        return out, error.status
    return out, None


def _key(request: HttpRequest) -> tuple[str, str, bytes, bool]:
    return request.method, request.target, request.body, request.keep_alive


@settings(max_examples=300, deadline=None)
@given(data=wire, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_any_bytes_split_anywhere_give_the_same_requests_or_the_same_refusal(data: bytes, cuts: list[int]) -> None:
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    assert read_all(pieces) == read_all([data])


def test_a_chunked_body_is_joined_and_pipelined_requests_come_out_in_order() -> None:
    reader = RequestReader(LIMITS)
    reader.feed(b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"
                b"GET /b HTTP/1.0\r\n\r\n")
    first, second = reader.next_request(), reader.next_request()
    assert first is not None and (first.target, first.body, first.keep_alive) == ("/a", b"abcde", True)
    assert second is not None and (second.target, second.keep_alive) == ("/b", False)
    assert reader.next_request() is None and not reader.mid_request


def test_ambiguous_framing_is_refused() -> None:
    for head, status in [
        (b"Content-Length: 3\r\nContent-Length: 4", 400),
        (b"Content-Length: 3, 4", 400),
        (b"Content-Length: 0x3", 400),
        (b"Content-Length: 3\r\nTransfer-Encoding: chunked", 400),
        (b"Transfer-Encoding: gzip, chunked", 501),
        (b"Content-Length: 5000", 413),
    ]:
        reader = RequestReader(LIMITS)
        reader.feed(b"POST / HTTP/1.1\r\n" + head + b"\r\n\r\nabc")
        try:
            reader.next_request()
        except HttpError as error:
            assert error.status == status, head
        else:
            raise AssertionError(f"accepted {head!r}")


def test_the_same_content_length_twice_is_one_length() -> None:
    reader = RequestReader(LIMITS)
    reader.feed(b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc")
    request = reader.next_request()
    assert request is not None and request.body == b"abc"


def test_refusals_carry_the_standard_reason_phrase() -> None:
    """The serving layer's own refusals go out with a readable status line (was a property's repr)."""
    from swoosh.emulator.http_errors import reason

    assert (reason(400), reason(413), reason(431)) == (
        "Bad Request",
        "Request Entity Too Large",
        "Request Header Fields Too Large",
    )
