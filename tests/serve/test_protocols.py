"""--protocol v2 (Open Inference Protocol, tensors as numpy) and --protocol kserve (V1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import build_tree
from tests.serve.conftest import Server

TENSORS = {
    "config.yaml": "model_name: tensors\n",
    "model/__init__.py": "",
    "model/model.py": """
import numpy as np


class Model:
    def predict(self, model_input):
        if isinstance(model_input, list):  # KServe V1: the instances
            return [sum(row) for row in model_input]
        x = model_input["x"]
        assert isinstance(x, np.ndarray), type(x)
        return {"doubled": x * 2, "total": np.array([x.sum()]), "dtype": np.array([str(x.dtype)])}
""",
}


def test_v2_infer_maps_tensors_to_numpy_and_back(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(
        build_tree(tmp_path / "tensors", TENSORS), "--protocol", "v2", ready="/v2/health/ready"
    )
    c = server.client
    assert c.get("/v2/health/live").json() == {"live": True}
    assert c.get("/v2/health/ready").json() == {"ready": True}
    assert c.get("/v2/models/tensors/ready").json() == {"name": "tensors", "ready": True}
    assert c.get("/v2/models/model").json()["name"] == "tensors"
    request = {
        "id": "r1",
        "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4.5]}],
    }
    answer = c.post("/v2/models/tensors/infer", json=request)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == "r1" and body["model_name"] == "tensors"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["doubled"] == {
        "name": "doubled",
        "shape": [2, 2],
        "datatype": "FP32",
        "data": [2, 4, 6, 9],
    }
    assert outputs["total"]["data"] == [10.5] and outputs["total"]["datatype"] == "FP32"
    assert outputs["dtype"] == {
        "name": "dtype",
        "shape": [1],
        "datatype": "BYTES",
        "data": ["float32"],
    }
    only = c.post("/v2/models/tensors/infer", json={**request, "outputs": [{"name": "total"}]})
    assert [o["name"] for o in only.json()["outputs"]] == ["total"]
    bad = c.post(
        "/v2/models/tensors/infer",
        json={"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}]},
    )
    assert bad.status_code == 400 and "inputs[0] (x)" in bad.json()["error"]
    assert c.post("/v1/models/model:predict", json={}).status_code == 404  # Truss's routes are off


def test_kserve_v1_instances_in_predictions_out(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(build_tree(tmp_path / "tensors", TENSORS), "--protocol", "kserve")
    c = server.client
    assert c.get("/v1/models").json() == {"models": ["tensors"]}
    assert c.get("/v1/models/tensors").json() == {"name": "tensors", "ready": True}
    answer = c.post("/v1/models/tensors:predict", json={"instances": [[1, 2], [3, 4]]})
    assert answer.json() == {"predictions": [3, 7]}
    missing = c.post("/v1/models/tensors:predict", json={"inputs": [1]})
    assert missing.status_code == 400 and "instances" in missing.json()["error"]


def test_typed_model_schema_route_and_field_errors_as_400(
    serve: Callable[..., Server], tmp_path: Path, run_bundle
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tests.conftest import FIXTURES

    bundle = tmp_path / "typed"
    shutil.copytree(FIXTURES / "runtime" / "typed", bundle)
    server = serve(bundle)
    schema = server.client.get("/v1/models/model/schema").json()
    assert schema["input_schema"]["properties"]["repeat"]["maximum"] == 10
    assert schema["output_schema"]["required"] == ["result", "length"]
    assert schema["supports_streaming"] is False
    ok = server.client.post("/v1/models/model:predict", json={"text": "ab", "repeat": 2})
    assert ok.json() == {"result": "abab", "length": 4}
    bad = {"text": "ab", "repeat": 50}
    answer = server.client.post("/v1/models/model:predict", json=bad)
    assert answer.status_code == 400
    cli = run_bundle("predict", str(bundle), "-d", '{"text": "ab", "repeat": 50}')
    assert cli.returncode == 3
    assert answer.json()["error"].removeprefix("request") in cli.stderr.replace("--data", "")
