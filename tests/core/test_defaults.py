"""The zero-config credentials live in one module; code takes them from there, docs show its values."""

from __future__ import annotations

import re
from pathlib import Path

from swoosh.emulator import defaults

ROOT = Path(__file__).resolve().parents[2]
VALUES = (
    defaults.APP_WRITE_KEY,
    defaults.PUSHWOOSH_WRITE_KEY,
    defaults.APP_CODE,
    defaults.API_TOKEN,
    defaults.DEVICE_TOKEN,
)
# Places that must spell a value out: the module itself, and the Locust file, which Locust loads by path
# with only its own folder importable (its fallbacks are checked against the module below).
SPELLED_OUT = {"emulator/defaults.py", "fixtures/locustfile.py"}


def test_no_code_module_spells_out_a_default_credential() -> None:
    found = []
    for folder in ("emulator", "bridge", "contracts", "fixtures", "swoosh"):
        for path in (ROOT / folder).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            code = re.sub(r'"""(.*?)"""', "", path.read_text(), flags=re.S)  # docstrings may show examples
            code = "\n".join(line.split("#", 1)[0] for line in code.splitlines())
            found += [f"{name}: {v}" for v in VALUES if f'"{v}"' in code and name not in SPELLED_OUT]
    assert found == []


def test_the_locust_files_fallbacks_are_the_defaults() -> None:
    text = (ROOT / "fixtures" / "locustfile.py").read_text()
    for value in VALUES[:1] + VALUES[2:]:
        assert f'"{value}"' in text


def test_the_readme_tour_shows_the_defaults() -> None:
    readme = (ROOT / "README.md").read_text()
    for value in (defaults.APP_WRITE_KEY, defaults.PUSHWOOSH_WRITE_KEY, defaults.APP_CODE, defaults.API_TOKEN):
        assert value in readme
