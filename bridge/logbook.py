"""What the bridge logs (logger `swoosh.bridge`): deliveries, retries, dead letters, skips and refusals.

Each record carries its fields (swoosh.emulator.logfields) besides its sentence, so a handler such as
the live log of `swoosh up` reads them without parsing text. Never a key, token or signature: the
reason of a failed send is the start of the reply, with secret fields redacted.
"""

from __future__ import annotations

import logging
from typing import Any

from swoosh.emulator import logfields
from swoosh.emulator.retry import Outcome

log = logging.getLogger("swoosh.bridge")

SEGMENT, PUSHWOOSH = "segment", "pushwoosh"  # the directions, named by where their events come from


def _sent(kind: str, direction: str, count: int, outcome: Outcome, **more: Any) -> dict[str, Any]:
    to = PUSHWOOSH if direction == SEGMENT else SEGMENT
    return logfields.fields(
        kind, direction=direction, to=to, count=count, status=outcome.status, reason=outcome.reason, **more
    )


def delivered(direction: str, count: int, outcome: Outcome) -> None:
    log.info(
        "%s: delivered %d event(s) (%s)",
        direction,
        count,
        outcome.status,
        extra=_sent(logfields.DELIVERY, direction, count, outcome),
    )


def dead_lettered(direction: str, count: int, outcome: Outcome) -> None:
    log.warning(
        "%s: dead-lettered %d event(s): %s",
        direction,
        count,
        outcome.status or outcome.detail,
        extra=_sent(logfields.DEAD_LETTER, direction, count, outcome),
    )


def retrying(direction: str, count: int, delay: float, outcome: Outcome) -> None:
    log.info(
        "%s: will retry %d event(s) in %.1f s: %s",
        direction,
        count,
        delay,
        outcome.status or outcome.detail,
        extra=_sent(logfields.RETRY, direction, count, outcome, retry_in=round(delay, 3)),
    )


def pass_failed(direction: str, error: Exception) -> None:
    """A pass over the outbox raised what no send should: the direction goes on, and the events that pass
    leased come back when their lease ends. The error's type only: its text may quote a request."""
    log.error("%s: a delivery pass failed (%s); its events are sent again", direction, type(error).__name__)


def held_back(reason: str) -> None:
    """A Segment event the integration API's contract refuses: dead-lettered alone, never sent."""
    log.warning(
        "%s: dead-lettered 1 event Pushwoosh would refuse: %s",
        SEGMENT,
        reason,
        extra=logfields.fields(
            logfields.DEAD_LETTER, direction=SEGMENT, to=PUSHWOOSH, count=1, status=None, reason=reason
        ),
    )


def skipped(direction: str, message_id: str | None, reason: str) -> None:
    log.info(
        "%s: skipped %s: %s",
        direction,
        message_id,
        reason,
        extra=logfields.fields(logfields.SKIP, direction=direction, message_id=message_id, reason=reason),
    )


def refused(direction: str, count: int, first_reason: str) -> None:
    """Events of an accepted request that were not events (a request refused whole is logged as a request)."""
    log.info(
        "%s: refused %d event(s), first: %s",
        direction,
        count,
        first_reason,
        extra=logfields.fields(logfields.REFUSAL, direction=direction, count=count, reason=first_reason),
    )
