"""The README's set-up is two commands (run the stack, run the suite) and CI runs the second verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_sets_up_in_two_commands_one_runs_the_stack_one_the_suite() -> None:
    run_stack, run_suite = setup_commands()
    assert run_stack == "pip install -e . && swoosh up"
    assert run_suite == 'pip install -e ".[test]" && pytest'


def test_ci_runs_the_readmes_test_command_with_its_install_step() -> None:
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert setup_commands()[1] in ci_lines
