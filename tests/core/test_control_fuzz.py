"""Every control route of every service, and the bridge's ingress, answers malformed input with a 4xx, never a 5xx.

The routes are read from each app's URL map, so a route added later is fuzzed without editing this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.bridge.core import Bridge, BridgeSettings
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app as bridge_app
from swoosh.emulator.pushwoosh.app import create_app as pushwoosh_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend, PushwooshConfig
from swoosh.emulator.segment.app import create_app as segment_app
from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig

SLOW = re.compile(r"^/_swoosh/wait/")  # long-polls: fuzzed with timeout=0 below


def _routes(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/_swoosh") or rule.rule in ("/segment", "/pushwoosh"):
            found.extend((method, rule.rule) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return sorted(found)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Flask]]:
    segment = SegmentBackend(SegmentConfig())
    pushwoosh = PushwooshBackend(PushwooshConfig())
    bridge = Bridge(
        BridgeSettings(segment_secret="s", pushwoosh_token="t"), Outbox(tmp_path_factory.mktemp("b") / "o.db")
    )
    yield {"segment": segment_app(segment), "pushwoosh": pushwoosh_app(pushwoosh), "bridge": bridge_app(bridge)}
    segment.close()
    pushwoosh.close()
    bridge.outbox.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "source",
                    "url",
                    "name",
                    "write_key",
                    "sql",
                    "advance",
                    "offset",
                    "ids",
                    "path",
                    "status",
                    "code",
                    "tracking_plan",
                    "backend",
                    "runtime",
                    "service",
                    "events",
                    "batch",
                    "times",
                    "token",
                    "hwid",
                    "x",
                ]
            )
            | st.text(max_size=6),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)
bodies = (
    json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
    | st.sampled_from(
        [
            b"null",
            b"[]",
            b'"s"',
            b"1",
            b'{"advance": "nan"}',
            b'{"offset": 1e300}',
            b'{"advance": 1e308}',
            b'{"source": {}}',
            b'{"ids": "x"}',
            b'{"sql": "select 1"}',
            b'{"path": "(a+)+$", "status": 500}',
        ]
    )
)
segments = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), min_size=1, max_size=10
) | st.integers(0, 2**70).map(str)


@pytest.mark.parametrize("service", ["segment", "pushwoosh", "bridge"])
@given(data=st.data(), body=bodies)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_control_or_bridge_route_answers_5xx(
    apps: dict[str, Flask], service: str, data: st.DataObject, body: bytes
) -> None:
    app = apps[service]
    method, rule = data.draw(st.sampled_from(_routes(app)))
    path = re.sub(r"<(?:\w+:)?\w+>", lambda _m: data.draw(segments), rule)
    query = (
        {"timeout": "0"}
        if SLOW.match(rule)
        else data.draw(
            st.dictionaries(
                st.sampled_from(["limit", "status", "count", "direction", "q", "method"]),
                st.text(max_size=6),
                max_size=2,
            )
        )
    )
    if method in ("GET", "DELETE"):
        body = b""
    response = app.test_client().open(
        path, method=method, data=body, query_string=query, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (method, path, body, response.get_data()[:300])
    assert response.is_json or rule == "/_swoosh/metrics"
