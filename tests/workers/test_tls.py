"""Worker processes serve https on the one port too: the socket they inherit is wrapped in each of them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from swoosh.emulator.tls import ensure_tls_files, trust_context
from swoosh.stack import Stack, StackOptions
from tests.workers.conftest import APP_KEY, WORKERS


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The fake Segment's https URL (three processes) and a context trusting its CA."""
    options = StackOptions(workers=WORKERS, only=("segment",))
    options.tls_files = ensure_tls_files(tmp_path_factory.mktemp("tls"))
    with Stack(options) as running:
        yield running.urls["segment"], trust_context(str(options.tls_files.ca_cert))


def test_every_process_serves_https_and_the_guard_sees_the_scheme(tls_stack: tuple[str, ssl.SSLContext]) -> None:
    url, verify = tls_stack
    assert url.startswith("https://")
    for n in range(30):  # a connection each: the kernel hands them to any of the processes
        body = {"writeKey": APP_KEY, "userId": "u1", "event": "Clicked", "messageId": f"tls-{n}"}
        assert httpx.post(f"{url}/v1/track", json=body, verify=verify).status_code == 200
        same_origin = httpx.post(f"{url}/_swoosh/clock", json={"advance": 0}, headers={"Origin": url}, verify=verify)
        assert same_origin.status_code == 200, same_origin.text
        plain_origin = url.replace("https://", "http://")  # another origin: the scheme differs
        cross = httpx.post(
            f"{url}/_swoosh/clock", json={"advance": 60}, headers={"Origin": plain_origin}, verify=verify
        )
        assert cross.status_code == 403
    journal = httpx.get(f"{url}/_swoosh/journal", verify=verify).json()["requests"]
    served_by = {entry["extra"].get("worker_pid") for entry in journal if entry["path"] == "/v1/track"}
    assert len(served_by) > 1, "every https request went to one process"
    events = httpx.get(f"{url}/_swoosh/events", params={"event": "Clicked"}, verify=verify).json()
    assert events["count"] == 30
    assert httpx.get(f"{url}/_swoosh/clock", verify=verify).json()["offset_seconds"] == 0
