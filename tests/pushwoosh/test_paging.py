"""Server-side paging of the fake Pushwoosh's control collections: `?offset=&limit=`, newest first pages."""

from __future__ import annotations

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from swoosh.emulator.pushwoosh.backend.state import newest
from tests.pushwoosh.conftest import register


def listed(client: FlaskClient, collection: str, **params: str) -> list[dict]:
    response = client.get(f"/_swoosh/{collection}", query_string=params)
    assert response.status_code == 200, response.get_data()
    return response.get_json()["items"]


def test_pages_of_devices_walk_from_the_newest_to_the_oldest(client: FlaskClient) -> None:
    for n in range(7):
        register(client, f"dev-{n}", userId=f"user-{n % 2}")
    pages = [listed(client, "devices", limit="3", offset=str(offset)) for offset in (0, 3, 6, 9)]
    assert [[d["hwid"] for d in page] for page in pages] == [
        ["dev-4", "dev-5", "dev-6"],
        ["dev-1", "dev-2", "dev-3"],
        ["dev-0"],
        [],
    ]
    # with a field filter, the page is taken of the matching records
    assert [d["hwid"] for d in listed(client, "devices", user_id="user-0", limit="2", offset="1")] == ["dev-2", "dev-4"]
    assert [u["user_id"] for u in listed(client, "users", limit="1", offset="1")] == ["user-0"]


def test_a_bad_offset_is_a_clear_400(client: FlaskClient) -> None:
    for bad in ("-1", "ten", "1.5"):
        response = client.get("/_swoosh/devices", query_string={"offset": bad})
        assert response.status_code == 400
        assert "offset must be a whole number" in response.get_json()["error"]


@given(st.integers(0, 40), st.integers(1, 9))
def test_consecutive_pages_hold_every_record_once(count: int, size: int) -> None:
    records = list(range(count))
    pages = [list(newest(records, size, offset)) for offset in range(0, count + size, size)]
    assert [r for page in reversed(pages) for r in page] == records
    assert all(len(page) <= size for page in pages)
    assert list(newest(records, None, 0)) == records


def test_filtered_pages_of_posted_events_and_an_unknown_filter(client: FlaskClient) -> None:
    from tests.pushwoosh.conftest import INTEGRATION_HEADERS

    stamp = "2026-11-30T10:00:00.000Z"
    events = [{"user_id": f"u{n}", "name": "Even" if n % 2 == 0 else "Odd", "timestamp": stamp} for n in range(10)]
    answer = client.post("/integration-segment/v1/post-events", json={"events": events}, headers=INTEGRATION_HEADERS)
    assert answer.status_code == 200, answer.get_data()
    page = listed(client, "events", name="Even", limit="2", offset="1")
    assert [e["subject"] for e in page] == ["user:u4", "user:u6"]
    assert [e["subject"] for e in listed(client, "events", name="Odd", subject="user:u3")] == ["user:u3"]
    assert listed(client, "events", name="Neither") == []
    refused = client.get("/_swoosh/events", query_string={"name": "Neither", "colour": "red"})
    assert refused.status_code == 400 and "colour" in refused.get_json()["error"]
