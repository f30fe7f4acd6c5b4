"""HTTP/1.1 request parsing without I/O: bytes in, whole requests (or an `HttpError`) out.

The serving front end feeds it whatever the socket gave; a request comes out only once its head and
body are complete and within `Limits`, so no worker ever waits on a client. Anything ambiguous about
where a body ends (two different Content-Lengths, a negative or non-numeric one, Transfer-Encoding
together with Content-Length, a malformed chunk size) and control characters in a header are refused
with 400 before any of it reaches an app: that is where request smuggling lives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP/(\d)\.(\d)")
HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FORBIDDEN_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")  # 8 digits: chunks of 4 GiB or more are malformed, not merely large
CRLF = b"\r\n"


class HttpError(Exception):
    """A request refused at the HTTP layer; `status` and `message` go on the wire, then the connection closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """What one request may cost before an app sees it."""

    request_line_bytes: int = 8 * 1024
    header_bytes: int = 64 * 1024
    header_count: int = 100
    body_bytes: int = 64 * 1024 * 1024


@dataclass
class HttpRequest:
    method: str
    target: str
    version: tuple[int, int]
    headers: list[tuple[str, str]]  # names lower-cased, values latin-1 text, in arrival order
    body: bytes = b""
    keep_alive: bool = True

    def header(self, name: str) -> str | None:
        """All values of `name` joined with ", " (RFC 9110 section 5.3), or None."""
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None


@dataclass
class _Framing:
    length: int | None = None  # Content-Length framing
    chunked: bool = False
    received: int = 0
    parts: list[bytes] = field(default_factory=list)


class RequestReader:
    """Incremental parser for the requests of one connection, one at a time, in order."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._buffer = bytearray()
        self._request: HttpRequest | None = None  # head parsed, body still coming
        self._framing = _Framing()
        self._chunk_left = -1  # -1: a chunk-size line is next; 0: a chunk's closing CRLF; >0: chunk bytes
        self._in_trailers = False
        self.continue_wanted = False  # the client sent `Expect: 100-continue` and waits for a go-ahead

    @property
    def mid_request(self) -> bool:
        """True once any byte of a request arrived that did not yet make a whole request."""
        return self._request is not None or bool(self._buffer.strip(b"\r\n"))

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def pending_path(self) -> str:
        return self._request.target if self._request is not None else "/"

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or None until more bytes arrive; raises HttpError when malformed."""
        if self._request is None and not self._read_head():
            return None
        request = self._request
        assert request is not None
        if not self._read_body():
            return None
        request.body = b"".join(self._framing.parts)
        self._request, self._framing = None, _Framing()
        return request

    def _read_head(self) -> bool:
        while self._buffer.startswith(CRLF):  # RFC 9112 section 2.2: ignore empty lines before a request
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            line_end = self._buffer.find(CRLF)
            if line_end < 0 and len(self._buffer) > self.limits.request_line_bytes:
                raise HttpError(414, f"request line longer than {self.limits.request_line_bytes} bytes")
            if len(self._buffer) > self.limits.header_bytes:
                raise HttpError(431, f"request head larger than {self.limits.header_bytes} bytes")
            return False
        if end + 4 > self.limits.header_bytes:
            raise HttpError(431, f"request head larger than {self.limits.header_bytes} bytes")
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        line, _, rest = head.partition(CRLF)
        if len(line) > self.limits.request_line_bytes:
            raise HttpError(414, f"request line longer than {self.limits.request_line_bytes} bytes")
        match = REQUEST_LINE.fullmatch(line)
        if match is None:
            raise HttpError(400, "malformed request line")
        method, target, major, minor = match.groups()
        if major != b"1":
            raise HttpError(505, "only HTTP/1.0 and HTTP/1.1 are served")
        headers = _parse_headers(rest.split(CRLF) if rest else [], self.limits.header_count)
        request = HttpRequest(method.decode("ascii"), target.decode("ascii"), (1, int(minor)), headers)
        self._framing = _framing_of(request, self.limits.body_bytes)
        request.keep_alive = _keeps_alive(request)
        self._request = request
        self.continue_wanted = (request.header("expect") or "").lower() == "100-continue"
        return True

    def _read_body(self) -> bool:
        framing = self._framing
        if framing.chunked:
            return self._read_chunks()
        length = framing.length or 0
        if len(self._buffer) < length:
            return False
        framing.parts.append(bytes(self._buffer[:length]))
        del self._buffer[:length]
        return True

    def _read_chunks(self) -> bool:
        framing = self._framing
        while True:
            if self._in_trailers:
                return self._skip_trailers()
            if self._chunk_left < 0:
                size = self._chunk_size()
                if size is None:
                    return False
                if size == 0:
                    self._in_trailers = True
                    continue
                framing.received += size
                if framing.received > self.limits.body_bytes:
                    raise HttpError(413, f"request body larger than {self.limits.body_bytes} bytes")
                self._chunk_left = size
            if self._chunk_left > 0:
                take = min(self._chunk_left, len(self._buffer))
                if take == 0:
                    return False
                framing.parts.append(bytes(self._buffer[:take]))
                del self._buffer[:take]
                self._chunk_left -= take
                if self._chunk_left:
                    return False
            if len(self._buffer) < 2:
                return False
            if self._buffer[:2] != CRLF:
                raise HttpError(400, "chunk data longer than its declared size")
            del self._buffer[:2]
            self._chunk_left = -1

    def _chunk_size(self) -> int | None:
        end = self._buffer.find(CRLF)
        if end < 0:
            if len(self._buffer) > self.limits.request_line_bytes:
                raise HttpError(400, "chunk size line too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        size = line.split(b";", 1)[0].strip(b" \t")
        if not HEX.fullmatch(size):
            raise HttpError(400, f"invalid chunk size {size[:20].decode('latin-1')!r}")
        return int(size, 16)

    def _skip_trailers(self) -> bool:
        end = self._buffer.find(CRLF)
        while end > 0:  # trailer fields are read and dropped, within the head's limit
            del self._buffer[: end + 2]
            end = self._buffer.find(CRLF)
        if end < 0:
            if len(self._buffer) > self.limits.header_bytes:
                raise HttpError(431, "chunked trailers too large")
            return False
        del self._buffer[:2]
        self._in_trailers = False
        self._chunk_left = -1
        return True


def _parse_headers(lines: list[bytes], max_count: int) -> list[tuple[str, str]]:
    if len(lines) > max_count:
        raise HttpError(431, f"more than {max_count} header fields")
    headers = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not HEADER_NAME.fullmatch(name):
            raise HttpError(400, "malformed header field (obsolete line folding or a bad name)")
        value = value.strip(b" \t")
        if FORBIDDEN_IN_VALUE.search(value):
            raise HttpError(400, f"control character in header {name.decode('ascii')!r}")
        headers.append((name.decode("ascii").lower(), value.decode("latin-1")))
    return headers


def _framing_of(request: HttpRequest, max_body: int) -> _Framing:
    """How the body ends (RFC 9112 section 6.3), refusing every ambiguous combination."""
    coding = request.header("transfer-encoding")
    length = request.header("content-length")
    if coding is not None:
        if length is not None:
            raise HttpError(400, "both Transfer-Encoding and Content-Length")
        if request.version < (1, 1):
            raise HttpError(400, "Transfer-Encoding in an HTTP/1.0 request")
        codings = [c.strip().lower() for c in coding.split(",")]
        if codings[-1] != "chunked":  # the body's end cannot be known (RFC 9112 section 6.3)
            raise HttpError(400, f"Transfer-Encoding {coding!r} does not end in chunked")
        if len(codings) > 1:
            raise HttpError(501, f"unsupported Transfer-Encoding {coding!r}")
        return _Framing(chunked=True)
    if length is None:
        return _Framing(length=0)
    values = {v.strip() for v in length.split(",")}
    if len(values) != 1:
        raise HttpError(400, "conflicting Content-Length values")
    value = values.pop()
    if not value.isdigit() or not value.isascii() or len(value) > 19:
        raise HttpError(400, f"invalid Content-Length {value[:20]!r}")
    size = int(value)
    if size > max_body:
        raise HttpError(413, f"request body larger than {max_body} bytes")
    return _Framing(length=size)


def _keeps_alive(request: HttpRequest) -> bool:
    tokens = {t.strip().lower() for t in (request.header("connection") or "").split(",")}
    if request.version >= (1, 1):
        return "close" not in tokens
    return "keep-alive" in tokens
