"""Every scaffold passes `bundle validate` unedited: no error and no warning."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from scaffold_helpers import FLAVOURS

from bundle_cli.errors import ExitCode
from bundle_cli.scaffold import init
from bundle_cli.validation import validate


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_scaffold_has_no_error_and_no_warning(tmp_path: Path, flavour: str) -> None:
    report = validate(init("demo", tmp_path / "demo", template=flavour))
    assert [d.format() for d in report.diagnostics] == []
    assert report.ok(strict=True)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_scaffold_passes_strict_validate_through_the_entry_point(
    tmp_path: Path, flavour: str, run_bundle: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    assert run_bundle("init", "demo", "-t", flavour, cwd=tmp_path).returncode == ExitCode.OK
    proc = run_bundle("validate", "--strict", cwd=tmp_path / "demo")
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert proc.stderr.strip().endswith("valid: 0 errors, 0 warnings")
