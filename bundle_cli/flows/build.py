"""`build_flow`: write a complete flow bundle from model files and plain Python functions."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.errors import InvalidBundleError, UsageError
from bundle_cli.flows.stages import ModelType
from bundle_cli.frameworks import option_problems

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EXTRA_KEYS = ("pre", "post", "name", "options")


@dataclass
class _Plan:
    name: str
    type: ModelType
    source: Path
    options: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def model_path(self) -> str:
        return f"models/{self.name}/{self.source.name}"


def build_flow(stages: Sequence[Sequence[Any]], name: str, dest: str | Path) -> Path:
    """Write a flow bundle at `dest` and return its path.

    Each stage is `(ModelType, model file)` or `(ModelType, model file, extras)` where extras may
    hold `pre` and `post` (functions), `name` (the stage's name) and `options` (for its loader).
    Functions are pickled by value with their source beside them; one that reaches a module-level
    import or an object that cannot be pickled is refused, naming the function and the name.
    `dest` must not exist or be an empty folder; nothing is left behind when anything fails.
    """
    dest = Path(dest)
    _check_dest(dest)
    plans = _plan_all(stages)
    _check_functions(plans)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{secrets.token_hex(4)}"
    os.mkdir(tmp)
    try:
        _write_bundle(tmp, plans, name)
        _check_written(tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"{dest}: could not write the bundle: {exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _check_dest(dest: Path) -> None:
    if (dest.is_dir() and any(dest.iterdir())) or (dest.exists() and not dest.is_dir()):
        raise UsageError(f"{dest} already exists and is not empty; build_flow never overwrites")


def _plan_all(stages: Sequence[Sequence[Any]]) -> list[_Plan]:
    if isinstance(stages, str | bytes) or not stages:
        raise UsageError("stages must be a non-empty list of (ModelType, model file[, extras])")
    plans = [_plan(i, stage) for i, stage in enumerate(stages, start=1)]
    names: set[str] = set()
    for index, plan in enumerate(plans, start=1):
        if not plan.name:  # unnamed: the type, numbered when it repeats
            taken = plan.type.value in names or any(p.name == plan.type.value for p in plans)
            plan.name = f"{plan.type.value}-{index}" if taken else plan.type.value
        if plan.name in names:
            raise UsageError(f"stage {index}: the name {plan.name!r} is used twice")
        names.add(plan.name)
    return plans


def _plan(index: int, stage: Sequence[Any]) -> _Plan:
    where = f"stage {index}"
    if isinstance(stage, str | bytes) or len(stage) not in (2, 3):
        raise UsageError(f"{where}: expected (ModelType, model file[, extras]); got {stage!r}")
    kind = _model_type(stage[0], where)
    source = Path(stage[1])
    extras = dict(stage[2]) if len(stage) == 3 else {}
    unknown = sorted(set(extras) - set(_EXTRA_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown keys {unknown}; allowed: {', '.join(_EXTRA_KEYS)}")
    if not source.is_file():
        why = "is not a file" if source.exists() else "does not exist"
        raise UsageError(f"{where}: model file {source} {why}")
    plan = _Plan(str(extras.get("name") or ""), kind, source, dict(extras.get("options") or {}))
    if plan.name and not _NAME.match(plan.name):
        raise UsageError(f"{where}: name {plan.name!r} must use letters, digits, '.', '_', '-'")
    for key, message in option_problems(kind.value, plan.options):
        raise UsageError(f"{where}: options.{key}: {message}")
    for slot in ("pre", "post"):
        fn = extras.get(slot)
        if fn is not None and not callable(fn):
            raise UsageError(f"{where}: {slot} must be a function; got {type(fn).__name__}")
        if fn is not None:
            plan.functions[slot] = fn
    return plan


def _model_type(value: Any, where: str) -> ModelType:
    try:
        return ModelType(value)
    except ValueError:
        known = ", ".join(t.value for t in ModelType)
        raise UsageError(f"{where}: unknown model type {value!r}; known: {known}") from None


def _check_functions(plans: list[_Plan]) -> None:
    from bundle_cli.contract import FUNCTIONS
    from bundle_cli.flows.functions import arity
    from bundle_cli.flows.pickling import function_problems

    problems = []
    for plan in plans:
        for slot, fn in plan.functions.items():
            label = f"{slot} function {getattr(fn, '__qualname__', fn)!s} of stage '{plan.name}'"
            problems += function_problems(fn, label)
            try:
                arity(fn, FUNCTIONS[slot], label)
            except InvalidBundleError as exc:
                problems.append(exc.message)
    if problems:
        raise UsageError("the flow's functions cannot be bundled:\n  " + "\n  ".join(problems))


def _write_bundle(root: Path, plans: list[_Plan], name: str) -> None:
    import hashlib

    from bundle_cli.flows.pickling import dump_function, source_of

    trusted: dict[str, str] = {}  # the pickles written here, trusted by their sha256
    for plan in plans:
        target = root / plan.model_path
        target.parent.mkdir(parents=True)
        shutil.copyfile(plan.source, target)
        for slot, fn in plan.functions.items():
            stem = f"functions/{plan.name}_{slot}"
            (root / "functions").mkdir(exist_ok=True)
            label = f"{slot} function {getattr(fn, '__qualname__', fn)!s} of stage '{plan.name}'"
            source, first_line = source_of(fn, label)
            (root / f"{stem}.py").write_text(source, encoding="utf-8")
            data = dump_function(fn, f"{stem}.py", first_line)
            (root / f"{stem}.pkl").write_bytes(data)
            trusted[f"{stem}.pkl"] = hashlib.sha256(data).hexdigest()
    from bundle_cli.flows.build_config import config_text

    stages = [(p.name, p.type.value, p.model_path, p.options, list(p.functions)) for p in plans]
    (root / "config.yaml").write_text(config_text(stages, name, trusted), encoding="utf-8")


def _check_written(root: Path) -> None:
    """The bundle just written must validate; a failure here is a bug in build_flow."""
    from bundle_cli.validation import validate

    report = validate(root)
    if not report.ok():
        summary = "; ".join(d.format() for d in report.errors)
        raise InvalidBundleError(f"build_flow wrote an invalid bundle: {summary}", report.errors)
