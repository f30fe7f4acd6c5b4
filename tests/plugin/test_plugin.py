"""The pytest plugin, exercised the way users use it: in a separate test run of their own."""

from __future__ import annotations

import pytest

NEWCOMER = """
import segment.analytics as sa

def test_identify_reaches_pushwoosh(swoosh_stack):
    seg = swoosh_stack.segment
    client = sa.Client(seg.write_key, host=seg.url, sync_mode=True)
    client.identify("newcomer-1", {"searched_product": "sports shoes"})
    client.flush()
    swoosh_stack.pushwoosh.wait_for(
        lambda: "sports shoes" in str(swoosh_stack.pushwoosh.tags(user_id="newcomer-1")), timeout=10)
"""


def test_fixtures_reset_between_tests_and_helpers_work(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_usage="""
import httpx, pytest

def test_first(segment_emulator, pushwoosh_emulator):
    httpx.post(f"{segment_emulator.url}/v1/track", auth=(segment_emulator.write_key, ""),
               json={"userId": "u1", "event": "Order Completed", "properties": {"total": 12, "coupon": "X"}})
    message = segment_emulator.assert_tracked("Order Completed", user_id="u1", properties={"total": 12})
    assert message["properties"]["coupon"] == "X"
    pushwoosh_emulator.wait_for({"name": "Order Completed"}, timeout=10)

def test_second_starts_clean(segment_emulator, pushwoosh_emulator, swoosh_bridge):
    assert segment_emulator.events() == [] and pushwoosh_emulator.events() == []
    assert pushwoosh_emulator.app_code == "ABCDE-12345" and pushwoosh_emulator.api_token == "KEY123"
    assert swoosh_bridge.stats()["segment"]["queued"] == 0

@pytest.mark.swoosh(config={"segment": {"sources": [{"name": "web", "write_key": "web-key"}]}})
def test_marker_config(segment_emulator):
    assert "web" in segment_emulator.client.config()["sources"][-1]["name"]

def test_marker_config_is_gone_afterwards(segment_emulator):
    assert [s["name"] for s in segment_emulator.config()["sources"]] == ["app", "pushwoosh"]
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_what_a_test_declares_never_leaks_into_the_next(pytester: pytest.Pytester) -> None:
    """Tracking plans, tag and event definitions set by one test are gone in the next, as data is."""
    pytester.makepyfile(
        test_isolation="""
import httpx, pytest

PLAN = {"mode": "block", "events": {"Order Completed": {"type": "object", "required": ["total"]}}}

def call(pushwoosh, method, request):
    return httpx.post(f"{pushwoosh.url}/json/1.3/{method}", json={"request": request}).json()

@pytest.mark.swoosh(config={"segment": {"tracking_plans": {"app": PLAN}}})
def test_declares(segment_emulator, pushwoosh_emulator):
    auth = pushwoosh_emulator.api_token
    assert call(pushwoosh_emulator, "addTag", {"auth": auth, "tag": {"name": "tier", "type": 2}})["status_code"] == 200
    created = call(pushwoosh_emulator, "createEvent",
                   {"auth": auth, "application": pushwoosh_emulator.app_code, "name": "Leaked"})
    assert created["status_code"] == 200
    httpx.post(f"{segment_emulator.url}/v1/track", auth=(segment_emulator.write_key, ""),
               json={"userId": "u1", "event": "Order Completed", "properties": {}})
    segment_emulator.wait_for({"status": "bad"}, timeout=10)

def test_starts_from_the_session_baseline(segment_emulator, pushwoosh_emulator):
    auth = pushwoosh_emulator.api_token
    tags = call(pushwoosh_emulator, "listTags", {"auth": auth})["response"]["tags"]
    assert "tier" not in [t["name"] for t in tags]
    posted = call(pushwoosh_emulator, "postEvent", {"application": pushwoosh_emulator.app_code, "hwid": "h1",
                  "userId": "u1", "event": "Leaked", "attributes": {}})
    assert "not found" in posted["status_message"]
    httpx.post(f"{segment_emulator.url}/v1/track", auth=(segment_emulator.write_key, ""),
               json={"userId": "u1", "event": "Order Completed", "properties": {}})
    segment_emulator.wait_for({"event": "Order Completed"}, timeout=10)
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_failures_explain_what_did_arrive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_failing="""
import httpx

def test_wrong_event(segment_emulator):
    httpx.post(f"{segment_emulator.url}/v1/track", auth=(segment_emulator.write_key, ""),
               json={"userId": "u1", "event": "Signed Up"})
    httpx.post(f"{segment_emulator.url}/v1/track", auth=(segment_emulator.write_key, ""), json={"event": "x"})
    segment_emulator.assert_tracked("Order Completed", user_id="u1", timeout=0.5)

def test_wait_for_times_out(pushwoosh_emulator):
    pushwoosh_emulator.wait_for(lambda: pushwoosh_emulator.tags(user_id="nobody"), timeout=0.3)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*no track 'Order Completed' for user 'u1'*",
            "*Signed Up*",
            "*no_user_anon_id*",
            "*condition still false after 0.3s*",
        ]
    )


def test_swoosh_url_runs_against_a_running_stack(pytester: pytest.Pytester, tmp_path) -> None:
    from swoosh.stack import Stack, StackOptions

    pytester.makepyfile(
        test_remote="""
def test_remote(swoosh_stack):
    assert swoosh_stack.segment.url.startswith("http://127.0.0.1:")
    swoosh_stack.segment.faults.add(status=503, times=1)
"""
    )
    with Stack(StackOptions(data_dir=tmp_path)) as running:
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--swoosh-url={tmp_path}")
        result.assert_outcomes(passed=1)
        assert running.urls["segment"] in str(running.describe())


HTTPS_TEST = """
import segment.analytics as sa

def test_over_https(swoosh_stack, monkeypatch):
    seg = swoosh_stack.segment
    assert seg.url.startswith("https://") and swoosh_stack.ca_cert
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", swoosh_stack.ca_cert)  # how the SDK (requests) trusts the CA
    client = sa.Client(seg.write_key, host=seg.url, sync_mode=True)
    client.identify("tls-1", {"searched_product": "kayak"})
    swoosh_stack.pushwoosh.wait_for(lambda: swoosh_stack.pushwoosh.tags(user_id="tls-1"), timeout=10)
"""


def test_swoosh_tls_serves_the_fixtures_over_https(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_https=HTTPS_TEST)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--swoosh-tls").assert_outcomes(passed=1)


def test_swoosh_url_trusts_a_running_tls_stacks_ca(pytester: pytest.Pytester, tmp_path) -> None:
    from swoosh.emulator.tls import ensure_tls_files
    from swoosh.stack import Stack, StackOptions

    pytester.makepyfile(test_https=HTTPS_TEST)
    with Stack(StackOptions(data_dir=tmp_path, tls_files=ensure_tls_files(tmp_path / "tls"))):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--swoosh-url={tmp_path}")
    result.assert_outcomes(passed=1)


def test_a_failing_test_names_the_inspector_of_its_stack(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fails="""
def test_fails(segment_emulator):
    assert segment_emulator.events() == ["something"]

def test_passes(segment_emulator):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*- swoosh -*", "inspector: http://127.0.0.1:* (this session's own stack*--swoosh-url auto*"]
    )
    assert result.stdout.str().count("inspector: http://") == 1


def test_a_bad_swoosh_workers_is_a_usage_error_not_a_traceback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    monkeypatch.setenv("SWOOSH_WORKERS", "two")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--swoosh-workers: invalid int value: 'two'" in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
