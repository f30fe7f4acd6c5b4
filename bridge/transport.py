"""Sending to the two downstreams over httpx, and classifying what came back.

Retry rules follow Segment's actions runtime: 408, 423, 429 and 5xx except 501 are retried, as are
connection errors and timeouts; every other 4xx is final (dead letter with the reply). Backoff is
exponential with jitter, never shorter than a `Retry-After` the downstream asked for.
"""

from __future__ import annotations

import base64
import random
import ssl
from dataclasses import dataclass

import httpx
import orjson

from swoosh.bridge.destination import Request

TIMEOUT_SECONDS = 10.0
USER_AGENT = "swoosh-bridge/0.1"
DESTINATION_USER_AGENT = "Segment (Actions)"  # what Segment's Pushwoosh destination sends
BASE_BACKOFF = 0.5
MAX_BACKOFF = 300.0


def is_retryable(status: int) -> bool:
    return status in (408, 423, 429) or (status >= 500 and status != 501)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool
    status: int | None
    detail: str | None
    retry_after: float | None = None


def classify(response: httpx.Response | None, error: Exception | None = None) -> Outcome:
    if response is None:
        return Outcome(False, True, None, f"{type(error).__name__}: {error}")
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(True, False, status, None)
    detail = response.text[:1000]
    retry_after = None
    header = response.headers.get("Retry-After")
    if header:
        try:
            retry_after = max(0.0, float(header))
        except ValueError:
            retry_after = None
    return Outcome(False, is_retryable(status), status, detail, retry_after)


def backoff(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before attempt `attempts + 1`: exponential, jittered, at least Retry-After."""
    delay = min(MAX_BACKOFF, BASE_BACKOFF * 2 ** max(0, attempts)) * (0.5 + rng.random())
    return max(delay, retry_after or 0.0)


class PushwooshSender:
    """The Pushwoosh integration API, authenticated like Segment's destination."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        app_code: str,
        client: httpx.Client | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "Authorization": f"Token {api_key}",
            "X-PW-Appcode": app_code,
            "Content-Type": "application/json",
            "User-Agent": DESTINATION_USER_AGENT,
        }
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS, verify=verify)

    def send(self, request: Request) -> Outcome:
        url = f"{self.base_url}/integration-segment/v1/{request.endpoint}"
        try:
            response = self.client.post(url, content=orjson.dumps(request.body), headers=self.headers)
        except httpx.HTTPError as exc:
            return classify(None, exc)
        return classify(response)


class SegmentSender:
    """Segment's Tracking API /v1/batch with the source's write key as Basic auth."""

    def __init__(
        self, base_url: str, write_key: str, client: httpx.Client | None = None, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json", "User-Agent": USER_AGENT}
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS, verify=verify)

    def send(self, body: bytes) -> Outcome:
        try:
            response = self.client.post(f"{self.base_url}/v1/batch", content=body, headers=self.headers)
        except httpx.HTTPError as exc:
            return classify(None, exc)
        return classify(response)
