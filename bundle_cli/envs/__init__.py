"""A bundle's own environment: built with uv from its requirements (or its requirements.lock)
and its python_version, cached under the user cache, reused while its key is the same.

- `pythons`: this machine's interpreters, matched against python_version (never downloaded);
- `spec`: what an environment is made of, and its cache key;
- `store`: building atomically under a lock, finding, listing and removing environments;
- `build`: from a validated bundle's folder and config to its environment;
- `lock`: the hash-pinned requirements.lock, compiled by uv;
- `launch`: starting the child Python (standard library only, before the rest is imported);
- `uvrun`: running the uv binary of the `uv` package.

Nothing here opens or validates a bundle, or runs one: the entry points that start from a path
(`open_isolated`, which returns the runner that drives the bundle in a child Python over a pipe,
and `build`, `environment_path`, `lock`) are bundle_cli/runtime/isolated.py, above this package.
"""

from __future__ import annotations
