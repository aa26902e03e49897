"""`bundle package`: validate, select the files, write the archive.

Above both validation/ (which checks the bundle, the files package would pack among it) and
archive/ (the format: selection, manifest, writer, reader): it is the one place that composes
them, so neither package imports the other's callers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli._version import __version__
from bundle_cli.archive.derived import MAX_TEXT, bundle_section, model_file
from bundle_cli.archive.digests import DigestCache, file_sha256
from bundle_cli.archive.manifest import LOCK_NAME, PLACEHOLDER, Manifest
from bundle_cli.archive.needed import dropped
from bundle_cli.archive.select import Selection, select_files
from bundle_cli.archive.shards import placeholder, shard_size_for
from bundle_cli.archive.writer import Progress, write_archive
from bundle_cli.atomic import make_parents, output_path
from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError, UsageError

# 1980-01-01T00:00:00Z: the file time of every member when SOURCE_DATE_EPOCH is not set
# (the earliest time a zip can hold, the usual choice of reproducible Python builds).
DEFAULT_EPOCH = 315532800
_MAX_EPOCH = 8**11 - 1  # the largest time a plain ustar header holds (year 2242)
SUFFIXES = (".tar.gz", ".tar.zst")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")  # what package writes: a gzip-compressed tar


@dataclass
class PackageResult:
    """What `package` wrote."""

    path: Path
    size: int
    file_count: int
    total_size: int
    sha256: str | None = None
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "file_count": self.file_count,
            "total_size": self.total_size,
        }


def source_date_epoch(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """The member time: SOURCE_DATE_EPOCH when set (a malformed value is an error)."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return DEFAULT_EPOCH
    if not value.isascii() or not value.isdigit() or int(value) > _MAX_EPOCH:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={value!r} is not a time in seconds since 1970",
            hint="set it to a whole number such as `date +%s` prints, or unset it",
        )
    return int(value)


def package(
    bundle_dir: str | Path,
    output: str | Path | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    with_digest: bool = False,
    rehash: bool = False,
    warn: Callable[[str], Any] | None = None,
) -> PackageResult:
    """Validate the bundle and write `<slug>-<version>.tar.gz`; nothing is written if invalid.

    `progress(done, total)` is called with byte counts as file data is packed. `rehash` hashes
    every file instead of reusing cached digests (see bundle_cli/archive/digests.py). `warn`
    receives the validation warnings, if any, before anything is written.
    """
    mtime = source_date_epoch()
    config, selection, target = plan(Path(bundle_dir), output, warn)
    make_parents(target)
    manifest = build_manifest(config, selection)
    counter = _counter(progress, manifest.total_size)
    cache = DigestCache.default(read=not rehash)
    size = write_archive(target, selection, manifest, mtime=mtime, progress=counter, cache=cache)
    digest = file_sha256(target) if with_digest else None
    return PackageResult(
        target, size, len(manifest.files), manifest.total_size, digest, selection.diagnostics
    )


def _counter(progress: Callable[[int, int], None] | None, total: int) -> Progress | None:
    if progress is None:
        return None
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return step


def plan(
    bundle_dir: Path,
    output: str | Path | None = None,
    warn: Callable[[str], Any] | None = None,
) -> tuple[Any, Selection, Path]:
    """The validated config, the files to pack (what `--list` shows) and the archive path."""
    config = _validated_config(bundle_dir, warn)
    target = archive_path(config, output)
    selection = select_files(bundle_dir, skip=[target])  # the previous archive, if inside
    if not any(e.name == CONFIG_FILENAME for e in selection.files):
        problem = Diagnostic(
            "config-excluded",
            "error",
            f"{CONFIG_FILENAME} is excluded, but an archive needs it",
            file=str(bundle_dir / ".bundleignore"),
        )
        raise InvalidBundleError(f"{bundle_dir}: cannot be packaged", [problem])
    assert selection.rules is not None
    packed = {e.name for e in selection.files}
    missing = dropped(bundle_dir, config, packed, selection.rules)
    if missing:
        raise InvalidBundleError(f"{bundle_dir}: cannot be packaged", missing)
    return config, selection, target


def archive_path(config: Any, output: str | Path | None) -> Path:
    """Where the archive goes (the `-o` rule of bundle_cli.atomic.output_path): into a folder
    (./dist by default) as `<slug>-<version>.tar.gz`, or the file named, which must end in one of
    ARCHIVE_SUFFIXES."""
    name = f"{config.slug}-{config.version}.tar.gz"
    target = output_path(output if output is not None else "dist/", name)
    if not target.name.endswith(ARCHIVE_SUFFIXES):
        allowed = " or ".join(ARCHIVE_SUFFIXES)
        raise UsageError(
            f"{output}: an archive name ends in {allowed}",
            hint=f"to write into a folder, end it with a slash: {output}/",
        )
    return target.absolute()


def build_manifest(config: Any, selection: Selection) -> Manifest:
    """The manifest with placeholder digests (the writer fills them in)."""
    bundle = bundle_section(
        config, _requirements_text(selection.root, config), _model_source(selection, config)
    )
    shard_size = shard_size_for(e.size for e in selection.files)
    files = [placeholder(e.name, e.size, e.executable, shard_size) for e in selection.files]
    dirs = [e.name for e in selection.entries if e.is_dir]
    locked = any(f.path == LOCK_NAME for f in files)
    return Manifest(
        __version__,
        config.spec_version,
        bundle,
        files,
        dirs,
        shard_size=shard_size,
        lock_sha256=PLACEHOLDER if locked else None,
    )


def _model_source(selection: Selection, config: Any) -> bytes | None:
    """The packed model file's bytes, for the methods the manifest lists (None: no such file
    is packed, or it is too large to be re-read by verify)."""
    path = model_file(config)
    entry = next((e for e in selection.files if e.name == path), None)
    if entry is None or entry.size > MAX_TEXT:
        return None
    try:
        return (selection.root / entry.name).read_bytes()
    except OSError:
        return None


def _requirements_text(root: Path, config: Any) -> str | None:
    if not config.requirements_file:
        return None
    try:
        path: Path = root / config.requirements_file
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _validated_config(bundle_dir: Path, warn: Callable[[str], Any] | None) -> Any:
    from bundle_cli.config.load import SECRET_VALUE
    from bundle_cli.validation import ensure_valid

    return ensure_valid(bundle_dir, refuse=frozenset({SECRET_VALUE}), warn=warn)
