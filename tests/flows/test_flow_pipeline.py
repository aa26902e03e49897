"""Running flows: arity of pre/post, async functions, files, the end type, chaining stages."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import IDENTITY_MODEL, flow_config, request_files

from bundle_cli.errors import InputDataError, InvalidBundleError, UserCodeError

PRE = {
    1: "def pre(data):\n    return {'pre_got': [data]}\n",
    2: "def pre(data, files):\n    return {'pre_got': [data, [f.read().decode() for f in files]]}\n",
}
POST = {
    1: "def post(result):\n    return {'post_got': [result]}\n",
    2: "def post(result, original):\n    return {'post_got': [result, original]}\n",
    3: "def post(result, original, files):\n"
    "    return {'post_got': [result, original, [f.name for f in files]]}\n",
}


def one_stage(tree: Callable[..., Path], functions: str, **stage: Any) -> Path:
    spec = {"name": "only", "model": "model.py", "type": "python", **stage}
    return tree(
        {
            "config.yaml": flow_config([spec]),
            "model.py": IDENTITY_MODEL,
            "packages/fns.py": functions,
        }
    )


@pytest.mark.parametrize(("n_pre", "n_post"), list(product(PRE, POST)))
def test_pre_and_post_get_what_their_arity_asks_for(
    tree: Callable[..., Path], run_flow: Callable[..., Any], n_pre: int, n_post: int
) -> None:
    bundle = one_stage(tree, PRE[n_pre] + POST[n_post], pre="fns:pre", post="fns:post")
    files = request_files(**{"a.txt": b"AAA"})
    out = run_flow(bundle, "hello", files)
    pre_out = {"pre_got": ["hello", ["AAA"]][:n_pre]}
    assert out == {"post_got": [pre_out, "hello", ["a.txt"]][:n_post]}


def test_varargs_take_the_most_each_slot_offers(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = "def pre(*args):\n    return len(args)\n\ndef post(result, *rest):\n    return [result, len(rest)]\n"
    bundle = one_stage(tree, fns, pre="fns:pre", post="fns:post")
    assert run_flow(bundle, "x", request_files(f=b"")) == [2, 2]


@pytest.mark.parametrize(
    ("slot", "source", "why"),
    [
        (
            "pre",
            "def f(a, b, c):\n    return a\n",
            "takes 3 positional parameters; it must take 1 to 2",
        ),
        (
            "post",
            "def f(a, b, c, d):\n    return a\n",
            "takes 4 positional parameters; it must take 1 to 3",
        ),
        ("post", "def f():\n    return 1\n", "takes 0 positional parameters"),
        (
            "pre",
            "def f(a, *, k):\n    return a\n",
            "has a keyword-only parameter without a default",
        ),
    ],
)
def test_a_function_with_a_wrong_arity_is_refused_at_load(
    tree: Callable[..., Path], run_flow: Callable[..., Any], slot: str, source: str, why: str
) -> None:
    # `bundle validate` refuses such a `def` itself; bound by assignment, only the imported
    # function shows its signature, so the check when the flow loads is the one that refuses.
    source = source.replace("def f(", "def _f(") + "\n\nf = _f\n"
    bundle = one_stage(tree, source, **{slot: "fns:f"})
    with pytest.raises(InvalidBundleError) as caught:
        run_flow(bundle, "x")
    assert f"flow stage 'only': {slot} function fns:f {why}" in caught.value.message
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.file == str(bundle / "packages/fns.py") and diagnostic.line == 1


def test_async_functions_and_hooks_are_awaited(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = (
        "import asyncio\n\n"
        "async def pre(data):\n    await asyncio.sleep(0)\n    return data + 1\n\n"
        "async def post(result, original):\n    await asyncio.sleep(0)\n    return [result, original]\n"
    )
    model = "class Model:\n    async def predict(self, x):\n        return x * 10\n"
    bundle = one_stage(tree, fns, pre="fns:pre", post="fns:post")
    (bundle / "model.py").write_text(model)
    assert run_flow(bundle, 4) == [50, 4]


def test_under_the_async_api_a_flow_never_runs_on_the_callers_loop(
    tree: Callable[..., Path], isolated_imports: None
) -> None:
    # A flow is a sync model: `apredict` runs it in a worker thread, as any sync predict, so
    # a slow sync pre function (and an async one, on the bundle's own loop) leaves the
    # caller's loop free to serve other work meanwhile.
    import asyncio
    import threading

    import bundle_cli

    fns = (
        "import asyncio, threading, time\n\n"
        "def pre(data):\n    time.sleep(0.3)\n    return {'pre': threading.get_ident()}\n\n"
        "async def post(result):\n    await asyncio.sleep(0.3)\n"
        "    return dict(result, post=threading.get_ident())\n"
    )
    bundle = one_stage(tree, fns, pre="fns:pre", post="fns:post")

    async def main() -> tuple[Any, int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        with bundle_cli.load(bundle) as loaded:
            out = await loaded.apredict("x", raw=True)
        task.cancel()
        return out, ticks, threading.get_ident()

    out, ticks, loop_thread = asyncio.run(main())
    assert loop_thread not in (out["pre"], out["post"])
    assert ticks >= 20  # the loop ticked all through the 0.6 s of the flow's functions


def test_each_stage_feeds_the_next_and_every_post_sees_the_flow_input(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = (
        "def double(result):\n    return result * 2\n\n"
        "def tag(result, original):\n    return {'result': result, 'original': original}\n"
    )
    stages = [
        {"name": "first", "model": "model.py", "type": "python", "post": "fns:double"},
        {"name": "second", "model": "model.py", "type": "python", "post": "fns:tag"},
    ]
    bundle = tree(
        {"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL, "packages/fns.py": fns}
    )
    assert run_flow(bundle, 21) == {"result": 42, "original": 21}


def test_files_reach_every_stage_from_their_start(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = (
        "def read(data, files):\n    return data + [f.read().decode() for f in files]\n\n"
        "def names(result, original, files):\n    return {'seen': result, 'names': [f.name for f in files]}\n"
    )
    stages = [
        {"name": "a", "model": "model.py", "type": "python", "pre": "fns:read"},
        {
            "name": "b",
            "model": "model.py",
            "type": "python",
            "pre": "fns:read",
            "post": "fns:names",
        },
    ]
    bundle = tree(
        {"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL, "packages/fns.py": fns}
    )
    files = request_files(**{"one.bin": b"1", "two.bin": b"2"})
    out = run_flow(bundle, [], files)
    assert out == {"seen": ["1", "2", "1", "2"], "names": ["one.bin", "two.bin"]}


def test_a_stage_without_functions_passes_values_straight_on(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    stages = [{"name": n, "model": "model.py", "type": "python"} for n in ("a", "b")]
    bundle = tree({"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL})
    assert run_flow(bundle, {"k": [1, 2]}) == {"k": [1, 2]}


@pytest.mark.parametrize("value", ["'text'", "3", "None", "(1, 2)", "{1, 2}"])
def test_an_end_result_of_another_type_is_an_error_naming_the_last_stage(
    tree: Callable[..., Path], run_flow: Callable[..., Any], value: str
) -> None:
    fns = f"def post(result):\n    return {value}\n"
    stages = [
        {"name": "first", "model": "model.py", "type": "python"},
        {"name": "last-one", "model": "model.py", "type": "python", "post": "fns:post"},
    ]
    bundle = tree(
        {"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL, "packages/fns.py": fns}
    )
    with pytest.raises(UserCodeError) as caught:
        run_flow(bundle, [1])
    kind = type(eval(value)).__name__
    assert caught.value.message == (
        f"error: flow stage 'last-one' (the last) returned {kind}; "
        "a flow's result must be a dict, list, numpy array or torch tensor"
    )


def test_a_middle_stage_may_return_any_type(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = "def text(result):\n    return 'mid'\n\ndef wrap(result):\n    return [result]\n"
    stages = [
        {"name": "a", "model": "model.py", "type": "python", "post": "fns:text"},
        {"name": "b", "model": "model.py", "type": "python", "post": "fns:wrap"},
    ]
    bundle = tree(
        {"config.yaml": flow_config(stages), "model.py": IDENTITY_MODEL, "packages/fns.py": fns}
    )
    assert run_flow(bundle, 1) == ["mid"]


@pytest.mark.parametrize("make", ["np.arange(3)", "torch.arange(3)"])
def test_arrays_and_tensors_are_valid_end_results(
    tree: Callable[..., Path], run_flow: Callable[..., Any], make: str
) -> None:
    fns = f"def post(result):\n    import numpy as np\n    import torch\n    return {make}\n"
    bundle = one_stage(tree, fns, post="fns:post")
    assert list(np.asarray(run_flow(bundle, 0))) == [0, 1, 2]


def test_an_exception_in_a_function_is_user_code_error_with_its_own_frames(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    fns = "def pre(data):\n    return 1 / data\n"
    bundle = one_stage(tree, fns, pre="fns:pre")
    with pytest.raises(UserCodeError) as caught:
        run_flow(bundle, 0)
    error = caught.value
    assert (
        error.message == "error: flow stage 'only': pre function fns:pre raised ZeroDivisionError"
    )
    assert error.user_traceback.endswith("ZeroDivisionError: division by zero\n")
    assert str(bundle / "packages/fns.py") in error.user_traceback
    assert "bundle_cli" not in error.user_traceback


TYPED_MODEL = """\
from pydantic import BaseModel


class Point(BaseModel):
    x: int
    y: int


class Model:
    def predict(self, point: Point):
        return {"sum": point.x + point.y, "parsed": type(point).__name__}
"""


def test_a_python_stage_gets_typed_input_as_a_model_does(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    stage = {"name": "only", "model": "model.py", "type": "python"}
    bundle = tree({"config.yaml": flow_config([stage]), "model.py": TYPED_MODEL})
    assert run_flow(bundle, {"x": 1, "y": "2"}) == {"sum": 3, "parsed": "Point"}
    with pytest.raises(InputDataError) as caught:
        run_flow(bundle, {"x": 1})
    assert caught.value.message == (
        "flow stage 'only': the input does not match Point (1 problem):\n  input.y: Field required"
    )


REQUEST_MODEL = """\
class Model:
    async def predict(self, x, request: "fastapi.Request"):
        return {"x": x, "body": await request.json(), "method": request.method}
"""


def test_a_python_stage_hook_that_names_the_request_gets_it_as_a_model_hook_does(
    tree: Callable[..., Path], run_flow: Callable[..., Any]
) -> None:
    stage = {"name": "only", "model": "model.py", "type": "python"}
    bundle = tree({"config.yaml": flow_config([stage]), "model.py": REQUEST_MODEL})
    assert run_flow(bundle, [5]) == {"x": [5], "body": [5], "method": "POST"}


def test_closing_a_flow_bundle_ends_the_loops_of_its_functions_and_stages(
    tree: Callable[..., Path], isolated_imports: None
) -> None:
    # An async pre function runs on the flow's own loop and an async stage hook on its stage
    # pipeline's loop; each loop's thread starts when a second caller needs it, so drive the
    # bundle from two threads at once, then close it: no loop thread of the bundle is left.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import bundle_cli

    fns = "import asyncio\n\nasync def pre(data):\n    await asyncio.sleep(0.2)\n    return data + 1\n"
    model = (
        "import asyncio\n\nclass Model:\n    async def predict(self, x):\n"
        "        await asyncio.sleep(0.2)\n        return [x * 10]\n"
    )
    bundle = one_stage(tree, fns, pre="fns:pre")
    (bundle / "model.py").write_text(model)
    (bundle / "config.yaml").write_text(
        (bundle / "config.yaml").read_text() + "runtime:\n  predict_concurrency: 2\n"
    )

    def loop_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "bundle-loop"]

    before = len(loop_threads())
    loaded = bundle_cli.load(bundle)
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(loaded.predict, [1, 2])) == [[20], [30]]
    assert len(loop_threads()) > before  # the loops did start their threads
    loaded.close()
    assert len(loop_threads()) == before
