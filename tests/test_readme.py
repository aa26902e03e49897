"""The README documents what the code does: every exit code, the quick start."""

from __future__ import annotations

import re
from pathlib import Path

from bundle_cli.errors import ExitCode

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_exit_code_is_documented_with_its_name() -> None:
    rows = dict(re.findall(r"^\| *(\d+) \| `(\w+)` \|", README, flags=re.MULTILINE))
    assert rows == {str(int(code)): code.name for code in ExitCode}


def test_exit_code_values_are_pinned() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "USER_CODE": 1,
        "USAGE": 2,
        "INVALID_INPUT": 3,
        "UNSAFE": 4,
        "INTERRUPTED": 130,
    }


def test_quick_start_is_the_two_make_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
