"""`bundle serve --isolated`: the server over the pipe runner (the model in a child Python in
its own environment, built with uv) answers as over the in-process one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import build_tree
from tests.serve.conftest import Server

PLAIN = {
    "config.yaml": "model_name: plain\n",
    "model/__init__.py": "",
    "model/model.py": """
import sys


class Model:
    def preprocess(self, model_input, files=None):
        if files:
            model_input = dict(model_input, files=[[f.name, f.read().decode()] for f in files])
        return model_input

    def predict(self, model_input):
        if model_input.get("raise"):
            raise KeyError("missing " + model_input["raise"])
        return {"echo": model_input, "python": sys.prefix}
""",
}
STREAM = {
    "config.yaml": "model_name: counted\n",
    "model/__init__.py": "",
    "model/model.py": "class Model:\n    def predict(self, model_input):\n        for i in range(model_input['n']):\n            yield {'chunk': i}\n",
}


def test_isolated_server_answers_streams_and_fails_as_in_process(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    env = {"UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    server = serve(build_tree(tmp_path / "plain", PLAIN), "--isolated", env=env)
    answer = server.client.post("/v1/models/model:predict", json={"a": 1}).json()
    assert answer["echo"] == {"a": 1}
    assert ".venv" not in answer["python"] and str(tmp_path) in answer["python"]  # the child's
    files = server.client.post(
        "/v1/models/plain:predict",
        data={"input": '{"k": 2}'},
        files=[("notes", ("n.txt", b"hello"))],
    )
    assert files.json()["echo"] == {"k": 2, "files": [["notes", "hello"]]}
    failed = server.client.post("/v1/models/model:predict", json={"raise": "x"})
    assert failed.status_code == 500 and failed.json()["type"] == "KeyError"
    assert "missing x" in failed.json()["error"]

    counted = serve(build_tree(tmp_path / "counted", STREAM), "--isolated", env=env)
    with counted.client.stream("POST", "/v1/models/model:predict", json={"n": 3}) as r:
        assert r.headers["content-type"].startswith("application/x-ndjson")
        assert [json.loads(line) for line in r.iter_lines() if line] == [
            {"chunk": i} for i in range(3)
        ]
