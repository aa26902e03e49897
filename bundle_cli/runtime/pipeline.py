"""preprocess -> predict -> postprocess for one loaded model, inside the bundle's import scope.

This is the one place the model's hooks are called. Every call measures the hook, spends the
request's --timeout budget (runtime/deadline.py) and turns an exception of the model's code
into a UserCodeError that carries the model's frames only.

Threads and event loops (one async strategy):
- the sync API (`run`, `run_batch`, `stream`) may be called from any number of threads at
  once; sync hooks run in the calling thread, async hooks on the bundle's own event loop
  (a thread of its own, runtime/concurrency.py), so the sync API works inside a running loop
  too (it then blocks that loop while it waits: call `arun` there instead);
- the async API (`arun`, `arun_batch`, `astream`) runs on the caller's loop: async hooks are
  awaited there, sync hooks run in worker threads, so the loop is never blocked;
- `runtime.predict_concurrency` limits how many requests are inside predict (or another
  request method) at once, across both APIs (a streamed answer holds its place until it ends);
  preprocess and postprocess run outside the limit, as in Truss. Under the async API sync
  predict calls run in worker threads as many as that limit, the other sync hooks in threads
  of their own (runtime/concurrency.py `Threads`);
- `awebsocket` runs the model's `async def websocket(self, websocket)` session on the caller's
  loop, outside the predict limit, as Truss does.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import BundleError, InvalidBundleError, UsageError, UserCodeError
from bundle_cli.runtime.concurrency import BundleLoop, LazyBundleLoop, Slots, Threads
from bundle_cli.runtime.deadline import Deadline, DeadlineExceeded
from bundle_cli.runtime.hooks import BATCH_ATTRIBUTE, Hook, ModelSpec
from bundle_cli.runtime.inputs import RequestFiles
from bundle_cli.runtime.isolation import ImportScope
from bundle_cli.runtime.request import LocalRequest
from bundle_cli.runtime.store import Store
from bundle_cli.runtime.store import active as active_store
from bundle_cli.runtime.timings import Timings
from bundle_cli.runtime.typed import parse_typed
from bundle_cli.runtime.usertrace import Guard

_PASS_THROUGH = (BundleError, DeadlineExceeded, KeyboardInterrupt)
HOOK_THREADS = 32  # at most, for sync pre/postprocess under the async API (outside the limit)


class Pipeline:
    """Calls one model instance's hooks for requests."""

    def __init__(
        self,
        spec: ModelSpec,
        scope: ImportScope,
        guard: Guard,
        timings: Timings,
        store: Store | None = None,
        concurrency: int = 1,
    ) -> None:
        self.spec, self.scope, self.guard, self.timings = spec, scope, guard, timings
        # What bundle_cli.store() returns while this bundle's code runs.
        self.store = store if store is not None else Store()
        self.model: Any = None
        self.slots = Slots(concurrency)
        self._loop = LazyBundleLoop()  # the sync API's loop for async hooks
        # Worker threads of sync hooks under the async API: predict's, the other hooks'.
        self._predict_threads: Threads | None = None
        self._hook_threads: Threads | None = None
        self._starting = threading.Lock()
        self.closers: list[Callable[[], None]] = []  # run by close(), last added first
        self._request_takers: dict[str, bool] = {}  # method -> whether its hooks take a request

    def start(self, cls: type, kwargs: dict[str, Any]) -> None:
        """Instantiate the model and run its load hook once."""
        with self.scope:
            self._instantiate(cls, kwargs)
            if self.spec.load:
                self._call("load", stage="load")

    def _instantiate(self, cls: type, kwargs: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            with active_store(self.store):
                self.model = cls(**kwargs)
        except (BundleError, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise self.guard.error(exc, "__init__") from None
        finally:
            self.timings.add("init", time.perf_counter() - start)

    # The sync API: any thread.

    def run(
        self,
        value: Any,
        files: RequestFiles,
        label: str,
        seconds: float | None,
        method: str = "predict",
    ) -> Any:
        """One request: the output of the last hook, or a Stream when predict (or `method`)
        returned a generator, as Truss streams it."""
        deadline = Deadline(seconds)
        # One request object for the call's hooks, made only when one of them takes it.
        request = LocalRequest(value) if self._takes_request(method) else None
        hooks = method == "predict"  # preprocess and postprocess wrap predict only, as in Truss
        try:  # not a @contextmanager around the block: its cost showed once per JSON line
            with self.scope:
                original = self._typed(value, label, deadline) if hooks else value
                data = original
                if hooks and self.spec.preprocess:
                    data = self._call(
                        "preprocess", original, files, request=request, deadline=deadline
                    )
                self._take_slot()
                try:
                    output = self._call(
                        method, data, request=request, stage="predict", deadline=deadline
                    )
                except BaseException:
                    self.slots.release()
                    raise
                stream = self._as_stream(output, hooks, deadline)
                if stream is not None:
                    return stream
                if hooks and self.spec.postprocess:
                    output = self._call(
                        "postprocess", output, original, files, request=request, deadline=deadline
                    )
                return output
        except DeadlineExceeded as exc:
            raise self.guard.timeout(exc, deadline.seconds or 0) from None

    def _takes_request(self, method: str) -> bool:
        """Whether a hook that a call of `method` runs takes the request object."""
        known = self._request_takers.get(method)
        if known is None:
            names = ("preprocess", method, "postprocess") if method == "predict" else (method,)
            hooks = (self.spec.hook(name) for name in names)
            known = any(h is not None and h.request_at is not None for h in hooks)
            self._request_takers[method] = known
        return known

    def run_batch(
        self, values: list[Any], files: RequestFiles, labels: Sequence[str], seconds: float | None
    ) -> list[Any]:
        """A batch of requests through one predict call; outputs in input order."""
        deadline = Deadline(seconds)
        with self.scope, self._deadline(deadline):
            originals = values
            if self.spec.input_type is not None:
                originals = [
                    self._typed(v, lbl, deadline) for v, lbl in zip(values, labels, strict=True)
                ]
            pre = self.spec.preprocess
            data = (
                self._call_each("preprocess", (originals,), files, deadline) if pre else originals
            )
            self._take_slot()
            try:
                got = self._call("predict", data, deadline=deadline)
            finally:
                self.slots.release()
            outputs = self._batch_outputs(got, len(values))
            if self.spec.postprocess:
                outputs = self._call_each("postprocess", (outputs, originals), files, deadline)
            return outputs

    def stream(
        self, value: Any, files: RequestFiles, label: str, seconds: float | None
    ) -> Iterator[Any]:
        """The chunks of a streaming predict, each as soon as the model yields it (one item
        when predict returns a single output)."""
        output = self.run(value, files, label, seconds)
        if isinstance(output, Stream):
            yield from output
        else:
            yield output

    def chunks(self, stream: Stream) -> Iterator[Any]:
        """A Stream's chunks, each produced inside the bundle's scope, within its deadline."""
        chunks, deadline = stream.generator, stream.deadline
        is_async = inspect.isasyncgen(chunks)
        try:
            while True:
                with self.scope, self._deadline(deadline):
                    done, chunk = self._next_chunk(chunks, is_async, deadline)
                if done:
                    return
                yield chunk
        finally:
            try:
                with self.scope:
                    self._close_stream(chunks, is_async)
            finally:
                stream.release()

    # The async API: on the caller's event loop.

    async def arun(
        self,
        value: Any,
        files: RequestFiles,
        label: str,
        seconds: float | None,
        method: str = "predict",
    ) -> Any:
        """`run` on the caller's loop: a Stream (iterate it with `async for`) or the output."""
        deadline = Deadline(seconds)
        request = LocalRequest(value)
        hooks = method == "predict"
        async with self.scope:
            with self._deadline(deadline):
                original = self._typed(value, label, deadline) if hooks else value
                data = original
                if hooks and self.spec.preprocess:
                    data = await self._acall(
                        "preprocess", original, files, request=request, deadline=deadline
                    )
                await self._atake_slot()
                try:
                    output = await self._acall(
                        method, data, request=request, stage="predict", deadline=deadline
                    )
                except BaseException:
                    self.slots.release()
                    raise
                stream = self._as_stream(output, hooks, deadline)
                if stream is not None:
                    return stream
                if hooks and self.spec.postprocess:
                    output = await self._acall(
                        "postprocess", output, original, files, request=request, deadline=deadline
                    )
                return output

    async def arun_batch(
        self, values: list[Any], files: RequestFiles, labels: Sequence[str], seconds: float | None
    ) -> list[Any]:
        """`run_batch` on the caller's loop."""
        deadline = Deadline(seconds)
        async with self.scope:
            with self._deadline(deadline):
                originals = values
                if self.spec.input_type is not None:
                    originals = [
                        self._typed(v, lbl, deadline) for v, lbl in zip(values, labels, strict=True)
                    ]
                data = originals
                if self.spec.preprocess:
                    data = [
                        await self._acall("preprocess", v, files, deadline=deadline)
                        for v in originals
                    ]
                await self._atake_slot()
                try:
                    got = await self._acall("predict", data, deadline=deadline)
                finally:
                    self.slots.release()
                outputs = self._batch_outputs(got, len(values))
                if self.spec.postprocess:
                    outputs = [
                        await self._acall("postprocess", out, orig, files, deadline=deadline)
                        for out, orig in zip(outputs, originals, strict=True)
                    ]
                return outputs

    async def achunks(self, stream: Stream) -> AsyncIterator[Any]:
        """A Stream's chunks on the caller's loop (sync generators step in a worker thread)."""
        chunks, deadline = stream.generator, stream.deadline
        is_async = inspect.isasyncgen(chunks)
        try:
            while True:
                async with self.scope:
                    with self._deadline(deadline):
                        done, chunk = await self._anext_chunk(chunks, is_async, deadline)
                if done:
                    return
                yield chunk
        finally:
            try:
                async with self.scope:
                    if is_async:
                        with self._errors("predict", "predict"):
                            await chunks.aclose()
                    else:
                        await self._in_thread(self._close_stream, chunks, False)
            finally:
                stream.release()

    async def awebsocket(self, websocket: Any) -> None:
        """The model's websocket session on the caller's loop: `websocket` is the accepted
        connection, the session is over when the hook returns. Outside the predict limit, as in
        Truss; what the model raises (a client that left included) is a UserCodeError whose
        `raised` names it."""
        if self.spec.websocket is None:
            raise UsageError("the model defines no websocket method")
        async with self.scope:
            with self._errors("websocket", "predict"), active_store(self.store):
                await self.model.websocket(websocket)

    def close(self) -> None:
        """Release the loop and threads this pipeline made (idempotent)."""
        self._loop.close()
        for threads in (self._predict_threads, self._hook_threads):
            if threads is not None:
                threads.close()
        self._predict_threads = self._hook_threads = None
        while self.closers:
            self.closers.pop()()

    def _take_slot(self) -> None:
        """A predict place, taken inside the scope; while it waits for one, this call is out
        of the scope (another bundle may run meanwhile, and the call inside predict may drive
        another bundle, which needs to be alone in this one)."""
        if not self.slots.try_acquire():
            self.scope.__exit__()
            try:
                self.slots.acquire()
            finally:
                self.scope.__enter__()

    async def _atake_slot(self) -> None:
        if not self.slots.try_acquire():
            await self.scope.__aexit__()
            try:
                await self.slots.aacquire()
            finally:
                await self.scope.__aenter__()

    # Calling hooks.

    def _call(
        self,
        name: str,
        *args: Any,
        stage: str | None = None,
        request: Any = None,
        deadline: Deadline | None = None,
    ) -> Any:
        hook, args = self._hook_args(name, args, request)
        start = time.perf_counter()
        try:
            with active_store(self.store):
                method = getattr(self.model, name)
                if hook.kind == "coroutine":
                    return self._on_loop(method(*args), deadline)
                if deadline is None or deadline.remaining is None:
                    return method(*args)
                with deadline.running():
                    return method(*args)
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            raise self.guard.error(exc, name) from None
        finally:
            self.timings.add(stage or name, time.perf_counter() - start)

    def _call_each(
        self,
        name: str,
        columns: tuple[list[Any], ...],
        files: RequestFiles,
        deadline: Deadline,
    ) -> list[Any]:
        """`_call(name, *row, files)` for each row of a batch, `columns` holding one list per
        argument before the files. A sync hook without a --timeout has its store set and its
        time measured once for the batch, not once a row, and is mapped over the columns
        themselves when it takes neither the files nor the request (those costs showed beside
        a fast hook, in `bundle predict --jsonl` and `bundle batch`)."""
        hook = self.spec.hook(name)
        if hook is None or hook.kind != "function" or deadline.remaining is not None:
            return [
                self._call(name, *row, files, deadline=deadline)
                for row in zip(*columns, strict=True)
            ]
        method, nargs = getattr(self.model, name), hook.nargs
        start = time.perf_counter()
        try:
            with active_store(self.store):
                if hook.request_at is None and 0 < nargs <= len(columns):
                    return list(map(method, *columns[:nargs]))
                hook_args = self._hook_args
                return [
                    method(*hook_args(name, (*row, files), None)[1])
                    for row in zip(*columns, strict=True)
                ]
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            raise self.guard.error(exc, name) from None
        finally:
            self.timings.add(name, time.perf_counter() - start, len(columns[0]))

    async def _acall(
        self,
        name: str,
        *args: Any,
        stage: str | None = None,
        request: Any = None,
        deadline: Deadline | None = None,
    ) -> Any:
        hook, args = self._hook_args(name, args, request)
        method = getattr(self.model, name)
        with self._errors(name, stage or name):
            if hook.kind == "coroutine":
                with active_store(self.store):
                    return await self._awaited(method(*args), deadline)
            if hook.kind != "function":  # a generator: created here, stepped by achunks
                with active_store(self.store):
                    return method(*args)
            return await self._in_thread(self._sync, method, args, deadline, pool=stage)

    def _hook_args(
        self, name: str, args: tuple[Any, ...], request: Any
    ) -> tuple[Hook, tuple[Any, ...]]:
        hook = self.spec.hook(name)
        if hook is None:
            raise UsageError(f"the model has no method {name}")
        # Pass as many arguments as the hook takes; files are read from their start by each hook.
        args = args[: hook.nargs]
        if len(args) == 1:  # predict's one argument: no generator for it
            if isinstance(args[0], RequestFiles):
                args = (args[0].rewound(),)
        elif args:
            args = tuple(a.rewound() if isinstance(a, RequestFiles) else a for a in args)
        if hook.request_at is not None:
            given = request if request is not None else LocalRequest(args[0] if args else None)
            args = (*args[: hook.request_at], given, *args[hook.request_at :])
        return hook, args

    def _sync(
        self, method: Callable[..., Any], args: tuple[Any, ...], deadline: Deadline | None
    ) -> Any:
        """A sync hook in a worker thread, with the store and the deadline of its request."""
        with active_store(self.store):
            if deadline is None or deadline.remaining is None:
                return method(*args)
            with deadline.running():
                return method(*args)

    async def _awaited(self, awaitable: Any, deadline: Deadline | None) -> Any:
        """Await a hook's coroutine (on whichever loop runs this) within the deadline."""
        with active_store(self.store):
            if deadline is None or deadline.remaining is None:
                return await awaitable
            async with deadline.arunning():
                return await awaitable

    async def _in_thread(
        self, func: Callable[..., Any], *args: Any, pool: str | None = None
    ) -> Any:
        """`func(*args)` in a worker thread (predict's for predict), in this context."""
        threads = self._threads(pool == "predict")
        return await threads.submit(contextvars.copy_context().run, func, *args)

    @contextmanager
    def _errors(self, name: str, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            raise self.guard.error(exc, name) from None
        finally:
            self.timings.add(stage, time.perf_counter() - start)

    def _next_chunk(self, chunks: Any, is_async: bool, deadline: Deadline) -> tuple[bool, Any]:
        start = time.perf_counter()
        try:
            with active_store(self.store):
                if is_async:
                    return False, self._on_loop(chunks.__anext__(), deadline)
                if deadline.remaining is None:
                    return False, next(chunks)
                with deadline.running():
                    return False, next(chunks)
        except (StopIteration, StopAsyncIteration):
            return True, None
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            raise self.guard.error(exc, "predict") from None
        finally:
            self.timings.add("predict", time.perf_counter() - start)

    async def _anext_chunk(
        self, chunks: Any, is_async: bool, deadline: Deadline
    ) -> tuple[bool, Any]:
        if not is_async:
            step: tuple[bool, Any] = await self._in_thread(
                self._next_chunk, chunks, False, deadline, pool="predict"
            )
            return step
        with self._errors("predict", "predict"):
            try:
                chunk = await self._awaited(chunks.__anext__(), deadline)
            except StopAsyncIteration:
                return True, None
        return False, chunk

    def _close_stream(self, chunks: Any, is_async: bool) -> None:
        try:
            if is_async:
                self._bundle_loop().run(chunks.aclose())
            else:
                chunks.close()
        except Exception as exc:
            raise self.guard.error(exc, "predict") from None

    def _on_loop(self, awaitable: Any, deadline: Deadline | None) -> Any:
        """Await a hook's coroutine on the bundle's own loop (the sync API). The loop's task
        runs in a copy of this context, where the bundle's store is active already."""
        if deadline is None or deadline.remaining is None:
            return self._bundle_loop().run(awaitable)
        return self._bundle_loop().run(self._awaited(awaitable, deadline), deadline.backstop())

    def _bundle_loop(self) -> BundleLoop:
        return self._loop.get()

    def _threads(self, predict: bool) -> Threads:
        threads = self._predict_threads if predict else self._hook_threads
        if threads is None:
            with self._starting:
                if predict and self._predict_threads is None:
                    self._predict_threads = Threads(self.slots.size, "bundle-predict")
                elif not predict and self._hook_threads is None:
                    self._hook_threads = Threads(HOOK_THREADS, "bundle-hook")
            threads = self._predict_threads if predict else self._hook_threads
            assert threads is not None
        return threads

    def _typed(self, value: Any, label: str, deadline: Deadline) -> Any:
        if self.spec.input_type is None:
            return value
        try:
            if deadline.remaining is None:
                return parse_typed(value, self.spec.input_type, label)
            with deadline.running():
                return parse_typed(value, self.spec.input_type, label)
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # a validator of the model's own raised
            raise self.guard.error(exc, "input validation") from None

    def _as_stream(self, output: Any, hooks: bool, deadline: Deadline) -> Stream | None:
        """What predict returned, as a Stream that keeps its predict place until it ends when
        it is a generator (as Truss streams it); else None, and the place is given back."""
        if not (inspect.isgenerator(output) or inspect.isasyncgen(output)):
            self.slots.release()
            return None
        if hooks and self.spec.postprocess:
            self.slots.release()
            raise self._stream_with_postprocess()
        return Stream(self, output, deadline)

    def _stream_with_postprocess(self) -> InvalidBundleError:
        diag = Diagnostic(
            "hook-generator-postprocess",
            "error",
            "predict returned a generator (a stream), so postprocess would never see one "
            "output; remove postprocess or process each chunk before yielding it",
        )
        return InvalidBundleError("the model cannot be run", [diag])

    def _batch_outputs(self, outputs: Any, expected: int) -> list[Any]:
        try:
            items = list(outputs)
        except TypeError:
            items = None
        if items is None or len(items) != expected:
            got = f"{len(items)} outputs" if items is not None else type(outputs).__name__
            raise UserCodeError(
                f"error: predict returned {got} for a batch of {expected} inputs; with "
                f"{BATCH_ATTRIBUTE} set, predict takes a list and returns a list of the same length",
                "",
            )
        return items

    @contextmanager
    def _deadline(self, deadline: Deadline) -> Iterator[None]:
        try:
            yield
        except DeadlineExceeded as exc:
            raise self.guard.timeout(exc, deadline.seconds or 0) from None


class Stream:
    """What a hook returned when it returned a generator: its chunks, produced on iteration
    (`for` with the sync API, `async for` with the async one). It holds one of the model's
    predict places until its chunks end or it is closed."""

    def __init__(self, pipeline: Pipeline, generator: Any, deadline: Deadline) -> None:
        self.pipeline, self.generator, self.deadline = pipeline, generator, deadline
        self._held = True

    def __iter__(self) -> Iterator[Any]:
        return self.pipeline.chunks(self)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self.pipeline.achunks(self)

    def release(self) -> None:
        """Give back the predict place (idempotent)."""
        if self._held:
            self._held = False
            self.pipeline.slots.release()

    def close(self) -> None:
        """Stop a stream that will not be read to its end."""
        try:
            if inspect.isgenerator(self.generator):
                self.generator.close()
        finally:
            self.release()

    def __del__(self) -> None:
        if getattr(self, "_held", False):  # never iterated: its place must not be lost
            self.release()
