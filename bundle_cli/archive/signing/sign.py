"""`bundle sign`: a model-signing v1 signature of an archive or folder, from its manifest.

An archive is signed from its manifest's digests, read from its head, without hashing the files
again; a folder is signed as exactly what `bundle package` would pack, and everything else in it
(caches, `dist/`, ignored files) is listed as ignored, so that `model_signing verify` on the
folder checks the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundle_cli.errors import UsageError

KEYLESS_HINT = (
    "keyless signing (Sigstore) needs the network: an OpenID Connect login, Fulcio for the "
    "certificate and Rekor for the transparency log; sign offline with --key KEY.pem"
)


@dataclass
class SignResult:
    """What `sign` wrote."""

    target: Path
    signature: Path
    method: str
    resources: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": str(self.target),
            "signature": str(self.signature),
            "method": self.method,
            "resources": self.resources,
        }


def sign(
    target: str | Path,
    key: str | Path | None,
    *,
    output: str | Path | None = None,
    password: str | None = None,
    keyless: bool = False,
) -> SignResult:
    """Write the signature of `target` (an archive or a bundle folder) signed with `key`."""
    from bundle_cli.archive.contents import contents
    from bundle_cli.archive.signing.envelope import load_private_key, seal
    from bundle_cli.archive.signing.resources import resources
    from bundle_cli.archive.signing.statement import Signed, serialization, statement

    if keyless:
        raise UsageError(KEYLESS_HINT)
    if key is None:
        raise UsageError("no key given", hint="sign with --key KEY.pem (an EC private key)")
    target = Path(target)
    private = load_private_key(Path(key), password)
    found = contents(target)
    out = Path(output) if output else _default_output(target)
    ignored = list(found.others)
    if not found.is_archive and out.resolve().is_relative_to(found.path):
        ignored.append(out.resolve().relative_to(found.path).as_posix())
    signed = Signed(
        serialization(found.shard_size, ignored), resources(found.files, found.shard_size)
    )
    from bundle_cli.atomic import atomic_write

    sealed = seal(statement(found.name, signed), private)
    with atomic_write(out, binary=True) as f:
        f.write(sealed)
    return SignResult(target, out, signed.method, len(signed.resources))


def _default_output(target: Path) -> Path:
    target = target.absolute()
    if target.is_dir():
        return target.resolve().parent / f"{target.resolve().name}.sig"
    return target.with_name(target.name + ".sig")
