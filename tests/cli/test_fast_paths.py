"""`bundle --help` and `--version` answer without typer; their text must stay typer's own."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from bundle_cli import __version__
from bundle_cli.cli.help_text import render

STORED = Path(__file__).resolve().parents[2] / "bundle_cli" / "cli" / "help.txt"


def test_stored_help_is_what_typer_renders() -> None:
    assert STORED.read_text(encoding="utf-8") == render(), "stale help.txt: run `make help-text`"


def test_help_and_version_through_the_installed_command(
    run_bundle: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    for flag in ("--help", "-h"):
        result = run_bundle(flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout == render()
    result = run_bundle("--version")
    assert (result.returncode, result.stdout) == (0, f"bundle {__version__}\n")


def test_narrow_terminal_falls_back_to_typer(
    run_bundle: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    result = run_bundle("--help", env={"COLUMNS": "60"})
    assert result.returncode == 0
    assert "Usage: bundle [OPTIONS] COMMAND" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


def test_version_through_typer_matches(cli: Callable[..., object]) -> None:
    result = cli("--version")
    assert result.stdout == f"bundle {__version__}\n"  # type: ignore[attr-defined]
