"""Answers as HTTP bodies: one output as JSON (or msgpack for a binary request), a stream as
NDJSON or server-sent events, and every error as data.

Errors keep Truss's shape, `{"error": message}`, and add `type` (what the model raised, or the
kind of problem): invalid input is 400 with the message `bundle predict` prints; the model's own
exception is 500 with its type and message, its traceback going to the server log only; a
request that ran out of `--timeout` is 504.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bundle_cli.errors import BundleError, InputDataError, UserCodeError

NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
JSON = "application/json"
BINARY = "application/octet-stream"


class RequestTimeout(Exception):
    """The request did not finish within --timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request did not finish within --timeout {seconds:g} s")


@dataclass
class Failure:
    """What a failed request answers, and what the server log gets (None: nothing to add)."""

    status: int
    body: dict[str, Any]
    log: str | None = None


def failure(exc: BaseException) -> Failure:
    """The HTTP answer for what stopped a request."""
    from bundle_cli.runtime.usertrace import PredictTimeoutError

    if isinstance(exc, RequestTimeout):
        return Failure(504, {"error": str(exc), "type": "Timeout"})
    if isinstance(exc, PredictTimeoutError):
        return Failure(504, {"error": _said(exc), "type": "Timeout"}, exc.user_traceback)
    if isinstance(exc, InputDataError):
        return Failure(400, {"error": _said(exc), "type": exc.raised or "InvalidInput"})
    if isinstance(exc, UserCodeError):
        message = _said(exc)
        said = [ln for ln in (exc.user_traceback or "").splitlines() if ln.strip()]
        if said and ": " in said[-1]:  # `ValueError: boom`: what the model's exception said
            message += ": " + said[-1].partition(": ")[2]
        body = {"error": message, "type": exc.raised or type(exc).__name__}
        return Failure(500, body, f"{exc.user_traceback}{exc.message}")
    if isinstance(exc, BundleError):
        return Failure(500, {"error": _said(exc), "type": type(exc).__name__}, str(exc))
    import traceback

    what = f"{type(exc).__name__}: {exc}".rstrip(": ")
    body = {"error": f"internal error of bundle (a bug): {what}", "type": type(exc).__name__}
    return Failure(500, body, "".join(traceback.format_exception(exc)))


def _said(exc: BundleError) -> str:
    return exc.message.removeprefix("error: ")


def error_json(body: dict[str, Any]) -> str:
    return json.dumps(body)


def stream_kind(accept: str) -> str:
    """How a stream is answered for this Accept header: SSE, NDJSON, or one JSON list when the
    client asks for JSON only (as Truss gathers a stream for `Accept: application/json`)."""
    if SSE in accept:
        return SSE
    if accept.strip() == JSON:
        return JSON
    return NDJSON


def sse_event(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


def frame(kind: str, chunk: str) -> bytes:
    """One chunk of a stream, framed for its format."""
    if kind == SSE:
        return sse_event("output", chunk)
    return chunk.encode() + b"\n"


def frame_error(kind: str, body: dict[str, Any]) -> bytes:
    """The last frame of a stream that failed: an `error` event, or an error record line."""
    if kind == SSE:
        return sse_event("error", error_json(body))
    return error_json(body).encode() + b"\n"


def frame_done(kind: str) -> bytes:
    return sse_event("done", "{}") if kind == SSE else b""
