"""A bundle's own environment: built with uv from its requirements (or its requirements.lock)
and its python_version, cached under the user cache, reused while its key is the same.

- `pythons`: this machine's interpreters, matched against python_version (never downloaded);
- `spec`: what an environment is made of, and its cache key;
- `store`: building atomically under a lock, finding, listing and removing environments;
- `build`: from a bundle folder or archive to its environment;
- `lock`: `bundle lock`, the hash-pinned requirements.lock;
- `uvrun`: running the uv binary of the `uv` package.

`open_isolated` is the entry point for running a bundle in its environment: it returns the
runner that drives the bundle in a child Python over a pipe (bundle_cli/runtime/piperunner.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bundle_cli.envs.isolated import open_isolated as open_isolated

__all__ = ["open_isolated"]


def __getattr__(name: str) -> Any:
    # Nothing is imported with the package: `envs.launch` (stdlib only) starts the child before
    # the rest of the tool is imported, and the runner's modules load only when a bundle runs
    # isolated. Building is `bundle_cli.envs.build.build`.
    if name == "open_isolated":
        from bundle_cli.envs.isolated import open_isolated

        return open_isolated
    raise AttributeError(f"module 'bundle_cli.envs' has no attribute {name!r}")
