"""Streaming answers of a real server: NDJSON, SSE events, gathered JSON, a failure mid-stream."""

from __future__ import annotations

import json
import time

from tests.serve.conftest import Server


def _stream(
    server: Server, body: dict, accept: str | None = None
) -> tuple[str, list[tuple[float, str]]]:
    headers = {"accept": accept} if accept else {}
    start = time.monotonic()
    with server.client.stream("POST", "/v1/models/model:predict", json=body, headers=headers) as r:
        assert r.status_code == 200
        lines = [(time.monotonic() - start, line) for line in r.iter_lines()]
        return r.headers["content-type"], lines


def test_ndjson_chunks_leave_as_they_are_produced(kitchen: Server) -> None:
    kind, lines = _stream(kitchen, {"op": "stream", "n": 3, "pause": 0.3})
    assert kind.startswith("application/x-ndjson")
    assert [json.loads(text) for _, text in lines] == [{"chunk": 0}, {"chunk": 1}, {"chunk": 2}]
    # the first chunk arrived while the model still paused before the others
    assert lines[-1][0] - lines[0][0] >= 0.5


def test_sse_has_output_events_then_done(kitchen: Server) -> None:
    kind, lines = _stream(kitchen, {"op": "stream", "n": 2}, accept="text/event-stream")
    assert kind.startswith("text/event-stream")
    text = [line for _, line in lines if line]
    assert text == [
        "event: output",
        'data: {"chunk": 0}',
        "event: output",
        'data: {"chunk": 1}',
        "event: done",
        "data: {}",
    ]


def test_failure_mid_stream_ends_with_an_error_never_a_silent_cut(kitchen: Server) -> None:
    _, lines = _stream(kitchen, {"op": "stream", "n": 5, "fail_at": 2})
    records = [json.loads(text) for _, text in lines]
    assert records[:2] == [{"chunk": 0}, {"chunk": 1}]
    assert records[2]["type"] == "RuntimeError" and "stream broke at 2" in records[2]["error"]
    assert len(records) == 3
    _, events = _stream(kitchen, {"op": "stream", "n": 5, "fail_at": 1}, accept="text/event-stream")
    text = [line for _, line in events if line]
    assert text[:2] == ["event: output", 'data: {"chunk": 0}']
    assert text[2] == "event: error" and "stream broke at 1" in text[3]
    assert "event: done" not in text


def test_a_stream_that_fails_before_its_first_chunk_is_a_500(kitchen: Server) -> None:
    answer = kitchen.client.post(
        "/v1/models/model:predict", json={"op": "stream", "n": 3, "fail_at": 0}
    )
    assert answer.status_code == 500 and answer.json()["type"] == "RuntimeError"


def test_accept_json_gathers_the_stream_as_truss_does(kitchen: Server) -> None:
    answer = kitchen.client.post(
        "/v1/models/model:predict",
        json={"op": "stream", "n": 3},
        headers={"accept": "application/json"},
    )
    assert answer.json() == [{"chunk": 0}, {"chunk": 1}, {"chunk": 2}]
