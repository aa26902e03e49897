"""The wheel carries the templates: after installing it into a clean virtualenv, `bundle init`
and `bundle validate` work from a folder outside the repository.

Slow (it builds a wheel and a virtualenv) but part of every run: it is the only test that sees
the package as users get it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(args: list[str | Path], *, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stderr}"
    return proc.stdout + proc.stderr


def shipped_templates() -> set[str]:
    root = REPO / "templates"
    return {
        f"bundle_cli/templates/{p.relative_to(root).as_posix()}"
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_wheel_installs_into_a_clean_venv_and_scaffolds_outside_the_repo(tmp_path: Path) -> None:
    # Nothing may leak the source checkout into the installed tool.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    timings: dict[str, float] = {}

    start = time.perf_counter()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "-q", "--no-deps", REPO, "-w", tmp_path / "dist"], cwd=tmp_path, env=env)
    timings["build wheel"] = time.perf_counter() - start
    (wheel,) = (tmp_path / "dist").glob("bundle_cli-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    members = {n for n in names if n.startswith("bundle_cli/templates/")}
    assert members == shipped_templates()
    assert "bundle_cli/py.typed" in names  # type checkers read the installed package's hints

    # A venv without pip of its own, filled by the test's pip: as clean, and seconds faster.
    start = time.perf_counter()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    run([*pip, "--python", python, "install", "-q", "--no-compile", wheel], cwd=tmp_path, env=env)
    timings["venv + install with dependencies"] = time.perf_counter() - start

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = run(
        [python, "-c", "import bundle_cli.scaffold.templates as t; print(t.templates_root())"],
        cwd=outside,
        env=env,
    ).strip()
    assert Path(where).is_relative_to(venv), where
    assert not Path(where).is_relative_to(REPO)

    start = time.perf_counter()
    bundle = venv / "bin" / "bundle"
    created = run([bundle, "init", "demo", "--template", "sklearn"], cwd=outside, env=env)
    assert "created demo/ from the sklearn template" in created
    assert "pip install scikit-learn" in created  # the clean venv has no scikit-learn
    validated = run([bundle, "validate", "demo"], cwd=outside, env=env)
    timings["init + validate"] = time.perf_counter() - start
    # Both warnings are true: the scaffold declares and imports scikit-learn, which this venv lacks.
    assert "demo: valid: 0 errors, 2 warnings" in validated
    assert "scikit-learn>=1.3 is not installed here" in validated
    assert "sklearn is imported but found neither" in validated
    assert "config.yaml's requirements list scikit-learn" in validated
    assert (outside / "demo/model/model.py").is_file()
    print(", ".join(f"{step}: {seconds:.1f} s" for step, seconds in timings.items()))
