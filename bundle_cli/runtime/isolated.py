"""`--isolated`: a bundle run in a child Python inside its own environment.

The parent validates the bundle and reads its config (pyyaml, pydantic: the tool's), builds or
finds the environment, resolves the secrets and hands the child plain JSON settings; the child
imports and runs the model with the bundle's own requirements only.

Also the other entry points that start from a bundle's path (`bundle env build`, `env path`,
`bundle lock`): they read the bundle as a run does, then hand envs/ its folder and config.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bundle_cli.envs.build import BuildResult, build_for, environment_folder
from bundle_cli.envs.launch import Prestarted, launch, remember
from bundle_cli.errors import UsageError
from bundle_cli.runtime.piperunner import PipeRunner

if TYPE_CHECKING:
    from bundle_cli.envs.lock import LockResult
    from bundle_cli.runtime.settings import Settings

OLDEST_CHILD = (3, 10)  # runtime/ uses `X | Y` at run time (isinstance), new in 3.10
# The validation warnings about the tool's own Python (validation/environment.py's codes,
# written here so that a run does not import the validation and config packages).
ABOUT_THIS_PYTHON = ("requirement-not-installed", "requirement-version", "python-version-mismatch")


def build(
    path: str | Path,
    *,
    offline: bool = False,
    progress: Callable[[str], Any] | None = None,
    upgrade: bool = False,
) -> BuildResult:
    """The environment of the bundle at `path` (a folder or an archive), built unless it
    exists (a key built before is built with the versions it resolved to then, unless
    `upgrade`; see envs/store.py). Its bytecode is compiled in the background
    (store.wait_for_bytecode waits for it). Raises EnvironmentBuildError (requirements uv
    cannot resolve or install), EnvironmentMismatchError (no interpreter of the bundle's
    python_version here)."""
    settings = _settings(path)
    return build_for(settings.root, settings.shown, settings.config, offline, progress, upgrade)


def environment_path(path: str | Path) -> Path:
    """The folder of the environment of the bundle at `path`; UsageError when it is not built."""
    settings = _settings(path)
    return environment_folder(settings.root, settings.shown, settings.config)


def lock(path: str | Path) -> LockResult:
    """`bundle lock`: write `requirements.lock` into the bundle folder at `path` (atomically)."""
    from bundle_cli.envs.lock import lock_for

    settings = _settings(path)
    return lock_for(settings.root, settings.shown, settings.config)


def _settings(path: str | Path) -> Settings:
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.timings import Timings

    # Nothing of the bundle is loaded by building its environment, so its pickles do not matter.
    return loader.read_settings(loader.bundle_dir(path), Timings(), trust_pickles=True)


def open_isolated(
    path: str | Path,
    *,
    secrets: Mapping[str, str] | None = None,
    secrets_file: str | Path | None = None,
    trust_pickles: bool = False,
    warn: Callable[[str], Any] | None = None,
    offline: bool = False,
    progress: Callable[[str], Any] | None = None,
    log_level: int = logging.INFO,
    prestarted: Prestarted | None = None,
) -> PipeRunner:
    """The bundle at `path` (a folder or an archive) loaded in its own environment, as a
    Runner (bundle_cli.runtime.runner). Builds the environment when it is missing (`progress`
    receives what is being done). Raises what `bundle_cli.load` raises, and
    EnvironmentBuildError / EnvironmentMismatchError when the environment cannot be built.
    `prestarted` is a child started early (envs.launch.prestart), used when it runs the
    environment the bundle needs and ended otherwise."""
    try:
        return _open(
            path,
            secrets,
            secrets_file,
            trust_pickles,
            warn,
            offline,
            progress,
            log_level,
            prestarted,
        )
    finally:
        if prestarted is not None:
            prestarted.discard()  # not taken: its environment is not the one needed


def _open(
    path: str | Path,
    secrets: Mapping[str, str] | None,
    secrets_file: str | Path | None,
    trust_pickles: bool,
    warn: Callable[[str], Any] | None,
    offline: bool,
    progress: Callable[[str], Any] | None,
    log_level: int,
    prestarted: Prestarted | None,
) -> PipeRunner:
    from bundle_cli.cachedir import origin
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.secrets import resolve_secrets
    from bundle_cli.runtime.timings import Timings

    folder = loader.bundle_dir(path)
    settings = loader.read_settings(folder, Timings(), trust_pickles)
    if warn is not None:  # what validation says of the tool's Python is not about this run
        for warning in settings.warnings:
            if not warning.endswith(tuple(f"[{code}]" for code in ABOUT_THIS_PYTHON)):
                warn(warning)
    loader.check_runnable(settings)
    secret_map = resolve_secrets(
        settings.secret_names, secrets or {}, secrets_file, bundle_root=settings.root
    )
    env = build_for(settings.root, settings.shown, settings.config, offline, progress)
    version = env.environment.record["interpreter"]["version"]
    if tuple(int(p) for p in version.split(".")[:2]) < OLDEST_CHILD:
        raise UsageError(
            f"{settings.shown}: python_version is {version}: --isolated needs Python "
            f"{'.'.join(map(str, OLDEST_CHILD))} or newer (its side of the runtime runs there)",
            hint="`bundle env build` still builds the environment, for other uses",
        )
    child_settings = {
        "root": str(settings.root),
        "shown": str(settings.shown),
        "config": settings.config,
        "secrets": dict(secret_map),
        "origin": origin(settings.root),
        "log_level": log_level,
    }
    python = env.environment.python
    remember(path, python)
    proc = prestarted.take(python) if prestarted is not None else None
    return PipeRunner(proc or launch(python), child_settings)
