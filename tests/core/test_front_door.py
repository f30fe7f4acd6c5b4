"""Every everyday mistake with the `swoosh` command answers in one `Error:` line, never a traceback."""

from __future__ import annotations

import socket
import string
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh import up_cli
from swoosh.cli import main
from swoosh.emulator.config_file import ConfigFileError, read_config
from swoosh.emulator.locator import running_stacks
from swoosh.stack import Stack, StackOptions
from swoosh.stacks_cli import default_config_text


@pytest.fixture(autouse=True)
def _own_runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No locator of a stack running elsewhere on the machine is seen, and none is left behind."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("SWOOSH_DATA_DIR", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_error_line(result: Result, code: int, *words: str) -> None:
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, output
    for word in words:
        assert word in output, output


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "swoosh.toml"
    path.write_text(text)
    return str(path)


def test_a_busy_port_names_the_service_the_port_and_the_way_out(busy_port: int) -> None:
    result = run("up", "--only", "segment", "--port", f"segment={busy_port}")
    assert_one_error_line(result, 1, f"port {busy_port} for segment is already in use", "--port segment=PORT")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "segment=70000"], ["0 to 65535"]),
        (["--port", "segmnt=8001"], ["SERVICE=PORT", "segment, pushwoosh, bridge"]),
        (["--port", "segment=x"], ["SERVICE=PORT"]),
        (["--host", "999.1.1.1"], ["not an IPv4 address"]),
        (["--only", "segmnt"], ["segmnt"]),
    ],
)
def test_bad_up_options_are_usage_errors(args: list[str], words: list[str]) -> None:
    assert_one_error_line(run("up", *args), 2, *words)


def test_a_data_dir_under_a_file_or_a_missing_parent_is_refused(tmp_path: Path) -> None:
    regular = tmp_path / "file"
    regular.write_text("x")
    assert_one_error_line(run("up", "--data-dir", str(regular / "dir")), 2, "is a file")
    assert_one_error_line(run("up", "--data-dir", str(regular)), 2, "is a file, not a folder")
    missing = tmp_path / "nonexistent" / "parent" / "dir"
    assert_one_error_line(run("up", "--data-dir", str(missing)), 2, "does not exist")
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[segment\n", ["not valid TOML"]),
        ('[segment]\nmax_events = "lots"\n', ["segment.max_events", "whole number", '"lots"']),
        ("[segmnt]\nstrict = true\n", ["unknown section [segmnt]", "[segment]"]),
        ("[segment]\nstrictt = true\n", ["unknown key strictt", "allowed:", "max_events"]),
        ("[pushwoosh]\n[[pushwoosh.applications]]\ncode = 5\n", ["pushwoosh.applications[0].code", "a string"]),
        ('[segment]\n[[segment.sources]]\nwrite_key = "k"\n', ["segment.sources[0]", "name is required"]),
        (
            '[segment]\n[[segment.sources]]\nname = "app"\nwrite_key = "k"\ntracking_plan = "plans/none.json"\n',
            ["tracking_plan", "none.json", "relative to the config file"],
        ),
    ],
)
def test_a_wrong_config_stops_up_naming_the_file_and_the_key(tmp_path: Path, text: str, words: list[str]) -> None:
    path = _config(tmp_path, text)
    assert_one_error_line(run("up", "--config", path), 2, path, *words)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    assert_one_error_line(run("up", "--config", str(tmp_path / "nope.toml")), 2, "nope.toml", "no such file")


def test_env_sql_and_ps_without_a_stack() -> None:
    assert_one_error_line(run("env"), 1, "no running swoosh stack found", "swoosh up")
    assert_one_error_line(run("sql", "select 1"), 1, "no running swoosh stack found", "swoosh up")
    assert run("ps").output.startswith("no running swoosh stack")


def test_sql_mistakes_against_a_running_stack(tmp_path: Path) -> None:
    with Stack(StackOptions(only=("segment",))):
        assert_one_error_line(run("sql", "selec nonsense"), 1, "only SELECT")
        assert_one_error_line(run("sql", "select * from nowhere"), 1, "no such table")
        assert_one_error_line(run("sql", "  "), 2, "empty")
        assert run("sql", "select 1 as one").exit_code == 0


def test_an_unreachable_service_is_one_line() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = run("sql", "select 1", "--url", f"http://127.0.0.1:{port}")
    assert_one_error_line(result, 1, "cannot reach", f"127.0.0.1:{port}")


def test_fixtures_into_a_missing_folder_and_an_empty_contract_file(tmp_path: Path) -> None:
    result = run("fixtures", "generate", "--kind", "segment", "--out", str(tmp_path / "no" / "x.ndjson"))
    assert_one_error_line(result, 2, "does not exist")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    result = run("contracts", "validate", str(empty), "--schema", "segment/track")
    assert_one_error_line(result, 1, "no payload")
    assert "1 of 1 payloads" not in result.output


def test_an_internal_error_is_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[dict[str, object]]:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("swoosh.stacks_cli.running_stacks", broken)
    assert_one_error_line(run("ps"), 1, "internal error in swoosh", "ZeroDivisionError", "--debug")
    assert isinstance(CliRunner().invoke(main, ["--debug", "ps"]).exception, ZeroDivisionError)


# -- several stacks ---------------------------------------------------------------------------


def test_two_stacks_keep_their_own_locators_and_commands_find_the_right_one(tmp_path: Path) -> None:
    first = Stack(StackOptions(only=("segment",))).start()
    try:
        with Stack(StackOptions(only=("segment",), data_dir=tmp_path / "second")) as second:
            ids = [info["id"] for info in running_stacks()]
            assert ids == [second.id, first.id]  # newest first
            assert first.urls["segment"] in run("env", "--stack", first.id).output
            assert second.urls["segment"] in run("env").output  # the newest
            assert second.urls["segment"] in run("env", "--data-dir", str(tmp_path / "second")).output
            assert first.id in run("ps").output and second.id in run("ps").output
        # the second one stopping removed only its own locators
        assert [info["id"] for info in running_stacks()] == [first.id]
        assert first.urls["segment"] in run("env").output
    finally:
        first.stop()
    assert running_stacks() == []


def test_a_locator_whose_process_is_gone_is_ignored_and_removed(tmp_path: Path) -> None:
    with Stack(StackOptions(only=("segment",))) as stack:
        path = stack.locator_path
        assert path is not None
        stale = path.with_name("99999999-dead.json")
        stale.write_text(path.read_text().replace(f'"pid": {stack.describe()["pid"]}', '"pid": 99999999'))
        assert [info["id"] for info in running_stacks()] == [stack.id]
        assert not stale.exists()


def test_the_locator_is_readable_by_its_owner_only() -> None:
    with Stack(StackOptions(only=("segment",))) as stack:
        assert stack.locator_path is not None
        assert stack.locator_path.stat().st_mode & 0o777 == 0o600


# -- swoosh init --------------------------------------------------------------------------------


def test_init_writes_every_key_at_its_default_and_the_stack_starts_with_it(tmp_path: Path) -> None:
    path = tmp_path / "swoosh.toml"
    assert run("init", str(path)).exit_code == 0
    table = read_config(path)
    assert table["segment"]["max_events"] == 1_000_000
    assert table["pushwoosh"]["api_tokens"] == ["KEY123"]
    assert "# [[segment.sources]]" in path.read_text()
    assert_one_error_line(run("init", str(path)), 1, "exists", "--force")
    with Stack(StackOptions(config_file=path, only=("segment", "pushwoosh"))):
        pass


# -- help --------------------------------------------------------------------------------------


def _commands() -> Iterator[tuple[str, object]]:
    import click

    def walk(command: click.Command, path: str, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from walk(sub, f"{path} {name}", click.Context(sub, parent=ctx))

    yield from walk(main, "swoosh", click.Context(main))


def test_every_command_and_option_is_described() -> None:
    import click

    missing = []
    for path, command in _commands():
        assert isinstance(command, click.Command)
        if not (command.help or command.short_help):
            missing.append(path)
        missing += [f"{path} {p.opts[0]}" for p in command.params if isinstance(p, click.Option) and not p.help]
        # one default style: click's [default: x] for fixed values, "Default: ..." for derived ones
        missing += [f"{path} {p.opts[0]}: (default" for p in command.params if "(default" in (p.help or "")]
    assert missing == []


# -- property: random argument lists and configs ---------------------------------------------

WORDS = [
    "up",
    "env",
    "sql",
    "ps",
    "init",
    "fixtures",
    "generate",
    "contracts",
    "validate",
    "docs",
    "--port",
    "segment=1",
    "--host",
    "--config",
    "--data-dir",
    "--only",
    "--stack",
    "--sdk",
    "--kind",
    "--count",
    "-1",
    "--seed",
    "x",
    "--schema",
    "segment/track",
    "--help",
    "--tls",
    "bridge",
    "pushwoosh",
    "trace",
    "--json",
    "=",
    "0",
    "",
]


def _already_requested() -> threading.Event:
    requested = threading.Event()
    requested.set()
    return requested


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(string.printable, max_size=8)), max_size=6))
def test_random_arguments_never_trace_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str]) -> None:
    monkeypatch.setattr(up_cli, "stop_requests", _already_requested)  # a valid `up` starts and stops at once
    monkeypatch.chdir(tmp_path)
    if "--help" not in args and any(a in ("docs", "init") for a in args):
        return  # these write into the working folder by design
    result = CliRunner().invoke(main, args, input="")
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), (args, result.output)
    if result.exit_code != 0:
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


SECTIONS = {
    "segment": ["strict", "max_events", "warehouse_quiet_seconds"],
    "pushwoosh": ["strict", "auto_create_tags", "max_posted_events", "api_tokens"],
}
BAD_VALUES = ['"lots"', "-5", "[1, 2]", "{ a = 1 }", "0", '""']


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    section=st.sampled_from([*SECTIONS, "segmnt", "bridge"]),
    key=st.one_of(st.sampled_from(SECTIONS["segment"] + SECTIONS["pushwoosh"]), st.text("abcxyz_", min_size=1)),
    value=st.sampled_from(BAD_VALUES),
)
def test_an_invalid_config_is_always_refused(
    monkeypatch: pytest.MonkeyPatch, section: str, key: str, value: str
) -> None:
    """Every line here is wrong for its section (a wrong type, an unknown key or section): `swoosh up`
    refuses it with one line and exit 2, never a traceback, never a 0."""
    text = f"[{section}]\n{key} = {value}\n"
    if section == "segment" and key == "warehouse_quiet_seconds" and value == "0":
        return  # 0 s is a valid quiet time
    path = _write(text)
    with pytest.raises(ConfigFileError):
        read_config(path)
    monkeypatch.setattr(up_cli, "stop_requests", _already_requested)  # were it accepted, up would start and stop
    assert_one_error_line(run("up", "--config", str(path)), 2, str(path))


def _write(text: str) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "swoosh.toml").write_text(text)
    return folder / "swoosh.toml"


def test_the_default_config_text_is_valid() -> None:
    assert read_config(_write(default_config_text()))["segment"]["strict"] is False


def test_docs_list_every_config_key_as_init_writes_them() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    assert f"```toml\n{default_config_text().rstrip()}\n```" in doc


def test_bridge_commands_find_the_running_stack_or_say_there_is_none() -> None:
    assert_one_error_line(run("bridge", "dead-letters"), 1, "no running swoosh stack found")
    assert_one_error_line(run("bridge", "ping"), 1, "no running swoosh stack found")
    with Stack(StackOptions()) as stack:
        assert run("bridge", "dead-letters").output.strip().endswith("0 dead letter(s)")
        assert "replayed 0" in run("bridge", "replay", "--all", "--stack", stack.id).output
        pinged = run("bridge", "ping")
        assert pinged.exit_code == 0 and "credentials ok for application ABCDE-12345" in pinged.output
    result = run("bridge", "ping", "--pushwoosh-url", "http://127.0.0.1:9", "--app-code", "ABCDE-12345")
    assert_one_error_line(result, 1)  # no stack to take the key from: says so in one line


def test_contracts_verify_finds_the_provider_in_the_running_stack(tmp_path: Path) -> None:
    results = str(tmp_path / "results.jsonl")
    assert_one_error_line(run("contracts", "verify", "--provider", "somebody-else"), 2, "pass --url")
    with Stack(StackOptions(only=("segment", "pushwoosh"))):
        verified = run("contracts", "verify", "--provider", "pushwoosh-integration-api", "--results", results)
    assert verified.exit_code == 0, verified.output
    assert "OK: pushwoosh-integration-api" in verified.output and f"result recorded in {results}" in verified.output


def test_traffic_stops_with_a_clear_error_when_its_target_stops_answering() -> None:
    with socket.socket() as closed:  # a port nothing listens on: every request is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    args = ["traffic", "--target", "segment", "--segment-url", url, "--write-key", "k", "--duration", "300"]
    result = run(*args, "--rate", "500", "--batch-size", "1", "--json")
    assert result.exit_code != 0
    assert "stopped answering" in result.output and "swoosh ps" in result.output
    assert '"stopped_by": "unreachable"' in result.output


def test_env_help_lists_every_snippet_a_full_stack_offers() -> None:
    from swoosh.emulator.locator import locate_stack
    from swoosh.snippets import snippets

    with Stack(StackOptions()):
        names = snippets(locate_stack())
    shown = " ".join(run("env", "--help").output.split())
    assert all(name in shown for name in names), (list(names), shown)


def test_the_banner_says_when_a_service_runs_in_several_processes(capsys: pytest.CaptureFixture[str]) -> None:
    class _Described:
        id = "1-abcd"
        locator_path = Path("/run/stack.json")
        options = StackOptions(data_dir=Path("/data"))

        def describe(self) -> dict[str, Any]:
            return {
                "services": {
                    "segment": {"url": "http://127.0.0.1:8001", "processes": 3},
                    "pushwoosh": {"url": "http://127.0.0.1:8002"},
                }
            }

    up_cli._print_banner(_Described())  # type: ignore[arg-type]  # only what the banner reads
    lines = capsys.readouterr().out.splitlines()
    assert "  segment    http://127.0.0.1:8001 (3 processes on this port)" in lines
    assert "  pushwoosh  http://127.0.0.1:8002" in lines
