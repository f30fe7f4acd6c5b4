"""The bridge's own output matches the schemas of the services it calls: the integration API requests it
makes from Segment events (single and batched mode), and the /v1/batch bodies it makes from message events."""

from __future__ import annotations

import orjson
import pytest

from swoosh import contracts, fixtures
from swoosh.bridge.destination import Mappings, requests_for
from swoosh.bridge.source import batch_bodies, parse_message_event, track_message

APP = "ABCDE-12345"
ENDPOINT_SCHEMAS = {
    "ping": "pushwoosh/ping",
    "track-user": "pushwoosh/track-user",
    "post-events": "pushwoosh/post-events",
    "delete-user": "pushwoosh/delete-user",
}


@pytest.mark.parametrize("batching", [False, True])
def test_integration_api_requests_from_segment_events_validate(batching: bool) -> None:
    events = list(fixtures.generate("segment", 800, seed=31))
    requests, _skipped = requests_for(events, Mappings(APP, batching=batching, batch_size=100))
    endpoints = {request.endpoint for request in requests}
    assert {"track-user", "post-events"} <= endpoints
    for request in requests:
        assert contracts.validate(ENDPOINT_SCHEMAS[request.endpoint], request.body) == [], request
    items = [item for request in requests if request.endpoint == "post-events" for item in request.body["events"]]
    assert items and all(item["app_code"] == APP for item in items)  # the bridge sends app_code in both modes


def test_segment_batches_from_message_events_validate() -> None:
    events = list(fixtures.generate("message-events", 600, seed=32))
    tracks = [track_message(parse_message_event(event)) for event in events]
    for track in tracks:
        assert contracts.validate("events/tracking-plan", track) == [], track
    bodies = batch_bodies(tracks, "2026-11-22T14:08:44.100Z")
    assert sum(len(ids) for _body, ids in bodies) == len(events)
    for body, _ids in bodies:
        assert contracts.validate("segment/batch", orjson.loads(body)) == []
