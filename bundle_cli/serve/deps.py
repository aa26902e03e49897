"""The serve extra: what `bundle serve` imports, checked once with a message naming the install."""

from __future__ import annotations

import importlib
import importlib.util

from bundle_cli.errors import MissingDependencyError

# module -> the distribution that provides it (all in the `serve` extra)
NEEDED = {
    "uvicorn": "uvicorn",
    "httptools": "httptools",
    "uvloop": "uvloop",
    "starlette": "starlette",
    "orjson": "orjson",
    "msgpack": "msgpack",
    "multipart": "python-multipart",
    "prometheus_client": "prometheus-client",
    "wsproto": "wsproto",
}
# Imported only when first used (a /metrics scrape, a websocket handshake), so only looked for
# here: importing them would cost the start-up time they are deferred to save.
LATER = {"prometheus_client", "wsproto"}


def require() -> None:
    """Import what the server needs; MissingDependencyError names what is missing and the one
    install that brings it."""
    missing = []
    for module, dist in NEEDED.items():
        try:
            if module in LATER:
                found = importlib.util.find_spec(module) is not None
            else:
                found = bool(importlib.import_module(module))
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(dist)
    if missing:
        raise MissingDependencyError(
            f"bundle serve needs its serve extra ({', '.join(missing)} not installed): "
            f"pip install '.[serve]' in bundle's source folder, or pip install {' '.join(missing)}"
        )
