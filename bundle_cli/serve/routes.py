"""Truss's routes over the served model, as a Starlette application.

    GET  /                                  live (`true`)
    GET  /v1/models/{model}                 ready: 200 `{}` once load() finished, 503 before
    GET  /v1/models/{model}/loaded          the same, as Truss
    GET  /v1/models/{model}/schema          the typed input and output schemas
    POST /v1/models/{model}:predict         preprocess -> predict -> postprocess
    POST /v1/models/{model}:predict_binary  the same (Truss's alias)
    POST /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/messages, /v1/responses
                                            the model's method of that name, when it has one
    POST /invocations, GET /ping            SageMaker's names for predict and ready
    WS   /v1/websocket                      the model's `async def websocket(self, websocket)`
    GET  /metrics                           Prometheus text format
    GET  /bundle, POST /bundle/examples/{name}  what the try-it page (`GET /` in a browser) uses

`{model}` is `model` (what Truss clients send) or the model's name from config.yaml.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bundle_cli.serve import bodies, replies
from bundle_cli.serve.calls import Call
from bundle_cli.serve.observe import Log, Metrics
from bundle_cli.serve.served import NotReady, QueueFull, Served

# route -> the model's method, for the OpenAI-style routes (served only if the model defines it)
METHOD_ROUTES = {
    "/v1/chat/completions": "chat_completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
    "/v1/messages": "messages",
    "/v1/responses": "responses",
}
RETRY_AFTER = "1"  # seconds a refused client should wait (503: queue full, not ready)


class Endpoints:
    """The request handlers; each turns every failure into an answer (errors as data)."""

    def __init__(self, served: Served, log: Log, metrics: Metrics, max_body: int) -> None:
        self.served, self.log, self.metrics, self.max_body = served, log, metrics, max_body

    async def live(self, request: Any) -> Any:
        """`true` for clients; the try-it page for a browser (content negotiation)."""
        if "text/html" in request.headers.get("accept", ""):
            from starlette.responses import HTMLResponse

            return HTMLResponse(_page())
        return _json(200, b"true")

    async def about(self, request: Any) -> Any:
        """What the try-it page shows: name, readiness, input schema, examples, files."""
        served = self.served
        if not served.ready:
            return _data(200, {"name": served.name, "ready": False, "examples": []})
        info = served.info()
        return _data(
            200,
            {
                "name": served.name,
                "ready": True,
                "input_schema": info["input_schema"],
                "takes_files": served.takes_files(),
                "examples": [
                    {"name": e.name, "input": e.input, "files": sorted(e.files)}
                    for e in served.examples()
                ],
            },
        )

    async def example(self, request: Any) -> Any:
        """Run one examples.yaml entry, with its files, as predict answers it."""
        if not self.served.ready:
            return self._not_ready()
        name = request.path_params["name"]
        found = next((e for e in self.served.examples() if e.name == name), None)
        if found is None:
            return _error(404, f"no example {name!r} in the bundle's examples file", "NotFound")
        try:
            files = [(key, path.read_bytes()) for key, path in found.files.items()]
            answer = await self.served.call(Call(found.input, files))
            if answer.body is not None:
                from starlette.responses import Response

                return Response(answer.body, media_type=replies.JSON)
            assert answer.chunks is not None
            return await self._stream(answer.chunks, request.headers.get("accept", ""), request)
        except Exception as exc:
            return self._failed(exc, request)

    async def ready(self, request: Any) -> Any:
        wrong = self._wrong_name(request)
        if wrong is not None:
            return wrong
        if not self.served.ready:
            return self._not_ready()
        return _json(200, b"{}")

    async def ping(self, request: Any) -> Any:
        return _json(200, b"{}") if self.served.ready else self._not_ready()

    async def schema(self, request: Any) -> Any:
        wrong = self._wrong_name(request)
        if wrong is not None:
            return wrong
        if not self.served.ready:
            return self._not_ready()
        info = self.served.info()
        if info["input_schema"] is None and info["output_schema"] is None:
            return _error(404, "the model declares no typed input or output (pydantic models)")
        import json

        return _json(200, json.dumps(info).encode())

    async def predict(self, request: Any) -> Any:
        wrong = self._wrong_name(request)
        return wrong if wrong is not None else await self.answer(request, "predict")

    async def invocations(self, request: Any) -> Any:
        return await self.answer(request, "predict")

    async def method(self, request: Any) -> Any:
        name = METHOD_ROUTES[request.url.path]
        if self.served.ready and not self.served.defines(name):
            return _error(404, f"the model defines no {name} method", "MethodNotImplemented")
        return await self.answer(request, name)

    async def websocket(self, ws: Any) -> None:
        """WS /v1/websocket as Truss's server runs it: the connection accepted, then handed to
        the model's `websocket` until it returns (closed 1000 then), the client leaves, or it
        raises (closed 1011, its traceback in the server log). Refused with 503 before the
        model is ready; closed 1003 when the model defines no websocket."""
        served = self.served
        if not served.ready:
            message = f"Model with name {served.name} is not ready."
            await _deny(ws, _error(503, message, "ModelNotReady", {"Retry-After": RETRY_AFTER}))
            return
        await ws.accept()
        if not served.serves_websocket():
            await _close(ws, 1003, served.no_websocket())
            return
        try:
            await served.websocket(ws)
        except Exception as exc:
            if getattr(exc, "raised", None) == "WebSocketDisconnect":
                return  # the client left while the model waited for it: the session is over
            failed = replies.failure(exc)
            self._log_failure(failed, ws)
            await _close(ws, 1011, "Internal Server Error")  # what Truss's server says
            return
        await _close(ws, 1000)

    # --protocol v2 (Open Inference Protocol)

    async def v2_server(self, request: Any) -> Any:
        from bundle_cli._version import __version__

        return _data(200, {"name": "bundle", "version": __version__, "extensions": []})

    async def v2_live(self, request: Any) -> Any:
        return _data(200, {"live": True})

    async def v2_ready(self, request: Any) -> Any:
        ready = self.served.ready
        return _data(200 if ready else 503, {"ready": ready})

    async def v2_model(self, request: Any) -> Any:
        wrong = self._wrong_name(request)
        if wrong is not None:
            return wrong
        if not self.served.ready:
            return self._not_ready()
        name = self.served.name
        return _data(
            200, {"name": name, "versions": [], "platform": "bundle", "inputs": [], "outputs": []}
        )

    async def named_ready(self, request: Any) -> Any:
        """`{"name", "ready"}` (v2's model ready, KServe's model status)."""
        wrong = self._wrong_name(request)
        if wrong is not None:
            return wrong
        ready = self.served.ready
        return _data(200 if ready else 503, {"name": self.served.name, "ready": ready})

    async def v2_infer(self, request: Any) -> Any:
        from bundle_cli.serve.protocols import v2_request

        wrong = self._wrong_name(request)
        return wrong if wrong is not None else await self.answer(request, "predict", v2_request)

    # --protocol kserve (KServe V1)

    async def kserve_models(self, request: Any) -> Any:
        return _data(200, {"models": [self.served.name]})

    async def kserve_predict(self, request: Any) -> Any:
        from bundle_cli.serve.protocols import kserve_request

        wrong = self._wrong_name(request)
        return wrong if wrong is not None else await self.answer(request, "predict", kserve_request)

    async def metrics_text(self, request: Any) -> Any:
        from starlette.responses import Response

        body, kind = self.metrics.render()
        return Response(body, media_type=kind)

    async def answer(self, request: Any, method: str, protocol: Any = None) -> Any:
        """Read, decode and run one request; its answer, whatever happened. `protocol` maps
        the request's value to the model's input and shapes its answer (--protocol v2)."""
        from starlette.responses import Response

        if not self.served.ready:
            return self._not_ready()
        headers = request.headers
        try:
            raw = await bodies.read(request.stream(), headers.get("content-length"), self.max_body)
            body = await bodies.decode(headers.get("content-type", ""), headers, raw, self.max_body)
            call = Call(body.value, body.files, method, body.binary)
            if protocol is not None:
                call.input, call.shape = protocol(body.value, request)
                call.binary = False
            answer = await self.served.call(call)
            if answer.body is not None:
                kind = replies.BINARY if body.binary else replies.JSON
                return Response(answer.body, media_type=kind)
            assert answer.chunks is not None
            return await self._stream(answer.chunks, headers.get("accept", ""), request)
        except Exception as exc:
            return self._failed(exc, request)

    async def _stream(self, chunks: AsyncIterator[str], accept: str, request: Any) -> Any:
        from starlette.responses import Response, StreamingResponse

        kind = replies.stream_kind(accept)
        if kind == replies.JSON:  # Truss gathers a stream when the client asks for JSON only
            gathered = [chunk async for chunk in chunks]
            return Response(f"[{','.join(gathered)}]".encode(), media_type=replies.JSON)
        first = await anext(chunks, None)  # an error before any output is a plain error answer

        async def frames() -> AsyncIterator[bytes]:
            try:
                if first is not None:
                    yield replies.frame(kind, first)
                    async for chunk in chunks:
                        yield replies.frame(kind, chunk)
            except Exception as exc:
                failed = replies.failure(exc)
                self._log_failure(failed, request)
                yield replies.frame_error(kind, failed.body)
                return
            done = replies.frame_done(kind)
            if done:
                yield done

        headers = {"Cache-Control": "no-cache"} if kind == replies.SSE else None
        return StreamingResponse(frames(), media_type=kind, headers=headers)

    def _failed(self, exc: Exception, request: Any) -> Any:
        from starlette.requests import ClientDisconnect

        if isinstance(exc, ClientDisconnect):  # nobody is left to read an answer or a log line
            return _error(
                400, "the client went away before its request was read", "ClientDisconnect"
            )
        if isinstance(exc, bodies.BodyTooLarge):
            return _error(413, str(exc), "BodyTooLarge")
        if isinstance(exc, QueueFull):
            message = (
                f"the server is at capacity ({self.served.limiter.slots} running, "
                f"{self.served.limiter.queue} waiting); retry later"
            )
            return _error(503, message, "QueueFull", {"Retry-After": RETRY_AFTER})
        if isinstance(exc, NotReady):
            return self._not_ready()
        failed = replies.failure(exc)
        self._log_failure(failed, request)
        return _error(failed.status, failed.body["error"], failed.body["type"])

    def _log_failure(self, failed: replies.Failure, request: Any) -> None:
        if failed.log is None:
            return
        rid = request.scope.get("state", {}).get("request_id", "-")
        self.log.message("error", f"{request.url.path} failed:\n{failed.log}", request_id=rid)

    def _not_ready(self) -> Any:
        message = f"Model with name {self.served.name} is not ready."
        return _error(503, message, "ModelNotReady", {"Retry-After": RETRY_AFTER})

    def _wrong_name(self, request: Any) -> Any:
        name = request.path_params.get("model_name", "model")
        if name in self.served.names():
            return None
        known = " or ".join(repr(n) for n in dict.fromkeys(self.served.names()))
        return _error(404, f"no model named {name!r} here; this server serves {known}", "NotFound")


async def _deny(ws: Any, response: Any) -> None:
    """Refuse a websocket handshake with an HTTP answer (ASGI's websocket.http.response), or by
    closing it (403) where the server cannot send one."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(response)
    else:
        await ws.close(1013)


async def _close(ws: Any, code: int, reason: str | None = None) -> None:
    """Close a session the model may have closed already (then there is nothing to do)."""
    import contextlib

    from starlette.websockets import WebSocketState

    if ws.application_state == WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(RuntimeError):  # the client's close crossed ours
        await ws.close(code, reason)


def _page() -> str:
    from pathlib import Path

    return (Path(__file__).parent / "page.html").read_text(encoding="utf-8")


def _json(status: int, body: bytes, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(body, status_code=status, media_type=replies.JSON, headers=headers)


def _data(status: int, value: Any) -> Any:
    import json

    return _json(status, json.dumps(value).encode())


def _error(
    status: int, message: str, kind: str = "Error", headers: dict[str, str] | None = None
) -> Any:
    return _json(status, replies.error_json({"error": message, "type": kind}).encode(), headers)


def truss_routes(endpoints: Endpoints) -> list[Any]:
    from starlette.routing import Route, WebSocketRoute

    e = endpoints
    routes = [  # predict first: routes are matched in order, and it is the busy one
        Route("/v1/models/{model_name}:predict", e.predict, methods=["POST"]),
        Route("/v1/models/{model_name}:predict_binary", e.predict, methods=["POST"]),
        Route("/", e.live, methods=["GET"]),
        Route("/v1/models/{model_name}", e.ready, methods=["GET"]),
        Route("/v1/models/{model_name}/loaded", e.ready, methods=["GET"]),
        Route("/v1/models/{model_name}/schema", e.schema, methods=["GET"]),
        Route("/invocations", e.invocations, methods=["POST"]),
        Route("/ping", e.ping, methods=["GET"]),
        Route("/bundle", e.about, methods=["GET"]),
        Route("/bundle/examples/{name}", e.example, methods=["POST"]),
        WebSocketRoute("/v1/websocket", e.websocket),
    ]
    routes += [Route(path, e.method, methods=["POST"]) for path in METHOD_ROUTES]
    return routes


def v2_routes(endpoints: Endpoints) -> list[Any]:
    from starlette.routing import Route

    e = endpoints
    return [
        Route("/", e.live, methods=["GET"]),
        Route("/v2", e.v2_server, methods=["GET"]),
        Route("/v2/health/live", e.v2_live, methods=["GET"]),
        Route("/v2/health/ready", e.v2_ready, methods=["GET"]),
        Route("/v2/models/{model_name}", e.v2_model, methods=["GET"]),
        Route("/v2/models/{model_name}/ready", e.named_ready, methods=["GET"]),
        Route("/v2/models/{model_name}/infer", e.v2_infer, methods=["POST"]),
    ]


def kserve_routes(endpoints: Endpoints) -> list[Any]:
    from starlette.routing import Route

    e = endpoints
    return [
        Route("/", e.live, methods=["GET"]),
        Route("/v1/models", e.kserve_models, methods=["GET"]),
        Route("/v1/models/{model_name}", e.named_ready, methods=["GET"]),
        Route("/v1/models/{model_name}:predict", e.kserve_predict, methods=["POST"]),
    ]


PROTOCOLS = {"truss": truss_routes, "v2": v2_routes, "kserve": kserve_routes}


def application(
    served: Served, log: Log, metrics: Metrics, max_body: int, protocol: str = "truss"
) -> Any:
    """The ASGI application: the protocol's routes and /metrics, JSON for unknown routes, the
    observing middleware."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bundle_cli.serve.observe import Observed

    endpoints = Endpoints(served, log, metrics, max_body)
    routes = [
        *PROTOCOLS[protocol](endpoints),
        Route("/metrics", endpoints.metrics_text, methods=["GET"]),
    ]

    async def not_found(request: Any, exc: Exception) -> Any:
        return _error(404, f"no route {request.method} {request.url.path}", "NotFound")

    async def not_allowed(request: Any, exc: Exception) -> Any:
        return _error(
            405, f"{request.method} is not allowed on {request.url.path}", "MethodNotAllowed"
        )

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    return Observed(app, log, metrics)
