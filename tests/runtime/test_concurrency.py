"""One loaded bundle driven from several threads and from running event loops: the
predict_concurrency limit (measured overlap), timeouts off the main thread and in a loop, and
import scopes that never leak between bundles."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import bundle_cli
from bundle_cli.runtime.usertrace import PredictTimeoutError

Copy = Callable[[str], Path]
Tree = Callable[..., Path]

# predict counts the calls inside it and waits (up to 2 s) until `together` are inside at once
# (or the last of `total` calls has started), then stays a little longer: a limit that let more
# in would show a larger overlap.
COUNTING = """
import threading, time

STATE = {"inside": 0, "most": 0, "started": 0, "pre_saw_predict": 0}
CHANGED = threading.Condition()


class Model:
    def preprocess(self, x):
        with CHANGED:
            CHANGED.wait_for(lambda: STATE["inside"] > 0, timeout=x.get("pre_wait", 0))
            STATE["pre_saw_predict"] += STATE["inside"] > 0
        return x

    def predict(self, x):
        with CHANGED:
            STATE["inside"] += 1
            STATE["started"] += 1
            STATE["most"] = max(STATE["most"], STATE["inside"])
            CHANGED.notify_all()
            CHANGED.wait_for(
                lambda: STATE["inside"] >= x["together"] or STATE["started"] >= x.get("total", 0),
                timeout=2,
            )
        time.sleep(0.03)
        with CHANGED:
            STATE["inside"] -= 1
            CHANGED.notify_all()
        return dict(STATE)
"""

ASYNC_COUNTING = """
import asyncio

STATE = {"inside": 0, "most": 0, "started": 0}


class Model:
    async def predict(self, x):
        STATE["inside"] += 1
        STATE["started"] += 1
        STATE["most"] = max(STATE["most"], STATE["inside"])
        for _ in range(200):  # up to 2 s for `together` calls to be inside at once
            if STATE["inside"] >= x["together"] or STATE["started"] >= x.get("total", 0):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.03)
        STATE["inside"] -= 1
        return dict(STATE)
"""


def _bundle(tree: Tree, code: str, concurrency: int | None) -> Any:
    runtime = f"runtime:\n  predict_concurrency: {concurrency}\n" if concurrency else ""
    path = tree({"config.yaml": f"model_name: counting\n{runtime}", "model/model.py": code})
    return bundle_cli.load(path)


def _threads(call: Callable[[], Any], count: int) -> list[Any]:
    start = threading.Barrier(count)

    def one() -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: one(), range(count)))


def test_threads_share_one_bundle_up_to_predict_concurrency(tree: Tree) -> None:
    bundle = _bundle(tree, COUNTING, 2)
    assert bundle.info.predict_concurrency == 2
    outs = _threads(lambda: bundle.predict({"together": 2, "total": 5}), 5)
    assert max(o["most"] for o in outs) == 2  # two at once, never three
    bundle.close()


def test_the_default_limit_is_one_and_preprocess_runs_beside_predict(tree: Tree) -> None:
    bundle = _bundle(tree, COUNTING, None)
    assert bundle.info.predict_concurrency == 1
    outs = _threads(lambda: bundle.predict({"together": 1}), 3)
    assert max(o["most"] for o in outs) == 1
    # preprocess runs outside the limit (as in Truss): while one request is inside predict,
    # another one's preprocess (which waits up to 1 s to see that) runs
    before = bundle.predict({"together": 1})["pre_saw_predict"]
    requests = iter([{"together": 1}, {"together": 1, "pre_wait": 1}])
    _threads(lambda: bundle.predict(next(requests)), 2)
    assert bundle.predict({"together": 1})["pre_saw_predict"] == before + 1
    bundle.close()


def test_async_hooks_on_the_callers_loop_up_to_the_limit(tree: Tree) -> None:
    bundle = _bundle(tree, ASYNC_COUNTING, 3)

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(bundle.apredict({"together": 3, "total": 7}) for _ in range(7))
        )

    outs = asyncio.run(main())
    assert max(o["most"] for o in outs) == 3
    # the sync facade, called from inside a running loop, works too (on the bundle's own loop)

    async def inside() -> Any:
        return bundle.predict({"together": 1})

    assert asyncio.run(inside()) == {"inside": 0, "most": 3, "started": 8}
    bundle.close()


def test_sync_predict_under_apredict_runs_in_a_pool_of_the_limit(tree: Tree) -> None:
    bundle = _bundle(tree, COUNTING, 2)

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(bundle.apredict({"together": 2, "total": 5}) for _ in range(5))
        )

    outs = asyncio.run(main())
    assert max(o["most"] for o in outs) == 2
    bundle.close()


def test_a_timeout_in_a_worker_thread(bundle_copy: Copy) -> None:
    bundle = bundle_cli.load(bundle_copy("slow"))
    caught: list[BaseException] = []

    def call() -> None:
        try:
            bundle.predict({"seconds": 5}, timeout=0.3)
        except PredictTimeoutError as exc:
            caught.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=call)
    worker.start()
    worker.join(5)
    assert time.monotonic() - started < 2 and len(caught) == 1
    assert "in wait_here" in caught[0].user_traceback  # type: ignore[attr-defined]
    assert "DeadlineExceeded" not in caught[0].user_traceback  # type: ignore[attr-defined]
    with ThreadPoolExecutor(1) as pool:  # the watchdog was disarmed: a quick call still works
        assert pool.submit(bundle.predict, {"seconds": 0.3}, timeout=2).result() == "done"


def test_a_timeout_inside_an_event_loop(tree: Tree, bundle_copy: Copy) -> None:
    code = (
        "import asyncio\n\nasync def wait_here():\n    await asyncio.sleep(10)\n\n"
        "class Model:\n    async def predict(self, x):\n        await wait_here()\n"
        "        return 'done'\n"
    )
    path = tree({"config.yaml": "model_name: sleepy\n", "model/model.py": code})
    bundle, slow = bundle_cli.load(path), bundle_cli.load(bundle_copy("slow"))

    async def main() -> list[BaseException]:
        calls = [
            bundle.apredict(1, timeout=0.3),  # an async hook: cancelled at its await
            slow.apredict({"seconds": 5}, timeout=0.3),  # a sync hook, in a worker thread
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    started = time.monotonic()
    errors = asyncio.run(main())
    assert time.monotonic() - started < 2
    assert all(isinstance(e, PredictTimeoutError) for e in errors), errors
    assert "in wait_here" in errors[0].user_traceback  # type: ignore[attr-defined]
    assert "in wait_here" in errors[1].user_traceback  # type: ignore[attr-defined]
    # the sync facade's timeout for an async hook: asyncio.timeout on the bundle's own loop
    with pytest.raises(PredictTimeoutError):
        bundle.predict(1, timeout=0.2)
    bundle.close()
    slow.close()


def test_two_bundles_from_many_threads_never_see_each_others_modules(bundle_copy: Copy) -> None:
    a, b = bundle_cli.load(bundle_copy("twin_a")), bundle_cli.load(bundle_copy("twin_b"))

    def calls(bundle: Any) -> list[Any]:
        return [bundle.predict({}) for _ in range(15)]

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(calls, bundle) for bundle in (a, b, a, b, a, b)]
        outs = [f.result() for f in futures]
    for n, got in enumerate(outs):
        side = "a" if n % 2 == 0 else "b"
        assert {(o["label"], o["helper"], o["suffix"]) for o in got} == {
            (f"label-{side}", f"helpers-{side}", f"lazy-{side}")
        }
    a.close()
    b.close()


def test_a_bundle_driving_another_from_its_own_code(tree: Tree, bundle_copy: Copy) -> None:
    # The inner bundle's scope goes on top of the outer one's and is taken off again: each sees
    # its own `helpers` package, before and after.
    code = (
        "import helpers\n\nimport bundle_cli\n\n\nclass Model:\n"
        "    def predict(self, other):\n"
        "        with bundle_cli.load(other) as inner:\n"
        "            got = inner.predict({})\n"
        "        import helpers.extra\n"
        "        return {'inner': got['helper'], 'mine': helpers.NAME, 'extra': helpers.extra.X}\n"
    )
    outer = tree(
        {
            "config.yaml": "model_name: outer\n",
            "model/model.py": code,
            "packages/helpers/__init__.py": "NAME = 'helpers-outer'\n",
            "packages/helpers/extra.py": "X = 'extra-outer'\n",
        }
    )
    inner = bundle_copy("twin_b")
    with bundle_cli.load(outer) as bundle:
        got = _threads(lambda: bundle.predict(str(inner)), 2)
    want = {"inner": "helpers-b", "mine": "helpers-outer", "extra": "extra-outer"}
    assert got == [want, want]
