"""uvicorn on a socket bound before the model loads: the routes answer (503 until ready) while
`load()` runs in a worker thread; a failed load stops the server and raises its error.

The first SIGTERM or Ctrl-C stops accepting connections at once and lets in-flight requests
finish for up to --drain-timeout seconds; a second one stops without waiting. Either way the
signal is raised again once the server is down, so the command exits 143 or 130 as every
command of bundle does.
"""

from __future__ import annotations

import asyncio
import socket
import time
from types import FrameType
from typing import Any

from bundle_cli.serve.options import ServeOptions

BACKLOG = 2048
WS_MAX_MESSAGE = 100 * 1024 * 1024  # bytes of one websocket message, as Truss's server allows


def run(options: ServeOptions) -> None:
    """Serve until a signal stops the server; raise what stopped it otherwise (a failed load)."""
    import uvicorn
    import uvloop

    from bundle_cli.serve.observe import Log, Metrics
    from bundle_cli.serve.routes import application
    from bundle_cli.serve.served import Served

    options.check()
    served = Served(1, options.max_queue, options.timeout, options.scrub)
    log = Log(options.log_format, options.access_log, options.scrub)
    metrics = Metrics(lambda: served.limiter.waiting)
    app = application(served, log, metrics, options.max_body_size, options.protocol)
    sock = bind(options.host, options.port)
    config = uvicorn.Config(
        app,
        http="httptools",
        ws=_websocket_protocol(),
        ws_max_size=WS_MAX_MESSAGE,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        backlog=BACKLOG,
        timeout_graceful_shutdown=int(max(1, round(options.drain_timeout))),
    )
    server = _server(config)
    url = address(sock, options.host)
    if options.announce is not None:
        options.announce(url)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(_main(server, sock, served, log, options, url))
    finally:
        log.flush()
        sock.close()
        if served.runner is not None and not served.limiter.running:
            served.runner.close()
        served.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), before anything else starts."""
    from bundle_cli.errors import UsageError

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        reason = exc.strerror.lower() if exc.strerror else str(exc)
        raise UsageError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def _main(
    server: Any, sock: socket.socket, served: Any, log: Any, options: ServeOptions, url: str
) -> None:
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    started = time.perf_counter()
    # --reload compares with the folder as it was before this load: an edit made while the
    # model loads (or before the watcher first looks) is reloaded, not taken as the baseline.
    baseline = _fingerprint(options) if options.reload else ()
    loading = served.workers.submit(_load, options)
    await asyncio.wait({serving, loading}, return_when=asyncio.FIRST_COMPLETED)
    if not loading.done():  # stopped by a signal while the model was loading
        await serving
        return
    failed = loading.exception()
    if failed is not None:
        server.should_exit = True
        await serving
        raise failed
    runner, name, slots = loading.result()
    served.set_runner(runner, name, slots)
    if getattr(runner.info, "websocket", False):  # ready for the first session's handshake
        served.workers.submit(_import_wsproto)
    seconds = time.perf_counter() - started
    log.message("info", f"model {name} ready at {url} (loaded in {seconds:.2f} s)")
    watcher = _watch(served, log, options, baseline) if options.reload else None
    try:
        await serving
    finally:
        if watcher is not None:
            watcher.cancel()


def _fingerprint(options: ServeOptions) -> tuple[tuple[str, int, int], ...]:
    from pathlib import Path

    from bundle_cli.serve.reload import fingerprint

    return fingerprint(Path(options.path))


def _watch(
    served: Any, log: Any, options: ServeOptions, baseline: tuple[tuple[str, int, int], ...]
) -> asyncio.Future[None]:
    """--reload: the watcher task, loading in a thread of its own."""
    from pathlib import Path

    from bundle_cli.runtime.concurrency import Threads
    from bundle_cli.serve.reload import watch

    def swap(loaded: tuple[Any, str, int]) -> None:
        served.set_runner(*loaded)
        log.message("info", f"model {loaded[1]} reloaded")

    thread = Threads(1, "bundle-reload")
    folder = Path(options.path)
    return asyncio.ensure_future(
        watch(folder, baseline, lambda: _load(options), swap, log.message, thread.submit)
    )


def _load(options: ServeOptions) -> tuple[Any, str, int]:
    """In a worker thread: the loaded bundle, its name and its predict concurrency."""
    from bundle_cli.runtime import load

    runner = load(
        options.path,
        secrets=options.secrets,
        secrets_file=options.secrets_file,
        warn=options.warn,
        trust_pickles=options.trust_pickles,
        isolated=options.isolated,
        offline=options.offline,
    )
    return runner, runner.info.name, runner.info.predict_concurrency


def _server(config: Any) -> Any:
    """uvicorn's server, where a second signal of either kind stops it without draining."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                self.force_exit = True
            super().handle_exit(sig, frame)

    return Server(config)


def _websocket_protocol() -> Any:
    """uvicorn's websocket protocol (wsproto's), imported when a handshake first needs it (or
    once a model that serves a websocket is loaded), not before the server answers."""

    class WebSocketProtocol(asyncio.Protocol):
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            return _import_wsproto()(*args, **kwargs)

    return WebSocketProtocol


def _import_wsproto() -> Any:
    from uvicorn.protocols.websockets.wsproto_impl import WSProtocol

    return WSProtocol
