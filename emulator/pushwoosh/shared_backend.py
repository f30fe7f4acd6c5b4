"""The fake Pushwoosh's backend when several processes write one store (`swoosh up --workers N`).

Posted events and their history entries are rows of the store (posted_table.py) that any process may
write; what they change besides (auto-created event definitions, the users they name, a user's link to
a known device) is made by the primary alone, which holds the definitions and orders device and user
writes under its lock. So every process writes, with a request's rows and in the same transaction, each
event's *effect* (user, device, name, application) to `pushwoosh_follow`, and the primary's `follow`
applies the effects once each, in seq order, whichever process stored them (the one path: the
primary's own post-events apply nothing directly either). The primary follows every FOLLOW_SECONDS
(emulator.workers) and before each request it serves, so whatever any process acknowledged is applied
and committed before the primary answers anything that reads it (read-your-writes across processes).
A worker decides only what the published configuration lets it decide exactly (pushwoosh/worker_role.py);
docs/decisions.md, "Worker processes on one port", has the reasons.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask

from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.pushwoosh.backend.events import PostedEvent
from swoosh.emulator.pushwoosh.model import Application
from swoosh.emulator.pushwoosh.posted_table import Effect, Row
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.store import Store

FOLLOW_BATCH = 1000  # transactions whose effects are applied per look at the table
FOLLOWED = "pushwoosh_followed"  # the store's note of the last effect applied, with what it changed
FORGET_SECONDS = 1.0  # how often the applied effects are removed from the table (a write, so not per look)


class SharedBackend(PushwooshBackend):
    """The primary's backend with workers: post-events queue their effects, `follow` applies them."""

    def __init__(
        self, config: PushwooshConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        super().__init__(config, runtime, store)
        self._followed = followed_mark(self)  # the first look applies what a killed run left after it
        self._committed = self._followed  # the last effect whose changes are committed (rows, and the log)
        self._forgotten = 0
        self._forgot_at = time.monotonic()
        self._forget_lock = threading.Lock()

    def _store_posted(self, rows: list[Row], effects: list[Effect]) -> None:
        self.posted.write(rows, self.config.max_posted_events, effects)

    def follow(self) -> None:
        """Apply the effects any process stored since the last look, once each and in seq order, and commit
        what they changed (with --data-dir) before returning. Never call it holding the backend's lock:
        committing takes the commit lock first (backend/durable.py).

        The early return compares with what is committed, not with what was taken: while another thread's
        look has applied effects whose rows (users, links) are written only when its hold ends, a request
        waits for that hold here instead of reading the rows without them."""
        if self.posted.last_effect() <= self._committed:
            return
        with self.lock:
            while True:
                found = self.posted.effects_after(self._followed, FOLLOW_BATCH)
                if found:
                    self.apply_posted(effect for _seq, effects in found for effect in effects)
                    self._followed = found[-1][0]
                if len(found) < FOLLOW_BATCH:
                    break
            followed = self._followed
            self.changes.note(FOLLOWED, followed)  # committed with the changes: never applied twice
        self.persist()
        self._committed = max(self._committed, followed)

    def follow_and_forget(self) -> None:
        """The follower thread's look: `follow`, and about once a second the applied effects are removed."""
        self.follow()
        with self._forget_lock:
            upto = self._committed
            if upto > self._forgotten and time.monotonic() - self._forgot_at >= FORGET_SECONDS:
                self.posted.forget_effects(upto)
                self._forgotten, self._forgot_at = upto, time.monotonic()

    def tick(self) -> None:
        self.follow()  # a scheduled message's audience sees every event acknowledged before it goes out
        super().tick()

    def reset(self) -> None:
        self.follow()  # definitions auto-created by events acknowledged before the reset are configuration: kept
        super().reset()

    def import_state(self, state: dict[str, Any]) -> None:
        self.follow()
        super().import_state(state)

    def published(self) -> dict[str, Any]:
        """What a worker needs to decide a post-events or postEvent exactly as this process would."""
        with self.lock:
            return {
                "strict": self.strict,
                "auto_create_tags": self.config.auto_create_tags,
                "max_posted_events": self.config.max_posted_events,
                "api_tokens": list(self.api_tokens),
                "device_tokens": list(self.device_tokens),
                "applications": [[app.code, app.name] for app in self.applications.values()],
                "events": sorted(self.event_registry),
            }


class NotDecidedHere(RuntimeError):
    """A worker was handed a request only the primary may decide: `worker_role.decidable` forwards
    every such request, so this is a bug, answered loudly rather than wrongly."""


class WorkerBackend(SharedBackend):
    """A worker's backend: records posted events only; configuration comes from what the primary published."""

    def _check_posted(self, app_code: str, events: list[PostedEvent], auto_create: bool) -> None:
        for event, user_id, _hwid, _at, _attributes in events:
            if user_id is None or (event not in self.event_registry and not auto_create):
                raise NotDecidedHere("a user-less event, or an event the worker does not know, needs the primary")
        super()._check_posted(app_code, events, auto_create)

    def apply_published(self, published: dict[str, Any]) -> None:
        with self.lock:
            self.strict = bool(published.get("strict", self.strict))
            self.config.auto_create_tags = bool(published.get("auto_create_tags", self.config.auto_create_tags))
            self.config.max_posted_events = int(published.get("max_posted_events", self.config.max_posted_events))
            self.api_tokens = [str(token) for token in published.get("api_tokens", self.api_tokens)]
            self.device_tokens = [str(token) for token in published.get("device_tokens", self.device_tokens)]
            if "applications" in published:
                known = self.applications
                self.applications = {
                    code: known[code] if code in known else Application(code, name)
                    for code, name in published["applications"]
                }
            if "events" in published:
                self.event_registry = {name: {"name": name} for name in published["events"]}

    def follow(self) -> None:
        """Never: the primary follows."""

    def tick(self) -> None:
        """Never: scheduled messages are the primary's."""


def follow_before_requests(app: Flask, backend: SharedBackend) -> None:
    """Every request the primary serves (its own or forwarded by a worker) sees every event acknowledged
    before it arrived: one indexed read when nothing is new."""

    @app.before_request
    def _follow() -> None:
        backend.follow()


def followed_mark(backend: PushwooshBackend) -> int:
    """The last effect whose changes the store holds (0: none yet, or no --data-dir)."""
    return int(backend.store.get(FOLLOWED) or 0)


def catch_up(backend: PushwooshBackend) -> None:
    """At start, with one process and --data-dir: effects a worker-mode run stored but had not applied when
    it was killed are applied and committed now, so no acknowledged event loses its definition, link or
    history; effects applied before are not applied again."""
    found = backend.posted.effects_after(followed_mark(backend), 2**62)
    if found:
        with backend.lock:
            backend.apply_posted(effect for _seq, effects in found for effect in effects)
            backend.changes.note(FOLLOWED, found[-1][0])
        backend.persist()
    backend.posted.forget_effects(followed_mark(backend))
