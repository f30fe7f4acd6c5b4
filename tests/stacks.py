"""Stacks the suites start themselves, in the mode the run chose: `--swoosh-workers N` (the pytest
plugin's option, `SWOOSH_WORKERS`) serves each worker-capable fake from N processes, so CI runs these
suites in both modes (issue 18 item 1)."""

from __future__ import annotations

from typing import Any

import pytest

from swoosh.stack import StackOptions


def options(config: pytest.Config, **chosen: Any) -> StackOptions:
    """`StackOptions(**chosen)` with the run's process count per worker-capable service."""
    return StackOptions(workers=max(1, int(config.getoption("--swoosh-workers"))), **chosen)
