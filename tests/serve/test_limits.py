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
