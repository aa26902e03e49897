"""Truss's routes and payloads against one real `bundle serve` process (the kitchen model)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import msgpack
import numpy as np

from tests.conftest import build_tree, bundle_executable, isolated_env
from tests.serve.conftest import KITCHEN, SECRET, Server, post


def test_live_ready_ping_and_predict_under_both_names(kitchen: Server) -> None:
    c = kitchen.client
    assert c.get("/").json() is True
    assert c.get("/v1/models/model").json() == {}
    assert c.get("/v1/models/kitchen").status_code == 200
    assert c.get("/v1/models/model/loaded").status_code == 200
    assert c.get("/ping").status_code == 200
    assert c.get("/v1/models/model/schema").status_code == 404  # an untyped model
    for path in ("/v1/models/model:predict", "/v1/models/kitchen:predict", "/invocations"):
        answer = post(kitchen, path, json={"x": [1, 2.5, "three"]})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"echo": {"x": [1, 2.5, "three"]}}


def test_unknown_model_name_and_route_are_json_404(kitchen: Server) -> None:
    answer = post(kitchen, "/v1/models/other:predict", json={})
    assert answer.status_code == 404
    assert "'model' or 'kitchen'" in answer.json()["error"]
    missing = kitchen.client.get("/v2/nothing")
    assert missing.status_code == 404 and missing.json()["type"] == "NotFound"
    assert kitchen.client.get("/v1/models/model:predict").status_code in (404, 405)


def test_a_body_without_json_content_type_is_json_as_truss_reads_it(kitchen: Server) -> None:
    # What `curl -d` and requests' data= send: form-urlencoded, read as JSON by Truss too.
    answer = post(kitchen, content=b'{"x": 1}', headers={"content-type": "text/plain"})
    assert answer.json() == {"echo": {"x": 1}}
    form = post(
        kitchen, content=b"[1, 2]", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert form.json() == {"echo": [1, 2]}


def test_request_id_is_echoed_or_made_and_each_request_is_logged(kitchen: Server) -> None:
    given = post(kitchen, json={"n": 1}, headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = [post(kitchen, json={}).headers["x-request-id"] for _ in range(2)]
    assert made[0] != made[1] and all(made)
    log = _wait_for(kitchen, "id=abc-123")
    line = next(ln for ln in log.splitlines() if "id=abc-123" in ln)
    assert '"POST /v1/models/model:predict" 200' in line


def test_invalid_input_is_400_with_the_message_bundle_predict_prints(
    kitchen: Server, tmp_path: Path
) -> None:
    bundle = build_tree(tmp_path / "kitchen", KITCHEN)
    env = isolated_env(tmp_path) | {"BUNDLE_SECRET_API_TOKEN": SECRET}
    for text in ('{"x": [1, 2', '{"op": "invalid"}'):
        answer = post(kitchen, content=text.encode(), headers={"content-type": "application/json"})
        assert answer.status_code == 400
        cli = subprocess.run(
            [bundle_executable(), "predict", str(bundle), "-d", text],
            capture_output=True,
            text=True,
            env=env,
        )
        assert cli.returncode == 3, cli.stderr
        printed = cli.stderr.strip().splitlines()[-1].removeprefix("error: ").removeprefix("--data")
        assert answer.json()["error"].removeprefix("request") == printed


def test_invalid_input_raised_by_the_model_is_400(kitchen: Server) -> None:
    answer = post(kitchen, json={"op": "invalid"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "predict: age must be positive", "type": "InvalidInput"}


def test_model_exception_is_500_naming_type_and_message_traceback_only_in_log(
    kitchen: Server,
) -> None:
    answer = post(kitchen, json={"op": "raise", "say": "here"})
    assert answer.status_code == 500
    body = answer.json()
    assert body["type"] == "ValueError"
    assert "boom here" in body["error"] and "predict" in body["error"]
    assert "Traceback" not in answer.text and "model.py" not in answer.text
    log = _wait_for(kitchen, "boom here")
    assert "Traceback" in log and 'model.py", line' in log


def test_secrets_never_reach_a_response_or_the_log(kitchen: Server) -> None:
    answer = post(kitchen, json={"op": "secret"})
    assert answer.status_code == 500
    assert SECRET not in answer.text and "***" in answer.text
    assert post(kitchen, json={"op": "print-secret"}).json() == {"ok": True}
    echoed = post(kitchen, json={"say": SECRET})
    assert SECRET not in echoed.text
    log = _wait_for(kitchen, "model says")
    assert SECRET not in log and "the token is ***" in log


def test_truss_msgpack_body_with_numpy_array_and_answer(kitchen: Server) -> None:
    array = np.array([[1.0, 2.0], [3.0, 4.5]])
    # Truss's client serialisation: msgpack with msgpack-numpy's array form
    payload = {
        "op": "type",
        "x": {
            b"nd": True,
            b"type": array.dtype.str,
            b"kind": b"",
            b"shape": array.shape,
            b"data": array.tobytes(),
        },
    }
    answer = post(
        kitchen,
        content=msgpack.packb(payload),
        headers={"content-type": "application/octet-stream"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/octet-stream"
    out = msgpack.unpackb(answer.content)
    assert out["type"] == "ndarray"
    back = out["x"]
    got = np.frombuffer(back[b"data"], dtype=back[b"type"]).reshape(back[b"shape"])
    assert np.array_equal(got, array)
    arrays = msgpack.unpackb(
        post(
            kitchen,
            content=msgpack.packb({"op": "array", "n": 3}),
            headers={"content-type": "application/octet-stream"},
        ).content
    )
    assert np.frombuffer(arrays["array"][b"data"], dtype="<f8").tolist() == [0.0, 0.5, 1.0]


def test_msgpack_array_of_objects_is_refused_not_unpickled(kitchen: Server) -> None:
    import pickle

    payload = {
        "x": {
            b"nd": True,
            b"type": "|O",
            b"kind": b"O",
            b"shape": [1],
            b"data": pickle.dumps(["x"]),
        }
    }
    answer = post(
        kitchen,
        content=msgpack.packb(payload),
        headers={"content-type": "application/octet-stream"},
    )
    assert answer.status_code == 400
    assert "pickle" in answer.json()["error"]


def test_multipart_files_reach_the_hooks_as_files(kitchen: Server) -> None:
    files = [("image", ("cat.png", b"\x89PNG fake")), ("notes", ("a.txt", b"hello"))]
    answer = post(kitchen, data={"input": json.dumps({"top_k": 3})}, files=files)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "echo": {"top_k": 3, "files": [["image", "\x89PNG fake"], ["notes", "hello"]]}
    }


def test_body_over_the_limit_is_413_naming_it(kitchen: Server) -> None:
    answer = post(kitchen, content=b"[" + b"1," * 40_000 + b"1]")
    assert answer.status_code == 413
    assert "65536 bytes" in answer.json()["error"]

    def chunks():  # no content-length: refused while reading
        for _ in range(20):
            yield b" " * 8192

    chunked = post(kitchen, content=chunks())
    assert chunked.status_code == 413


def test_openai_route_calls_the_models_method_and_404s_a_missing_one(kitchen: Server) -> None:
    answer = post(
        kitchen, "/v1/chat/completions", json={"messages": [{"role": "user", "content": "you"}]}
    )
    assert answer.json()["choices"][0]["message"]["content"] == "hi you"
    missing = post(kitchen, "/v1/embeddings", json={"input": "x"})
    assert missing.status_code == 404 and "embeddings" in missing.json()["error"]


def test_metrics_count_requests_by_route_and_status(kitchen: Server) -> None:
    post(kitchen, json={"op": "raise"})
    text = kitchen.client.get("/metrics").text
    assert 'bundle_serve_requests_total{route="predict",status="500"}' in text
    assert "bundle_serve_request_seconds_bucket" in text
    assert "bundle_serve_in_flight" in text and "bundle_serve_queued" in text


def _wait_for(server: Server, text: str, timeout: float = 5) -> str:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.stderr()
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the server log:\n{server.stderr()}")


def test_browsers_get_the_try_it_page_clients_get_live_true(kitchen: Server) -> None:
    assert kitchen.client.get("/", headers={"accept": "*/*"}).json() is True
    page = kitchen.client.get("/", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html") and "<textarea" in page.text
    about = kitchen.client.get("/bundle").json()
    assert about["name"] == "kitchen" and about["takes_files"] is True
    assert about["examples"][1] == {"name": "with-file", "input": {"top_k": 1}, "files": ["notes"]}
    ran = kitchen.client.post("/bundle/examples/with-file")
    assert ran.json() == {"echo": {"top_k": 1, "files": [["notes", "from the bundle"]]}}
    assert kitchen.client.post("/bundle/examples/nope").status_code == 404
