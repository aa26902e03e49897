"""`bundle --help`, `--version` and `verify` answer without typer; their text must stay typer's own."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bundle_cli import __version__
from bundle_cli.cli import verify_fast
from bundle_cli.cli.help_text import render
from bundle_cli.cli.options import parse
from bundle_cli.cli.verify_fast import OPTIONS as VERIFY_OPTIONS
from bundle_cli.cli.verify_fast import VerifyOptions
from bundle_cli.errors import ExitCode

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


# `bundle verify` without typer: the same options, answers and exit codes as the typer command.

VERIFY_HELP = """\
Usage: bundle verify [OPTIONS] {archive}

  Check every byte of an archive against its manifest (exit 4 on any problem).

Arguments:
  archive <path>  Archive written by `bundle package`.  [required]

Options:
  --json               Print the report on stdout.
  --signature <path>   Also check this model-signing signature (needs
                       --public-key).
  --public-key <path>  EC public key (PEM) the signature must be made with.
  -h, --help           Show this message and exit.
"""
MODEL = "class Model:\n    def predict(self, model_input):\n        return model_input\n"


def _verify_command() -> Any:
    import typer.main

    from bundle_cli.cli.commands import app

    return typer.main.get_command(app).commands["verify"]  # type: ignore[attr-defined]


@pytest.fixture
def archives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A good archive, the same with one byte flipped in a member's data, and no archive."""
    from bundle_cli.packaging import package

    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    bundle = tmp_path / "bundle"
    (bundle / "model").mkdir(parents=True)
    (bundle / "data").mkdir()
    (bundle / "config.yaml").write_text("model_name: fast\nversion: 1.0.0\n", encoding="utf-8")
    (bundle / "model" / "model.py").write_text(MODEL, encoding="utf-8")
    (bundle / "data" / "weights.bin").write_bytes(os.urandom(200_000))  # stored: bytes as is
    good = package(bundle, tmp_path / "good.tar.gz").path
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(data))
    return {"good": good, "bad": bad, "none": tmp_path / "none.tar.gz"}


def test_verify_help_is_unchanged(run_bundle: Callable[..., Any]) -> None:
    for flag in ("--help", "-h"):
        result = run_bundle("verify", flag, env={"COLUMNS": "80"})
        assert (result.returncode, result.stdout) == (0, VERIFY_HELP)


def test_verify_option_tables_are_the_same() -> None:
    table = {}
    for param in _verify_command().params:
        if param.param_type_name == "option" and param.name != "help":
            for name in param.opts:
                table[name] = (str(param.name), "flag" if param.is_flag else "value")
    assert table == VERIFY_OPTIONS


@pytest.mark.parametrize(
    "argv",
    [
        ["a.tar.gz"],
        ["--json", "a.tar.gz"],
        ["a.tar.gz", "--signature", "a.sig", "--public-key=pub.pem"],
    ],
)
def test_verify_parse_agrees_with_typer(argv: list[str]) -> None:
    ctx = _verify_command().make_context("verify", list(argv))
    parsed = parse(VerifyOptions, argv)
    assert parsed is not None and dataclasses.asdict(parsed) == ctx.params


@pytest.mark.parametrize(
    "argv", [[], ["-h"], ["a", "b"], ["a", "--jsn"], ["a", "--signature"], ["a", "--json=1"]]
)
def test_verify_leaves_anything_unusual_to_typer(argv: list[str]) -> None:
    assert parse(VerifyOptions, argv) is None


@pytest.mark.parametrize("which", ["good", "bad", "none"])
@pytest.mark.parametrize("as_json", [False, True])
def test_verify_answers_as_the_typer_command_does(
    archives: dict[str, Path],
    which: str,
    as_json: bool,
    cli: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    argv = [str(archives[which]), *(["--json"] if as_json else [])]
    code = verify_fast.main(argv)
    fast = capsys.readouterr()
    typer_run = cli("verify", *argv)
    expected = {"good": 0, "bad": ExitCode.UNSAFE, "none": ExitCode.USAGE}[which]
    assert code == typer_run.exit_code == expected, fast.err
    assert fast.out == typer_run.stdout
    assert _rate(fast.err) == _rate(typer_run.stderr)
    assert fast.err.strip()


def _rate(text: str) -> str:
    """The message with its measured speed left out (it differs from run to run)."""
    return re.sub(r"\([0-9.]+ [KMG]?i?B/s\)", "(...)", text)


def test_verify_runs_without_typer(archives: dict[str, Path]) -> None:
    code = (
        "import sys\n"
        "from bundle_cli.__main__ import main\n"
        f"code = main(['verify', {str(archives['good'])!r}])\n"
        "print(code, sorted(m for m in ('typer', 'click') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "0 []", done.stderr
