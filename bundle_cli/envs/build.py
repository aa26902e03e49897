"""From a validated bundle's config to its environment: found, or built with uv.

envs/ starts from what a bundle declares (its folder and validated config), never from a path to
open and validate: that is the runtime's (bundle_cli/runtime/isolated.py: `build`,
`environment_path`, `lock`, `open_isolated`), so envs/ sits below validation/ and runtime/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.envs.pythons import find_interpreter
from bundle_cli.envs.spec import LOCK_FILE, EnvSpec, redact, spec_for
from bundle_cli.envs.store import Environment, ensure, find
from bundle_cli.envs.uvrun import UvFailed
from bundle_cli.errors import UsageError


class EnvironmentBuildError(UsageError):
    """The bundle's requirements cannot be resolved or installed (exit 2); the message holds
    uv's own words, trimmed, and names the requirements concerned."""


@dataclass(frozen=True)
class BuildResult:
    environment: Environment
    built: bool  # False: it existed already
    seconds: float


def bundle_spec(folder: Path, config: dict[str, Any]) -> EnvSpec:
    """The spec of a validated bundle folder."""
    return spec_for(folder.resolve(), config, find_interpreter(str(config["python_version"])))


def build_for(
    root: Path,
    shown: Path,
    config: dict[str, Any],
    offline: bool = False,
    progress: Callable[[str], Any] | None = None,
    upgrade: bool = False,
) -> BuildResult:
    started = time.perf_counter()
    spec = bundle_spec(root, config)
    try:
        env, built = ensure(
            spec,
            bundle_root=root,
            bundle=str(shown),
            offline=offline,
            progress=progress,
            fresh=upgrade,
        )
    except UvFailed as exc:
        raise _build_error(exc, spec, shown, config, offline) from None
    return BuildResult(env, built, time.perf_counter() - started)


def environment_folder(root: Path, shown: Path, config: dict[str, Any]) -> Path:
    """The folder of the bundle's environment; UsageError when it is not built."""
    env = find(bundle_spec(root, config))
    if env is None:
        raise UsageError(f"{shown}: its environment is not built", hint=f"bundle env build {shown}")
    return env.folder


def _build_error(
    exc: UvFailed, spec: EnvSpec, shown: Path, config: dict[str, Any], offline: bool
) -> EnvironmentBuildError:
    source = (
        LOCK_FILE if spec.locked else config.get("requirements_file") or "config.yaml requirements"
    )
    said = exc.said.lower()
    named = [
        redact(line)
        for line in spec.requirements
        if not line.startswith("-") and _name(line) and _name(line) in said
    ]
    which = f" ({', '.join(named[:5])})" if named else ""
    message = f"{shown}: cannot install the requirements of {source}{which}:\n  " + "\n  ".join(
        redact(exc.said).splitlines()
    )
    hint = None
    if offline:
        message = message.replace(": cannot install", ": --offline: cannot install", 1)
        hint = "uv's cache does not hold all of it: run `bundle env build` once with the network"
    return EnvironmentBuildError(message, hint=hint)


def _name(line: str) -> str:
    import re

    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return match.group(1).lower().replace("_", "-") if match else ""
