"""WS /v1/websocket of a real server, with a real websocket client (the websockets package):
Truss's contract (`async def websocket(self, websocket)` given the accepted connection), its
failures, and a server whose model has no websocket."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import build_tree
from tests.serve.conftest import KITCHEN, Server, launch, read_url

WEBSOCKET_MODEL = """
import os
import time


class Model:
    def load(self):
        time.sleep(float(os.environ.get("LOAD_SECONDS", "0")))

    async def websocket(self, websocket):  # Truss passes fastapi's WebSocket: starlette's
        await websocket.send_json({"hello": websocket.url.path})
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"][::-1])
                continue
            text = message["text"]
            if text == "bye":
                return  # the server closes the session (1000)
            if text == "boom":
                raise ValueError("the model broke mid-session")
            await websocket.send_text("echo " + text)
"""


def _bundle(tmp_path: Path, model: str = WEBSOCKET_MODEL) -> Path:
    files = {
        "config.yaml": "model_name: talker\n",
        "model/__init__.py": "",
        "model/model.py": model,
    }
    return build_tree(tmp_path / "talker", files)


def _ws(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/v1/websocket"


def test_the_model_talks_over_the_websocket_until_it_returns(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(_bundle(tmp_path))
    with connect(_ws(server), open_timeout=20) as ws:
        assert ws.response is not None and ws.response.headers["x-request-id"]
        assert ws.recv(10) == '{"hello":"/v1/websocket"}'
        for word in ("one", "two"):
            ws.send(word)
            assert ws.recv(10) == f"echo {word}"
        ws.send(b"\x00\x01\x02")
        assert ws.recv(10) == b"\x02\x01\x00"
        ws.send("bye")
        with pytest.raises(ConnectionClosed):
            ws.recv(10)
        assert ws.close_code == 1000, server.stderr()
    with connect(_ws(server), open_timeout=20) as again:  # a session per connection
        assert "hello" in again.recv(10)
    code, log = server.stop()
    assert code == 143
    assert '"WS /v1/websocket" 101' in log


def test_a_model_that_raises_closes_the_session_1011_and_logs_its_traceback(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(_bundle(tmp_path))
    with connect(_ws(server), open_timeout=20) as ws:
        ws.recv(10)
        ws.send("boom")
        with pytest.raises(ConnectionClosed):
            ws.recv(10)
        assert ws.close_code == 1011 and ws.close_reason == "Internal Server Error"
    with connect(_ws(server), open_timeout=20) as ws:  # the server goes on
        ws.recv(10)
        ws.send("still")
        assert ws.recv(10) == "echo still"
    log = server.stderr()
    assert "/v1/websocket failed" in log and "ValueError: the model broke mid-session" in log
    assert 'model.py", line' in log


def test_a_client_that_leaves_ends_the_session_quietly(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    server = serve(_bundle(tmp_path))
    with connect(_ws(server), open_timeout=20) as ws:
        ws.recv(10)
    with connect(_ws(server), open_timeout=20) as ws:
        ws.recv(10)
        ws.send("after")
        assert ws.recv(10) == "echo after"
    assert "failed" not in server.stderr()


def test_the_handshake_is_refused_with_503_until_the_model_is_ready(
    home: Path, tmp_path: Path
) -> None:
    proc, log = launch(_bundle(tmp_path), home=home, env={"LOAD_SECONDS": "30"})
    try:
        url = read_url(proc, log).replace("http://", "ws://") + "/v1/websocket"
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=20)
        assert refused.value.response.status_code == 503
        assert b"not ready" in refused.value.response.body
    finally:
        proc.kill()
        proc.wait(10)


def test_a_model_without_websocket_closes_the_session_1003(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    from tests.serve.conftest import SECRET

    server = serve(build_tree(tmp_path / "kitchen", KITCHEN), "--secret", f"api_token={SECRET}")
    with connect(_ws(server), open_timeout=20) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(10)
        assert ws.close_code == 1003
        assert ws.close_reason == "WebSocket is not implemented on this deployment."


def test_a_sync_websocket_without_predict_is_refused_at_load(home: Path, tmp_path: Path) -> None:
    model = "class Model:\n    def websocket(self, websocket):\n        pass\n"
    proc, log = launch(_bundle(tmp_path, model), home=home)
    assert proc.wait(30) == 2  # the bundle cannot be run: as for any hook of the wrong shape
    err = log.read_text()
    assert "async def websocket(self, websocket)" in err, err
