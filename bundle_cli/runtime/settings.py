"""What the runtime needs from a validated config, read from the plain dict (no pydantic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli import layout
from bundle_cli.cachedir import origin, shown
from bundle_cli.errors import UsageError


@dataclass(frozen=True)
class Settings:
    """Where a bundle's code, data and packages are; `config` is config.yaml as validated."""

    root: Path  # resolved bundle directory
    shown: Path  # the bundle directory as the user named it, for messages
    config: dict[str, Any]
    # The validation warnings a run prints before the model starts (validation.cache), formatted.
    warnings: tuple[str, ...] = ()

    @property
    def model_dir(self) -> Path:
        return self.root / self.config["model_module_dir"]

    @property
    def package_name(self) -> str:
        name = self.model_dir.name
        if not name.isidentifier():
            raise UsageError(
                f"{self.shown}: model_module_dir {self.config['model_module_dir']!r} cannot be "
                "imported as a Python package; use a folder name made of letters, digits and _"
            )
        return name

    @property
    def module_name(self) -> str:
        stem = Path(self.config["model_class_filename"]).with_suffix("")
        return ".".join((self.package_name, *stem.parts))

    @property
    def model_file(self) -> Path:
        return self.model_dir / self.config["model_class_filename"]

    @property
    def class_name(self) -> str:
        return str(self.config["model_class_name"])

    @property
    def data_dir(self) -> Path:
        return self.root / self.config["data_dir"]

    @property
    def import_dirs(self) -> list[Path]:
        """Folders put on sys.path while the bundle's code runs, in lookup order."""
        return [d for d in layout.import_dirs(self.root, self.config) if d.is_dir()]

    @property
    def external_dirs(self) -> list[Path]:
        return layout.external_dirs(self.root, self.config)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(self.config.get("secrets") or ())

    @property
    def environment_variables(self) -> dict[str, str]:
        return dict(self.config.get("environment_variables") or {})

    @property
    def predict_concurrency(self) -> int:
        """`runtime.predict_concurrency`: how many requests predict may serve at once."""
        return int((self.config.get("runtime") or {}).get("predict_concurrency") or 1)

    @property
    def examples_file(self) -> Path:
        return self.root / self.config["examples_filename"]

    def show(self, path: Path) -> str:
        """A path inside the bundle as the user would open it (`ARCHIVE:member` in an archive)."""
        if origin(self.root):
            return shown(str(path))
        try:
            return str(self.shown / path.relative_to(self.root))
        except ValueError:
            return str(path)
