"""A real server's life: readiness while loading, a failed load, drain on SIGTERM, a second
signal, archives served as folders, the missing extra, and no server imports elsewhere."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import build_tree, bundle_executable, isolated_env
from tests.serve.conftest import KITCHEN, SECRET, Server, launch, read_url

SLOW_LOAD = {
    "config.yaml": "model_name: slow-load\n",
    "model/__init__.py": "",
    "model/model.py": (
        "import os\nimport time\n\n\nclass Model:\n    def load(self):\n"
        "        time.sleep(float(os.environ.get('LOAD_SECONDS', '0')))\n\n"
        "    def predict(self, model_input):\n        time.sleep(model_input.get('seconds', 0))\n"
        "        return model_input\n"
    ),
}


def test_ready_is_503_until_load_finished_then_live_throughout(home: Path, tmp_path: Path) -> None:
    bundle = build_tree(tmp_path / "slow", SLOW_LOAD)
    proc, log = launch(bundle, home=home, env={"LOAD_SECONDS": "1"})
    try:
        url = read_url(proc, log)
        with httpx.Client(base_url=url, timeout=10) as client:
            early = client.get("/v1/models/model")
            assert early.status_code == 503 and early.headers["retry-after"] == "1"
            assert "not ready" in early.json()["error"]
            assert client.get("/").json() is True
            assert client.post("/v1/models/model:predict", json={}).status_code == 503
            deadline = time.monotonic() + 20
            while client.get("/v1/models/model").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert client.post("/v1/models/model:predict", json={"a": 1}).json() == {"a": 1}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 143


def test_a_failed_load_exits_1_with_the_models_traceback(home: Path, tmp_path: Path) -> None:
    bundle = build_tree(
        tmp_path / "broken",
        {
            "config.yaml": "model_name: broken\n",
            "model/__init__.py": "",
            "model/model.py": "class Model:\n    def load(self):\n        raise OSError('weights missing')\n\n    def predict(self, x):\n        return x\n",
        },
    )
    proc, log = launch(bundle, home=home)
    assert proc.wait(30) == 1
    err = log.read_text()
    assert 'model.py", line 3, in load' in err and "OSError: weights missing" in err


def test_sigterm_drains_the_request_in_flight_then_exits_143(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(build_tree(tmp_path / "slow", SLOW_LOAD), "--drain-timeout", "10")
    results: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: results.append(
            httpx.post(f"{server.url}/v1/models/model:predict", json={"seconds": 1.0}, timeout=20)
        )
    )
    thread.start()
    time.sleep(0.3)  # the request is in the model
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    try:  # no new connection is accepted while draining
        refused = httpx.get(f"{server.url}/", timeout=2).status_code
    except httpx.TransportError:
        refused = None
    assert refused is None
    thread.join()
    done = time.monotonic()
    assert results[0].status_code == 200 and results[0].json() == {"seconds": 1.0}
    assert server.proc.wait(10) == 143
    assert time.monotonic() - done < 1.5


def test_a_second_signal_exits_without_waiting(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(build_tree(tmp_path / "slow", SLOW_LOAD))
    thread = threading.Thread(
        target=lambda: httpx.post(
            f"{server.url}/v1/models/model:predict", json={"seconds": 20}, timeout=30
        ),
        daemon=True,
    )
    thread.start()
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    start = time.monotonic()
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(5) == 130
    assert time.monotonic() - start < 2


def test_an_archive_is_served_as_its_folder(
    serve: Callable[..., Server], tmp_path: Path, run_bundle
) -> None:  # type: ignore[no-untyped-def]
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    packed = run_bundle("package", str(bundle), "-o", str(tmp_path / "dist") + "/")
    assert packed.returncode == 0, packed.stderr
    archive = next((tmp_path / "dist").glob("*.tar.gz"))
    server = serve(archive, "--secret", f"api_token={SECRET}")
    answer = server.client.post("/v1/models/kitchen:predict", json={"a": [1]})
    assert answer.json() == {"echo": {"a": [1]}}


def test_without_the_serve_extra_one_line_names_the_install(tmp_path: Path) -> None:
    blocked = build_tree(
        tmp_path / "blocked", {"uvicorn/__init__.py": "raise ImportError('no uvicorn here')\n"}
    )
    env = isolated_env(tmp_path) | {"PYTHONPATH": str(blocked)}
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    done = subprocess.run(
        [bundle_executable(), "serve", str(bundle)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: bundle serve needs its serve extra (uvicorn not installed): "
        "pip install '.[serve]' in bundle's source folder, or pip install uvicorn"
    ]


def test_other_commands_never_import_the_server(tmp_path: Path) -> None:
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    code = (
        "import sys; from bundle_cli.__main__ import main; main(['validate', sys.argv[1]]);"
        "heavy = [m for m in ('uvicorn', 'starlette', 'orjson', 'prometheus_client', 'bundle_cli.serve.server') if m in sys.modules];"
        "print(heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(bundle)],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def _versioned(answer: str) -> dict[str, str]:
    return {
        "config.yaml": "model_name: versioned\n",
        "model/__init__.py": "",
        "model/model.py": f"class Model:\n    def predict(self, model_input):\n        return {answer!r}\n",
    }


def _wait_for_line(server: Server, text: str, after: int, each: Callable[[], None]) -> None:
    """Until the server's log says `text` (past its first `after` characters), calling `each`
    meanwhile. Bounded generously: the event, not the bound, is what ends the wait."""
    deadline = time.monotonic() + 120
    while text not in server.stderr()[after:]:
        assert server.proc.poll() is None, server.stderr()
        assert time.monotonic() < deadline, server.stderr()
        each()
        time.sleep(0.05)


def test_reload_swaps_in_the_edited_model_and_keeps_it_when_an_edit_breaks(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    bundle = build_tree(tmp_path / "versioned", _versioned("one"))
    server = serve(bundle, "--reload")
    predict = "/v1/models/model:predict"
    assert server.client.post(predict, json={}).json() == "one"
    before = len(server.stderr())
    build_tree(bundle, _versioned("two"))

    def old_model_answers() -> None:  # until the new one is ready (swapped, then logged)
        got = server.client.post(predict, json={})
        assert got.status_code == 200, got.text
        assert got.json() == "one" or "model versioned reloaded" in server.stderr()[before:]

    _wait_for_line(server, "model versioned reloaded", before, old_model_answers)
    assert server.client.post(predict, json={}).json() == "two"
    before = len(server.stderr())
    (bundle / "model" / "model.py").write_text(
        "class Model:\n    def predict(self, x):\n        return (\n"
    )

    def new_model_answers() -> None:
        got = server.client.post(predict, json={})
        assert got.status_code == 200 and got.json() == "two", got.text

    _wait_for_line(server, "reload failed", before, new_model_answers)
    assert server.client.post(predict, json={}).json() == "two"
    assert "still serving the model loaded before" in server.stderr()[before:]


def test_reload_of_an_archive_is_refused_before_anything_starts(tmp_path: Path, run_bundle) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "versioned-0.1.0.tar.gz"  # refused by its kind, before it is read
    archive.write_bytes(b"not read")
    done = run_bundle("serve", str(archive), "--reload", "--port", "0")
    assert done.returncode == 2 and done.stdout == ""
    assert "--reload watches a bundle folder" in done.stderr


def test_until_ready_neither_typer_nor_the_metrics_library_is_imported(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    """What start-up leaves out (the plain command line, the metrics library until /metrics is
    read) is what keeps the scaffold's ready time short; the metrics still come when asked."""
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    server = serve(bundle, "--secret", f"api_token={SECRET}", env={"PYTHONPROFILEIMPORTTIME": "1"})
    start = server.stderr()
    assert "ready at" in start
    imported = {line.rpartition("|")[2].strip() for line in start.splitlines() if "|" in line}
    assert "numpy" in imported  # the log does show the imports
    assert (
        not {"typer", "prometheus_client", "wsproto"} & imported
    )  # (uvicorn imports click; a first validation pydantic)
    metrics = server.client.get("/metrics")
    assert metrics.status_code == 200 and "bundle_serve_requests_total" in metrics.text
    assert "prometheus_client" in server.stderr()[len(start) :]
