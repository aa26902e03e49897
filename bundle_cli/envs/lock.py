"""`bundle lock`: the bundle's requirements resolved and hash-pinned into `requirements.lock`.

The lock is uv's `pip compile --generate-hashes` for the interpreter the bundle's
`python_version` finds here. Its header records a digest of what it was compiled from (the
normalised declared requirements), so that `bundle validate` can say when config.yaml no longer
declares what the lock holds, without resolving anything.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.envs.spec import LOCK_FILE, declared_lines, source_digest


@dataclass(frozen=True)
class LockResult:
    path: Path
    packages: int  # pinned distributions


def lock_for(root: Path, shown: Path, config: dict[str, Any]) -> LockResult:
    """Write `requirements.lock` into the validated bundle folder `root` (atomically)."""
    from bundle_cli.atomic import atomic_write
    from bundle_cli.envs.build import EnvironmentBuildError, bundle_spec
    from bundle_cli.envs.uvrun import UvFailed, run_uv

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
                f"{shown}: cannot lock the requirements:\n  " + "\n  ".join(exc.said.splitlines())
            ) from None
    header = (
        "# requirements.lock: written by `bundle lock`; installed exactly by --isolated.\n"
        f"# Python {spec.interpreter.version}, {spec.interpreter.platform}\n"
        f"# bundle-lock-source: sha256:{source_digest(root, config)}\n"
    )
    target = Path(shown) / LOCK_FILE
    with atomic_write(target) as out:
        out.write(header + compiled)
    packages = sum(1 for ln in compiled.splitlines() if ln and not ln[0].isspace() and "==" in ln)
    return LockResult(target, packages)
