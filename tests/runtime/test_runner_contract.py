"""The runner contract (bundle_cli.runtime.runner): every Runner implementation passes these.

Add an implementation by appending one `pytest.param(factory, id=...)` to RUNNERS: a factory
takes a bundle folder and returns an open Runner.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bundle_cli
from bundle_cli.errors import ExitCode, InputDataError, UsageError, UserCodeError
from bundle_cli.runtime.runner import (
    BundleInfo,
    Request,
    Runner,
    error_from_json,
    error_to_json,
)

Factory = Callable[[Path], Runner]
Tree = Callable[..., Path]


def in_process(path: Path) -> Runner:
    return bundle_cli.load(path)


def isolated(path: Path) -> Runner:
    from envs.envs_kit import open_isolated_for_contract

    return open_isolated_for_contract(path)  # type: ignore[no-any-return]


RUNNERS = [pytest.param(in_process, id="in-process"), pytest.param(isolated, id="isolated")]


@pytest.fixture(params=RUNNERS)
def open_runner(request: pytest.FixtureRequest, tree: Tree) -> Iterator[Callable[..., Runner]]:
    """`open_runner(model_code, config="", files={})`: a bundle written and opened by the
    runner under test; closed after the test."""
    factory: Factory = request.param
    opened: list[Runner] = []

    def make(model: str, config: str = "", files: dict[str, str] | None = None) -> Runner:
        path = tree(
            {
                "config.yaml": f"model_name: contract\n{config}",
                "model/model.py": model,
                **(files or {}),
            },
            name=f"bundle{len(opened)}",
        )
        runner = factory(path)
        opened.append(runner)
        return runner

    yield make
    for runner in opened:
        runner.close()


ECHO = "class Model:\n    def predict(self, x):\n        return {'got': x}\n"
STREAM = "class Model:\n    def predict(self, x):\n        for i in range(x['n']):\n            yield {'i': i}\n"
BATCHED = (
    "class Model:\n"
    "    predict_batch_size = 2\n"
    "    def __init__(self):\n        self.sizes = []\n"
    "    def predict(self, xs):\n"
    "        self.sizes.append(len(xs))\n"
    "        return [{'x': x, 'batch': len(self.sizes)} for x in xs]\n"
)
RAISES = (
    "def helper(x):\n    raise ValueError(f'boom {x}')\n\n"
    "class Model:\n    def predict(self, x):\n        if x == 2:\n            helper(x)\n"
    "        return x * 10\n"
)


def lines_of(runner: Runner, request: Request) -> list[object]:
    return [json.loads(line) for line in runner.serve(request)]


def test_single_request(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(ECHO)
    assert isinstance(runner, Runner)
    assert runner.info == BundleInfo("contract", False, ("predict",), None, 1)
    assert runner.predict({"a": 1}) == {"got": {"a": 1}}
    replies = runner.serve(Request({"a": [1, 2]}, indent=2))
    text = list(replies)
    assert replies.streamed and len(text) == 1
    assert text[0] == json.dumps({"got": {"a": [1, 2]}}, indent=2)
    assert list(runner.stream(3)) == [{"got": 3}]


def test_streaming(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(STREAM)
    assert runner.info.streaming
    assert list(runner.stream({"n": 3})) == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert runner.predict({"n": 2}) == [{"i": 0}, {"i": 1}]
    replies = runner.serve(Request({"n": 3}))
    first = next(replies)  # each chunk comes as it is produced, not when the stream is done
    assert json.loads(first) == {"i": 0} and replies.streamed
    assert [json.loads(x) for x in replies] == [{"i": 1}, {"i": 2}]


def test_json_lines_one_by_one(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(ECHO)
    replies = runner.serve(Request(lines=['{"a": 1}\n', "\n", "[2]\n", "3"], label="in.jsonl"))
    assert [json.loads(x) for x in replies] == [{"got": {"a": 1}}, {"got": [2]}, {"got": 3}]
    assert not replies.streamed and replies.failures == [] and replies.count == 3
    assert list(runner.predict_many([1, 2])) == [{"got": 1}, {"got": 2}]


def test_json_lines_in_batches(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(BATCHED)
    assert runner.info.batch_size == 2
    lines = [f"{n}\n" for n in range(5)]
    outs = lines_of(runner, Request(lines=lines, label="in.jsonl"))
    assert outs == [{"x": n, "batch": n // 2 + 1} for n in range(5)]
    outs = lines_of(runner, Request(lines=lines, label="in.jsonl", batch_size=3))
    assert [o["batch"] for o in outs] == [4, 4, 4, 5, 5]  # type: ignore[index]
    assert [o["x"] for o in runner.predict_many(range(3), batch_size=1)] == [0, 1, 2]


def test_batch_size_refused_before_any_output(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(ECHO)
    with pytest.raises(UsageError, match="does not take batches"):
        runner.serve(Request(lines=["1"], batch_size=2))


def test_files(open_runner: Callable[..., Runner], tmp_path: Path) -> None:
    model = (
        "class Model:\n"
        "    def preprocess(self, x, files):\n"
        "        return {'x': x, 'files': [(f.name, f.read().decode()) for f in files]}\n"
        "    def predict(self, x):\n        return x\n"
    )
    runner = open_runner(model)
    doc = tmp_path / "doc.txt"
    doc.write_text("hello", encoding="utf-8")
    want = {"x": 1, "files": [["doc", "hello"]]}
    assert lines_of(runner, Request(1, files=[("doc", doc)])) == [want]
    assert runner.predict(1, {"doc": doc}) == want
    with pytest.raises(UsageError, match="no such file"):
        runner.serve(Request(1, files=[("doc", tmp_path / "missing")]))


def test_typed_input_errors(open_runner: Callable[..., Runner]) -> None:
    model = (
        "from pydantic import BaseModel\n\n"
        "class In(BaseModel):\n    n: int\n\n"
        "class Model:\n    def predict(self, x: In) -> dict:\n        return {'n': x.n}\n"
    )
    runner = open_runner(model)
    assert runner.info.input_schema is not None
    assert runner.info.input_schema["properties"]["n"]["type"] == "integer"
    assert runner.predict({"n": 3}) == {"n": 3}
    with pytest.raises(InputDataError) as caught:
        list(runner.serve(Request(lines=['{"n": 1}', '{"n": "x"}'], label="in.jsonl")))
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert "in.jsonl:2" in caught.value.message and "n" in caught.value.message


def test_user_traceback_is_carried_as_data(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(RAISES)
    with pytest.raises(UserCodeError) as caught:
        runner.predict(2)
    error = caught.value
    assert error.exit_code == ExitCode.USER_CODE and error.raised == "ValueError"
    assert "ValueError: boom 2" in error.user_traceback
    assert "in helper" in error.user_traceback and "bundle_cli" not in error.user_traceback
    again = error_from_json(json.loads(json.dumps(error_to_json(error))))
    assert type(again) is type(error) and str(again) == str(error)
    assert again.user_traceback == error.user_traceback and again.raised == "ValueError"


def test_timeout(open_runner: Callable[..., Runner]) -> None:
    model = (
        "import time\n\nclass Model:\n    def predict(self, x):\n"
        "        end = time.monotonic() + x\n"
        "        while time.monotonic() < end:\n            time.sleep(0.005)\n"
        "        return 'done'\n"
    )
    runner = open_runner(model)
    with pytest.raises(UserCodeError, match=r"did not finish within --timeout 0\.2 s") as caught:
        list(runner.serve(Request(30, timeout=0.2)))
    assert "in predict" in caught.value.user_traceback  # where the model was
    assert runner.predict(0.01, timeout=5) == "done"


def test_keep_going_records(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(RAISES)
    replies = runner.serve(
        Request(lines=["1", "{bad", "2", "3"], label="in.jsonl", keep_going=True)
    )
    outs = [json.loads(x) for x in replies]
    assert outs[0] == 10 and outs[3] == 30
    assert outs[1]["error"]["line"] == 2 and outs[1]["error"]["code"] == "invalid_input"
    assert outs[1]["error"]["exit_code"] == 3
    assert outs[2]["error"] == {
        "line": 3,
        "code": "user_code",
        "message": "in.jsonl:3: the model's predict raised ValueError: boom 2",
        "exit_code": 1,
    }
    assert [f.exit_code for f in replies.failures] == [3, 1]
    assert [getattr(f, "line", None) for f in replies.failures] == ["in.jsonl:2", "in.jsonl:3"]


def test_keep_going_off_stops_at_the_first_failure(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(RAISES)
    replies = runner.serve(Request(lines=["1", "2", "3"], label="in.jsonl"))
    assert json.loads(next(replies)) == 10
    with pytest.raises(UserCodeError, match=r"in\.jsonl:2: the model.s predict raised"):
        next(replies)


ASYNC = (
    "import asyncio\n\nclass Model:\n"
    "    async def predict(self, x):\n"
    "        await asyncio.sleep(0)\n"
    "        for i in range(x):\n            yield i\n"
)


def test_async_hooks(open_runner: Callable[..., Runner]) -> None:
    runner = open_runner(ASYNC)

    async def main() -> tuple[object, list[object]]:
        got = await runner.apredict(3)
        chunks = [c async for c in runner.astream(2)]
        return got, chunks

    assert asyncio.run(main()) == ([0, 1, 2], [0, 1])
    assert runner.predict(2) == [0, 1]  # and the sync facade still works afterwards
