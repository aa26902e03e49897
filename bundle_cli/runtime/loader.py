"""From a bundle folder to a started model: validate, resolve secrets, import, instantiate, load."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bundle_cli.config.locate import config_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError, UsageError
from bundle_cli.runtime.hooks import inspect_model
from bundle_cli.runtime.isolation import ImportScope
from bundle_cli.runtime.pipeline import Pipeline
from bundle_cli.runtime.request import LocalDataResolver
from bundle_cli.runtime.secrets import Secrets, resolve_secrets
from bundle_cli.runtime.settings import Settings
from bundle_cli.runtime.timings import Timings
from bundle_cli.runtime.usertrace import Guard
from bundle_cli.validation.cache import validated


def bundle_dir(path: str | Path) -> Path:
    """The folder to run: a directory as it is, an archive verified and unpacked into the cache."""
    from bundle_cli.opening import open_bundle

    path = open_bundle(path)
    if not path.is_dir():
        raise UsageError(f"{path}: no such bundle directory")
    return path


def read_settings(path: Path, timings: Timings, trust_pickles: bool = False) -> Settings:
    with timings.measure("validate"):
        config, warnings = validated(path, trust_pickles)
    return Settings(root=path.resolve(), shown=path, config=config, warnings=tuple(warnings))


def new_scope(settings: Settings) -> tuple[ImportScope, list[Path]]:
    roots = [settings.root, *settings.external_dirs]
    scope = ImportScope(
        settings.import_dirs,
        (settings.package_name, settings.model_dir.parent),
        roots,
        settings.environment_variables,
    )
    return scope, roots


def import_model_class(settings: Settings, scope: ImportScope, guard: Guard) -> type:
    """Import the model module in the bundle's scope and return its model class."""
    shown = settings.show(settings.model_file)
    if not settings.model_file.is_file():
        raise _no_model_file(settings, shown)
    with scope:
        try:
            module = importlib.import_module(settings.module_name)
        except (KeyboardInterrupt, UsageError):
            raise
        except BaseException as exc:
            raise guard.error(exc, f"module {shown}") from None
    cls = getattr(module, settings.class_name, None)
    if not isinstance(cls, type):
        diag = Diagnostic(
            "model-class-missing",
            "error",
            f"no class {settings.class_name} in this file (model_class_name)",
            shown,
        )
        raise InvalidBundleError(f"{shown}: the model cannot be run", [diag])
    return cls


def check_runnable(settings: Settings) -> None:
    """Refuse, before anything is imported, a bundle that has no model code to run."""
    if not settings.config.get("flow") and not settings.model_file.is_file():
        raise _no_model_file(settings, settings.show(settings.model_file))


def _no_model_file(settings: Settings, shown: str) -> UsageError:
    from bundle_cli.config.truss import no_model_code_kind
    from bundle_cli.config.yamlpos import load_yaml_file

    data = load_yaml_file(config_file(settings.root)).data  # validated already
    kind = no_model_code_kind(data if isinstance(data, dict) else {})
    if kind:
        return UsageError(
            f"{settings.show(settings.root)}: this bundle is {kind}; Truss serves it with its own "
            "server or engine and no model code, so there is nothing to run here",
            hint="`bundle validate`, `package`, `verify` and `inspect` work on it",
        )
    return UsageError(f"{shown}: no such file; the model class lives there (model_class_filename)")


def start(
    path: Path,
    secrets: Mapping[str, str] | None,
    secrets_file: str | Path | None,
    warn: Callable[[str], Any] | None = None,
    trust_pickles: bool = False,
) -> tuple[Settings, Pipeline, Secrets]:
    timings = Timings()
    settings = read_settings(path, timings, trust_pickles)
    if warn is not None:
        for warning in settings.warnings:
            warn(warning)
    secret_map = resolve_secrets(
        settings.secret_names, secrets or {}, secrets_file, bundle_root=settings.root
    )
    pipeline = started(settings, secret_map, timings, settings.predict_concurrency)
    return settings, pipeline, secret_map


def started(settings: Settings, secrets: Secrets, timings: Timings, concurrency: int) -> Pipeline:
    """The bundle's code imported in a scope of its own, its Model made and loaded: the
    pipeline every request runs through (in this process, or in a child's: runtime/child.py)."""
    scope, roots = new_scope(settings)
    guard = Guard(roots, secrets.scrubber())
    with timings.measure("import"):
        cls, release = _model_class(settings, scope, guard)
    spec = inspect_model(cls, settings.show(settings.model_file), settings.show)
    pipeline = Pipeline(spec, scope, guard, timings, concurrency=concurrency)
    if release is not None:
        pipeline.closers.append(release)
    kwargs = _init_kwargs(spec.init_kwargs, settings, secrets, pipeline.store)
    pipeline.start(cls, kwargs)
    return pipeline


def _model_class(
    settings: Settings, scope: ImportScope, guard: Guard
) -> tuple[type, Callable[[], None] | None]:
    """The bundle's Model class, or for a flow the class that runs its stages with what
    releases the stages' own loops and threads when the bundle closes."""
    if not settings.config.get("flow"):
        return import_model_class(settings, scope, guard), None
    from bundle_cli.flows.model import flow_model_class
    from bundle_cli.runtime.flow import FlowHost

    host = FlowHost(settings, scope, guard)
    return flow_model_class(host), host.close


def _init_kwargs(
    names: tuple[str, ...], settings: Settings, secrets: Secrets, store: Any
) -> dict[str, Any]:
    available = {
        "store": store,
        "config": dict(settings.config),
        "data_dir": settings.data_dir,
        "secrets": secrets,
        # As in Truss: where the model is deployed (a name, settings). A local run has none;
        # config.yaml's environment_variables are in os.environ while the model's code runs.
        "environment": {},
        # As in Truss: an object that waits for data downloads; here the data is on disk.
        "lazy_data_resolver": LocalDataResolver(settings.data_dir),
    }
    return {name: available[name] for name in names}
