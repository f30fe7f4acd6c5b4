"""A stop that hangs never outlives its grace period; one that finishes returns normally."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from swoosh import up_cli
from swoosh.cli import main
from swoosh.stack import Stack
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


def test_a_sigterm_while_the_stack_starts_stops_it_once_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As a container's PID 1, a SIGTERM with no handler yet is ignored: `swoosh up` takes the stop signals
    before it starts anything, so `podman stop` right after the health first answers is not lost."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # what PID 1 has until it installs a handler
    start = up_cli.Stack.start

    def start_then_terminated(self: Stack) -> Stack:
        started = start(self)
        os.kill(os.getpid(), signal.SIGTERM)  # the services answer; the banner is not out yet
        return started

    monkeypatch.setattr(up_cli.Stack, "start", start_then_terminated)
    watchdog = threading.Timer(10, os.kill, (os.getpid(), signal.SIGINT))  # a lost SIGTERM would wait for ever
    watchdog.start()
    began = time.monotonic()
    try:
        result = CliRunner().invoke(main, ["up", "--only", "segment", "--port", "segment=0", "--quiet"])
    finally:
        watchdog.cancel()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - began < 8, "the SIGTERM sent during the start was lost"
