"""What the server tells about itself: one access-log line per request, request ids, metrics.

The access log is kept off the request path: a request only appends its facts to a list, and
the lines are formatted and written together a few times a second (and at shutdown), so that
writing them costs one write per batch rather than one per request. `--log-format json` writes
one JSON object a line, for the access log and for the server's own messages alike.
"""

from __future__ import annotations

import bisect
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
    flight and queued.

    Counted in plain Python on the server's loop (its one thread writes them, so no lock is
    taken per request) and handed to the Prometheus client library as a collector when
    `/metrics` is read: the library, whose import costs more than the rest of the server's
    start, is imported then, not before the server answers. A registry of its own per server,
    so two servers in one process never mix.
    """

    BUCKETS: tuple[float, ...] = (
        *(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
        *(1.0, 2.5, 5.0, 10.0, 30.0),
    )

    def __init__(self, queued: Callable[[], int]) -> None:
        self.queued = queued
        self.in_flight = 0
        self._requests: dict[tuple[str, int], int] = {}
        # route -> observations per bucket (the last one: above every bound), then their sum
        self._latency: dict[str, list[float]] = {}
        self._registry: Any = None

    def observe(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        counts = self._latency.get(route)
        if counts is None:
            counts = self._latency[route] = [0.0] * (len(self.BUCKETS) + 2)
        counts[bisect.bisect_left(self.BUCKETS, seconds)] += 1  # the first bound >= seconds
        counts[-1] += seconds

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self._registry is None:
            from prometheus_client import CollectorRegistry

            self._registry = CollectorRegistry(auto_describe=False)
            self._registry.register(self)
        return generate_latest(self._registry), CONTENT_TYPE_LATEST

    def collect(self) -> Any:
        """The metric families, as the Prometheus client library asks a collector for them."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )
        from prometheus_client.utils import floatToGoString

        requests = CounterMetricFamily(
            "bundle_serve_requests", "HTTP requests answered", labels=["route", "status"]
        )
        for (route, status), count in sorted(self._requests.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "bundle_serve_request_seconds",
            "Time to answer a request (until its last byte)",
            labels=["route"],
        )
        for route, counts in sorted(self._latency.items()):
            buckets: list[tuple[str, float]] = []
            total = 0.0
            for bound, seen in zip((*self.BUCKETS, float("inf")), counts, strict=False):
                total += seen
                buckets.append((floatToGoString(bound), total))  # type: ignore[no-untyped-call]
            latency.add_metric([route], buckets, sum_value=counts[-1])
        yield latency
        yield GaugeMetricFamily(
            "bundle_serve_in_flight", "Requests being answered", value=self.in_flight
        )
        yield GaugeMetricFamily(
            "bundle_serve_queued", "Requests waiting for a predict slot", value=self.queued()
        )


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
        metrics = self.metrics
        metrics.in_flight += 1

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
            metrics.in_flight -= 1
            seconds = time.perf_counter() - start
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", "unknown") if endpoint else "unknown"
            metrics.observe(route, status, seconds)
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
