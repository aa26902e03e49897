"""Real `bundle serve` processes on loopback ports, and the bundles they serve.

`start(bundle, *options)` runs the installed `bundle serve BUNDLE --port 0 ...`, reads the URL it
prints, waits until the model is ready and returns a `Server`; `Server.stop()` sends SIGTERM
and returns the exit code and what the server wrote on stderr.
"""

from __future__ import annotations

import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import build_tree, bundle_executable, isolated_env

SECRET = "s3cr3t-Value-42"

# One model for most routes: what it does is chosen by the request (`op`).
KITCHEN_MODEL = """
import asyncio
import time

import numpy as np

import bundle_cli


class Model:
    def __init__(self, secrets, **kwargs):
        self._secrets = secrets

    def preprocess(self, model_input, files=None):
        if files and isinstance(model_input, dict):
            model_input = dict(model_input)
            model_input["files"] = [[f.name, f.read().decode("latin-1")] for f in files]
        return model_input

    def predict(self, model_input):
        if not isinstance(model_input, dict):
            return {"echo": model_input}
        op = model_input.get("op")
        if op == "raise":
            raise ValueError("boom " + str(model_input.get("say", "")))
        if op == "invalid":
            raise bundle_cli.InvalidInput("age must be positive")
        if op == "secret":
            raise RuntimeError("the token is " + self._secrets["api_token"])
        if op == "print-secret":
            print("model says", self._secrets["api_token"])
            return {"ok": True}
        if op == "sleep":
            time.sleep(model_input["seconds"])
            return {"slept": model_input["seconds"]}
        if op == "stream":
            return self._chunks(model_input)
        if op == "array":
            return {"array": np.arange(model_input["n"], dtype="float64") * 0.5}
        if op == "type":
            return {"type": type(model_input.get("x")).__name__, "x": model_input.get("x")}
        return {"echo": model_input}

    def _chunks(self, model_input):
        for i in range(model_input["n"]):
            if i == model_input.get("fail_at"):
                raise RuntimeError("stream broke at " + str(i))
            time.sleep(model_input.get("pause", 0))
            yield {"chunk": i}

    def chat_completions(self, model_input):
        return {"choices": [{"message": {"role": "assistant", "content": "hi " + model_input["messages"][-1]["content"]}}]}
"""

KITCHEN = {
    "config.yaml": "model_name: kitchen\nsecrets:\n  api_token: null\n",
    "model/__init__.py": "",
    "model/model.py": KITCHEN_MODEL,
    "examples.yaml": "- name: plain\n  input: {a: 1}\n- name: with-file\n  input: {top_k: 1}\n  files: {notes: notes.txt}\n",
    "notes.txt": "from the bundle",
}


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log
        self.client = httpx.Client(base_url=url, timeout=30)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, str]:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()  # type: ignore[union-attr]
        return code, self.stderr()


def launch(
    bundle: Path, *options: str, home: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log = home / f"serve-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [bundle_executable(), "serve", str(bundle), "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
        env=isolated_env(home) | (env or {}),
        cwd=home,
    )
    return proc, log


def read_url(proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline().decode().strip() if ready else ""
    assert line.startswith("http://127.0.0.1:"), f"no URL printed: {line!r}\n{log.read_text()}"
    return line


def start(
    bundle: Path,
    *options: str,
    home: Path,
    env: dict[str, str] | None = None,
    ready: str = "/v1/models/model",
) -> Server:
    proc, log = launch(bundle, *options, home=home, env=env)
    server = Server(proc, read_url(proc, log), log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited {proc.returncode}:\n{server.stderr()}"
        if server.client.get(ready).status_code == 200:
            return server
        time.sleep(0.02)
    server.stop()
    raise AssertionError(f"not ready in time:\n{server.stderr()}")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def serve(home: Path) -> Iterator[Callable[..., Server]]:
    """`serve(bundle, *options)`: a started server, stopped after the test."""
    started: list[Server] = []

    def make(
        bundle: Path,
        *options: str,
        env: dict[str, str] | None = None,
        ready: str = "/v1/models/model",
    ) -> Server:
        server = start(bundle, *options, home=home, env=env, ready=ready)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server of the kitchen model for a whole test module (--max-body-size 64Ki)."""
    root = tmp_path_factory.mktemp("kitchen")
    home = root / "home"
    home.mkdir()
    bundle = build_tree(root / "kitchen", KITCHEN)
    server = start(bundle, "--secret", f"api_token={SECRET}", "--max-body-size", "64Ki", home=home)
    yield server
    server.stop()


def post(server: Server, path: str = "/v1/models/model:predict", **kwargs: Any) -> httpx.Response:
    return server.client.post(path, **kwargs)
