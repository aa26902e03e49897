"""The frameworks a flow stage can use: one module per framework, one registry.

Each module in `MODULES` defines `FRAMEWORKS`, one `Framework` per stage type it provides
(xgboost provides two). Everything that lists stage types reads this registry: the `type` that
config.yaml accepts (`config/schema.py`), `bundle_cli.ModelType`, the checks `bundle validate`
makes of a stage (suffixes, options), what a missing framework says to install, and the pins
`build_flow` writes. Adding a framework is one module here and its name in `MODULES`.

The modules are light: a framework itself (torch, sklearn, ...) is imported by `load`, when a
stage needs it.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError

# the framework modules, in the order their stage types are listed
MODULES = ("torch", "sklearn", "xgboost", "onnx", "python")

# an option's rule: the allowed values (a tuple) or the required Python type
Rule = tuple[str, ...] | type
# how a loaded stage model is called: (stage input, request files) -> output
StageCall = Callable[[Any, Any], Any]


class Host(Protocol):
    """What a loader needs from the runtime that runs the flow: nothing here imports it."""

    def import_file(self, path: Path, where: str) -> ModuleType:
        """Import a Python file of the bundle inside the bundle's import scope."""

    def model(self, cls: type, where: str) -> StageCall:
        """Instantiate the Model class of the stage `where` names, run its load(), and return
        how its hooks run the stage's input."""


# a loader returns the stage's call (a Model class's load(), async or not, has run)
Load = Callable[[Path, dict[str, Any], str, Host], StageCall]


@dataclass(frozen=True)
class Framework:
    """One stage type: what config.yaml's `type` says, and how its model file is read."""

    type: str
    load: Load
    suffixes: tuple[str, ...]  # file name endings the loader reads (others: a warning)
    options: dict[str, Rule] = field(default_factory=dict)
    extra: str | None = None  # bundle-cli's optional extra that installs the framework
    # distributions that provide it, the usual one first (build_flow pins the one installed)
    distributions: tuple[str, ...] = ()
    # importable module -> the distribution that installs it, for "install it with: ..."
    modules: dict[str, str] = field(default_factory=dict)


@cache
def registry() -> dict[str, Framework]:
    """Stage type -> its framework, in the order of `MODULES`."""
    found: dict[str, Framework] = {}
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for framework in module.FRAMEWORKS:
            found[framework.type] = framework
    return found


def types() -> tuple[str, ...]:
    """Every stage type, as config.yaml's `type` spells it."""
    return tuple(registry())


def get(stage_type: str) -> Framework:
    return registry()[stage_type]


def distribution_of(module: str) -> str:
    """The distribution that installs an importable module a framework needs (else its name)."""
    top = module.split(".")[0]
    for framework in registry().values():
        if top in framework.modules:
            return framework.modules[top]
    return top


def stage_error(code: str, message: str, path: Path) -> InvalidBundleError:
    """A stage model that its loader cannot run, located at the model file."""
    return InvalidBundleError(message, [Diagnostic(code, "error", message, str(path))])


def option_problems(stage_type: str, options: dict[str, Any]) -> list[tuple[str, str]]:
    """(option name, message) for every option the stage type's loader would not accept."""
    known = registry()[stage_type].options if stage_type in registry() else {}
    problems = []
    for key, value in options.items():
        rule = known.get(key)
        if rule is None:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f'did you mean "{close[0]}"?' if close else _known_hint(known)
            problems.append((key, f'unknown option "{key}" for a {stage_type} stage; {hint}'))
        elif isinstance(rule, tuple) and value not in rule:
            allowed = ", ".join(rule)
            problems.append((key, f"{key} must be one of {allowed}; got {value!r}"))
        elif isinstance(rule, type) and not isinstance(value, rule):
            problems.append((key, f"{key} must be a {rule.__name__}; got {value!r}"))
    return problems


def _known_hint(known: dict[str, Any]) -> str:
    return f"known: {', '.join(known)}" if known else "this type takes no options"
