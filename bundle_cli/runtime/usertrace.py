"""The user's own traceback: only frames from the bundle's files, secret values removed."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bundle_cli.errors import UserCodeError


class PredictTimeoutError(UserCodeError):
    """A request ran longer than --timeout; the traceback shows where the model was."""


def user_traceback(exc: BaseException, roots: Sequence[Path], scrub: Callable[[str], str]) -> str:
    """Format `exc` (with its chained causes) keeping the frames of files under `roots`."""
    prefixes = tuple(str(r).rstrip("/") + "/" for r in roots)
    te = traceback.TracebackException.from_exception(exc, capture_locals=False)
    seen: set[int] = set()
    pending = [te]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        frames = [f for f in current.stack if f.filename.startswith(prefixes)]
        current.stack = traceback.StackSummary.from_list(frames)
        pending += [c for c in (current.__cause__, current.__context__) if c is not None]
    return scrub("".join(te.format()))


def user_code_error(
    exc: BaseException,
    where: str,
    roots: Sequence[Path],
    scrub: Callable[[str], str],
) -> UserCodeError:
    """The error to raise when the model's own code failed in `where` (a hook name)."""
    text = user_traceback(exc, roots, scrub)
    return UserCodeError(f"error: the model's {where} raised {type(exc).__name__}", text)


def timeout_error(
    exc: BaseException,
    seconds: float,
    roots: Sequence[Path],
    scrub: Callable[[str], str],
) -> PredictTimeoutError:
    text = user_traceback(exc, roots, scrub)
    # The last line would name the internal exception; the message below says what happened.
    text = "".join(text.splitlines(keepends=True)[:-1])
    return PredictTimeoutError(
        f"error: the request did not finish within --timeout {seconds:g} s "
        "(traceback above: where the model was)",
        text,
    )
