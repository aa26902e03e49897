"""What the server tells about itself: one access-log line per request, request ids, metrics.

The access log is kept off the request path: a request only appends its facts to a list, and
the lines are formatted and written together a few times a second (and at shutdown), so that
writing them costs one write per batch rather than one per request. `--log-format json` writes
one JSON object a line, for the access log and for the server's own messages alike.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

FLUSH_EVERY = 0.1  # seconds between access-log writes
REQUEST_ID = b"x-request-id"


class Log:
    """The server's log on stderr: access lines batched, messages written at once."""

    def __init__(self, fmt: str, access: bool, scrub: Callable[[str], str] | None) -> None:
        self.json = fmt == "json"
        self.access = access
        self._scrub = scrub
        self._pending: list[tuple[Any, ...]] = []
        self._scheduled = False

    def request(self, *facts: Any) -> None:
        """(time, client, method, path, status, seconds, request id): written soon."""
        self._pending.append(facts)
        if not self._scheduled:
            import asyncio

            self._scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_EVERY, self.flush)

    def message(self, level: str, text: str, **fields: Any) -> None:
        """A message of the server (the model's traceback, readiness) written now."""
        self.flush()
        if self.json:
            line = json.dumps(
                {"time": _iso(time.time()), "level": level, "message": text, **fields}
            )
        else:
            extra = "".join(f" {k}={v}" for k, v in fields.items())
            line = f"{level.upper()} bundle serve: {text}{extra}"
        self._write(line + "\n")

    def flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        if pending:
            self._write("".join(map(self._json_line if self.json else self._text_line, pending)))

    def _write(self, text: str) -> None:
        stream = sys.stderr  # looked up each time: the CLI may have masked it
        stream.write(self._scrub(text) if self._scrub else text)
        stream.flush()

    @staticmethod
    def _text_line(facts: tuple[Any, ...]) -> str:
        _, client, method, path, status, seconds, rid = facts
        return f'{client} "{method} {path}" {status} {seconds * 1000:.1f}ms id={rid}\n'

    @staticmethod
    def _json_line(facts: tuple[Any, ...]) -> str:
        at, client, method, path, status, seconds, rid = facts
        record = {
            "time": _iso(at),
            "client": client,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "request_id": rid,
        }
        return json.dumps(record) + "\n"


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at % 1 * 1000):03d}Z"


class Metrics:
    """Prometheus metrics of one server: requests by route and status, latency by route, in
    flight and queued. A registry of its own, so two servers in one process never mix."""

    def __init__(self, queued: Callable[[], int]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "bundle_serve_requests",
            "HTTP requests answered",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bundle_serve_request_seconds",
            "Time to answer a request (until its last byte)",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.in_flight = Gauge(
            "bundle_serve_in_flight", "Requests being answered", registry=self.registry
        )
        gauge = Gauge(
            "bundle_serve_queued", "Requests waiting for a predict slot", registry=self.registry
        )
        gauge.set_function(queued)
        self._children: dict[tuple[str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        children = self._children.get((route, status))
        if children is None:  # labels() is a dict lookup under a lock: do it once per pair
            children = self.requests.labels(route, str(status)), self.latency.labels(route)
            self._children[(route, status)] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class Observed:
    """ASGI middleware: a request id on every answer (the client's X-Request-Id, or a new one),
    an access-log line and the metrics of every request."""

    def __init__(self, app: Any, log: Log, metrics: Metrics) -> None:
        self.app, self.log, self.metrics = app, log, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = _request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        in_flight = self.metrics.in_flight
        in_flight.inc()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start" or kind == "websocket.http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID, rid.encode())]
            elif kind == "websocket.accept":
                status = 101  # the session's line is written when it ends
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID, rid.encode())]
            elif kind == "websocket.close" and status == 500:
                status = 403  # closed before it was accepted: the handshake was refused
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            in_flight.dec()
            seconds = time.perf_counter() - start
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", "unknown") if endpoint else "unknown"
            self.metrics.observe(route, status, seconds)
            if self.log.access:
                client = scope.get("client")
                where = f"{client[0]}:{client[1]}" if client else "-"
                path = scope["path"] + (
                    "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
                )
                method = scope.get("method", "WS")
                self.log.request(time.time(), where, method, path, status, seconds, rid)


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key == REQUEST_ID:
            given = value.decode("latin-1")
            if 0 < len(given) <= 200 and given.isprintable():
                return given
    return f"{_PREFIX}{next(_COUNTER):08x}"


# Ids unique across restarts and processes (a random prefix) and cheap to make (a counter):
# uuid4 reads the system's randomness for every request, which costs more than the request.
_PREFIX = os.urandom(6).hex()
_COUNTER = itertools.count(1)
