"""Posting message events to webhooks (the bridge), in order, retrying until the receiver takes them.

Each webhook has its own queue and thread. Batches of at most 100 events go out as
`{"events": [...]}` with `Authorization: Bearer <token>` when a token is set. What the shared retry
policy (emulator/retry.py) calls retryable is retried with capped exponential backoff (nothing is
lost while the receiver is briefly down); any other answer drops that batch and is a failure.
"""

from __future__ import annotations

import itertools
import logging
import random
import ssl
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from swoosh.emulator import logfields
from swoosh.emulator.retry import Outcome, RetryPolicy, classify

log = logging.getLogger("swoosh.pushwoosh.webhooks")
BATCH = 100
RETRY = RetryPolicy(base=0.1, cap=5.0)  # the receiver is the local bridge: retry soon, for as long as it takes
POST_TIMEOUT = 10.0


FORMATS = ("swoosh", "pushwoosh")


def generic_webhook(event: dict[str, Any]) -> dict[str, Any]:
    """One message event as Pushwoosh's generic webhook integration posts it; `message_id` is numeric, as
    Pushwoosh's message ids are (derived from the message code, so a message's events share it)."""
    return {
        "event_name": event["event"],
        "message_id": int(event["message_code"].replace("-", "")[-12:], 16),
        "message_code": event["message_code"],
        "campaign_id": event["campaign_code"],
        "platform": event["platform"],
        "application_code": event["application"],
        "hwid": event["hwid"],
        "user_id": event["user_id"],
        "payload": {key: event[key] for key in ("message_type", "device_type", "timestamp")},
    }


class _Hook:
    def __init__(
        self, hook_id: int, url: str, token: str | None, verify: ssl.SSLContext | bool = True, shape: str = "swoosh"
    ) -> None:
        self.id = hook_id
        self.url = url
        self.token = token
        self.format = shape  # "swoosh": {"events": [...]} batches; "pushwoosh": one generic webhook JSON per event
        self.pending: deque[dict[str, Any]] = deque()
        self.delivered = 0
        self.attempts = 0
        self.failures: list[dict[str, Any]] = []
        self.stopped = False
        self.posting = False  # a batch is on the wire; `clear` waits for its answer
        self.wakeup = threading.Condition()
        self.http = httpx.Client(timeout=POST_TIMEOUT, verify=verify)
        self.rng = random.Random(hook_id)
        self.thread = threading.Thread(target=self.run, name=f"swoosh-webhook-{hook_id}", daemon=True)
        self.thread.start()

    def run(self) -> None:
        failed_in_a_row = 0
        while True:
            with self.wakeup:
                self.wakeup.wait_for(lambda: self.stopped or bool(self.pending))
                if self.stopped:
                    break
                batch = list(itertools.islice(self.pending, BATCH if self.format == "swoosh" else 1))
                self.posting = True
            outcome = self.post(batch)
            with self.wakeup:
                self.posting = False
                self.wakeup.notify_all()
                if not outcome.retry:
                    for _ in batch:
                        self.pending.popleft()
                    failed_in_a_row = 0
                    continue
                failed_in_a_row += 1
                delay = RETRY.delay(failed_in_a_row, outcome.retry_after, self.rng)
                log.info(
                    "webhook %d: will retry %d event(s) in %.1f s: %s",
                    self.id,
                    len(batch),
                    delay,
                    outcome.status or outcome.detail,
                    extra=self.shown(logfields.RETRY, len(batch), outcome, retry_in=round(delay, 3)),
                )
                self.wakeup.wait_for(lambda: self.stopped, timeout=delay)
        self.http.close()

    def post(self, batch: list[dict[str, Any]]) -> Outcome:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.attempts += 1
        body = {"events": batch} if self.format == "swoosh" else generic_webhook(batch[0])
        try:
            outcome = classify(self.http.post(self.url, content=orjson.dumps(body), headers=headers))
        except httpx.HTTPError as exc:
            return classify(None, exc)
        if outcome.ok:
            self.delivered += len(batch)
            log.info(
                "webhook %d: posted %d message event(s) (%s)",
                self.id,
                len(batch),
                outcome.status,
                extra=self.shown(logfields.DELIVERY, len(batch), outcome),
            )
        elif not outcome.retry:
            self.failures.append({"status": outcome.status, "body": (outcome.detail or "")[:500], "events": len(batch)})
            log.warning(
                "webhook %d: %d message event(s) refused with %s",
                self.id,
                len(batch),
                outcome.status,
                extra=self.shown(logfields.DEAD_LETTER, len(batch), outcome),
            )
        return outcome

    def shown(self, kind: str, count: int, outcome: Outcome, **more: Any) -> dict[str, Any]:
        """The fields of a log record about one post (the URL without its user info and query)."""
        return logfields.fields(
            kind,
            webhook=logfields.safe_url(self.url),
            count=count,
            status=outcome.status,
            reason=outcome.reason,
            **more,
        )

    def clear(self) -> None:
        """Drop pending events and counts once no batch is on the wire (the receiver has answered)."""
        with self.wakeup:
            self.wakeup.wait_for(lambda: not self.posting, timeout=POST_TIMEOUT + 1)
            self.pending.clear()
            self.delivered = self.attempts = 0
            self.failures.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "token": "<set>" if self.token else None,
            "format": self.format,
            "pending": len(self.pending),
            "delivered": self.delivered,
            "attempts": self.attempts,
            "failures": self.failures[-20:],
        }


class WebhookSender:
    def __init__(self) -> None:
        self._hooks: dict[int, _Hook] = {}
        self._ids = itertools.count(1)
        self.verify: ssl.SSLContext | bool = True  # TLS trust for https receivers (a local stack sets its CA)

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(spec, Mapping):
            raise ValueError("a webhook must be an object")
        url, token = spec.get("url"), spec.get("token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        if token is not None and not isinstance(token, str):
            raise ValueError("token must be a string")
        shape = spec.get("format", "swoosh")
        if shape not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        hook = _Hook(next(self._ids), url, token, self.verify, shape)
        self._hooks[hook.id] = hook
        return hook.describe()

    def remove(self, hook_id: int) -> bool:
        hook = self._hooks.pop(hook_id, None)
        if hook is None:
            return False
        with hook.wakeup:
            hook.stopped = True
            hook.wakeup.notify_all()
        return True

    def replace(self, specs: list[Mapping[str, Any]]) -> None:
        for hook_id in list(self._hooks):
            self.remove(hook_id)
        for spec in specs:
            self.add(spec)

    def send(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        for hook in list(self._hooks.values()):
            with hook.wakeup:
                hook.pending.extend(events)
                hook.wakeup.notify_all()

    def clear(self) -> None:
        """Forget what is pending for every receiver; a batch already sent finishes first, so nothing sent
        before a reset arrives after it."""
        for hook in list(self._hooks.values()):
            hook.clear()

    def specs(self) -> list[dict[str, Any]]:
        return [{"url": h.url, "token": h.token, "format": h.format} for h in self._hooks.values()]

    def describe(self) -> list[dict[str, Any]]:
        return [h.describe() for h in self._hooks.values()]

    def close(self) -> None:
        for hook_id in list(self._hooks):
            self.remove(hook_id)
