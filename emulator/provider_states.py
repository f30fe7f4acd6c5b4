"""Pact provider states for the fakes: plain-words states a pact names, set up through the control API.

A state is a sentence ("application ABCDE-12345 exists with API key KEY123"); each fake knows a few
sentence patterns whose named groups become parameters (a pact's own `params` win). The Pact
verifier posts `{"state", "params", "action"}` to `POST /_swoosh/provider-states` before each
interaction; `GET` lists the patterns. Setup only adds what the state needs, it does not wipe the
fake, so a user's own configuration survives verification. Teardown is accepted and does nothing.

This module is the mechanism only and knows neither fake: each fake builds its own `ProviderStates`
(emulator/segment/provider_states.py, emulator/pushwoosh/provider_states.py) and its app registers
them on its control blueprint with `register_routes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response

from swoosh.emulator.control import ControlError, json_response, request_json

ACTIONS = ("setup", "teardown")
# What a setup raises when the fake refuses the state's parameters; a fake adds its own error types.
SETUP_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError)


class ProviderStateError(ValueError):
    """A state the fake does not know, or parameters it cannot use; the message says which."""


@dataclass(frozen=True)
class StateHandler:
    pattern: re.Pattern[str]
    setup: Callable[[dict[str, Any]], None]


class ProviderStates:
    """The sentence patterns one fake understands, each with the setup that makes it true.

    `refusals` are the fake's own error types a setup may raise (beside `SETUP_ERRORS`): they become a
    `ProviderStateError`, so the verifier gets a 400 naming the state instead of a server error.
    """

    def __init__(
        self,
        handlers: Mapping[str, Callable[[dict[str, Any]], None]],
        refusals: tuple[type[Exception], ...] = (),
    ) -> None:
        self.handlers = [
            StateHandler(re.compile(f"^{pattern}$", re.IGNORECASE), setup) for pattern, setup in handlers.items()
        ]
        self.refusals = SETUP_ERRORS + refusals

    def patterns(self) -> list[str]:
        return [handler.pattern.pattern for handler in self.handlers]

    def apply(self, state: Any, params: Any = None, action: Any = "setup") -> dict[str, Any]:
        if not isinstance(state, str):
            raise ProviderStateError('send {"state": "<the state in words>", "params"?: {...}, "action"?: "setup"}')
        if action not in ACTIONS:
            raise ProviderStateError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        if params is not None and not isinstance(params, dict):
            raise ProviderStateError("params must be an object")
        if not state.strip() or action == "teardown":
            return {"state": state, "action": action, "applied": False}
        for handler in self.handlers:
            found = handler.pattern.match(state.strip())
            if found:
                values = {**found.groupdict(), **(params or {})}
                try:
                    handler.setup(values)
                except self.refusals as exc:
                    raise ProviderStateError(f"state {state!r} could not be set up: {exc}") from exc
                return {"state": state, "action": action, "applied": True, "params": values}
        raise ProviderStateError(f"unknown provider state {state!r}; known patterns: {'; '.join(self.patterns())}")


def register_routes(bp: Blueprint, states: ProviderStates) -> None:
    """`/_swoosh/provider-states` on a fake's control blueprint."""

    @bp.get("/provider-states")
    def list_states() -> Response:
        return json_response({"patterns": states.patterns()})

    @bp.post("/provider-states")
    def apply_state() -> Response:
        body = request_json()
        if not isinstance(body, dict):
            raise ControlError('send {"state": "<the state in words>", "params"?: {...}, "action"?: "setup"}')
        try:
            return json_response(states.apply(body.get("state"), body.get("params"), body.get("action", "setup")))
        except ProviderStateError as exc:
            raise ControlError(str(exc)) from exc
