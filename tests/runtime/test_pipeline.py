"""preprocess -> predict -> postprocess: arities, async hooks, streaming, files, batches, timeouts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import InvalidBundleError, PredictTimeoutError, UsageError, UserCodeError

Copy = Callable[[str], Path]
Tree = Callable[..., Path]

PRE = {
    None: "",
    1: "    def preprocess(self, x):\n        return {'pre': x}\n",
    2: "    def preprocess(self, x, files):\n        return {'pre': x, 'pre_files': len(files)}\n",
    # an optional second parameter still receives the files
    "2opt": "    def preprocess(self, x, files=None):\n"
    "        return {'pre': x, 'pre_files': None if files is None else len(files)}\n",
}
POST = {
    None: "",
    1: "    def postprocess(self, y):\n        return {'post': y}\n",
    2: "    def postprocess(self, y, original):\n        return {'post': y, 'original': original}\n",
    3: "    def postprocess(self, y, original, files):\n"
    "        return {'post': y, 'original': original, 'post_files': [f.name for f in files]}\n",
}


def _model(pre: object, post: object) -> str:
    return (
        "class Model:\n"
        f"{PRE[pre]}"  # type: ignore[index]
        "    def predict(self, x):\n        return {'predicted': x}\n"
        f"{POST[post]}"  # type: ignore[index]
    )


@pytest.mark.parametrize("pre", list(PRE))
@pytest.mark.parametrize("post", list(POST))
def test_every_pre_and_post_arity(tree: Tree, pre: object, post: object) -> None:
    path = tree({"config.yaml": "model_name: arity\n", "model/model.py": _model(pre, post)})
    out = bundle_cli.load(path).predict({"a": 1}, files={"doc": b"xyz"})
    data: object = {"a": 1}
    if pre == 1:
        data = {"pre": data}
    elif pre in (2, "2opt"):
        data = {"pre": data, "pre_files": 1}
    expected: object = {"predicted": data}
    if post == 1:
        expected = {"post": expected}
    elif post == 2:
        expected = {"post": expected, "original": {"a": 1}}
    elif post == 3:
        expected = {"post": expected, "original": {"a": 1}, "post_files": ["doc"]}
    assert out == expected


def test_files_reach_pre_and_post_in_order_and_rewound(bundle_copy: Copy, tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("alpha")
    second.write_text("be")
    bundle = bundle_cli.load(bundle_copy("files"))
    out = bundle.predict({"labels": ["one", "two"]}, files=[("one", first), ("two", second)])
    assert out == {
        "lengths": {"one": 5, "two": 2},
        "names": ["one", "two"],
        "first_bytes": ["al", "be"],  # postprocess reads from the start again
        "labels": ["one", "two"],
    }


def test_async_hooks_are_awaited_including_load(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("async_hooks"))
    assert bundle.predict({"x": 1}) == {"y": 101, "original": {"x": 1}}
    assert bundle.predict({"x": 2})["y"] == 102  # the same loop serves later requests


def test_async_bundle_runs_inside_a_running_loop(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("async_hooks"))

    async def inside() -> object:  # the sync API: on the bundle's own loop, in its thread
        return bundle.predict({"x": 1})

    assert asyncio.run(inside()) == {"y": 101, "original": {"x": 1}}

    async def awaited() -> object:  # the async API: on this loop
        return await bundle.apredict({"x": 5})

    assert asyncio.run(awaited()) == {"y": 105, "original": {"x": 5}}


def test_sync_generator_streams_chunks(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("stream_sync"))
    assert bundle.streaming
    chunks = bundle.stream({"count": 3})
    assert next(chunks) == {"chunk": 0}  # produced before the generator finished
    assert list(chunks) == [{"chunk": 1}, {"chunk": 2}]
    assert bundle.predict({"count": 2}) == [{"chunk": 0}, {"chunk": 1}]


def test_async_generator_streams_chunks(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("stream_async"))
    assert list(bundle.stream({"text": "a b c"})) == ["A", "B", "C"]


def test_generator_with_postprocess_is_refused_before_anything_runs(tree: Tree) -> None:
    marker = tree({}, name="marker") / "loaded"
    source = (
        f"class Model:\n    def load(self):\n        open({str(marker)!r}, 'w').close()\n"
        "    def predict(self, x):\n        yield x\n"
        "    def postprocess(self, y):\n        return y\n"
    )
    path = tree({"config.yaml": "model_name: s\n", "model/model.py": source})
    with pytest.raises(InvalidBundleError) as info:
        bundle_cli.load(path)
    (diag,) = info.value.diagnostics
    assert diag.code == "hook-generator-postprocess"
    assert diag.file == str(path / "model/model.py") and diag.line is not None
    assert not marker.exists()


def test_batched_model_gets_lists_and_outputs_keep_order(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("batched"))
    outs = list(bundle.predict_many([{"v": i} for i in range(10)]))
    assert [o["double"] for o in outs] == [2 * i for i in range(10)]
    assert [o["batch"] for o in outs] == [4] * 8 + [2] * 2  # the declared size, then the rest
    outs = list(bundle.predict_many(({"v": i} for i in range(5)), batch_size=2))
    assert [o["batch"] for o in outs] == [2, 2, 2, 2, 1]
    assert bundle.predict({"v": 7}) == {"v": 7, "double": 14, "batch": 1}


def test_batch_size_for_a_model_without_batches_says_how_to_declare(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("echo"))
    with pytest.raises(UsageError) as info:
        list(bundle.predict_many([1, 2], batch_size=2))
    assert "predict_batch_size = N" in str(info.value)


def test_batched_predict_returning_the_wrong_length(tree: Tree) -> None:
    path = tree(
        {
            "config.yaml": "model_name: b\n",
            "model/model.py": "class Model:\n    predict_batch_size = 3\n"
            "    def predict(self, xs):\n        return xs[:1]\n",
        }
    )
    with pytest.raises(UserCodeError, match="returned 1 outputs for a batch of 3"):
        list(bundle_cli.load(path).predict_many([1, 2, 3]))


def test_timeout_stops_the_request_and_shows_where(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("slow"))
    start = time.monotonic()
    with pytest.raises(PredictTimeoutError) as info:
        bundle.predict({"seconds": 5}, timeout=0.3)
    assert time.monotonic() - start < 2
    assert info.value.exit_code == 1
    assert "--timeout 0.3 s" in info.value.message
    assert "in wait_here" in info.value.user_traceback
    assert "DeadlineExceeded" not in info.value.user_traceback
    assert bundle.predict({"seconds": 0.01}, timeout=2) == "done"  # the alarm was cleared


@pytest.mark.parametrize("hook", ["__init__", "load", "preprocess", "predict", "postprocess"])
def test_an_error_in_each_hook(tree: Tree, hook: str) -> None:
    body = {h: "        return x\n" for h in ("preprocess", "predict", "postprocess")}
    body["__init__"] = body["load"] = "        pass\n"
    body[hook] = "        fail_here()\n"
    args = {"__init__": "self", "load": "self"}
    source = "def fail_here():\n    raise ValueError('broken on purpose')\n\n\nclass Model:\n"
    for name, text in body.items():
        source += f"    def {name}({args.get(name, 'self, x')}):\n{text}"
    path = tree({"config.yaml": "model_name: e\n", "model/model.py": source})
    with pytest.raises(UserCodeError) as info:
        bundle_cli.load(path).predict(1)
    assert info.value.message == f"error: the model's {hook} raised ValueError"
    trace = info.value.user_traceback
    assert f"in {hook}" in trace and "in fail_here" in trace
    assert trace.rstrip().endswith("ValueError: broken on purpose")
    assert "bundle_cli" not in trace
