"""Tiny models trained in a fraction of a second on generated data (seeded, no downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def dataset(n: int = 80, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features and a binary label that depends on them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def sklearn_classifier(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(x, y)


def torch_linear(x: np.ndarray, y: np.ndarray, outputs: int = 2, model: Any = None) -> Any:
    """A linear layer (or `model`) fitted for a few steps of SGD as a classifier."""
    import torch

    torch.manual_seed(0)
    model = model if model is not None else torch.nn.Linear(x.shape[1], outputs)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.5)
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(30):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        loss.backward()
        optimiser.step()
    return model.eval()


def xgboost_model(x: np.ndarray, y: np.ndarray, classifier: bool = True) -> Any:
    import xgboost as xgb

    cls = xgb.XGBClassifier if classifier else xgb.XGBRegressor
    return cls(n_estimators=4, max_depth=2, n_jobs=1).fit(x, y)


def onnx_linear(x: np.ndarray, y: np.ndarray, path: Path, inputs: int = 1) -> tuple[Any, Any]:
    """Least squares fitted with numpy, written as an ONNX MatMul + Add graph; (weights, bias)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    design = np.hstack([x, np.ones((len(x), 1), np.float32)])
    solution = np.linalg.lstsq(design, y.astype(np.float32), rcond=None)[0]
    w, b = solution[:-1].reshape(-1, 1).astype(np.float32), solution[-1:].astype(np.float32)
    names = [f"x{i}" if inputs > 1 else "features" for i in range(inputs)]
    nodes = [helper.make_node("MatMul", [names[0], "w"], ["xw"])]
    nodes.append(helper.make_node("Add", ["xw", "b"], ["score"]))
    for extra in names[1:]:  # further inputs are added on, to make a multi-input graph
        nodes.append(helper.make_node("Add", ["score", extra], [f"score_{extra}"]))
    width = x.shape[1]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, [None, width])]
        + [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in names[1:]],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by every onnxruntime this project supports
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return w, b
