"""Calling a bundle's own functions: positional arity, async, and errors that name the place."""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from bundle_cli.contract import Shape, Slot
from bundle_cli.contract import arity as contract_arity
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError, InvalidInput, UserCodeError

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def arity(fn: Callable[..., Any], slot: Slot, where: str) -> int:
    """How many positional arguments to pass `fn` in `slot`, by the contract's one rule
    (contract.arity); a definition the rule refuses is a definition error naming `where`."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError) as exc:
        raise definition_error(fn, where, f"has a signature that cannot be read ({exc})") from None
    positional = [p for p in params if p.kind in _POSITIONAL]
    shape = Shape(
        positional=len(positional),
        required=sum(p.default is p.empty for p in positional),
        varargs=any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params),
        required_keyword=any(
            p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty for p in params
        ),
    )
    takes, problem = contract_arity(slot, shape)
    if problem == "required-keyword":
        raise definition_error(fn, where, "has a keyword-only parameter without a default")
    if problem:
        why = (
            f"takes {len(positional)} positional parameters; it must take {slot.fewest} to "
            f"{slot.most}"
        )
        raise definition_error(fn, where, why)
    return takes


def definition_error(fn: Any, where: str, why: str) -> InvalidBundleError:
    """An error about how a bundle function is defined, located at its `def` when known."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    place = {"file": code.co_filename, "line": code.co_firstlineno} if code else {}
    message = f"{where} {why}"
    diagnostic = Diagnostic(code="bad-signature", severity="error", message=message, **place)
    return InvalidBundleError(message, diagnostics=[diagnostic])


async def call_user(fn: Callable[..., Any], args: tuple[Any, ...], where: str) -> Any:
    """Call a bundle function, awaiting it when it is async; its exceptions become UserCodeError."""
    try:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
    except InvalidInput:
        raise  # the runtime's guard turns it into exit 3 with the model's message
    except Exception as exc:
        raise user_code_error(exc, where) from exc
    return result


def user_code_error(exc: BaseException, where: str) -> UserCodeError:
    """UserCodeError for an exception raised by bundle code; the traceback holds its frames only.

    The message names the place and the exception type; the exception's own text is in the
    traceback, which the runtime formats (secret values removed) when it runs the flow.
    """
    message = f"error: {where} raised {type(exc).__name__}"
    error = UserCodeError(message, user_traceback=(_formatter.get() or user_traceback)(exc))
    error.raised = type(exc).__name__
    return error


# The runtime sets how user tracebacks are formatted (its frame filter and secret scrubbing).
_formatter: ContextVar[Callable[[BaseException], str] | None] = ContextVar(
    "bundle_cli_traceback_formatter", default=None
)


@contextmanager
def tracebacks_by(formatter: Callable[[BaseException], str] | None) -> Iterator[None]:
    """Format the tracebacks of user code errors raised in the block with `formatter`."""
    token = _formatter.set(formatter)
    try:
        yield
    finally:
        _formatter.reset(token)


def user_traceback(exc: BaseException) -> str:
    """The traceback of `exc` without the frames of bundle_cli itself."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine from synchronous code, in a worker thread when a loop is already running."""
    try:
        asyncio.get_running_loop()
        running = True
    except RuntimeError:
        running = False
    if not running:  # outside the except block, so user errors carry no chained RuntimeError
        return asyncio.run(coro)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
