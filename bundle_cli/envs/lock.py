"""`bundle lock`: the bundle's requirements resolved and hash-pinned into `requirements.lock`.

The lock is uv's `pip compile --generate-hashes` for the interpreter the bundle's
`python_version` finds here. Its header records a digest of what it was compiled from (the
normalised declared requirements), so that `bundle validate` can say when config.yaml no longer
declares what the lock holds, without resolving anything.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.envs.spec import LOCK_FILE, canonical, declared_lines, normalise

_SOURCE = re.compile(r"^# bundle-lock-source: sha256:([0-9a-f]{64})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class LockResult:
    path: Path
    packages: int  # pinned distributions


def source_digest(bundle_root: Path, config: dict[str, Any]) -> str:
    """sha256 of the declared requirements, normalised and sorted (options as written)."""
    lines = declared_lines(bundle_root, config)
    reqs = sorted(normalise(ln) for ln in lines if not ln.startswith("-"))
    options = [ln for ln in lines if ln.startswith("-")]
    document = {"requirements": reqs, "options": options}
    return hashlib.sha256(canonical(document).encode("utf-8")).hexdigest()


def lock(path: str | Path) -> LockResult:
    """Write `requirements.lock` into the bundle folder at `path` (atomically)."""
    from bundle_cli.atomic import atomic_write
    from bundle_cli.envs.build import EnvironmentBuildError, _settings, bundle_spec
    from bundle_cli.envs.uvrun import UvFailed, run_uv

    settings = _settings(path)
    root, config = settings.root, settings.config
    spec = bundle_spec(root, config)
    lines = declared_lines(root, config)
    with tempfile.TemporaryDirectory(prefix="bundle-lock-") as scratch:
        listing = Path(scratch) / "requirements.in"
        listing.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        args = ["pip", "compile", "--no-config", "--generate-hashes", "--no-annotate"]
        args += ["--no-header", "--python", spec.interpreter.path, "--quiet", str(listing)]
        try:
            compiled = run_uv(args, cwd=str(root))
        except UvFailed as exc:
            raise EnvironmentBuildError(
                f"{settings.shown}: cannot lock the requirements:\n  "
                + "\n  ".join(exc.said.splitlines())
            ) from None
    header = (
        "# requirements.lock: written by `bundle lock`; installed exactly by --isolated.\n"
        f"# Python {spec.interpreter.version}, {spec.interpreter.platform}\n"
        f"# bundle-lock-source: sha256:{source_digest(root, config)}\n"
    )
    target = Path(settings.shown) / LOCK_FILE
    with atomic_write(target) as out:
        out.write(header + compiled)
    packages = sum(1 for ln in compiled.splitlines() if ln and not ln[0].isspace() and "==" in ln)
    return LockResult(target, packages)


def stale_lock(bundle_root: Path, config: dict[str, Any]) -> str | None:
    """Why `requirements.lock` no longer matches the declared requirements, or None."""
    lock_path = bundle_root / LOCK_FILE
    try:
        text = lock_path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = _SOURCE.search(text)
    if match is None:
        return "it does not say what it was compiled from (not written by `bundle lock`)"
    if match.group(1) != source_digest(bundle_root, config):
        return "the requirements declared in config.yaml changed since it was written"
    return None
