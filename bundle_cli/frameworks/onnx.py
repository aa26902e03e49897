"""ONNX stages: an onnxruntime session on CPU; a dict input feeds inputs by name, anything else
the one input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bundle_cli.frameworks import Framework, Host, StageCall, stage_error
from bundle_cli.frameworks.extras import as_array, ignoring_files, require

_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def load(path: Path, options: dict[str, Any], where: str, host: Host) -> StageCall:
    import numpy as np

    ort = require("onnxruntime", where)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtypes = {i.name: _DTYPES.get(i.type) for i in session.get_inputs()}
    input_name = options.get("input_name") or _single_input(list(dtypes), where, path)
    if input_name not in dtypes:
        message = f"{where}: no input {input_name!r}; it has {list(dtypes)}"
        raise stage_error("onnx-input-name", message, path)
    outputs = [options["output_name"]] if options.get("output_name") else None
    names = outputs or [o.name for o in session.get_outputs()]

    def predict(x: Any) -> Any:
        feed = x if isinstance(x, dict) else {input_name: x}
        arrays = {k: np.asarray(as_array(v), dtype=dtypes.get(k)) for k, v in feed.items()}
        results = session.run(outputs, arrays)
        return results[0] if len(results) == 1 else dict(zip(names, results, strict=True))

    return ignoring_files(predict)


def _single_input(names: list[str], where: str, path: Path) -> str:
    if len(names) != 1:
        message = (
            f"{where}: the ONNX model has {len(names)} inputs ({', '.join(names)}); "
            "set options.input_name or pass a dict of inputs"
        )
        raise stage_error("onnx-input-name", message, path)
    return names[0]


FRAMEWORKS = (
    Framework(
        "onnx",
        load,
        suffixes=(".onnx", ".ort"),
        options={"input_name": str, "output_name": str},
        extra="onnx",
        distributions=("onnxruntime", "onnxruntime-gpu"),
        modules={"onnxruntime": "onnxruntime"},
    ),
)
