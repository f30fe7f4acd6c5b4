"""A stop that hangs never outlives its grace period; one that finishes returns normally."""

from __future__ import annotations

import threading

import pytest

from swoosh.stopping import stop_within


def test_a_stuck_stop_exits_after_its_grace_period_saying_where_it_was_stuck(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exits: list[int] = []
    stuck = threading.Event()

    def stuck_in_a_service_close() -> None:
        stuck.wait()

    stop_within(stuck_in_a_service_close, grace=0.2, exit=exits.append)
    stuck.set()
    assert exits == [1]
    printed = capsys.readouterr().err
    assert "thread swoosh-stop:" in printed and "stuck_in_a_service_close" in printed


def test_a_stop_that_finishes_does_not_exit() -> None:
    exits: list[int] = []
    stopped: list[bool] = []
    stop_within(lambda: stopped.append(True), grace=5, exit=exits.append)
    assert stopped == [True] and exits == []
