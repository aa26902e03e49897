"""Running uv: the binary that the `uv` package installs beside this tool, never a download.

uv runs in its own session, so that Ctrl-C and SIGTERM reach it only through us: an
interrupted command terminates it (and what it started) before anything else is cleaned up.
Its configuration files are not read (`--no-config`): what an environment holds follows from the
bundle and the `UV_*` variables, which the environment's key covers. What uv says on failure is
trimmed to its error, cause and hint lines.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Sequence

from bundle_cli.errors import BundleError, MissingDependencyError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KEPT = ("error:", "cause:", "hint:", "caused by:", "×", "╰─▶")


class UvFailed(BundleError):
    """uv exited non-zero; `said` holds its message, trimmed."""

    def __init__(self, said: str, returncode: int) -> None:
        super().__init__(said or f"uv exited with status {returncode}")
        self.said, self.returncode = said, returncode


def uv_bin() -> str:
    try:
        import uv
    except ImportError:
        raise MissingDependencyError(
            "the `uv` package is not installed beside bundle; it builds isolated environments",
            hint="pip install 'uv>=0.13,<0.14'",
        ) from None
    return str(uv.find_uv_bin())


def uv_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1", "UV_NO_PROGRESS": "1"})
    return env


def run_uv(args: Sequence[str], *, cwd: str | None = None, hold: int | None = None) -> str:
    """Run `uv ARGS...`; its stdout, or UvFailed with what it said. `hold` is a lock's file
    descriptor that uv inherits: were this process killed, the lock stays held until uv ends."""
    proc = subprocess.Popen(
        [uv_bin(), *args],
        cwd=cwd,
        env=uv_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        pass_fds=() if hold is None else (hold,),
    )
    try:
        out, err = proc.communicate()
    except BaseException:
        stop(proc)
        raise
    if proc.returncode != 0:
        raise UvFailed(trim(err), proc.returncode)
    return out


def stop(proc: subprocess.Popen[str]) -> None:
    """Terminate uv and what it started (its session), killing it after a grace period."""
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def trim(text: str) -> str:
    """uv's message without progress lines: its error, cause and hint lines."""
    kept = []
    for raw in _ANSI.sub("", text).splitlines():
        line = raw.strip().lstrip("×╰─▶│├ ").strip()
        if raw.strip().startswith(_KEPT) and line:
            kept.append(line)
    if not kept:
        kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-3:]
    return "\n".join(kept[:8])
