"""The manifest: the first member of every archive, listing each packed file with its digest.

It is written with placeholder digests of the final length, so its size is known before the
files are read; the writer fills in the real digests at the end and patches them in place.
Reading is strict: an archive comes from elsewhere, so every field is type-checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bundle_cli.archive.names import name_problem
from bundle_cli.archive.restarts import parse as parse_restarts
from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.errors import UnsafeArchiveError

FORMAT = "bundle-archive"
FORMAT_VERSION = 1
PLACEHOLDER = "0" * 64
LOCK_NAME = (
    "requirements.lock"  # `bundle lock`'s hash-pinned requirements (bundle_cli/envs/lock.py)
)
MAX_MANIFEST_SIZE = 32 * 1024 * 1024  # ~150k files; parsed JSON costs several times its size
MAX_FILE_SIZE = 2**63 - 1  # what a file system can hold (and what an os.stat size fits in)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILES_MARK = "\x00files\x00"


@dataclass
class FileRecord:
    """One packed file."""

    path: str
    size: int
    sha256: str | None = PLACEHOLDER  # None when the file is recorded by shards
    executable: bool = False
    shards: list[str] | None = None  # sha256 of each shard_size piece (see archive/shards.py)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        if self.shards is None:
            del row["shards"]
        return row


@dataclass
class Manifest:
    """What an archive holds and which tool made it from which config."""

    tool_version: str
    spec_version: str | None
    bundle: dict[str, Any]
    files: list[FileRecord] = field(default_factory=list)
    directories: list[str] = field(default_factory=list)
    config_sha256: str = PLACEHOLDER
    shard_size: int | None = None  # set when some file is larger: it is then recorded by shards
    lock_sha256: str | None = None  # the digest of requirements.lock, when the bundle has one
    restarts: str | None = None  # where inflating may start afresh (see archive/restarts.py)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def to_bytes(self) -> bytes:
        """Canonical UTF-8 JSON: fixed key order, one file per line."""
        head = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool": {"name": "bundle", "version": self.tool_version},
            "spec_version": self.spec_version,
            "bundle": self.bundle,
            "config_sha256": self.config_sha256,
            **({} if self.lock_sha256 is None else {"lock_sha256": self.lock_sha256}),
            "total_size": self.total_size,
            "file_count": len(self.files),
            **({} if self.shard_size is None else {"shard_size": self.shard_size}),
            **({} if self.restarts is None else {"restarts": self.restarts}),
            "directories": self.directories,
            "files": _FILES_MARK,
        }
        text = json.dumps(head, indent=2, ensure_ascii=False)
        rows = ",\n    ".join(json.dumps(f.to_dict(), ensure_ascii=False) for f in self.files)
        body = f"[\n    {rows}\n  ]" if rows else "[]"
        # "files" is the last key, so its placeholder is the last occurrence of the mark
        before, _, after = text.rpartition(json.dumps(_FILES_MARK))
        return (before + body + after).encode("utf-8") + b"\n"

    def fill(self, digests: dict[str, str | list[str]]) -> None:
        """Put in the real digests (a sha256, or a file's shard digests) once all are hashed."""
        for record in self.files:
            found = digests[record.path]
            if isinstance(found, list):
                record.sha256, record.shards = None, found
            else:
                record.sha256 = found
        config = digests.get(CONFIG_FILENAME, PLACEHOLDER)
        self.config_sha256 = config if isinstance(config, str) else PLACEHOLDER
        if self.lock_sha256 is not None:
            lock = digests.get(LOCK_NAME, PLACEHOLDER)
            self.lock_sha256 = lock if isinstance(lock, str) else PLACEHOLDER


def parse(data: bytes) -> Manifest:
    """Read a manifest from an archive; raises UnsafeArchiveError when anything is off."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(f"not JSON ({exc})") from None
    except RecursionError:
        raise _bad("nested deeper than any manifest") from None
    _require(isinstance(doc, dict), "not a JSON object")
    _require(doc.get("format") == FORMAT, "unknown format")
    _require(doc.get("format_version") == FORMAT_VERSION, "unsupported format_version")
    tool = doc.get("tool")
    _require(isinstance(tool, dict) and isinstance(tool.get("version"), str), "bad tool")
    _require(isinstance(doc.get("bundle"), dict), "bad bundle section")
    _check_bundle_section(doc["bundle"])
    _require(
        doc.get("spec_version") is None or isinstance(doc["spec_version"], str), "bad spec_version"
    )
    _require(_is_digest(doc.get("config_sha256")), "bad config_sha256")
    shard_size = doc.get("shard_size")
    _require(
        "shard_size" not in doc or (type(shard_size) is int and shard_size > 0), "bad shard_size"
    )
    dirs, files = doc.get("directories"), doc.get("files")
    _require(isinstance(dirs, list) and all(_is_name(d) for d in dirs), "bad directories")
    _require(isinstance(files, list), "bad files")
    manifest = Manifest(
        tool_version=tool["version"],
        spec_version=doc["spec_version"],
        bundle=doc["bundle"],
        files=[_file(f, shard_size) for f in files],
        directories=list(dirs),
        config_sha256=doc["config_sha256"],
        shard_size=shard_size,
        lock_sha256=doc.get("lock_sha256"),
        restarts=doc.get("restarts"),
    )
    _require("restarts" not in doc or parse_restarts(doc["restarts"]) is not None, "bad restarts")
    if "lock_sha256" in doc:
        locks = [f.sha256 for f in manifest.files if f.path == LOCK_NAME]
        _require(
            _is_digest(doc["lock_sha256"]) and locks == [doc["lock_sha256"]],
            f"lock_sha256 is not the digest of {LOCK_NAME}",
        )
    _require(doc.get("total_size") == manifest.total_size, "total_size does not add up")
    _require(doc.get("file_count") == len(manifest.files), "file_count does not add up")
    names = [f.path for f in manifest.files] + manifest.directories
    _require(len(set(names)) == len(names), "a path is listed twice")
    return manifest


def _file(item: Any, shard_size: int | None) -> FileRecord:
    keys = {"path", "size", "sha256", "executable"}
    _require(isinstance(item, dict) and set(item) in (keys, keys | {"shards"}), "bad file entry")
    size, executable = item["size"], item["executable"]
    _require(_is_name(item["path"]), f"unsafe path {item['path']!r}")
    _require(type(size) is int and 0 <= size <= MAX_FILE_SIZE, f"bad size for {item['path']}")
    _require(type(executable) is bool, f"bad executable flag for {item['path']}")
    shards = item.get("shards")
    if shard_size is not None and size > shard_size:
        count = -(-size // shard_size)
        _require(
            item["sha256"] is None
            and isinstance(shards, list)
            and len(shards) == count
            and all(_is_digest(d) for d in shards),
            f"bad shards for {item['path']}",
        )
    else:
        _require("shards" not in item, f"shards for {item['path']}, a file of one shard")
        _require(_is_digest(item["sha256"]), f"bad sha256 for {item['path']}")
    return FileRecord(item["path"], size, item["sha256"], executable, shards)


# The fields `package` writes in the "bundle" section, with the types it writes.
_BUNDLE_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "slug": (str,),
    "version": (str,),
    "description": (str, type(None)),
    "python_version": (str, type(None)),
    "requirements": (list,),
    "requirements_file": (str, type(None)),
}


def _check_bundle_section(bundle: dict[str, Any]) -> None:
    for key, types in _BUNDLE_FIELDS.items():
        _require(isinstance(bundle.get(key), types), f"bad {key} in the bundle section")
    _require(all(isinstance(r, str) for r in bundle["requirements"]), "bad requirements")
    # recorded since bundle 0.1 archives began listing the model's methods; absent before
    model_file, methods = bundle.get("model_file"), bundle.get("methods")
    _require(model_file is None or _is_name(model_file), "bad model_file in the bundle section")
    _require(
        methods is None or (isinstance(methods, list) and all(isinstance(m, str) for m in methods)),
        "bad methods in the bundle section",
    )


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and name_problem(value) is None


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and bool(_SHA256.match(value))


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise _bad(what)


def _bad(what: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"the archive's manifest is invalid: {what}")
