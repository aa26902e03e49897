"""Each framework loader on a real tiny model: the flow's answer equals the framework's own."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import torch
import xgboost as xgb
from conftest import flow_config
from flow_tiny_models import dataset, onnx_linear, sklearn_classifier, torch_linear, xgboost_model

from bundle_cli.errors import InvalidBundleError

X, Y = dataset()
SAMPLE = X[:5]


def stage_bundle(
    tree: Callable[..., Path], model_file: str, stage_type: str, **options: Any
) -> Path:
    spec: dict[str, Any] = {"name": "m", "model": model_file, "type": stage_type}
    if options:
        spec["options"] = options
    return tree({"config.yaml": flow_config([spec])})


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize("suffix", [".pkl", ".joblib", ".skops"])
def test_sklearn_by_pickle_joblib_or_skops(
    tree: Callable[..., Path], run_flow: Callable[..., Any], suffix: str, method: str
) -> None:
    bundle = stage_bundle(tree, f"clf{suffix}", "sklearn", method=method)
    clf = sklearn_classifier(X, Y)
    if suffix == ".pkl":
        (bundle / "clf.pkl").write_bytes(pickle.dumps(clf))
    elif suffix == ".joblib":
        joblib.dump(clf, bundle / "clf.joblib")
    else:
        import skops.io

        skops.io.dump(clf, bundle / "clf.skops")
    out = run_flow(bundle, SAMPLE.tolist())
    np.testing.assert_allclose(out, getattr(clf, method)(np.asarray(SAMPLE.tolist())))


def test_skops_refuses_types_nobody_trusted_until_the_stage_lists_them(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    import operator

    import skops.io
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    clf = make_pipeline(FunctionTransformer(operator.neg), sklearn_classifier(X, Y)).fit(X, Y)
    bundle = stage_bundle(tree, "clf.skops", "sklearn")
    skops.io.dump(clf, bundle / "clf.skops")
    with pytest.raises(InvalidBundleError, match=r"types skops does not trust: _operator\.neg"):
        run_flow(bundle, SAMPLE.tolist())
    trusting = stage_bundle(tree, "clf.skops", "sklearn", trusted=["_operator.neg"])  # same folder
    np.testing.assert_array_equal(run_flow(trusting, SAMPLE.tolist()), clf.predict(SAMPLE))


def test_torchscript_runs_in_eval_mode_without_grad_on_converted_inputs(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    # Dropout makes train mode visible: eval mode must give the deterministic answer.
    net = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
    net = torch_linear(X, Y, model=net)
    bundle = stage_bundle(tree, "net.pt", "torch")
    torch.jit.script(net).save(str(bundle / "net.pt"))
    out = run_flow(bundle, SAMPLE.tolist())  # a JSON-like list of lists of floats
    assert isinstance(out, torch.Tensor) and not out.requires_grad
    with torch.no_grad():
        expected = net(torch.from_numpy(SAMPLE))
    torch.testing.assert_close(out, expected)


def test_a_torch_export_program_runs_on_any_batch_size(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    net = torch_linear(X, Y)
    batch = torch.export.Dim("batch")
    program = torch.export.export(net, (torch.from_numpy(X[:2]),), dynamic_shapes=({0: batch},))
    bundle = stage_bundle(tree, "net.pt2", "torch")
    torch.export.save(program, str(bundle / "net.pt2"))
    out = run_flow(bundle, SAMPLE.tolist())
    with torch.no_grad():
        torch.testing.assert_close(out, net(torch.from_numpy(SAMPLE)))


def test_a_whole_saved_module_loads_with_its_class_from_the_bundle(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    source = (
        "import torch\n\n"
        "class TinyNet(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = torch.nn.Linear(4, 2)\n\n"
        "    def forward(self, x):\n        return torch.softmax(self.fc(x), dim=1)\n"
    )
    spec = {"name": "m", "model": "net.pt", "type": "torch", "options": {"dtype": "float64"}}
    # The pickle imports the bundle's own class and torch modules: trusted, as after a review.
    config = flow_config([spec], trusted_pickle_globals=["tinynet.TinyNet", "torch.nn.modules.*"])
    bundle = tree({"config.yaml": config})
    (bundle / "packages").mkdir()
    (bundle / "packages/tinynet.py").write_text(source)
    sys.path.insert(0, str(bundle / "packages"))
    try:
        import tinynet  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(bundle / "packages"))
    net = torch_linear(X, Y, model=tinynet.TinyNet()).double()
    torch.save(net, bundle / "net.pt")
    del sys.modules["tinynet"]  # the flow must find the class through the bundle itself
    out = run_flow(bundle, SAMPLE.tolist())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, net(torch.from_numpy(SAMPLE).double()).detach())


@pytest.mark.parametrize("suffix", [".json", ".ubj"])
@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_xgboost_classifier_through_its_sklearn_api(
    tree: Callable[..., Path], run_flow: Callable[..., Any], suffix: str, method: str
) -> None:
    model = xgboost_model(X, Y)
    bundle = stage_bundle(tree, f"xgb{suffix}", "xgboost_classifier", method=method)
    model.save_model(bundle / f"xgb{suffix}")
    np.testing.assert_allclose(run_flow(bundle, SAMPLE.tolist()), getattr(model, method)(SAMPLE))


def test_xgboost_regressor_and_the_dmatrix_api(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    model = xgboost_model(X, Y.astype(np.float32), classifier=False)
    sklearn_api = stage_bundle(tree, "reg.json", "xgboost")
    model.save_model(sklearn_api / "reg.json")
    expected = model.predict(SAMPLE)
    np.testing.assert_allclose(run_flow(sklearn_api, SAMPLE.tolist()), expected, rtol=1e-6)
    dmatrix = stage_bundle(tree, "reg.json", "xgboost", api="dmatrix")  # the same folder
    booster_out = run_flow(dmatrix, SAMPLE.tolist())
    np.testing.assert_allclose(booster_out, model.get_booster().predict(xgb.DMatrix(SAMPLE)))
    np.testing.assert_allclose(booster_out, expected, rtol=1e-6)


def test_onnx_feeds_the_single_input(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    bundle = stage_bundle(tree, "linear.onnx", "onnx")
    w, b = onnx_linear(X, Y, bundle / "linear.onnx")
    out = run_flow(bundle, SAMPLE.tolist())  # float64 in JSON terms: cast to the input's float
    np.testing.assert_allclose(out, SAMPLE @ w + b, rtol=1e-5)


def test_onnx_with_several_inputs_needs_a_name_or_a_dict(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    bundle = stage_bundle(tree, "two.onnx", "onnx")
    w, b = onnx_linear(X, Y, bundle / "two.onnx", inputs=2)
    with pytest.raises(
        InvalidBundleError, match=r"has 2 inputs \(x0, x1\); set options.input_name"
    ):
        run_flow(bundle, SAMPLE.tolist())
    named = stage_bundle(tree, "two.onnx", "onnx", input_name="x0")  # the same folder
    offsets = np.ones((5, 1))
    out = run_flow(named, {"x0": SAMPLE.tolist(), "x1": offsets.tolist()})
    np.testing.assert_allclose(out, SAMPLE @ w + b + 1, rtol=1e-5)


def test_onnx_unknown_input_name_lists_the_real_ones(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    bundle = stage_bundle(tree, "linear.onnx", "onnx", input_name="pixels")
    onnx_linear(X, Y, bundle / "linear.onnx")
    with pytest.raises(InvalidBundleError, match=r"no input 'pixels'; it has \['features'\]"):
        run_flow(bundle, SAMPLE.tolist())


def test_a_corrupt_model_file_is_an_invalid_bundle_naming_stage_and_file(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    bundle = stage_bundle(tree, "xgb.json", "xgboost_classifier")
    (bundle / "xgb.json").write_text("{not json")
    with pytest.raises(InvalidBundleError) as caught:
        run_flow(bundle, SAMPLE.tolist())
    assert caught.value.message.startswith(
        "flow stage 'm': cannot load xgb.json as a xgboost_classifier model:"
    )
    [diagnostic] = caught.value.diagnostics  # `--json` output locates it at the file
    assert diagnostic.file == str((bundle / "xgb.json").resolve())
