"""`node_sdk`: @segment/analytics-node installed by npm at test time, for the tests that drive it.

npm installs it into a cache dir outside the repo ($SWOOSH_NODE_CACHE, else ~/.cache/swoosh/analytics-node).
Tests skip only when node/npm are missing or the registry cannot be reached; any other install
failure fails them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.npm import installed

SDK_RANGE = ">=2 <4"  # the current 3.x, or the 2.x line if that is what npm resolves


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    """A directory whose node_modules holds @segment/analytics-node; installed (or refreshed) now."""
    return installed("analytics-node", {"@segment/analytics-node": SDK_RANGE}, "the @segment/analytics-node test")
