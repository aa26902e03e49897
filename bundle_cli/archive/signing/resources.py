"""The resources a signature lists, from manifest records: whole files or their shards."""

from __future__ import annotations

from bundle_cli.archive.manifest import FileRecord
from bundle_cli.archive.shards import bounds


class NotDerivable(Exception):
    """The records do not hold digests at the granularity asked for."""


def resources(records: list[FileRecord], shard_size: int | None) -> dict[str, str]:
    """`path -> sha256` (shard_size None) or `path:start:end -> sha256` of every shard."""
    found: dict[str, str] = {}
    for record in records:
        if shard_size is None:
            if record.sha256 is None:
                raise NotDerivable(record.path)
            found[record.path] = record.sha256
            continue
        if record.size == 0:
            continue  # model-signing cuts an empty file into no shard at all
        if record.shards is not None:
            pieces = bounds(record.size, shard_size)
            if len(pieces) != len(record.shards):
                raise NotDerivable(record.path)
            found.update(
                {
                    f"{record.path}:{a}:{b}": d
                    for (a, b), d in zip(pieces, record.shards, strict=True)
                }
            )
        elif record.size <= shard_size and record.sha256 is not None:
            found[f"{record.path}:0:{record.size}"] = record.sha256
        else:
            raise NotDerivable(record.path)
    return found


def path_of(name: str, shard_size: int | None) -> str:
    """The file a resource name is about."""
    return name if shard_size is None else name.rsplit(":", 2)[0]
