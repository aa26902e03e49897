"""examples/two-stage-flow: trained from scratch, built, validated and run on its examples."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bundle_cli.validation import validate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two-stage-flow"


def train_module() -> Any:
    spec = importlib.util.spec_from_file_location("two_stage_flow_train", EXAMPLE / "train.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as train.py writes it, into a temporary folder."""
    dest: Path = train_module().main(tmp_path_factory.mktemp("example") / "bundle")
    return dest


def examples(bundle: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load((bundle / "examples.yaml").read_text())
    return entries


@pytest.mark.parametrize("which", ["trained now", "committed"])
def test_the_example_validates_and_answers_its_examples(
    built: Path, load: Callable[..., Any], which: str
) -> None:
    bundle = built if which == "trained now" else EXAMPLE / "bundle"
    report = validate(bundle)
    assert report.ok(strict=True), [d.format() for d in report.diagnostics]
    assert [d.code for d in report.diagnostics] == ["pickled-function"] * 3
    flow = load(bundle)
    for entry in examples(bundle):
        assert flow.predict(entry["input"]) == entry["expected"], entry["name"]


def test_the_committed_bundle_is_what_train_writes(built: Path) -> None:
    committed = EXAMPLE / "bundle"

    def listing(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert listing(built) == listing(committed)
    for name in ("config.yaml", "functions/levels_post.py", "functions/levels_post.pkl"):
        assert (built / name).read_bytes() == (committed / name).read_bytes(), name
