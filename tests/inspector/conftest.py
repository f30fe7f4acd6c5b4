"""A stack serving the inspector, one per test module, and an HTTP client of the inspector with the
services reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from swoosh.emulator.client import ControlClient
from swoosh.emulator.options import StackOptions
from swoosh.stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(StackOptions(locator_dir=tmp_path_factory.mktemp("inspector"))) as running:
        yield running


@pytest.fixture
def inspector(stack: Stack) -> Iterator[httpx.Client]:
    for name in ("segment", "pushwoosh", "bridge"):
        ControlClient(stack.urls[name]).reset()
    with httpx.Client(base_url=stack.urls["inspector"], timeout=15) as client:
        yield client
