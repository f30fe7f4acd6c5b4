"""Warehouse layout (Segment's tables and columns) and tracking plan modes."""

import json
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig, Source
from swoosh.emulator.segment.cli import sql
from swoosh.emulator.segment.protocols import TrackingPlan, TrackingPlanError
from swoosh.emulator.segment.service import STATE_FILE, SegmentService
from swoosh.emulator.segment.warehouse import WarehouseError, event_table, snake
from swoosh.stack import StackOptions
from tests.segment.conftest import APP_KEY

DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"

PUSHWOOSH_KEY = "pushwoosh-write-key"


def rows(backend: SegmentBackend, statement: str) -> list[dict]:
    columns, found = backend.warehouse.query(statement)
    return [dict(zip(columns, row, strict=True)) for row in found]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Push Sent", "push_sent"),
        ("orderCompleted", "order_completed"),
        ("Email Bounced!", "email_bounced"),
        ("3D Secure", "_3d_secure"),
        ("SubscribedToOffers", "subscribed_to_offers"),
    ],
)
def test_snake_case_names(name: str, expected: str) -> None:
    assert snake(name) == expected


def test_reserved_table_names_do_not_collide() -> None:
    assert event_table("Tracks") == "tracks_event"
    assert event_table("!!!") == "unnamed_event"


def test_track_lands_in_tracks_and_its_event_table_with_flattened_columns(backend: SegmentBackend) -> None:
    backend.ingest(
        "track",
        {
            "anonymousId": "hwid-1",
            "event": "Push Sent",
            "messageId": "m1",
            "properties": {
                "message_type": "Push",
                "campaignCode": "C1",
                "meta": {"tries": 2},
                "tags": ["a", "b"],
                "ok": True,
            },
            "context": {"device": {"type": "ios"}},
        },
        PUSHWOOSH_KEY,
    )
    assert rows(backend, "select id, event, event_text, anonymous_id from pushwoosh.tracks") == [
        {"id": "m1", "event": "push_sent", "event_text": "Push Sent", "anonymous_id": "hwid-1"}
    ]
    row = rows(backend, "select * from pushwoosh.push_sent")[0]
    assert row["message_type"] == "Push" and row["campaign_code"] == "C1"
    assert row["meta_tries"] == 2 and row["tags"] == '["a","b"]' and row["ok"] == 1
    assert row["context_device_type"] == "ios"
    for column in ("received_at", "sent_at", "timestamp", "original_timestamp", "user_id", "context_library_name"):
        assert column in row


def test_new_properties_add_columns_and_ids_dedupe(backend: SegmentBackend) -> None:
    backend.ingest("track", {"userId": "u", "event": "Order", "messageId": "a", "properties": {"total": 1}}, APP_KEY)
    backend.ingest("track", {"userId": "u", "event": "Order", "messageId": "b", "properties": {"coupon": "X"}}, APP_KEY)
    backend.runtime.clock.advance(25 * 3600)  # past the ingest dedupe window: the warehouse still dedupes on id
    backend.ingest("track", {"userId": "u", "event": "Order", "messageId": "a", "properties": {"total": 9}}, APP_KEY)
    found = rows(backend, 'select id, total, coupon from app."order" order by id')
    assert found == [{"id": "a", "total": 1, "coupon": None}, {"id": "b", "total": None, "coupon": "X"}]


def test_users_table_keeps_latest_traits(backend: SegmentBackend) -> None:
    backend.ingest("identify", {"userId": "u1", "traits": {"name": "Ann", "plan": "free"}}, APP_KEY)
    backend.ingest("identify", {"userId": "u1", "traits": {"plan": "gold", "searchedProduct": "sports shoes"}}, APP_KEY)
    backend.ingest("identify", {"anonymousId": "anon"}, APP_KEY)
    assert rows(backend, "select id, name, plan, searched_product from app.users") == [
        {"id": "u1", "name": "Ann", "plan": "gold", "searched_product": "sports shoes"}
    ]
    assert len(rows(backend, "select * from app.identifies")) == 3


def test_every_call_type_has_its_table(backend: SegmentBackend) -> None:
    backend.ingest(
        "batch",
        {
            "writeKey": APP_KEY,
            "batch": [
                {"type": "page", "userId": "u", "name": "Home", "category": "Docs", "properties": {"path": "/"}},
                {"type": "screen", "userId": "u", "name": "Cart"},
                {"type": "group", "userId": "u", "groupId": "g1", "traits": {"employees": 5}},
                {"type": "alias", "userId": "u", "previousId": "anon-1"},
            ],
        },
    )
    assert rows(backend, "select name, category, path from pages") == [
        {"name": "Home", "category": "Docs", "path": "/"}
    ]
    assert rows(backend, "select name from screens") == [{"name": "Cart"}]
    assert rows(backend, "select group_id, employees from groups") == [{"group_id": "g1", "employees": 5}]
    assert rows(backend, "select previous_id, user_id from aliases") == [{"previous_id": "anon-1", "user_id": "u"}]


def test_queries_are_read_only(backend: SegmentBackend) -> None:
    backend.ingest("identify", {"userId": "u"}, APP_KEY)
    for statement in (
        "delete from app.identifies",
        "drop table app.users",
        "attach database 'x' as y",
        "pragma query_only = off",
    ):
        with pytest.raises(WarehouseError):
            backend.warehouse.query(statement)
    with pytest.raises(WarehouseError, match="no such table"):
        backend.warehouse.query("select * from nothing_here")
    assert len(rows(backend, "select * from app.identifies")) == 1


def test_reset_empties_the_warehouse_but_keeps_sources(backend: SegmentBackend) -> None:
    backend.ingest("identify", {"userId": "u"}, APP_KEY)
    assert backend.warehouse.tables() == {"app": ["identifies", "users"]}  # loaded
    backend.ingest("identify", {"userId": "v"}, APP_KEY)  # still waiting for the deferred load
    backend.reset()
    assert backend.warehouse.tables() == {"app": []}
    assert backend.counts()["good"] == 0 and "app" in backend.sources


def test_swoosh_sql_reads_a_data_dir(tmp_path: Path) -> None:
    backend = SegmentBackend(SegmentConfig(warehouse_dir=tmp_path / "warehouse"))
    backend.ingest(
        "track", {"userId": "u7", "event": "Push Sent", "properties": {"campaign_code": "C9"}}, PUSHWOOSH_KEY
    )
    backend.close()
    result = CliRunner().invoke(
        sql, ["select user_id, campaign_code from pushwoosh.push_sent", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "u7" in result.output and "C9" in result.output and "(1 row)" in result.output
    unqualified = CliRunner().invoke(sql, ["select count(*) as n from push_sent", "--data-dir", str(tmp_path)])
    assert "1" in unqualified.output.splitlines()[2]


PLAN = {
    "common": {"type": "object", "required": ["userId"]},
    "events": {
        "Order Completed": {
            "type": "object",
            "properties": {
                "properties": {
                    "type": "object",
                    "required": ["total"],
                    "additionalProperties": False,
                    "properties": {"total": {"type": "number"}, "coupon": {"type": "string"}},
                }
            },
        },
        "Signed Up": {
            "1": {"type": "object"},
            "2": {"type": "object", "properties": {"properties": {"required": ["plan"]}}},
        },
    },
}


def plan_backend(mode: str) -> SegmentBackend:
    backend = SegmentBackend(
        SegmentConfig(sources=[Source("app", APP_KEY, "src_app", TrackingPlan({**PLAN, "mode": mode}))])
    )
    return backend


def test_plan_allow_flags_violations_and_keeps_the_event() -> None:
    backend = plan_backend("allow")
    backend.ingest("track", {"userId": "u", "event": "Order Completed", "properties": {"total": "12"}}, APP_KEY)
    event = backend.events({})[0]
    assert event["status"] == "good"
    assert event["violations"][0]["path"] == "properties/total"
    backend.close()


def test_plan_schemas_are_draft_07_unless_they_name_another_draft() -> None:
    """Segment's Protocols speaks draft-07: `dependencies` and tuple `items` mean what draft-07 says."""
    schema = {"dependencies": {"properties": ["userId"]}, "properties": {"context": {"items": [{"type": "string"}]}}}
    plan = TrackingPlan({"mode": "block", "events": {"Viewed": schema}})
    viewed = {"type": "track", "event": "Viewed", "properties": {}}
    assert plan.check(dict(viewed)).blocked  # draft-07 `dependencies`: properties needs userId
    assert not plan.check({**viewed, "userId": "u", "context": ["a", 1]}).blocked  # tuple `items`
    named = TrackingPlan({"mode": "block", "events": {"Viewed": {**schema, "properties": {}, "$schema": DRAFT_2020}}})
    assert not named.check(dict(viewed)).blocked  # 2020-12 has no `dependencies`


@pytest.mark.parametrize("mode", ["allow", "block"])
def test_violations_are_forwarded_to_the_named_source_as_violation_generated(mode: str) -> None:
    plan = TrackingPlan({**PLAN, "mode": mode, "forward_violations_to": "violations"}, "Acme plan")
    backend = SegmentBackend(
        SegmentConfig(
            sources=[Source("app", APP_KEY, "src_app", plan), Source("violations", "violations-key", "src_violations")]
        )
    )
    order = {"userId": "u", "event": "Order Completed", "messageId": "m-1", "properties": {}}
    backend.ingest("track", order, APP_KEY)
    [forwarded] = backend.events({"source": "violations"})
    message = forwarded["message"]
    assert forwarded["status"] == "good" and message["event"] == "Violation Generated"
    assert message["userId"] == "schema-violations"
    assert {k: message["properties"][k] for k in ("eventMessageID", "eventName", "eventType", "sourceName")} == {
        "eventMessageID": "m-1",
        "eventName": "Order Completed",
        "eventType": "track",
        "sourceName": "app",
    }
    assert (message["properties"]["violationField"], message["properties"]["violationType"]) == (
        "properties.total",
        "Required",
    )
    assert message["properties"]["violationDescription"] == "properties.total is required"
    assert message["properties"]["trackingPlanName"] == "Acme plan"
    backend.ingest("track", {**order, "messageId": "m-2", "properties": {"total": 3}}, APP_KEY)
    assert len(backend.events({"source": "violations"})) == 1  # a conforming event forwards nothing
    backend.close()


def test_plan_omit_drops_offending_properties() -> None:
    backend = plan_backend("omit")
    backend.ingest(
        "track",
        {"userId": "u", "event": "Order Completed", "properties": {"total": "12", "coupon": "X", "extra": 1}},
        APP_KEY,
    )
    event = backend.events({})[0]
    assert event["status"] == "good" and event["message"]["properties"] == {"coupon": "X"}
    backend.close()


def test_plan_block_keeps_the_event_out_and_versions_are_honoured() -> None:
    backend = plan_backend("block")
    backend.ingest("track", {"anonymousId": "a", "event": "Anything"}, APP_KEY)
    backend.ingest(
        "track",
        {"userId": "u", "event": "Signed Up", "properties": {}, "context": {"protocols": {"event_version": 1}}},
        APP_KEY,
    )
    backend.ingest(
        "track",
        {"userId": "u", "event": "Signed Up", "properties": {}, "context": {"protocols": {"event_version": 2}}},
        APP_KEY,
    )
    assert [(e["status"], e["reason"]) for e in backend.events({})] == [
        ("bad", "blocked_by_tracking_plan"),
        ("good", None),
        ("bad", "blocked_by_tracking_plan"),
    ]
    assert backend.warehouse.tables()["app"] == ["signed_up", "tracks"]
    backend.close()


@pytest.mark.parametrize(
    "spec",
    [
        [],
        {"mode": "shout"},
        {"events": []},
        {"events": {"X": {"type": 5}}},
        {"common": "nope"},
        {"forward_violations_to": 5},
    ],
)
def test_bad_plans_are_refused(spec: object) -> None:
    with pytest.raises(TrackingPlanError):
        TrackingPlan(spec)  # type: ignore[arg-type]


def test_warehouse_loading_waits_for_quiet_ingest_or_a_read(tmp_path: Path) -> None:
    backend = SegmentBackend(SegmentConfig(warehouse_dir=tmp_path, warehouse_quiet_seconds=3600))  # only a read loads
    try:
        backend.ingest("track", {"userId": "u1", "event": "Order Completed", "properties": {"total": 9}}, APP_KEY)
        db = sqlite3.connect(tmp_path / "app.db")
        assert db.execute("select count(*) from sqlite_master").fetchone() == (0,)  # nothing loaded yet
        assert backend.warehouse.query("select user_id, total from app.order_completed")[1] == [("u1", 9)]
    finally:
        backend.close()


def test_warehouse_loads_by_itself_once_ingest_is_quiet(tmp_path: Path) -> None:
    backend = SegmentBackend(SegmentConfig(warehouse_dir=tmp_path, warehouse_quiet_seconds=0.05))
    try:
        backend.ingest("identify", {"userId": "u1", "traits": {"plan": "gold"}}, APP_KEY)
        db = sqlite3.connect(tmp_path / "app.db", timeout=10)
        assert wait_for_rows(db, "select id, plan from users") == [("u1", "gold")]
    finally:
        backend.close()


def wait_for_rows(db: sqlite3.Connection, sql: str, timeout: float = 10.0) -> list[tuple[object, ...]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            rows = db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            rows = []
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def test_state_export_carries_tracking_plans_and_import_replaces_them() -> None:
    """A restored state is the whole configuration: a plan added since the export is gone after import."""
    backend = SegmentBackend(SegmentConfig())
    without_plan = backend.export_state()
    backend.sources["app"].tracking_plan = TrackingPlan({"mode": "block", "events": {}}, "strict-plan")
    with_plan = backend.export_state()
    backend.import_state(without_plan)
    assert backend.sources["app"].tracking_plan is None
    backend.import_state(with_plan)
    plan = backend.sources["app"].tracking_plan
    assert plan is not None and (plan.name, plan.mode) == ("strict-plan", "block")
    legacy_sources = [{k: v for k, v in s.items() if k != "tracking_plan"} for s in with_plan["sources"]]
    legacy = {**with_plan, "sources": legacy_sources}
    backend.import_state(legacy)  # a state file written before plans were saved keeps the current plans
    assert backend.sources["app"].tracking_plan is not None
    backend.close()


def test_the_config_files_plan_wins_over_the_one_saved_in_the_data_dir(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "app.json").write_text('{"mode": "omit", "events": {}}')
    config = tmp_path / "swoosh.toml"
    config.write_text('[[segment.sources]]\nname = "app"\nwrite_key = "k"\ntracking_plan = "plans/app.json"\n')
    saved = SegmentBackend(SegmentConfig(sources=[Source("app", "k", "src_app", TrackingPlan({"mode": "block"}))]))
    (tmp_path / STATE_FILE).write_text(json.dumps(saved.export_state()))
    saved.close()
    service = SegmentService(StackOptions(data_dir=tmp_path, config_file=config))
    plan = service.backend.sources["app"].tracking_plan
    assert plan is not None and plan.mode == "omit"
    service.backend.close()


def test_a_forwarding_target_that_refuses_the_violations_leaves_the_original_request_answered() -> None:
    refusing = TrackingPlan({"mode": "block", "common": {"required": ["anonymousId"]}}, "violations plan")
    plan = TrackingPlan({**PLAN, "mode": "allow", "forward_violations_to": "violations"})
    backend = SegmentBackend(
        SegmentConfig(
            strict=True,
            sources=[Source("app", APP_KEY, "src_app", plan), Source("violations", "violations-key", "v", refusing)],
        )
    )
    order = {"userId": "u", "event": "Order Completed", "messageId": "m-1", "properties": {}}
    assert backend.ingest("track", order, APP_KEY).accepted == 1
    assert [e["status"] for e in backend.events({"source": "app"})] == ["good"]
    assert backend.events({"source": "violations"}) == []
    backend.close()
