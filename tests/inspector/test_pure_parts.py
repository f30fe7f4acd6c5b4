"""The inspector's pure parts: rows and filters of the Live page, the received form, charts, the state
file's credentials, the fault form."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swoosh.emulator.clock import parse_iso
from swoosh.emulator.journal import REDACTED
from swoosh.emulator.segment.messages import Enrichment
from swoosh.inspector.chart import HEIGHT, WIDTH, Chart, Line, binned, nice_ceiling
from swoosh.inspector.events_view import ADDED_BY_SEGMENT, as_received, filters_from, row, warehouse_tables
from swoosh.inspector.faults_form import FormError, rule_from_form
from swoosh.inspector.secrets_out import SECRET_KEYS, with_secrets, without_secrets

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


def test_filters_drop_blanks_and_read_zone_less_times_as_utc() -> None:
    args = {"source": "app", "event": " ", "since": "2026-01-02T03:04:05", "until": "2026-01-02T03:04:05+02:00"}
    assert filters_from(args) == {
        "source": "app",
        "since": "2026-01-02T03:04:05Z",
        "until": "2026-01-02T03:04:05+02:00",
    }
    assert filters_from({"since": "yesterday"}) == {"since": "yesterday"}  # the fake Segment explains it


def _enriched(sent: dict[str, Any]) -> dict[str, Any]:
    message = copy.deepcopy(sent)
    received = parse_iso("2026-05-01T10:00:00Z")
    assert received is not None
    Enrichment(received, "secret-key", "src_1").apply(message, message["type"])
    return message


@given(
    user=names,
    properties=st.dictionaries(names, st.integers() | names, max_size=4),
    timestamp=st.none() | st.just("2026-05-01T09:59:58.123Z"),
)
def test_as_received_undoes_what_segment_adds(user: str, properties: dict[str, Any], timestamp: str | None) -> None:
    sent: dict[str, Any] = {
        "type": "track",
        "userId": user,
        "event": "Order Completed",
        "properties": properties,
        "messageId": "m-1",
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        "integrations": {},
    }
    if timestamp:
        sent["timestamp"] = timestamp
    enriched = _enriched(sent)
    back = as_received({"status": "good", "message": enriched})
    assert not set(ADDED_BY_SEGMENT) & set(back)
    assert back == sent


def test_as_received_drops_a_made_up_message_id_and_keeps_bad_events_as_stored() -> None:
    enriched = _enriched({"type": "identify", "userId": "u1", "traits": {}, "context": {}, "integrations": {}})
    assert enriched["messageId"].startswith("api-")
    assert "messageId" not in as_received({"status": "good", "message": enriched})
    bad = {"status": "bad", "message": {"type": "track", "writeKey": REDACTED}}
    assert as_received(bad) == bad["message"]


def test_rows_read_user_and_name_from_the_message() -> None:
    event = {
        "seq": 7,
        "received_at": 0.5,
        "status": "good",
        "reason": None,
        "type": "page",
        "source": "web",
        "message": {"anonymousId": "a-1", "name": "Home", "messageId": "m"},
    }
    assert row(event) == {
        "seq": 7,
        "time": "1970-01-01T00:00:00.500Z",
        "status": "good",
        "reason": "",
        "type": "page",
        "event": "Home",
        "user": "a-1",
        "source": "web",
        "message_id": "m",
    }
    assert warehouse_tables({"type": "track", "event": "Order Completed"}) == ["tracks", "order_completed"]
    assert warehouse_tables({"type": "alias"}) == ["aliases"]


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 1), (3, 5), (7, 10), (12, 20), (4100, 5000), (99, 100)])
def test_the_y_axis_ends_on_a_readable_number(value: float, top: float) -> None:
    assert nice_ceiling(value) == top


def test_binned_gives_rates_per_second_and_weighted_latencies() -> None:
    points = [
        {"t": 100, "delivered": 10, "latency_ms": 5.0},
        {"t": 104, "delivered": 30, "latency_ms": 25.0},
        {"t": 110, "delivered": 5, "latency_ms": None},
    ]
    assert binned(points, 100, 20, 4, "delivered") == [8.0, 0.0, 1.0, 0.0]
    assert binned(points, 100, 20, 4, "latency_ms", "delivered") == [20.0, None, None, None]


@given(st.lists(st.none() | st.floats(0, 1e6), min_size=1, max_size=80))
def test_chart_points_stay_inside_the_drawing(values: list[float | None]) -> None:
    chart = Chart("Throughput", "events/s", 300, [Line("x", "sent", values)])
    for _, runs in chart.paths():
        for run in runs:
            for point in run.split():
                x, y = map(float, point.split(","))
                assert 0 <= x <= WIDTH and 0 <= y <= HEIGHT
    assert chart.summary().startswith("Throughput over the last 5 minutes.")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | names,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(names | st.sampled_from(sorted(SECRET_KEYS)), inner, max_size=3)
    ),
    max_leaves=12,
)


def _secret_values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in SECRET_KEYS and v] + [
            found for k, v in value.items() if k not in SECRET_KEYS for found in _secret_values(v)
        ]
    if isinstance(value, list):
        return [found for v in value for found in _secret_values(v)]
    return []


@given(json_values)
def test_the_state_file_keeps_no_credential_and_import_puts_them_back(state: Any) -> None:
    shared = without_secrets(state)
    assert all(v == REDACTED for v in _secret_values(shared))
    assert with_secrets(shared, state) == state


def test_secrets_are_matched_by_name_in_lists() -> None:
    current = {"sources": [{"name": "app", "write_key": "k1"}, {"name": "web", "write_key": "k2"}]}
    shared = {"sources": [{"name": "web", "write_key": REDACTED}, {"name": "new", "write_key": REDACTED}]}
    assert with_secrets(shared, current) == {
        "sources": [{"name": "web", "write_key": "k2"}, {"name": "new", "write_key": REDACTED}]
    }


def test_fault_form_turns_fields_into_a_rule() -> None:
    form = {"method": "POST", "path": " /v1/batch ", "status": "503", "times": "2", "delay_ms": "", "drop": "on"}
    assert rule_from_form(form) == {"method": "POST", "path": "/v1/batch", "status": 503, "times": 2, "drop": True}
    with pytest.raises(FormError, match="status must be a whole number"):
        rule_from_form({"status": "5xx"})
