import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swoosh.emulator.faults import FaultRuleError, FaultRules
from swoosh.emulator.journal import Journal, redact_query


def test_rule_fires_for_next_n_requests_then_stops() -> None:
    rules = FaultRules()
    rules.add({"status": 503, "times": 2, "path": "^/v1/batch"})
    assert rules.pick("POST", "/v1/track") is None
    assert rules.pick("POST", "/v1/batch") is not None
    assert rules.pick("POST", "/v1/batch") is not None
    assert rules.pick("POST", "/v1/batch") is None


def test_method_filter_and_first_live_rule_wins() -> None:
    rules = FaultRules()
    first = rules.add({"status": 500, "method": "PUT", "times": 1})
    second = rules.add({"status": 429, "retry_after": 1})
    assert rules.pick("POST", "/x") is second
    assert rules.pick("PUT", "/x") is first
    assert rules.pick("PUT", "/x") is second


def test_probability_is_replayable_with_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        rules = FaultRules()
        rules.add({"status": 500, "probability": 0.3, "seed": seed})
        return [rules.pick("GET", "/") is not None for _ in range(200)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 30 <= sum(pattern(7)) <= 90


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"status": 99},
        {"status": "500"},
        {"status": 500, "path": "("},
        {"status": 500, "probability": 2},
        {"status": 500, "times": 0},
        {"status": 500, "bogus": 1},
        {"status": 500, "headers": {"X": 1}},
        [],
    ],
)
def test_bad_rules_are_refused_with_a_reason(spec: object) -> None:
    with pytest.raises(FaultRuleError):
        FaultRules().add(spec)  # type: ignore[arg-type]


def test_export_and_load_round_trip_keeps_counts() -> None:
    rules = FaultRules()
    rules.add({"status": 503, "times": 3})
    rules.pick("GET", "/")
    copy = FaultRules()
    copy.load(rules.export())
    assert copy.list()[0].fired == 1
    assert copy.list()[0].times == 3


@given(
    st.text(alphabet=st.characters(blacklist_characters="&=")),
    st.text(alphabet=st.characters(blacklist_characters="&")),
)
def test_a_query_keeps_its_shape_and_loses_its_secrets(name: str, value: str) -> None:
    data = base64.b64encode(b'{"auth": "s3cr3t", "event": "Opened"}').decode()
    query = f"{name}={value}&token=s3cr3t&data={data}"
    redacted = redact_query(query)
    tail = redacted.split("&")[-2:]
    assert tail[0] == "token=<redacted>"
    assert base64.b64decode(tail[1][5:]) == b'{"auth": "<redacted>", "event": "Opened"}'
    assert redacted.count("&") == query.count("&")
    assert redact_query("a=1&data=%%%") == "a=1&data=%%%"


def test_journal_is_bounded_redacts_secrets_and_filters() -> None:
    journal = Journal(capacity=3, body_bytes=5)
    for i in range(5):
        entry = journal.new_entry(0.0, "POST", f"/v1/track/{i}", "", {"Authorization": "Basic abc"}, b"0123456789")
        entry.status = 200 if i % 2 else 400
        journal.record(entry)
    entries = journal.entries()
    assert [e.path for e in entries] == ["/v1/track/2", "/v1/track/3", "/v1/track/4"]
    assert entries[0].headers["Authorization"] == "<redacted>"
    assert entries[0].body == "01234" and entries[0].body_truncated
    assert [e.path for e in journal.entries(status=400)] == ["/v1/track/2", "/v1/track/4"]
    assert len(journal.entries(limit=1)) == 1


def test_journal_entries_between_two_times() -> None:
    journal = Journal()
    for at in (10.0, 20.0, 30.0, 40.0):
        journal.record(journal.new_entry(at, "POST", f"/at/{int(at)}", "", {}, b""))
    assert [e.at for e in journal.entries(since=20.0, until=30.0)] == [20.0, 30.0]  # both ends included
    assert [e.at for e in journal.entries(since=25.0)] == [30.0, 40.0]
    assert [e.at for e in journal.entries(until=15.0)] == [10.0]
    assert [e.at for e in journal.entries(since=15.0, limit=1)] == [40.0]  # the newest of those
