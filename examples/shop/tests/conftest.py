"""The shop pointed at the swoosh fakes. Everything comes from the swoosh pytest plugin's fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from flask.testing import FlaskClient
from shop import create_app


@pytest.fixture
def shop(swoosh_stack) -> Iterator[FlaskClient]:
    """The shop configured exactly as in production, but with the fakes' URLs and keys."""
    segment, pushwoosh = swoosh_stack.segment, swoosh_stack.pushwoosh
    # Our Pushwoosh account has the "Language" tag (real accounts create tags in the control panel).
    httpx.post(
        f"{pushwoosh.url}/json/1.3/addTag",
        json={"request": {"auth": pushwoosh.api_token, "tag": {"name": "Language", "type": 2}}},
    ).raise_for_status()
    app = create_app(
        {
            "SEGMENT_WRITE_KEY": segment.write_key,
            "SEGMENT_HOST": segment.url,
            "PUSHWOOSH_APP_CODE": pushwoosh.app_code,
            "PUSHWOOSH_API_TOKEN": pushwoosh.api_token,
            "PUSHWOOSH_URL": pushwoosh.url,
        }
    )
    yield app.test_client()
    app.extensions["shop"].analytics.shutdown()  # flush what is queued, stop the SDK's sender thread
