"""The other protocols `--protocol` serves instead of Truss's routes.

`v2`, the Open Inference Protocol (KServe v2, Triton, MLServer): `POST /v2/models/{m}/infer` with
`{"inputs": [{"name", "shape", "datatype", "data"}]}`; the model receives `{name: numpy array}`
and its output (a dict of arrays, or one array) is answered as `{"outputs": [...]}` tensors.

`kserve`, KServe's V1 protocol: `POST /v1/models/{m}:predict` with `{"instances": [...]}`; the
model receives the instances and its output is answered as `{"predictions": output}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bundle_cli.errors import InputDataError
from bundle_cli.runtime.codec import OutputEncodingError

# Open Inference Protocol datatypes and their numpy dtypes
DATATYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_BY_KIND = {"b": "BOOL", "U": "BYTES", "S": "BYTES", "O": "BYTES"}

Shape = Callable[[Any, Callable[[Any], str]], str]


def v2_request(value: Any, request: Any) -> tuple[Any, Shape]:
    """An inference request's tensors as numpy arrays by name, and how to answer it."""
    import numpy as np

    if not isinstance(value, dict) or not isinstance(value.get("inputs"), list):
        raise InputDataError(
            'request: an inference request is {"inputs": [{"name", "shape", "datatype", "data"}]}'
        )
    arrays: dict[str, Any] = {}
    for n, tensor in enumerate(value["inputs"]):
        where = f"request: inputs[{n}]"
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise InputDataError(f"{where}: each input is an object with a name")
        where += f" ({tensor['name']})"
        kind, shape = tensor.get("datatype"), tensor.get("shape")
        if kind not in DATATYPES:
            raise InputDataError(f"{where}: datatype {kind!r} is not one of {', '.join(DATATYPES)}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise InputDataError(f"{where}: shape must be a list of sizes, not {shape!r}")
        try:
            array = np.asarray(tensor.get("data"), dtype=DATATYPES[kind])
            arrays[tensor["name"]] = array.reshape(shape)
        except (TypeError, ValueError) as exc:
            raise InputDataError(
                f"{where}: the data do not make a {kind} tensor of shape {shape}: {exc}"
            ) from None
    wanted = [o.get("name") for o in value.get("outputs") or [] if isinstance(o, dict)]
    rid = value.get("id") or request.scope.get("state", {}).get("request_id")
    name = request.path_params.get("model_name", "model")

    def shape_answer(out: Any, encode: Callable[[Any], str]) -> str:
        outputs = [_tensor(k, v, encode) for k, v in _named(out)]
        if wanted:
            outputs = [o for o in outputs if o["name"] in wanted]
        return json.dumps({"model_name": name, "id": rid, "outputs": outputs})

    return arrays, shape_answer


def _named(out: Any) -> list[tuple[str, Any]]:
    if isinstance(out, dict):
        return [(str(k), v) for k, v in out.items()]
    return [("output0", out)]


def _tensor(name: str, value: Any, encode: Callable[[Any], str]) -> dict[str, Any]:
    import numpy as np

    array = value if isinstance(value, np.ndarray) else np.asarray(json.loads(encode(value)))
    kind = _BY_KIND.get(array.dtype.kind) or next(
        (k for k, d in DATATYPES.items() if d == array.dtype.name), None
    )
    if kind is None:
        raise OutputEncodingError(
            f"error: the model's output {name!r} is not a tensor (dtype {array.dtype}); "
            "with --protocol v2 predict returns arrays, or a dict of them",
            "",
        )
    data = array.ravel().tolist()
    if kind == "BYTES":
        data = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in data]
    return {"name": name, "shape": list(array.shape), "datatype": kind, "data": data}


def kserve_request(value: Any, request: Any) -> tuple[Any, Shape]:
    """A V1 request's instances, and its answer as {"predictions": output}."""
    if not isinstance(value, dict) or not isinstance(value.get("instances"), list):
        raise InputDataError('request: a KServe V1 request is {"instances": [...]}')

    def shape_answer(out: Any, encode: Callable[[Any], str]) -> str:
        return f'{{"predictions": {encode(out)}}}'

    return value["instances"], shape_answer
