"""The serve extra: what `bundle serve` imports, checked once with a message naming the install."""

from __future__ import annotations

import importlib

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
}


def require() -> None:
    """Import what the server needs; MissingDependencyError names what is missing and the one
    install that brings it."""
    missing = []
    for module, dist in NEEDED.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    if missing:
        raise MissingDependencyError(
            f"bundle serve needs its serve extra ({', '.join(missing)} not installed): "
            f"pip install '.[serve]' in bundle's source folder, or pip install {' '.join(missing)}"
        )
