"""`bundle package` checks what it packs: needed files, credentials at any depth, unwalkable trees."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_kit import SCAFFOLD

from bundle_cli.archive.ignore import SECRET_PATTERNS

Run = Callable[..., subprocess.CompletedProcess[str]]

FLOW_CONFIG = """model_name: flowy
flow:
- name: first
  model: stages/first.py
  type: python
  post: functions.post:post
"""
STAGE = (
    "import stagehelp\n\n\nclass Model:\n    def predict(self, x):\n        return stagehelp.f(x)\n"
)
EXAMPLES = "- name: one\n  input: {values: [1]}\n  files:\n    picture: samples/cat.png\n"


def _package(run_bundle: Run, bundle: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return run_bundle("package", str(bundle), "-o", str(out) + "/")


@pytest.mark.parametrize(
    ("extra", "rule", "dropped"),
    [
        ({}, "model/", "model/model.py"),
        (
            {
                "model/model.py": "from . import tools\n" + str(SCAFFOLD["model/model.py"]),
                "model/tools.py": "",
            },
            "tools.py",
            "model/tools.py",
        ),
        (
            {"model/model.py": "import helpers\n" + str(SCAFFOLD["model/model.py"])},
            "packages/",
            "packages/helpers/__init__.py",
        ),
        ({"examples.yaml": EXAMPLES, "samples/cat.png": b"\x89PNG"}, "samples/", "samples/cat.png"),
        ({"requirements.txt": "numpy\n"}, "*.txt", "requirements.txt"),
    ],
    ids=["model-file", "relative-import", "bundled-package", "example-file", "requirements-file"],
)
def test_a_bundleignore_that_drops_a_needed_file_is_an_error(
    extra: dict[str, str | bytes],
    rule: str,
    dropped: str,
    scaffold: Callable[..., Path],
    tmp_path: Path,
    run_bundle: Run,
) -> None:
    files = dict(extra)
    if "requirements.txt" in files:
        config = str(SCAFFOLD["config.yaml"]).replace("requirements:\n  - numpy>=1.24\n", "")
        files["config.yaml"] = config + "requirements_file: requirements.txt\n"
    bundle = scaffold(clutter=False, extra=files)
    (bundle / ".bundleignore").write_text("# mine\n\n*.log\n" + rule + "\n")
    result = _package(run_bundle, bundle, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert f"{bundle / dropped}: error:" in result.stderr
    assert f'.bundleignore:4: "{rule}"' in result.stderr, "names the rule and its line"
    assert not (tmp_path / "out").exists(), "nothing is written"
    (bundle / ".bundleignore").write_text("*.log\n")
    assert _package(run_bundle, bundle, tmp_path / "out").returncode == 0


def test_flow_stage_files_and_their_imports_are_needed(
    tree: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    bundle = tree(
        {
            "config.yaml": FLOW_CONFIG,
            "stages/first.py": STAGE,
            "stagehelp.py": "def f(x):\n    return x\n",
            "functions/post.py": "def post(x):\n    return x\n",
        }
    )
    for rule, dropped in (
        ("stages/", "stages/first.py"),
        ("stagehelp.py", "stagehelp.py"),
        ("functions/", "functions/post.py"),
    ):
        (bundle / ".bundleignore").write_text(rule + "\n")
        result = _package(run_bundle, bundle, tmp_path / "out")
        assert result.returncode == 2, result.stderr
        assert f"{bundle / dropped}: error:" in result.stderr and f'"{rule}"' in result.stderr
    (bundle / ".bundleignore").write_text("")
    assert _package(run_bundle, bundle, tmp_path / "out").returncode == 0, "flow packs when whole"


def _example_of(pattern: str) -> str:
    """A file name that `pattern` (a default credential rule) matches."""
    name = pattern.removeprefix("**/").replace("*", "x")
    return name + "secret" if name.endswith("/") else name


def test_every_credential_default_applies_at_any_depth_and_is_listed(
    scaffold: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    secrets = {f"data/sub/deeper/{_example_of(p)}": "TOPSECRET" for p in SECRET_PATTERNS}
    secrets |= {_example_of(p): "TOPSECRET" for p in SECRET_PATTERNS}
    bundle = scaffold(clutter=False, extra=secrets)
    result = _package(run_bundle, bundle, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    [archive] = (tmp_path / "out").iterdir()
    with tarfile.open(archive) as tf:
        names = tf.getnames()
        packed = b"".join(tf.extractfile(m).read() for m in tf if m.isfile())  # type: ignore[union-attr]
    assert b"TOPSECRET" not in packed, [n for n in names if "sub" in n]
    assert "warning: not packed, as files that may hold credentials:" in result.stderr
    assert "data/sub/deeper/.docker/config.json" in result.stderr
    assert "TOPSECRET" not in result.stderr, "names only"


def test_symlink_loops_are_an_error_naming_the_link(
    scaffold: Callable[..., Path], tmp_path: Path, run_bundle: Run
) -> None:
    bundle = scaffold(clutter=False)
    os.symlink("a", bundle / "data" / "b")
    os.symlink("b", bundle / "data" / "a")
    os.symlink("self", bundle / "data" / "self")
    result = _package(run_bundle, bundle, tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    for name in ("a", "b", "self"):
        assert f"{bundle / 'data' / name}: error: symlink" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_folder_that_cannot_be_listed_is_an_error(
    scaffold: Callable[..., Path], tmp_path: Path
) -> None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv, to drop the capability that reads any folder")
    from tests.conftest import bundle_executable, isolated_env

    bundle = scaffold(clutter=False)
    locked = bundle / "data" / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = subprocess.run(
            [
                setpriv,
                "--bounding-set",
                "-dac_override,-dac_read_search",
                bundle_executable(),
                "package",
                str(bundle),
                "-o",
                str(tmp_path / "out") + "/",
            ],
            capture_output=True,
            text=True,
            env=isolated_env(tmp_path),
            timeout=120,
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{locked}: error: cannot list this folder" in result.stderr
