"""The model being served: its readiness, the back-pressure in front of it, and each call.

The in-process runner is called on the server's loop (`arespond`): async hooks run there,
sync hooks in worker threads, and `predict_concurrency` limits predict alone, preprocess and
postprocess outside it, as in Truss. A runner in another process is called in worker threads
through the seam's dispatch. In front of either, `predict_concurrency` requests plus up to
`--max-queue` more are admitted, and one beyond those is refused at once (503, Retry-After). A
request stays admitted until the model's code is really done, even when it timed out or its
client left, so the limits are what the model sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bundle_cli.runtime.concurrency import Threads
from bundle_cli.serve import calls
from bundle_cli.serve.calls import Answer, Call
from bundle_cli.serve.replies import RequestTimeout


class QueueFull(Exception):
    """Every predict slot is busy and --max-queue requests already wait (503)."""


class NotReady(Exception):
    """The model has not finished loading (503)."""


class Limiter:
    """Requests admitted to the model: `slots` (its predict concurrency) and `queue` more; one
    beyond those is refused by `admit`. Which of them are in predict at a time is the runner's
    own limit (FIFO), so `waiting` counts those admitted beyond the slots."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots, self.queue = slots, queue
        self.inside = 0

    @property
    def running(self) -> int:
        return min(self.inside, self.slots)

    @property
    def waiting(self) -> int:
        return max(0, self.inside - self.slots)

    def admit(self) -> None:
        if self.inside >= self.slots + self.queue:
            raise QueueFull()
        self.inside += 1

    def release(self) -> None:
        self.inside -= 1


class Served:
    """The runner behind the server, swapped in when (re)loaded; calls go through `call`."""

    def __init__(
        self, slots: int, queue: int, timeout: float | None, scrub: Callable[[str], str] | None
    ) -> None:
        self.runner: Any = None
        self.name = "model"
        self.limiter = Limiter(slots, queue)
        self.timeout = timeout
        self._scrub = scrub
        self.workers = Threads(slots + 1, "bundle-serve")
        self._using: dict[int, int] = {}  # id(runner) -> calls using it
        self._retired: dict[int, Any] = {}  # runners replaced by a reload, closed when unused

    @property
    def ready(self) -> bool:
        return self.runner is not None

    def names(self) -> tuple[str, ...]:
        """The model names the routes answer to: `model` (Truss's) and the model's own."""
        return ("model", self.name)

    def set_runner(self, runner: Any, name: str, slots: int) -> None:
        """Serve `runner` from now on; the one it replaces is closed once no call uses it."""
        old, self.runner, self.name = self.runner, runner, name
        if old is not None:
            self._retired[id(old)] = old
            self._close_if_unused(old)
        if slots != self.limiter.slots:
            self.limiter.slots = slots
            self.workers.resize(slots + 1)

    def defines(self, method: str) -> bool:
        """Whether the loaded model has this request/response method (completions, ...)."""
        return self.runner is not None and method in self.runner.info.methods

    def serves_websocket(self) -> bool:
        """Whether the loaded model has a websocket method this server can run."""
        runner = self.runner
        return bool(getattr(runner.info, "websocket", False)) and hasattr(runner, "awebsocket")

    def no_websocket(self) -> str:
        """Why WS /v1/websocket has nothing to run (a close reason: at most 123 bytes)."""
        if getattr(self.runner.info, "websocket", False):
            return "the model's websocket runs in this process only (not with --isolated)"
        return "WebSocket is not implemented on this deployment."  # Truss's words

    async def websocket(self, ws: Any) -> None:
        """The model's websocket session, on the server's loop; a reload waits for it to end
        before closing the model it replaced."""
        runner = self.runner
        self._using[id(runner)] = self._using.get(id(runner), 0) + 1
        try:
            await runner.awebsocket(ws)
        finally:
            self._using[id(runner)] -= 1
            self._close_if_unused(runner)

    def info(self) -> dict[str, Any]:
        """The typed input and output JSON Schemas, and whether predict streams (the shape of
        Truss's schema route)."""
        info = self.runner.info
        return {
            "input_schema": info.input_schema,
            "output_schema": info.output_schema,
            "supports_streaming": info.streaming,
        }

    def takes_files(self) -> bool:
        """Whether a hook of the model takes the request's files (the page offers a picker)."""
        spec = getattr(self.runner, "spec", None)
        if spec is None:
            return True  # a runner that does not say: offer it
        pre, post = spec.hook("preprocess"), spec.hook("postprocess")
        return bool((pre and pre.nargs >= 2) or (post and post.nargs >= 3))

    def examples(self) -> list[Any]:
        """The entries of the bundle's examples file (none for a runner that has no folder)."""
        settings = getattr(self.runner, "settings", None)
        if settings is None:
            return []
        from bundle_cli.runtime.examples import read_examples

        return read_examples(settings)

    def close(self) -> None:
        self.workers.close()

    async def call(self, call: Call) -> Answer:
        """Run one call within the limits: its encoded output, or its stream of chunks."""
        runner = self.runner
        if runner is None:
            raise NotReady()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.limiter.admit()
        self._using[id(runner)] = self._using.get(id(runner), 0) + 1
        started: asyncio.Future[Any]
        if deadline is None and hasattr(runner, "arespond"):
            # No deadline to answer before the model is done: awaited in this task, without a
            # task and a shield of its own (a cancellation here is the server's forced exit).
            try:
                kind, value = await calls.astart(runner, call, self._scrub)
            except BaseException:
                self._done(runner)
                raise
        else:
            if hasattr(runner, "arespond"):
                started = asyncio.ensure_future(calls.astart(runner, call, self._scrub))
            else:
                started = self.workers.submit(calls.start, runner, call, self._scrub)
            try:
                kind, value = await self._within(started, deadline)
            except BaseException:
                started.add_done_callback(lambda f: self._finished(f, runner))
                raise
        if kind == "one":
            self._done(runner)
            return Answer(body=value)
        if not hasattr(value, "anext"):
            value = calls.ThreadChunks(value, self.workers)
        return Answer(chunks=self._chunks(runner, value, deadline))

    def _finished(self, future: asyncio.Future[Any], runner: Any) -> None:
        """A call given up on (timeout, client gone) is released once its model code is done."""
        if not future.cancelled() and future.exception() is None:
            kind, value = future.result()
            if kind == "stream":
                if not hasattr(value, "anext"):
                    value = calls.ThreadChunks(value, self.workers)
                self._close_then_release(value, runner)
                return
        self._done(runner)

    def _close_then_release(self, chunks: Any, runner: Any) -> None:
        """Close a stream (its model code), then release its call."""
        closed = asyncio.ensure_future(chunks.aclose())
        closed.add_done_callback(lambda _: self._done(runner))

    def _done(self, runner: Any) -> None:
        """A call's model code is over: release it, and close a retired runner it kept."""
        self.limiter.release()
        self._using[id(runner)] -= 1
        self._close_if_unused(runner)

    def _close_if_unused(self, runner: Any) -> None:
        if self._using.get(id(runner), 0) == 0:
            self._using.pop(id(runner), None)
            if self._retired.pop(id(runner), None) is not None:
                self.workers.submit(runner.close)

    async def _within(self, future: asyncio.Future[Any], deadline: float | None) -> Any:
        """The server's own deadline (--timeout): 504 when it passes; the model's code goes on
        (shielded) until it is done, and its call stays admitted until then."""
        if deadline is None:
            return await asyncio.shield(future)
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(remaining, 0))
        except TimeoutError:
            raise RequestTimeout(self.timeout or 0) from None

    async def _chunks(self, runner: Any, chunks: Any, deadline: float | None) -> Any:
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                pending = chunks.anext()
                chunk = await self._within(pending, deadline)
                pending = None
                if chunk is calls.END:
                    return
                yield chunk
        finally:
            if pending is not None and not pending.done():  # the model is still making one
                pending.add_done_callback(lambda _: self._close_then_release(chunks, runner))
            else:
                self._close_then_release(chunks, runner)
