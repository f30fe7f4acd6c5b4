"""A stand-in for your app: it only knows the URLs and keys its environment gives it.

Registers a device with Pushwoosh, identifies its user with Segment, and waits until the trait has
become a Pushwoosh tag through swoosh's bridge (exit 0), or gives up after 60 s (exit 1).
"""

from __future__ import annotations

import os
import sys
import time

import httpx
import segment.analytics as sa

SEGMENT_HOST = os.environ["SEGMENT_HOST"]
PUSHWOOSH_URL = os.environ["PUSHWOOSH_URL"]
APP_CODE = os.environ["PUSHWOOSH_APP_CODE"]

device = {"application": APP_CODE, "hwid": "compose-phone", "device_type": 3, "userId": "compose-user"}
httpx.post(f"{PUSHWOOSH_URL}/json/1.3/registerDevice", json={"request": device}).raise_for_status()
client = sa.Client(os.environ["SEGMENT_WRITE_KEY"], host=SEGMENT_HOST, sync_mode=True)
client.identify("compose-user", {"favourite_colour": "teal"})
client.flush()

request = {"application": APP_CODE, "hwid": "compose-phone"}
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    reply = httpx.post(f"{PUSHWOOSH_URL}/json/1.3/getTags", json={"request": request}).json()
    if "teal" in str(reply.get("response")):
        print("the identify's trait is a Pushwoosh tag:", reply["response"])
        sys.exit(0)
    time.sleep(0.5)
print("the trait never became a tag", file=sys.stderr)
sys.exit(1)
