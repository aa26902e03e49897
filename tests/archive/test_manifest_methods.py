"""The manifest lists the model's methods (read from the packed model file with ast), so
`bundle inspect` shows what a Truss-style model answers without unpacking or importing it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess[str]]

TRUSS_STYLE = """
class Base:
    def is_healthy(self):
        return True


class Model(Base):
    def __init__(self, **kwargs):
        pass

    async def predict(self, model_input):
        return model_input

    def completions(self, model_input):
        return {"choices": []}

    def websocket(self, ws):
        pass

    def helper(self):
        pass
"""


def test_inspect_lists_the_methods_the_model_class_defines(
    scaffold: Callable[..., Path], pack: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = scaffold(clutter=False, extra={"model/model.py": TRUSS_STYLE})
    archive = pack(bundle)
    shown = run_bundle("inspect", str(archive), "--json")
    assert shown.returncode == 0, shown.stderr
    section = json.loads(shown.stdout)["bundle"]
    # the contract's order; a base class in the same file counts, a plain helper does not
    assert section["methods"] == ["predict", "is_healthy", "websocket", "completions"]
    assert section["model_file"] == "model/model.py"
    human = run_bundle("inspect", str(archive))
    assert "methods:       predict, is_healthy, websocket, completions" in human.stdout
    assert run_bundle("verify", str(archive)).returncode == 0


def test_a_bundle_without_a_model_file_records_no_methods(
    tree: Callable[..., Path], pack: Callable[..., Path], run_bundle: Run
) -> None:
    """A docker_server bundle has no model code in Truss: nothing to list, and it verifies."""
    config = (
        "model_name: custom-server\n"
        "docker_server:\n  start_command: ./serve\n  server_port: 8000\n"
        "  predict_endpoint: /predict\n  readiness_endpoint: /ready\n  liveness_endpoint: /live\n"
    )
    archive = pack(tree({"config.yaml": config}, name="custom"))
    section = json.loads(run_bundle("inspect", str(archive), "--json").stdout)["bundle"]
    assert section["methods"] is None and section["model_file"] is None
    assert run_bundle("verify", str(archive)).returncode == 0
