"""The model being served: its readiness, the back-pressure in front of it, and each call.

`predict_concurrency` requests run at once; up to `--max-queue` more wait for a slot, and a
request beyond those is refused at once (503, Retry-After). A slot is held until the model's
code is really done, even when the request timed out or its client left, so the limit is what
the model sees. Sync model code runs in worker threads; the loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from typing import Any

from bundle_cli.serve import calls
from bundle_cli.serve.calls import Answer, Call
from bundle_cli.serve.replies import RequestTimeout
from bundle_cli.serve.workers import Workers

calls.END = object()


class QueueFull(Exception):
    """Every predict slot is busy and --max-queue requests already wait (503)."""


class NotReady(Exception):
    """The model has not finished loading (503)."""


class Limiter:
    """`slots` at once, `queue` more waiting, FIFO; the rest refused by `admit`."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots, self.queue = slots, queue
        self.running = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        if self.running < self.slots and not self._waiters:
            self.running += 1
            return
        if len(self._waiters) >= self.queue:
            raise QueueFull()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # release() hands its slot over: running stays counted
        except BaseException:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.running -= 1


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
        self.workers = Workers(slots + 1)
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
        await self.limiter.acquire()
        self._using[id(runner)] = self._using.get(id(runner), 0) + 1
        started = self.workers.submit(calls.start, runner, call, self._scrub)
        try:
            kind, value = await self._within(started, deadline)
        except BaseException:
            started.add_done_callback(lambda f: self._finished(f, runner))
            raise
        if kind == "one":
            self._done(runner)
            return Answer(body=value)
        return Answer(chunks=self._chunks(runner, value, deadline))

    def _finished(self, future: asyncio.Future[Any], runner: Any) -> None:
        """A call given up on (timeout, client gone) frees its slot once its thread is done."""
        if not future.cancelled() and future.exception() is None:
            kind, value = future.result()
            if kind == "stream":
                self._close_then_release(value, runner)
                return
        self._done(runner)

    def _close_then_release(self, chunks: calls.Chunks, runner: Any) -> None:
        """Close a stream in a worker thread, then free its slot (from the loop's thread)."""
        closed = self.workers.submit(chunks.close)
        closed.add_done_callback(lambda _: self._done(runner))

    def _done(self, runner: Any) -> None:
        """A call's model code is over: free its slot, and close a retired runner it kept."""
        self.limiter.release()
        self._using[id(runner)] -= 1
        self._close_if_unused(runner)

    def _close_if_unused(self, runner: Any) -> None:
        if self._using.get(id(runner), 0) == 0:
            self._using.pop(id(runner), None)
            if self._retired.pop(id(runner), None) is not None:
                self.workers.submit(runner.close)

    async def _within(self, future: asyncio.Future[Any], deadline: float | None) -> Any:
        if deadline is None:
            return await asyncio.shield(future)
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(remaining, 0))
        except TimeoutError:
            raise RequestTimeout(self.timeout or 0) from None

    async def _chunks(self, runner: Any, chunks: calls.Chunks, deadline: float | None) -> Any:
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                pending = self.workers.submit(chunks.next)
                chunk = await self._within(pending, deadline)
                pending = None
                if chunk is calls.END:
                    return
                yield chunk
        finally:
            if pending is not None and not pending.done():  # the model is still in next()
                pending.add_done_callback(lambda _: self._close_then_release(chunks, runner))
            else:
                self._close_then_release(chunks, runner)
