"""`bundle verify --signature`: does the signature cover exactly the archive's (or folder's) files?

The signature's own serialization decides the comparison: per file, or per shard of the size it
names. An archive's manifest answers when it holds digests at that granularity; otherwise (a
signature cut differently from the manifest, such as whole-file digests of files the manifest
records by shards) the archive is unpacked into a temporary folder and its files hashed again.
"""

from __future__ import annotations

from pathlib import Path

from bundle_cli.archive.contents import Contents, of_folder
from bundle_cli.archive.findings import Problem
from bundle_cli.archive.manifest import FileRecord
from bundle_cli.errors import BadSignatureError, UsageError


def check_signature(found: Contents, signature: Path, public_key: Path) -> list[Problem]:
    """Every difference between the signed resources and `found`; raises when the signature
    itself does not check out (wrong key, altered, not a signature)."""
    from bundle_cli.archive.signing.envelope import load_public_key, open_sealed
    from bundle_cli.archive.signing.resources import NotDerivable, path_of, resources
    from bundle_cli.archive.signing.statement import read_statement

    payload = open_sealed(signature, load_public_key(public_key))
    try:
        signed = read_statement(payload)
    except (ValueError, TypeError) as exc:
        raise BadSignatureError(f"{signature}: not a model-signing v1 statement: {exc}") from None
    size = signed.shard_size
    if not found.is_archive and found.shard_size != size:
        found = of_folder(found.path, size)
    records = list(found.files)
    if found.manifest_record and any(
        path_of(n, size) == found.manifest_record.path for n in signed.resources
    ):
        records.append(found.manifest_record)  # model-signing of an unpacked folder lists it
    try:
        actual = resources(records, size)
    except NotDerivable:
        # the signature cuts files otherwise than the manifest: hash the archive's files again
        extra = records[len(found.files) :]
        actual = resources(_rehashed(found.path, size) + extra, size)
    return _differences(signed.resources, actual, size)


def _rehashed(archive: Path, shard_size: int | None) -> list[FileRecord]:
    """The archive's files hashed in `shard_size` pieces (None: whole), from a verified unpack."""
    import tempfile

    from bundle_cli.archive.extract import unpack

    try:
        with tempfile.TemporaryDirectory(prefix=".bundle-signed-", dir=archive.parent) as tmp:
            folder = unpack(archive, Path(tmp) / "unpacked").path
            return of_folder(folder, shard_size).files
    except OSError as exc:
        raise UsageError(
            f"{archive.parent}: cannot unpack the archive beside itself to hash it as the "
            f"signature asks: {exc.strerror}"
        ) from None


def _differences(signed: dict[str, str], actual: dict[str, str], size: int | None) -> list[Problem]:
    from bundle_cli.archive.signing.resources import path_of

    problems: dict[str, Problem] = {}
    for name in sorted(set(signed) | set(actual)):
        path = path_of(name, size)
        if path in problems:
            continue
        if name not in signed:
            problems[path] = Problem(
                "signature", None, f"extra file: {path} (not in the signature)"
            )
        elif name not in actual:
            problems[path] = Problem("signature", None, f"missing file: {path} (signed, not here)")
        elif signed[name] != actual[name]:
            problems[path] = Problem("signature", path, "sha256 differs")
    return list(problems.values())
