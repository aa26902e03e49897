"""Each template's model really runs, and gives exactly the outputs its examples.yaml records."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from scaffold_helpers import FLAVOURS, imported_model

from bundle_cli.scaffold import init


def run_hooks(bundle: Path, request: Any, files: list[Any] | None = None) -> Any:
    """The hook pipeline of DESIGN.md, called by hand; the result as it leaves as JSON."""
    with imported_model(bundle) as module:
        model = module.Model(
            config=yaml.safe_load((bundle / "config.yaml").read_text(encoding="utf-8")),
            data_dir=bundle / "data",
            secrets={},
            environment={},
        )
        model.load()
        files = [] if files is None else files
        output = model.predict(model.preprocess(request, files))
        return json.loads(json.dumps(model.postprocess(output, request, files)))


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_example_gives_its_expected_output(tmp_path: Path, flavour: str) -> None:
    bundle = init("m", tmp_path / "m", template=flavour)
    examples = yaml.safe_load((bundle / "examples.yaml").read_text(encoding="utf-8"))
    for example in examples:
        assert run_hooks(bundle, example["input"]) == example["expected"], example["name"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_input_json_gives_one_labelled_prediction_per_instance(
    tmp_path: Path, flavour: str
) -> None:
    bundle = init("m", tmp_path / "m", template=flavour)
    request = json.loads((bundle / "input.json").read_text(encoding="utf-8"))
    result = run_hooks(bundle, request, files=[io.BytesIO(b"ignored")])
    assert [p["id"] for p in result["predictions"]] == request["ids"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ids_come_from_the_original_request_not_the_preprocessed_one(
    tmp_path: Path, flavour: str
) -> None:
    bundle = init("m", tmp_path / "m", template=flavour)
    request = json.loads((bundle / "input.json").read_text(encoding="utf-8"))
    relabelled = {**request, "ids": ["x", "y"]}
    assert [p["id"] for p in run_hooks(bundle, relabelled)["predictions"]] == ["x", "y"]


def test_numpy_model_reads_its_weights_from_data_dir(tmp_path: Path) -> None:
    bundle = init("m", tmp_path / "m")
    (bundle / "data/weights.json").write_text('{"weights": [1.0, 0.0, 0.0], "bias": -1.0}')
    result = run_hooks(bundle, {"instances": [[3.0, 7.0, 9.0]]})
    assert result == {"predictions": [{"id": 0, "score": 2.0}]}


@pytest.mark.parametrize("flavour", ["numpy", "torch"])
def test_rows_of_the_wrong_width_are_refused_with_a_readable_error(
    tmp_path: Path, flavour: str
) -> None:
    bundle = init("m", tmp_path / "m", template=flavour)
    with pytest.raises(ValueError, match=r"instances must be rows of \d numbers"):
        run_hooks(bundle, {"instances": [[1.0, 2.0]]})


def test_sklearn_model_names_a_missing_feature(tmp_path: Path) -> None:
    bundle = init("m", tmp_path / "m", template="sklearn")
    flower = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}
    with pytest.raises(KeyError, match="petal_width"):
        run_hooks(bundle, {"instances": [flower]})
