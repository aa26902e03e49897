"""The CI recipe's own shell steps, run here in order as the workflow runs them, its install step
included: bundle from a wheel built from this checkout, into a fresh virtualenv.

Slow (a wheel, a virtualenv and the recipe's pip install) but part of every run: it is the only
test of the way the recipe tells users to install the tool."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "examples" / "ci"
WORKFLOW = RECIPE / ".github" / "workflows" / "bundle.yml"


def steps() -> list[dict[str, object]]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["bundle"]["steps"]


def test_the_workflow_validates_tests_packages_verifies_and_uploads() -> None:
    runs = " ".join(str(s.get("run", "")) for s in steps())
    for command in ("bundle validate", "bundle test", "bundle package", "bundle verify"):
        assert command in runs
    uploads = [s for s in steps() if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert any("dist/" in str(s["with"]["path"]) for s in uploads)  # type: ignore[index]


@pytest.mark.slow
def test_the_workflow_steps_pass_on_the_example(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    bundle_dir = "examples/tabular-sklearn"
    shutil.copytree(
        RECIPE.parent / "tabular-sklearn",
        workspace / bundle_dir,
        ignore=shutil.ignore_patterns("data", "__pycache__"),
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BUNDLE_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    # As the recipe's comment says: a wheel built in bundle's source folder, committed in tools/.
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "-q", "--no-deps", str(REPO), "-w", str(workspace / "tools")],
        check=True,
        env=env,
        timeout=300,
    )
    # The runner's `python`: a fresh virtualenv, first on PATH, as setup-python gives one.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env.update(
        {
            "BUNDLE_DIR": bundle_dir,
            "BUNDLE_CLI": str(workflow_env()["BUNDLE_CLI"]),
            "SOURCE_DATE_EPOCH": "0",
            "HOME": str(tmp_path / "home"),
            # pip's downloads are shared with the rest of the machine (a warm cache, as on CI).
            "PIP_CACHE_DIR": env.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            "NO_COLOR": "1",
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    ran = []
    for step in steps():
        script = step.get("run")
        if not script:
            continue
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"step {step.get('name')}:\n{result.stdout}{result.stderr}"
        ran.append(step.get("name"))
    assert len(ran) == 6
    installed = subprocess.run(
        ["bash", "-c", "command -v bundle"], env=env, capture_output=True, text=True
    ).stdout.strip()
    assert Path(installed).parent == venv / "bin", installed  # the recipe's install, not ours
    archives = list((workspace / "dist").glob("*.tar.gz"))
    assert [a.name for a in archives] == ["iris-classifier-1.0.0.tar.gz"]
    assert (workspace / "bundle-test.xml").is_file()


def workflow_env() -> dict[str, object]:
    env: dict[str, object] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["env"]
    return env
