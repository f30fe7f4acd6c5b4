"""Requests captured from Segment's own Pushwoosh destination code (actions-core 3.170.0).

Shared by the bridge's mapping tests (what it must send) and the fake Pushwoosh's tests (what it must
accept), so both sides are held to the same wire facts.
"""

APP = "ABCDE-12345"

# POST /integration-segment/v1/track-user, for Segment's identify test event
TRACK_USER = {
    "attributes": {"name": "Ann", "searched_product": "sports shoes"},
    "user_id": "u1",
    "email": "a@x.io",
    "language": "en-US",
    "country": "United States",
    "city": "San Francisco",
    "current_location": {"latitude": 40.2964197, "longitude": -76.9411617},
    "timezone": "Europe/Amsterdam",
    "user_agent": "Mozilla/5.0 (iPhone; ...)",
}

# POST /integration-segment/v1/post-events, single-event mode
POST_EVENTS = {
    "events": [
        {
            "user_id": "u1",
            "app_code": APP,
            "name": "SubscribedToOffers",
            "timestamp": "2026-11-22T14:08:43.998Z",
            "attributes": {"plan": "gold"},
        }
    ]
}

# POST /integration-segment/v1/post-events, batched mode: the upstream quirk sends app_id
POST_EVENTS_BATCHED = {
    "events": [
        {
            "user_id": "u1",
            "app_id": APP,
            "name": "SubscribedToOffers",
            "timestamp": "2026-11-22T14:08:43.998Z",
            "attributes": {},
        },
        {"user_id": "u2", "app_id": APP, "name": "Viewed", "timestamp": "2026-11-22T14:08:44Z", "attributes": {}},
    ]
}
