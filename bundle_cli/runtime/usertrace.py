"""The user's own traceback: only frames from the bundle's files, secret values removed."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bundle_cli.cachedir import shown
from bundle_cli.errors import (
    BundleError,
    EnvironmentMismatchError,
    InputDataError,
    InvalidInput,
    PredictTimeoutError,
    UserCodeError,
)

# Where a missing module means the environment lacks what the bundle needs (loading the model).
_LOADING = ("__init__", "load")


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
        for frame in frames:
            _ = frame.line  # read the source line while the file still has its real name
            frame.filename = shown(frame.filename)  # ARCHIVE:member for an unpacked archive
        current.stack = traceback.StackSummary.from_list(frames)
        pending += [c for c in (current.__cause__, current.__context__) if c is not None]
    return scrub("".join(te.format()))


class Guard:
    """Turns what the model's code raised into the error the user sees.

    Holds what every such error needs: the folders whose frames are the user's, and the
    function that removes secret values.
    """

    def __init__(
        self, roots: list[Path], scrub: Callable[[str], str], model: str = "the model's "
    ) -> None:
        self.roots, self.scrub = roots, scrub
        self.model = model  # how messages name the code's owner, before the hook's name

    def named(self, model: str) -> Guard:
        """This guard for another model's hooks, named `model` (a flow's python stage:
        "flow stage 'a': Model.", giving "error: flow stage 'a': Model.predict raised ...")."""
        return Guard(self.roots, self.scrub, model)

    def traceback(self, exc: BaseException) -> str:
        return user_traceback(exc, self.roots, self.scrub)

    def error(self, exc: BaseException, where: str) -> BundleError:
        """The error to raise when the model's own code failed in `where` (a hook name), or
        rejected the request with InvalidInput (its message, no traceback)."""
        loading = where in _LOADING or where.startswith("module ")
        if isinstance(exc, ModuleNotFoundError) and exc.name and loading:
            # A module missing while the model loads: the environment's problem, exit 5.
            return self.missing_module(exc, where)
        if isinstance(exc, InvalidInput):
            said = str(exc) or "invalid input"
            error = InputDataError(self.scrub(f"{where}: {said}"))
            error.raised = type(exc).__name__
            return error
        return self.raised(exc, f"{self.model}{where}")

    def raised(self, exc: BaseException, place: str) -> UserCodeError:
        """`error: {place} raised ValueError`, with the traceback of the bundle's frames."""
        error = UserCodeError(f"error: {place} raised {type(exc).__name__}", self.traceback(exc))
        error.raised = type(exc).__name__  # what `expect_error` in examples.yaml names
        return error

    def missing_module(self, exc: ModuleNotFoundError, where: str) -> EnvironmentMismatchError:
        top = str(exc.name).split(".")[0]
        lines = [
            ln.strip() for ln in self.traceback(exc).splitlines() if ln.strip().startswith("File ")
        ]
        at = f" ({lines[-1]})" if lines else ""
        return EnvironmentMismatchError(
            f"error: {self.model}{where} imports {top}, which is not installed in this "
            f"environment{at}; this is the environment, not the model's code",
            hint="declare it in config.yaml's requirements and install them: "
            "pip install -r <(bundle requirements)",
        )

    def timeout(self, exc: BaseException, seconds: float) -> PredictTimeoutError:
        """The error to raise when a request ran out of its --timeout budget."""
        # The last line would name the internal exception; the message below says what happened.
        text = "".join(self.traceback(exc).splitlines(keepends=True)[:-1])
        return PredictTimeoutError(
            f"error: the request did not finish within --timeout {seconds:g} s "
            "(traceback above: where the model was)",
            text,
        )
