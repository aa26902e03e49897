"""`--reload`: a changed bundle file loads the model again; the old one answers until the new one
is ready, and a reload that fails leaves the old one serving (the failure goes to the log).

The folder is polled (each file's path, size and modification time, as the validation cache
keys a bundle), so it works on every file system and needs no extra package.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

POLL = 0.5  # seconds between looks at the folder
SETTLE = 0.2  # a change is reloaded once the folder stayed the same this long
SKIPPED = {"__pycache__", ".git", ".bundle", ".venv", "node_modules"}


def fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every file of the bundle, sorted."""
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        for name in sorted(files):
            path = os.path.join(here, name)
            try:
                st = os.stat(path)
            except OSError:
                continue  # removed while walking: the next look sees it gone
            found.append((path, st.st_size, st.st_mtime_ns))
    return tuple(found)


async def watch(
    folder: Path,
    seen: tuple[tuple[str, int, int], ...],
    load: Callable[[], Any],
    swap: Callable[[Any], None],
    say: Callable[..., None],
    run: Callable[..., Any],
) -> None:
    """Poll `folder` forever; on a change from `seen` (its fingerprint taken before the model
    being served was loaded, so that an edit made while it loaded is not missed), `load()` (in
    a thread, through `run`) and `swap` the result in. `say(level, text)` reports each reload."""
    while True:
        await asyncio.sleep(POLL)
        now = await run(fingerprint, folder)
        if now == seen:
            continue
        while True:  # let an editor finish writing
            await asyncio.sleep(SETTLE)
            settled = await run(fingerprint, folder)
            if settled == now:
                break
            now = settled
        seen = now
        say("info", f"{folder}: a file changed; reloading the model")
        try:
            loaded = await run(load)
        except Exception as exc:
            say("error", f"reload failed; still serving the model loaded before:\n{describe(exc)}")
            continue
        swap(loaded)


def describe(exc: BaseException) -> str:
    """What a failed load says: the model's traceback, the invalid bundle's diagnostics."""
    from bundle_cli.errors import BundleError, InvalidBundleError, UserCodeError

    if isinstance(exc, UserCodeError):
        return f"{exc.user_traceback}{exc.message}"
    if isinstance(exc, InvalidBundleError):
        return "\n".join([*(d.format() for d in exc.diagnostics), exc.message])
    if isinstance(exc, BundleError):
        return str(exc)
    import traceback

    return "".join(traceback.format_exception(exc))
