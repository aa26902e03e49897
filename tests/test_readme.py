"""The README documents what the code does: every exit code, the quick start."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
        "ENVIRONMENT": 5,
        "INTERNAL": 70,
        "INTERRUPTED": 130,
        "TERMINATED": 143,
    }


def test_quick_start_is_the_two_make_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


def test_config_reference_is_the_one_generated_from_the_schema() -> None:
    from bundle_cli.config.reference import replace_in

    assert replace_in(README) == README, (
        "the config reference is stale: run `make readme-reference`"
    )


def test_config_reference_names_every_key_the_validator_accepts() -> None:
    from bundle_cli.config.reference import END, START
    from bundle_cli.config.schema import BundleConfig, FlowStage, section_fields

    block = README.split(START, 1)[1].split(END, 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", block, flags=re.MULTILINE))
    accepted = set(section_fields(None)) | set(FlowStage.model_fields)
    for section in ("resources", "runtime"):
        accepted |= section_fields(section)
    assert documented == accepted
    assert set(BundleConfig.model_fields) <= documented


def test_python_api_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    scope: dict[str, object] = {}
    for n, code in enumerate(blocks, 1):
        exec(compile(code, f"README.md#python-api, block {n}", "exec"), scope)

    report, answer, answers = scope["report"], scope["answer"], scope["answers"]
    assert report.ok()  # type: ignore[attr-defined]
    assert answers == [answer, answer]
    assert answer["predictions"][0]["species"] == "setosa"  # type: ignore[index]
    assert scope["tests"].ok  # type: ignore[attr-defined]
    assert scope["checked"].ok  # type: ignore[attr-defined]
    assert (tmp_path / "unpacked" / "config.yaml").is_file()
    assert len(blocks) == 2 and scope["together"] == [answer] * 4
    assert [json.loads(line) for line in scope["lines"]] == [answer] * 3  # type: ignore[attr-defined]
    summary, packed = scope["summary"], scope["packed"]
    assert len(summary.manifest.files) == packed.file_count  # type: ignore[attr-defined]


def test_after_make_demo_the_readme_says_how_to_put_bundle_on_path() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in quick and ".venv/bin:$PATH" in quick
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    assert "source $(VENV)/bin/activate" in makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]


def test_the_five_minute_walk_through_runs_as_written_with_the_base_install(
    tmp_path: Path,
) -> None:
    # The walk-through must work where `make demo` installs bundle: no framework extra.
    block = README.split("## A bundle in five minutes", 1)[1].split("```sh\n", 1)[1]
    commands = [line.split("#", 1)[0].strip() for line in block.split("```", 1)[0].splitlines()]
    assert not any(" -t " in c for c in commands), "an extra the base install lacks"
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
    }
    env = {k: v for k, v in env.items() if not k.startswith("BUNDLE_")}
    script = " && ".join(c for c in commands if c)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "iris" / "dist" / "iris-0.1.0.tar.gz").is_file()


def test_nothing_suggests_installing_bundle_cli_from_an_index() -> None:
    # bundle-cli is on no package index: `pip install 'bundle-cli[x]'` cannot work anywhere.
    root = Path(__file__).resolve().parents[1]
    places = [root / "README.md", *root.glob("bundle_cli/**/*.py"), *root.glob("examples/**/*.*")]
    places += root.glob("examples/ci/.github/workflows/*.yml")
    offenders = [
        p for p in places if p.is_file() and "bundle-cli[" in p.read_text(errors="replace")
    ]
    assert offenders == []
    workflow = (root / "examples/ci/.github/workflows/bundle.yml").read_text(encoding="utf-8")
    install = re.search(r"^\s*BUNDLE_CLI: (.+)$", workflow, flags=re.MULTILINE)
    assert install is not None and install.group(1).strip().endswith(".whl")


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BUILD_SCRIPTS = sorted(
    str(p.relative_to(EXAMPLES))
    for name in ("build.py", "train.py")
    for p in EXAMPLES.glob(f"*/{name}")
)
DISTRIBUTIONS = {"sklearn": "scikit-learn", "torch": "torch", "xgboost": "xgboost", "PIL": "pillow"}


@pytest.mark.parametrize("script", BUILD_SCRIPTS)
def test_every_example_readme_names_what_its_build_script_imports(script: str) -> None:
    # issue 11 item 14: the example README's install line names what its build script imports.
    import ast

    folder = (EXAMPLES / script).parent
    tree = ast.parse((EXAMPLES / script).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    lines = (folder / "README.md").read_text(encoding="utf-8").splitlines()
    install = " ".join(line for line in lines if line.startswith("pip install"))
    for module, distribution in DISTRIBUTIONS.items():
        if module in imported:
            assert distribution in install, f"{folder.name}/README.md: {script} imports {module}"
