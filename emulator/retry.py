"""One retry policy for everything in swoosh that delivers over HTTP: the fake Segment's destination
deliveries, the fake Pushwoosh's webhooks and the bridge.

Classification follows Segment's own delivery rules (which its actions runtime shares): 408, 423,
429 and 5xx except 501 are worth another attempt, as are connection errors and timeouts; any other
answer is final. The delay grows exponentially from `base` to `cap`, jittered so that many senders
do not retry in step, and is never shorter than a `Retry-After` the receiver asked for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from swoosh.emulator.journal import redact_text

REASON_CHARS = 200


def is_retryable(status: int) -> bool:
    return status in (408, 423, 429) or (status >= 500 and status != 501)


def retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date, then measured from `now`), else None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - now) if now is not None else None


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: delivered, worth retrying, or final; with what the receiver said."""

    ok: bool
    retry: bool
    status: int | None
    detail: str | None
    retry_after: float | None = None

    @property
    def reason(self) -> str | None:
        """What a log may show of a failure: the error, or the start of the reply with secret fields redacted."""
        return redact_text(self.detail[:REASON_CHARS]) if self.detail else None


def classify(response: httpx.Response | None, error: Exception | None = None, now: float | None = None) -> Outcome:
    if response is None:
        return Outcome(False, True, None, f"{type(error).__name__}: {error}")
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(True, False, status, None)
    return Outcome(False, is_retryable(status), status, response.text[:1000], retry_after(response.headers, now))


@dataclass(frozen=True)
class RetryPolicy:
    base: float
    cap: float

    def delay(self, attempts: int, asked: float | None, rng: random.Random) -> float:
        """Seconds before attempt `attempts + 1` (`attempts` >= 1 made so far)."""
        exponential = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return max(exponential * (0.5 + rng.random()), asked or 0.0)
