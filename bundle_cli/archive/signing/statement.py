"""The in-toto statement of a model-signing v1 signature: one resource per file, or per shard.

Serialization `files` lists each file by its path with its sha256; `shards` lists every
`shard_size` piece of each non-empty file as `path:start:end`. Resources are in the order
model-signing sorts them (path by component, then offsets), and the subject's digest is the
sha256 of their digests' bytes, concatenated in that order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
_HEX = set("0123456789abcdef")


@dataclass(frozen=True)
class Signed:
    """What a statement says: how the model was cut up, and each piece's sha256."""

    serialization: dict[str, Any]
    resources: dict[str, str]  # "path" or "path:start:end" -> sha256

    @property
    def shard_size(self) -> int | None:
        return self.serialization.get("shard_size") if self.method == "shards" else None

    @property
    def algorithm(self) -> str:
        """What model-signing calls each resource's digest: sha256, or sha256 of a shard."""
        size = self.shard_size
        return "sha256" if size is None else f"sha256-sharded-{size}"

    @property
    def method(self) -> str:
        return str(self.serialization.get("method"))


def order(name: str) -> tuple[list[str], int, int]:
    """model-signing's order: by path component, then shard start and end."""
    path, start, end = name, 0, 0
    if name.count(":") == 2:
        path, a, b = name.split(":")
        start, end = int(a), int(b)
    return path.split("/"), start, end


def serialization(shard_size: int | None, ignore_paths: Iterable[str]) -> dict[str, Any]:
    """The predicate's `serialization` section, as model-signing writes and reads it."""
    section: dict[str, Any] = {"method": "files" if shard_size is None else "shards"}
    section["hash_type"] = "sha256"
    if shard_size is not None:
        section["shard_size"] = shard_size
    section["allow_symlinks"] = False
    ignored = sorted(set(ignore_paths))
    if ignored:
        section["ignore_paths"] = ignored
    return section


def statement(model_name: str, signed: Signed) -> bytes:
    """The statement's JSON bytes (the DSSE payload)."""
    names = sorted(signed.resources, key=order)
    root = hashlib.sha256(b"".join(bytes.fromhex(signed.resources[n]) for n in names))
    doc = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": root.hexdigest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": signed.serialization,
            "resources": [
                {"name": n, "algorithm": signed.algorithm, "digest": signed.resources[n]}
                for n in names
            ],
        },
    }
    return json.dumps(doc, indent=2).encode("utf-8")


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in _HEX for c in value)


def read_statement(payload: bytes) -> Signed:
    """The resources of a statement; ValueError when it is not a consistent model-signing v1 one."""
    doc = json.loads(payload.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
        raise ValueError("not an in-toto Statement v1")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"predicate type {doc.get('predicateType')!r}, not {PREDICATE_TYPE}")
    subjects, predicate = doc.get("subject"), doc.get("predicate")
    if not isinstance(subjects, list) or len(subjects) != 1 or not isinstance(predicate, dict):
        raise ValueError("expected one subject and a predicate")
    section = predicate.get("serialization")
    if not isinstance(section, dict) or section.get("method") not in ("files", "shards"):
        raise ValueError("unknown serialization method")
    if section.get("hash_type") != "sha256":
        raise ValueError(f"hash type {section.get('hash_type')!r}; only sha256 is supported")
    if section["method"] == "shards" and not (
        type(section.get("shard_size")) is int and section["shard_size"] > 0
    ):
        raise ValueError("shards without a valid shard_size")
    resources: dict[str, str] = {}
    root = hashlib.sha256()
    algorithm = Signed(section, {}).algorithm
    for item in predicate.get("resources") or []:
        if not isinstance(item, dict):
            raise ValueError(f"bad resource {item!r}")
        name, digest = item.get("name"), item.get("digest")
        if not isinstance(name, str) or name in resources or not isinstance(digest, str):
            raise ValueError(f"bad resource {item!r}")
        if not _is_sha256(digest):
            raise ValueError(f"resource {name}: {digest!r} is not a sha256")
        if item.get("algorithm") != algorithm:
            raise ValueError(f"resource {name}: digest {item.get('algorithm')!r}, not {algorithm}")
        root.update(bytes.fromhex(digest))
        resources[name] = digest
    if root.hexdigest() != subjects[0].get("digest", {}).get("sha256"):
        raise ValueError("the subject's digest does not match its resources")
    return Signed(section, resources)
