"""The CI recipe's own shell steps, run here in order as the workflow runs them (minus installing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

RECIPE = Path(__file__).resolve().parents[2] / "examples" / "ci"
WORKFLOW = RECIPE / ".github" / "workflows" / "bundle.yml"


def steps() -> list[dict[str, object]]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["bundle"]["steps"]


def test_the_workflow_validates_tests_packages_verifies_and_uploads() -> None:
    runs = " ".join(str(s.get("run", "")) for s in steps())
    for command in ("bundle validate", "bundle test", "bundle package", "bundle verify"):
        assert command in runs
    uploads = [s for s in steps() if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert any("dist/" in str(s["with"]["path"]) for s in uploads)  # type: ignore[index]


def test_the_workflow_steps_pass_on_the_example(tmp_path: Path) -> None:
    workspace = tmp_path / "repo"
    bundle_dir = "examples/tabular-sklearn"
    shutil.copytree(
        RECIPE.parent / "tabular-sklearn",
        workspace / bundle_dir,
        ignore=shutil.ignore_patterns("data", "__pycache__"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUNDLE_")}
    env.update(
        {
            "BUNDLE_DIR": bundle_dir,
            "SOURCE_DATE_EPOCH": "0",
            "HOME": str(tmp_path / "home"),
            "NO_COLOR": "1",
            # The workflow's `python` and `bundle` are the ones of the interpreter under test.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    ran = []
    for step in steps():
        script = step.get("run")
        if not script or "pip install" in str(script):
            continue  # installing is what this test environment already did
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"step {step.get('name')}:\n{result.stdout}{result.stderr}"
        ran.append(step.get("name"))
    assert len(ran) == 5
    archives = list((workspace / "dist").glob("*.tar.gz"))
    assert [a.name for a in archives] == ["iris-classifier-1.0.0.tar.gz"]
    assert (workspace / "bundle-test.xml").is_file()
