"""Sending to the two downstreams over httpx, and classifying what came back.

What is retried is the project's one retry policy (emulator/retry.py), which follows Segment's rules:
408, 423, 429 and 5xx except 501, connection errors and timeouts; every other 4xx is final (dead
letter with the reply). Backoff is exponential with jitter, never shorter than a `Retry-After`.
"""

from __future__ import annotations

import base64
import ssl

import httpx
import orjson

from swoosh.bridge.destination import Request
from swoosh.emulator.retry import Outcome, RetryPolicy, classify

TIMEOUT_SECONDS = 10.0
USER_AGENT = "swoosh-bridge/0.1"
DESTINATION_USER_AGENT = "Segment (Actions)"  # what Segment's Pushwoosh destination sends
RETRY = RetryPolicy(base=0.5, cap=300.0)  # the project's one policy (emulator/retry.py), the bridge's pace


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
