"""Back-pressure of a real server: a bounded queue answered 503 at once, --timeout as 504."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import build_tree
from tests.serve.conftest import KITCHEN, SECRET, Server


def _metric(server: Server, name: str) -> float:
    for line in server.client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _in_thread(server: Server, body: dict, results: list) -> threading.Thread:
    def call() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            results.append(client.post("/v1/models/model:predict", json=body))

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_full_queue_is_503_at_once_then_504_past_the_timeout(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    server = serve(
        bundle, "--max-queue", "1", "--timeout", "1.5", "--log-format", "json",
        "--secret", f"api_token={SECRET}",
    )  # fmt: skip
    results: list[httpx.Response] = []
    running = _in_thread(server, {"op": "sleep", "seconds": 1.0}, results)
    _until(lambda: _metric(server, "bundle_serve_in_flight") >= 2)  # it, and the metrics call
    waiting = _in_thread(server, {"op": "sleep", "seconds": 0.05}, results)
    _until(lambda: _metric(server, "bundle_serve_queued") == 1)
    start = time.monotonic()
    refused = server.client.post("/v1/models/model:predict", json={})
    assert time.monotonic() - start < 0.5
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["type"] == "QueueFull"
    running.join()
    waiting.join()
    assert sorted(r.status_code for r in results) == [200, 200]

    start = time.monotonic()
    late = server.client.post("/v1/models/model:predict", json={"op": "sleep", "seconds": 2.5})
    took = time.monotonic() - start
    assert late.status_code == 504 and late.json()["type"] == "Timeout", late.text
    assert 1.4 < took < 2.3
    # the model is still asleep: its slot stays taken until it is really done
    start = time.monotonic()
    after = server.client.post("/v1/models/model:predict", json={"n": 1})
    assert after.status_code == 200
    assert time.monotonic() - start > 0.4
    _until(lambda: '"status": 504' in server.stderr())
    records = [json.loads(line) for line in server.stderr().splitlines() if line.startswith("{")]
    access = [r for r in records if "status" in r]
    assert {r["status"] for r in access} >= {200, 503, 504}
    assert all(r["request_id"] and r["path"] and r["duration_ms"] >= 0 for r in access)
    assert any(r.get("level") == "info" and "ready" in r["message"] for r in records)


WHERE_MODEL = """
import threading
import time


class Model:
    def __init__(self, **kwargs):
        self._lock = threading.Lock()
        self._inside = self._most = 0
        self._met = threading.Barrier(2, timeout=20)

    def preprocess(self, model_input):
        if model_input.get("meet"):
            self._met.wait()  # passes only when two preprocesses run at once
        return dict(model_input, pre=threading.current_thread().name)

    def predict(self, model_input):
        with self._lock:
            self._inside += 1
            self._most = max(self._most, self._inside)
        time.sleep(model_input.get("seconds", 0))
        with self._lock:
            self._inside -= 1
        return dict(model_input, predict=threading.current_thread().name, most=self._most)

    async def postprocess(self, model_output):
        return dict(model_output, post=threading.current_thread().name)
"""


def test_pre_and_postprocess_run_outside_the_predict_limit_sync_in_threads_async_on_the_loop(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    bundle = build_tree(
        tmp_path / "where",
        {
            "config.yaml": "model_name: where\nruntime:\n  predict_concurrency: 1\n",
            "model/__init__.py": "",
            "model/model.py": WHERE_MODEL,
        },
    )
    server = serve(bundle)
    results: list[httpx.Response] = []
    threads = [_in_thread(server, {"meet": True, "seconds": 0.2}, results) for _ in range(2)]
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    outs = [r.json() for r in results]
    assert max(o["most"] for o in outs) == 1  # predict itself stayed within its limit
    for out in outs:
        assert out["pre"].startswith("bundle-hook")  # a sync hook: a worker thread
        assert out["predict"].startswith("bundle-predict")
        assert out["post"] == "MainThread"  # an async hook: the server's own loop
