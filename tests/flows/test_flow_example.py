"""examples/two-stage-flow: trained from scratch, built, validated and run on its examples."""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import numpy as np
import pytest
import yaml

from bundle_cli.flows.pickling import global_names
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
    codes = sorted(d.code for d in report.diagnostics)
    # three pickled functions (trusted by their sha256), the TorchScript archive's two pickles
    assert codes == ["pickle-inventory"] * 5 + ["pickled-function"] * 3, codes
    trusted = [d for d in report.diagnostics if "trusted_pickles" in d.message]
    assert sorted(Path(d.file or "").name for d in trusted) == [
        "encoder_pre.pkl",
        "levels_post.pkl",
        "levels_pre.pkl",
    ]
    flow = load(bundle)
    for entry in examples(bundle):
        assert flow.predict(entry["input"]) == entry["expected"], entry["name"]


# What build_flow promises across cloudpickle versions: the same config and reviewed source, and
# pickles that behave the same (the trained models answer alike: the test above). Their bytes are only promised for one cloudpickle version
# (3.1.3, for one, writes "<dynamic-code>" where older versions wrote the source's file name).
def test_the_committed_bundle_is_what_train_writes(built: Path) -> None:
    committed = EXAMPLE / "bundle"

    def listing(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    assert listing(built) == listing(committed)
    for name in sorted(listing(committed)):
        if not name.startswith("models/") and not name.endswith(".pkl") and name != "config.yaml":
            assert (built / name).read_bytes() == (committed / name).read_bytes(), name
    # config.yaml: the same, but for the digests of the pickles it trusts, each its own pickle's
    configs = [config_without_digests(b) for b in (built, committed)]
    assert configs[0] == configs[1]
    pickles = sorted(n for n in listing(committed) if n.endswith(".pkl"))
    assert pickles == [f"functions/{s}.pkl" for s in ("encoder_pre", "levels_post", "levels_pre")]
    for name in pickles:
        assert function_shape(built / name) == function_shape(committed / name), name


def config_without_digests(bundle: Path) -> tuple[str, list[str]]:
    """config.yaml with each trusted pickle's sha256 checked against the file, then masked."""
    text = (bundle / "config.yaml").read_text()
    trusted = yaml.safe_load(text)["trusted_pickles"]
    for name, digest in trusted.items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest, name
        text = text.replace(digest, "<sha256>")
    return text, sorted(trusted)


def function_shape(path: Path) -> tuple[Any, ...]:
    """What a pickled function does, whatever cloudpickle wrote it: its code without the
    file name, its defaults, and the module-level values it carries."""
    fn = pickle.loads(path.read_bytes())
    carried = {n: fn.__globals__[n] for n in global_names(fn.__code__) if n in fn.__globals__}
    return code_shape(fn.__code__), fn.__defaults__, carried, fn.__qualname__


def code_shape(code: CodeType) -> tuple[Any, ...]:
    consts = tuple(code_shape(c) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.co_code, consts, code.co_names, code.co_varnames, code.co_firstlineno


def test_the_committed_pickles_answer_as_freshly_built_ones(built: Path) -> None:
    committed = EXAMPLE / "bundle"
    lines = ["90,80,70,60", "5,5,5,5", "50,40,30,20"]
    parse = [
        pickle.loads((b / "functions/encoder_pre.pkl").read_bytes()) for b in (built, committed)
    ]
    assert np.array_equal(parse[0](lines), parse[1](lines))
    probabilities = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    post = [
        pickle.loads((b / "functions/levels_post.pkl").read_bytes()) for b in (built, committed)
    ]
    assert (
        post[0](probabilities, lines)
        == post[1](probabilities, lines)
        == {
            "90,80,70,60": "busy",
            "5,5,5,5": "idle",
            "50,40,30,20": "overloaded",
        }
    )


def test_a_failing_function_built_now_points_into_its_saved_source(
    built: Path, load: Callable[..., Any], tmp_path: Path
) -> None:
    from bundle_cli.errors import UserCodeError

    copy = tmp_path / "bundle"
    shutil.copytree(built, copy)
    with pytest.raises(UserCodeError) as caught:
        load(copy).predict(["not,numbers"])
    source = copy / "functions" / "encoder_pre.py"
    line = next(
        i for i, text in enumerate(source.read_text().splitlines(), 1) if "float(part)" in text
    )
    assert f'File "{source}", line {line}, in parse_readings' in caught.value.user_traceback
    assert "<dynamic-code>" not in caught.value.user_traceback
