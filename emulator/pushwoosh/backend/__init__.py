"""The fake Pushwoosh's backend: state and operations, no HTTP; the blueprints call it and render the result.

`PushwooshBackend` is composed from one part per area, each its own module, the way moto composes
EC2's backend from per-area backends: tags (tagging.py), devices and users (devices.py), the inbox
and the Web SDK's config (inbox.py), events (events.py), segments and filters (filters.py), messages
(messages.py) and their delivery simulation (lifecycle.py), the state as a whole (state.py) and its
durability under --data-dir (durable.py), over the shared state and lookups of base.py.

Mixins rather than separate part objects: every area works on the same state under one lock (a
message's audience reads devices, their users' tags and event histories), and the blueprints, the
control API, the provider states and the tests keep calling one object with one flat API. A mixin
names the areas it builds on as its bases (devices build on tags, messages on filters and tags), so
the dependencies between areas are explicit and type-checked, and no part imports the composition.
"""

from __future__ import annotations

from swoosh.emulator.pushwoosh.backend.base import PushwooshConfig, PushwooshError
from swoosh.emulator.pushwoosh.backend.devices import DevicesAndUsers
from swoosh.emulator.pushwoosh.backend.durable import Durable
from swoosh.emulator.pushwoosh.backend.events import Events
from swoosh.emulator.pushwoosh.backend.filters import Filters
from swoosh.emulator.pushwoosh.backend.inbox import Inbox
from swoosh.emulator.pushwoosh.backend.lifecycle import Lifecycle
from swoosh.emulator.pushwoosh.backend.messages import Messages
from swoosh.emulator.pushwoosh.backend.tagging import Tags
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.store import Store

__all__ = ["PushwooshBackend", "PushwooshConfig", "PushwooshError"]


class PushwooshBackend(Inbox, DevicesAndUsers, Messages, Durable, Filters, Events, Tags):
    """Everything the fake Pushwoosh knows (see `BackendState`); the areas listed dependents first."""

    def __init__(
        self, config: PushwooshConfig | None = None, runtime: Runtime | None = None, store: Store | None = None
    ) -> None:
        super().__init__(config, runtime, store)
        self.lifecycle = Lifecycle(self)
