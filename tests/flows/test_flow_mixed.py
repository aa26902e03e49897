"""Flows that mix a `python` stage (a Model class) with framework stages."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from conftest import flow_config, request_files
from flow_tiny_models import dataset, sklearn_classifier, torch_linear

X, Y = dataset()

SCALER = """\
import numpy as np


class Scaler:
    def __init__(self, data_dir, store):
        self.factor_file = data_dir / "factor.txt"
        self.store = store

    def load(self):
        self.factor = float(self.factor_file.read_text())

    def preprocess(self, probabilities, files):
        offset = float(files[0].read())
        return np.asarray(probabilities) + offset

    def predict(self, shifted):
        self.store["scaled"] = self.store.get("scaled", 0) + 1
        return shifted * self.factor

    def postprocess(self, scaled, stage_input):
        return scaled.astype("float32")
"""

POST = """\
def rounded(result, original, files):
    return {"rows": len(original), "scores": [round(float(v), 4) for v in result[:, 0]],
            "file": files[0].name}
"""


def test_sklearn_then_a_python_model_then_torch(
    tree: Callable[..., Path], load: Callable[..., Any]
) -> None:
    clf = sklearn_classifier(X, Y)
    proba = clf.predict_proba(X)
    head = torch_linear(proba.astype(np.float32), Y, outputs=2)
    stages = [
        {
            "name": "clf",
            "model": "clf.pkl",
            "type": "sklearn",
            "options": {"method": "predict_proba"},
        },
        {
            "name": "scale",
            "model": "scaler.py",
            "type": "python",
            "options": {"class_name": "Scaler"},
        },
        {"name": "head", "model": "head.pt", "type": "torch", "post": "fns:rounded"},
    ]
    bundle = tree(
        {
            "config.yaml": flow_config(stages),
            "clf.pkl": pickle.dumps(clf),
            "scaler.py": SCALER,
            "data/factor.txt": "3",
            "packages/fns.py": POST,
        }
    )
    torch.jit.script(head).save(str(bundle / "head.pt"))
    flow = load(bundle)
    rows = X[:4].tolist()
    out = flow.predict(rows, request_files(**{"offset.txt": b"0.25"}))

    shifted = (clf.predict_proba(np.asarray(rows)) + 0.25) * 3
    with torch.no_grad():
        expected = head(torch.from_numpy(shifted.astype(np.float32)))[:, 0]
    assert out == {
        "rows": 4,
        "scores": [round(float(v), 4) for v in expected],
        "file": "offset.txt",
    }
    assert flow.store["scaled"] == 1
