"""Running a bundle in this process: `load(path).predict(input)`.

Loading validates the bundle (remembered while its files do not change), resolves its secrets,
imports its model module in an import scope of its own, instantiates the model with the
keyword arguments its `__init__` names and runs `load()` once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bundle_cli.runtime.bundle import LoadedBundle

__all__ = ["LoadedBundle", "io_schemas", "load"]


def __getattr__(name: str) -> Any:
    # LoadedBundle (and the pipeline behind it) loads with the first in-process run: an
    # isolated run drives the bundle in another process and never needs it here.
    if name == "LoadedBundle":
        from bundle_cli.runtime.bundle import LoadedBundle

        return LoadedBundle
    raise AttributeError(f"module 'bundle_cli.runtime' has no attribute {name!r}")


def load(
    path: str | Path,
    *,
    secrets: Mapping[str, str] | None = None,
    secrets_file: str | Path | None = None,
    trust_pickles: bool = False,
    warn: Callable[[str], Any] | None = None,
    isolated: bool = False,
    offline: bool = False,
) -> LoadedBundle:
    """Load the bundle at `path` (a folder) and return it ready for `predict`.

    With `isolated`, the bundle runs in a child Python inside its own environment, built with
    uv from its requirements (or requirements.lock) and python_version when missing (`offline`:
    from uv's cache only); the result is then the pipe runner
    (bundle_cli.runtime.piperunner.PipeRunner), with the same Runner API.

    `secrets` maps declared secret names to values; `secrets_file` is a file of NAME=VALUE lines
    (or a JSON object) outside the bundle; `BUNDLE_SECRET_<NAME>` environment variables are read
    too. `warn` receives each warning a run should show before the model starts (a declared
    requirement missing here, an ignored secret value). Raises InvalidBundleError (invalid
    bundle), UnsafePickleError (a pickle imports what nobody vouched for, unless
    `trust_pickles`), UsageError, or UserCodeError when the model's own import, `__init__` or
    `load` raised.
    """
    if isolated:
        from bundle_cli.runtime.isolated import open_isolated

        return open_isolated(  # type: ignore[return-value]
            path,
            secrets=secrets,
            secrets_file=secrets_file,
            trust_pickles=trust_pickles,
            warn=warn,
            offline=offline,
        )
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.bundle import LoadedBundle

    folder = loader.bundle_dir(path)  # archives: unpack here, pass the cleanup to LoadedBundle
    settings, pipeline, _ = loader.start(folder, secrets, secrets_file, warn, trust_pickles)
    return LoadedBundle(settings, pipeline)


def io_schemas(bundle_dir: str | Path) -> dict[str, Any]:
    """JSON Schemas of the model's input and output, when its hooks are annotated with pydantic
    models: `{"input": schema or None, "output": schema or None}`. Imports the model module
    (in its own scope) but neither instantiates nor loads the model."""
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.hooks import inspect_model
    from bundle_cli.runtime.timings import Timings
    from bundle_cli.runtime.usertrace import Guard

    settings = loader.read_settings(loader.bundle_dir(bundle_dir), Timings())
    scope, roots = loader.new_scope(settings)
    cls = loader.import_model_class(settings, scope, Guard(roots, str))
    with scope:
        spec = inspect_model(cls, settings.show(settings.model_file), settings.show)
        return {
            "input": _schema(spec.input_type),
            "output": _schema(spec.output_type),
        }


def _schema(model: Any) -> dict[str, Any] | None:
    return None if model is None else dict(model.model_json_schema())
