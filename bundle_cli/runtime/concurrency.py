"""What lets one loaded bundle serve several threads and event loops at once.

- `Slots`: `runtime.predict_concurrency` as a limit shared by every caller of one bundle:
  threads wait in `acquire()`, coroutines on any event loop in `await aacquire()` (without
  blocking their loop), first come first served.
- `BundleLoop`: the bundle's own event loop, on which the sync API (`predict`, `stream`) runs
  async hooks: in the calling thread while one thread at a time uses it, in a daemon thread of
  its own once several do (or one whose own event loop is running).
- `Threads`: worker threads in which the async API (`arun`, a server's requests) runs sync
  hooks, so that the caller's event loop is never blocked.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

# asyncio is imported only when a bundle first needs it: `bundle predict` of a sync model never
# pays for it.


class Slots:
    """At most `size` holders at once, across threads and event loops."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        # Re-entrant: a Stream dropped unread gives its place back from __del__, which the
        # garbage collector may run while this thread is inside acquire or release.
        self._lock = threading.RLock()
        self._waiters: collections.deque[Callable[[], bool]] = collections.deque()

    def try_acquire(self) -> bool:
        """Take a place if one is free now, without waiting."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            return False

    def acquire(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            granted = threading.Event()

            def grant() -> bool:
                granted.set()
                return True

            self._waiters.append(grant)
        try:
            granted.wait()
        except BaseException:  # Ctrl-C while waiting: give the slot on if it came meanwhile
            with self._lock:
                if grant in self._waiters:
                    self._waiters.remove(grant)
                    raise
            self.release()
            raise

    async def aacquire(self) -> None:
        import asyncio

        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            loop = asyncio.get_running_loop()
            turn: asyncio.Future[None] = loop.create_future()

            def hand_over() -> None:  # on the waiter's loop
                if turn.cancelled():
                    self.release()  # the waiter gave up after the slot was granted: pass it on
                else:
                    turn.set_result(None)

            def grant() -> bool:
                loop.call_soon_threadsafe(hand_over)
                return True

            self._waiters.append(grant)
        try:
            await turn
        except asyncio.CancelledError:
            with self._lock:
                if grant in self._waiters:
                    self._waiters.remove(grant)
                    raise
            if turn.done() and not turn.cancelled():  # granted and delivered: give it back
                self.release()
            raise  # else hand_over sees the cancelled future and passes the slot on

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                if self._waiters.popleft()():
                    return
            self._free += 1


class BundleLoop:
    """The bundle's own event loop, on which the sync API runs async hooks.

    While one thread at a time needs it, that thread runs it itself (`run_until_complete`, as
    `asyncio.run` would: no thread switch per hook, and on the main thread SIGALRM reaches the
    model's code). When a second thread needs it while it runs, or a thread whose own event loop
    is running, the loop moves to a daemon thread of its own for good and every caller submits
    to it (`run_coroutine_threadsafe`) and waits.
    """

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._driver: int | None = None  # the thread running the loop in place, if one does
        self._waiting = 0  # callers that submitted while a driver ran the loop
        self._thread: threading.Thread | None = None

    def run(self, coro: Awaitable[Any], backstop: Any = None) -> Any:
        """Await `coro` on the loop and return its result. `backstop` (a context manager) is
        entered around running the loop in place: the main thread's SIGALRM for a hook that
        blocks the loop."""
        import asyncio

        with self._lock:
            in_place = (
                self._thread is None
                and self._driver is None
                and asyncio._get_running_loop() is None
            )
            if in_place:
                self._driver = threading.get_ident()
            else:
                if self._thread is None and self._driver is None:
                    self._start_thread()  # called from inside a running loop
                elif self._thread is None:
                    self._waiting += 1  # the driver hands the loop over when it is done
                future = asyncio.run_coroutine_threadsafe(_coroutine(coro), self.loop)
        if in_place:
            try:
                if backstop is None:
                    return self.loop.run_until_complete(coro)
                with backstop:
                    return self.loop.run_until_complete(coro)
            finally:
                with self._lock:
                    self._driver = None
                    if self._waiting:
                        self._start_thread()
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in the caller: stop the coroutine too
            raise
        finally:
            with self._lock:
                if self._thread is None:
                    self._waiting -= 1

    def _start_thread(self) -> None:
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="bundle-loop", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.run(self.loop.shutdown_asyncgens())
        finally:
            if self._thread is not None:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join()
            self.loop.close()


class LazyBundleLoop:
    """A BundleLoop made on its first use, from whichever thread comes first (making an event
    loop is not free, and most bundles never need one); `close` closes it if it was made."""

    def __init__(self) -> None:
        self._loop: BundleLoop | None = None
        self._lock = threading.Lock()

    def get(self) -> BundleLoop:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    self._loop = BundleLoop()
        return self._loop

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.close()


def _coroutine(awaitable: Awaitable[Any]) -> Coroutine[Any, Any, Any]:
    """What run_coroutine_threadsafe takes: an async generator's step is only an awaitable."""
    import asyncio

    if asyncio.iscoroutine(awaitable):
        return awaitable

    async def awaited() -> Any:
        return await awaitable

    return awaited()


class Threads:
    """Up to `most` daemon threads (started as jobs need them) running sync calls submitted
    from event loops; each result comes back as a future of the submitting loop.

    Not concurrent.futures: its executor costs about four times as much per call (a lock and a
    condition per future, then a chained asyncio future), which at thousands of requests a
    second is most of what a request costs. Jobs go through one C-level SimpleQueue, results
    come back with one `call_soon_threadsafe` each, and no lock is shared with the loop's
    thread: a thread about to wait for a job leaves a token in a deque, a submitted job takes
    one (both atomic), and a job that finds none starts a thread while fewer than `most` run.
    Daemons: a second Ctrl-C exits at once even while model code still runs in one of them.
    """

    def __init__(self, most: int, name: str) -> None:
        self.most, self.name = most, name
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle: collections.deque[None] = collections.deque()
        self._threads: list[threading.Thread] = []
        self._starting = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run fn(*args) in a worker thread; its result or exception in the returned future."""
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        try:
            self._idle.pop()  # a waiting thread takes this job
        except IndexError:
            if len(self._threads) < self.most:
                self._start()
        return future

    def resize(self, most: int) -> None:
        self.most = max(self.most, most)

    def close(self) -> None:
        """Let the threads end once the jobs submitted so far are done."""
        with self._starting:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads = []

    def _start(self) -> None:
        with self._starting:
            if len(self._threads) >= self.most:
                return
            thread = threading.Thread(
                target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        jobs, idle = self._jobs, self._idle
        job = jobs.get()  # the job this thread was started for (or one before it)
        while job is not None:
            loop, future, fn, args = job
            try:
                result, error = fn(*args), None
            except BaseException as exc:
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for it
                loop.call_soon_threadsafe(_settle, future, result, error)
            del job, future, result, error, args
            idle.append(None)
            job = jobs.get()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
