"""One loader per framework: read a stage's model file and return how to call it.

Each loader returns `predict(x) -> result`, calling the framework in its usual way. Frameworks
are imported here, when a stage needs one, never at start-up.
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bundle_cli.errors import InvalidBundleError
from bundle_cli.flows.extras import require

Predict = Callable[[Any], Any]


def as_array(x: Any) -> Any:
    """Tensors and lists become numpy arrays; arrays, data frames and the rest pass unchanged."""
    import numpy as np

    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, without importing torch
        return x.detach().cpu().numpy()
    if isinstance(x, list | tuple):
        return np.asarray(x)
    return x


def load_sklearn(path: Path, options: dict[str, Any], where: str) -> Predict:
    """A scikit-learn estimator from pickle, joblib or skops; `method` picks what is called."""
    require("sklearn", where)
    if path.suffix == ".joblib":
        model = require("joblib", where).load(path)
    elif path.suffix == ".skops":
        model = _load_skops(path, options.get("trusted", []), where)
    else:
        with path.open("rb") as f:
            model = pickle.load(f)  # a bundle is code: its pickles run as the author wrote them
    method_name = options.get("method", "predict")
    method = getattr(model, method_name, None)
    if method is None:
        raise InvalidBundleError(f"{where}: {type(model).__name__} has no {method_name}()", [])
    return lambda x: method(as_array(x))


def _load_skops(path: Path, trusted: list[str], where: str) -> Any:
    """skops refuses types nobody vouched for: the stage's `trusted` option lists them."""
    skops_io = require("skops.io", where)
    untrusted = sorted(set(skops_io.get_untrusted_types(file=path)) - set(trusted))
    if untrusted:
        raise InvalidBundleError(
            f"{where}: {path.name} holds types skops does not trust: {', '.join(untrusted)}; "
            "list the ones you trust in the stage's options.trusted",
            [],
        )
    return skops_io.load(path, trusted=trusted)


def load_torch(path: Path, options: dict[str, Any], where: str) -> Predict:
    """TorchScript, a torch.export program (.pt2) or a whole saved module, run in eval mode
    under no_grad on tensors."""
    torch = require("torch", where)
    fmt = options.get("format", "auto")
    if fmt == "exported" or (fmt == "auto" and path.suffix == ".pt2"):
        # torch.export programs fix train/eval mode when exported; they have no eval().
        model = torch.export.load(str(path)).module()
    elif fmt == "torchscript" or (fmt == "auto" and _is_torchscript(path)):
        model = torch.jit.load(str(path), map_location="cpu").eval()
    else:
        model = torch.load(path, map_location="cpu", weights_only=False).eval()
    dtype = getattr(torch, options.get("dtype", "float32"))

    def predict(x: Any) -> Any:
        with torch.no_grad():
            if isinstance(x, tuple):
                return model(*(_tensor(torch, item, dtype) for item in x))
            return model(_tensor(torch, x, dtype))

    return predict


def _tensor(torch: Any, x: Any, dtype: Any) -> Any:
    if isinstance(x, (torch.Tensor, dict)):
        return x
    return torch.as_tensor(as_array(x), dtype=dtype)


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives carry their code; `torch.save` archives carry only data."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


def load_xgboost(path: Path, options: dict[str, Any], where: str, classifier: bool) -> Predict:
    """An XGBoost model from .json/.ubj through the sklearn API, or a Booster with DMatrix."""
    xgb = require("xgboost", where)
    if options.get("api", "sklearn") == "dmatrix":
        booster = xgb.Booster()
        booster.load_model(str(path))
        return lambda x: booster.predict(xgb.DMatrix(as_array(x)))
    model = xgb.XGBClassifier() if classifier else xgb.XGBRegressor()
    model.load_model(str(path))
    method = getattr(model, options.get("method", "predict"))
    return lambda x: method(as_array(x))


_ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def load_onnx(path: Path, options: dict[str, Any], where: str) -> Predict:
    """An onnxruntime session on CPU; a dict input feeds inputs by name, anything else the one."""
    import numpy as np

    ort = require("onnxruntime", where)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtypes = {i.name: _ONNX_DTYPES.get(i.type) for i in session.get_inputs()}
    input_name = options.get("input_name") or _single_input(list(dtypes), where)
    if input_name not in dtypes:
        raise InvalidBundleError(f"{where}: no input {input_name!r}; it has {list(dtypes)}", [])
    outputs = [options["output_name"]] if options.get("output_name") else None
    names = outputs or [o.name for o in session.get_outputs()]

    def predict(x: Any) -> Any:
        feed = x if isinstance(x, dict) else {input_name: x}
        arrays = {k: np.asarray(as_array(v), dtype=dtypes.get(k)) for k, v in feed.items()}
        results = session.run(outputs, arrays)
        return results[0] if len(results) == 1 else dict(zip(names, results, strict=True))

    return predict


def _single_input(names: list[str], where: str) -> str:
    if len(names) != 1:
        raise InvalidBundleError(
            f"{where}: the ONNX model has {len(names)} inputs ({', '.join(names)}); "
            "set options.input_name or pass a dict of inputs",
            [],
        )
    return names[0]


def load_framework(stage_type: str, path: Path, options: dict[str, Any], where: str) -> Predict:
    """The predict function of a framework stage (every type but `python`)."""
    if stage_type == "sklearn":
        return load_sklearn(path, options, where)
    if stage_type == "torch":
        return load_torch(path, options, where)
    if stage_type in ("xgboost", "xgboost_classifier"):
        return load_xgboost(path, options, where, classifier=stage_type == "xgboost_classifier")
    if stage_type == "onnx":
        return load_onnx(path, options, where)
    raise ValueError(f"not a framework stage type: {stage_type}")
