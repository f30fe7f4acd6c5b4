"""A stop that hangs never outlives its grace period; one that finishes returns normally."""

from __future__ import annotations

import threading

from swoosh.stopping import stop_within


def test_a_stuck_stop_exits_after_its_grace_period() -> None:
    exits: list[int] = []
    stuck = threading.Event()
    stop_within(stuck.wait, grace=0.2, exit=exits.append)
    stuck.set()
    assert exits == [1]


def test_a_stop_that_finishes_does_not_exit() -> None:
    exits: list[int] = []
    stopped: list[bool] = []
    stop_within(lambda: stopped.append(True), grace=5, exit=exits.append)
    assert stopped == [True] and exits == []
