"""The model contract as Truss's server calls it: init keywords, the request argument, returned
generators, Truss's other methods, default folders named explicitly."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli

Run = Callable[..., subprocess.CompletedProcess[str]]

RESOLVER = """\
class Model:
    def __init__(self, config, data_dir, secrets, lazy_data_resolver, environment):
        self._resolver = lazy_data_resolver

    def load(self):
        self._where = self._resolver.block_until_download_complete()

    def predict(self, model_input):
        return {"where_is_data": self._where.endswith("data")}
"""


def test_init_may_name_every_keyword_truss_passes(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": RESOLVER})
    assert run_bundle("validate", str(bundle)).returncode == 0
    ran = run_bundle("predict", str(bundle), "-d", "{}")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"where_is_data": True}


REQUEST_FORMS = {
    "input-and-request": (
        "from starlette.requests import Request\n\nclass Model:\n"
        "    def predict(self, model_input, request: Request):\n"
        "        return {'input': model_input, 'headers': dict(request.headers)}\n"
    ),
    "request-only-async": (
        "import starlette.requests\n\nclass Model:\n"
        "    async def predict(self, request: starlette.requests.Request):\n"
        "        body = await request.json()\n"
        "        return {'input': body, 'headers': dict(request.headers)}\n"
    ),
    "postprocess-request": (
        "from __future__ import annotations\nfrom starlette.requests import Request\n\n"
        "class Model:\n    def predict(self, model_input):\n        return model_input\n"
        "    def postprocess(self, model_output, request: Request):\n"
        "        return {'input': model_output, 'headers': dict(request.headers)}\n"
    ),
    # the request holds the body as sent, whatever preprocess made of it
    "postprocess-request-after-preprocess": (
        "from starlette.requests import Request\n\n"
        "class Model:\n    def preprocess(self, model_input):\n        return 'changed'\n"
        "    def predict(self, model_input):\n        return model_input\n"
        "    async def postprocess(self, model_output, request: Request):\n"
        "        assert model_output == 'changed'\n"
        "        return {'input': await request.json(), 'headers': dict(request.headers)}\n"
    ),
}


@pytest.mark.parametrize("form", sorted(REQUEST_FORMS))
def test_a_hook_may_take_the_request_object(
    tree: Callable[..., Path], run_bundle: Run, form: str
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": REQUEST_FORMS[form]})
    checked = run_bundle("validate", str(bundle))
    assert checked.returncode == 0, checked.stderr
    ran = run_bundle("predict", str(bundle), "-d", '{"x": 1}')
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"input": {"x": 1}, "headers": {}}


def test_a_request_parameter_needs_the_request_annotation(tree: Callable[..., Path]) -> None:
    model = "class Request:\n    pass\n\nclass Model:\n    def predict(self, model_input, request: Request):\n        return 1\n"
    report = bundle_cli.validate(tree({"config.yaml": "model_name: m\n", "model/model.py": model}))
    assert [d.code for d in report.errors] == ["hook-too-many-params"]


STREAMS = """\
class Model:
    def predict(self, model_input):
        def chunks():
            for i in range(model_input["n"]):
                if i == model_input.get("fail_at"):
                    raise RuntimeError("stream broke")
                yield {"chunk": i}
        return chunks()
"""


def test_a_returned_generator_streams_and_a_failing_stream_keeps_its_chunks(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": STREAMS})
    ran = run_bundle("predict", str(bundle), "-d", '{"n": 3}')
    assert ran.returncode == 0, ran.stderr
    assert [json.loads(line) for line in ran.stdout.splitlines()] == [
        {"chunk": 0}, {"chunk": 1}, {"chunk": 2}
    ]  # fmt: skip
    broke = run_bundle("predict", str(bundle), "-d", '{"n": 3, "fail_at": 2}')
    assert broke.returncode == 1
    assert broke.stdout.splitlines() == ['{"chunk": 0}', '{"chunk": 1}']
    assert "RuntimeError: stream broke" in broke.stderr and "model.py" in broke.stderr
    assert bundle_cli.load(bundle).predict({"n": 2}) == [{"chunk": 0}, {"chunk": 1}]


METHODS = """\
class Model:
    def is_healthy(self):
        return True

    def setup_environment(self, environment):
        pass

    def predict(self, model_input):
        return {"via": "predict"}

    def chat_completions(self, model_input):
        return {"via": "chat_completions", "messages": len(model_input["messages"])}

    async def embeddings(self, model_input):
        return {"via": "embeddings"}

    def completions(self, model_input):
        for word in model_input["prompt"].split():
            yield word
"""


def test_truss_methods_are_recognised_and_called_with_method(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": METHODS})
    checked = run_bundle("validate", str(bundle))
    assert checked.returncode == 0 and "0 errors, 0 warnings" in checked.stderr, checked.stderr
    chat = run_bundle(
        "predict", str(bundle), "--method", "chat_completions", "-d", '{"messages": [1, 2]}'
    )
    assert json.loads(chat.stdout) == {"via": "chat_completions", "messages": 2}, chat.stderr
    emb = run_bundle("predict", str(bundle), "--method", "embeddings", "-d", "{}")
    assert json.loads(emb.stdout) == {"via": "embeddings"}, emb.stderr
    words = run_bundle("predict", str(bundle), "--method", "completions", "-d", '{"prompt": "a b"}')
    assert words.stdout.splitlines() == ['"a"', '"b"'], words.stderr
    missing = run_bundle("predict", str(bundle), "--method", "messages", "-d", "{}")
    assert missing.returncode == 2 and "defines no messages" in missing.stderr


def test_a_websocket_model_without_predict_is_valid_but_not_runnable_here(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    model = (
        "class Model:\n    async def websocket(self, websocket):\n        await websocket.close()\n"
    )
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": model})
    assert run_bundle("validate", str(bundle)).returncode == 0
    ran = run_bundle("predict", str(bundle), "-d", "{}")
    assert ran.returncode == 2 and "serves a websocket" in ran.stderr


def test_default_folders_named_explicitly_may_be_missing(tree: Callable[..., Path]) -> None:
    text = "model_name: m\ndata_dir: data\nbundled_packages_dir: packages/\n"
    model = "class Model:\n    def predict(self, x):\n        return x\n"
    report = bundle_cli.validate(tree({"config.yaml": text, "model/model.py": model}))
    assert report.ok() and not report.diagnostics, [d.format() for d in report.diagnostics]
    other = bundle_cli.validate(
        tree({"config.yaml": "model_name: m\ndata_dir: weights\n", "model/model.py": model}, "b")
    )
    assert [d.code for d in other.errors] == ["data-dir-missing"]
