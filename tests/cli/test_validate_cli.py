"""`bundle validate` on the command line: output streams, --json, --strict, exit codes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from bundle_cli.errors import ExitCode

BAD = {"config.yaml": "model_name: m\nrequirments: [numpy]\nresources:\n  memory: 2GB\n"}
WARN_ONLY = {"config.yaml": "model_name: null\n"}


def test_invalid_config_lists_every_error_on_stderr_and_exits_2(
    tree: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    bundle = tree(BAD)
    result = cli("validate", str(bundle))
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert f"{bundle}/config.yaml:2:1: error: requirments: unknown key" in result.stderr
    assert f"{bundle}/config.yaml:4:3: error: resources.memory:" in result.stderr
    assert "invalid: 2 errors, 0 warnings" in result.stderr
    assert "Traceback" not in result.output


def test_json_report_on_stdout(tree: Callable[..., Path], cli: Callable[..., Result]) -> None:
    result = cli("validate", str(tree(BAD)), "--json")
    assert result.exit_code == ExitCode.USAGE
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 2
    first = report["diagnostics"][0]
    assert {k: first[k] for k in ("code", "severity", "line", "column", "key_path")} == {
        "code": "unknown-key",
        "severity": "error",
        "line": 2,
        "column": 1,
        "key_path": "requirments",
    }


def test_not_a_bundle_is_a_usage_error_without_traceback(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    result = cli("validate", str(tmp_path / "nowhere"))
    assert result.exit_code == ExitCode.USAGE
    assert "no such bundle directory" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("validate", str(empty))
    assert result.exit_code == ExitCode.USAGE
    assert "no config.yaml" in result.stderr and "bundle init" in result.stderr


def test_real_process_exit_code_and_streams(
    tree: Callable[..., Path], run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    result = run_bundle("validate", str(tree(BAD)), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"] == 2
    assert "Traceback" not in result.stderr
