"""What `bundle serve` is asked to do; checked before anything is loaded or bound."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bundle_cli.errors import UsageError

PROTOCOLS = ("truss", "v2", "kserve")  # bundle_cli.serve.routes.PROTOCOLS
LOG_FORMATS = ("text", "json")
DEFAULT_PORT = 8080
DEFAULT_MAX_BODY = 100 * 1024 * 1024  # bytes, as Truss's websocket limit and the issue ask
DEFAULT_MAX_QUEUE = 128  # requests waiting for a free predict slot beyond those running
DEFAULT_DRAIN = 30.0  # seconds in-flight requests get to finish after SIGTERM / Ctrl-C
MAX_SECONDS = 1e9  # as bundle predict's --timeout: what every clock of the runtime can hold


@dataclass
class ServeOptions:
    path: str = "."
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    protocol: str = "truss"
    max_body_size: int = DEFAULT_MAX_BODY
    max_queue: int = DEFAULT_MAX_QUEUE
    timeout: float | None = None
    drain_timeout: float = DEFAULT_DRAIN
    reload: bool = False
    log_format: str = "text"
    access_log: bool = True
    secrets: dict[str, str] = field(default_factory=dict)
    secrets_file: str | None = None
    trust_pickles: bool = False
    isolated: bool = False  # the model runs in a child Python in its own environment
    offline: bool = False  # with isolated: build the environment from uv's cache only
    # How the server tells its caller what happens (the CLI prints; the core never does).
    warn: Callable[[str], Any] | None = None
    announce: Callable[[str], Any] | None = None  # the URL, once the socket is bound
    scrub: Callable[[str], str] | None = None  # removes secret values from what is sent or logged

    def check(self) -> None:
        """Every option checked at once, before the model loads."""
        if self.protocol not in PROTOCOLS:
            raise UsageError(f"--protocol {self.protocol}: use one of {', '.join(PROTOCOLS)}")
        if self.reload and not os.path.isdir(self.path):
            raise UsageError(
                f"--reload watches a bundle folder; {self.path} is not one (an archive does "
                "not change: serve the folder it was packaged from)"
            )
        if self.log_format not in LOG_FORMATS:
            raise UsageError(f"--log-format {self.log_format}: use one of {', '.join(LOG_FORMATS)}")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port {self.port}: give 0 (any free port) to 65535")
        if self.max_queue < 0:
            raise UsageError(f"--max-queue {self.max_queue}: give 0 or more waiting requests")
        if self.max_body_size < 1:
            raise UsageError("--max-body-size must be at least 1 byte")
        for name, value in (("--timeout", self.timeout), ("--drain-timeout", self.drain_timeout)):
            if value is not None and not 0 < value <= MAX_SECONDS:  # NaN fails too
                raise UsageError(
                    f"{name} {value:g}: give a number of seconds above 0, at most {MAX_SECONDS:g}"
                )
