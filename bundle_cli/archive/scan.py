"""One pass over an archive, checking every member against the manifest and the allow-list.

`verify` runs it to collect every problem; `unpack` runs it with a sink that writes files and
stops at the first problem. Only regular files and folders with safe, unique names that the
manifest lists, with the listed size, mode and sha256, pass.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from bundle_cli.archive import derived
from bundle_cli.archive import manifest as manifest_mod
from bundle_cli.archive.findings import Limits, Problem, ScanResult, Sink
from bundle_cli.archive.memory import WORTH_IT, keep_buffers
from bundle_cli.archive.names import MANIFEST_NAME, collision_key, name_problem
from bundle_cli.archive.reader import InflateStream
from bundle_cli.archive.restarts import parse as parse_restarts
from bundle_cli.archive.shards import DigestPool, workers
from bundle_cli.archive.tarstream import Member, TarReader
from bundle_cli.config.locate import CONFIG_FILENAME
from bundle_cli.errors import UnsafeArchiveError

_OVERHEAD_PER_MEMBER = 3 * 512 + 1024  # header, pax header and records, padding
_SLACK = 64 * 1024 * 1024
_AHEAD = 8  # inflated chunks (1 MiB each) the inflating thread may run ahead of the checks


class _Background:
    """Calls run in order on one thread of their own, with at most `depth` waiting."""

    def __init__(self, depth: int = 8) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="bundle-verify")
        self.queue: deque[Future[None]] = deque()
        self.depth = depth

    def call(self, fn: Callable[[bytes], None], data: bytes) -> None:
        self.queue.append(self.executor.submit(fn, data))
        while len(self.queue) > self.depth:
            self.queue.popleft().result()

    def drain(self) -> None:
        while self.queue:
            self.queue.popleft().result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class Scanner:
    """Checks members as they stream by; `fail_fast` raises on the first problem."""

    def __init__(
        self, limits: Limits, sink: Sink | None, fail_fast: bool, expect_sha256: str | None
    ) -> None:
        self.limits, self.sink, self.fail_fast = limits, sink, fail_fast
        self.expect_sha256 = expect_sha256
        self.whole = hashlib.sha256()
        self.result = ScanResult()
        self.seen: dict[str, str] = {}  # collision key -> name
        self.kinds: dict[str, bool] = {}  # name -> is a folder
        # hashing on threads of their own overlaps it with decompression; the members' digests
        # (one per file or per shard) run on every core
        self.member_hasher = DigestPool(workers(), crc=False)
        self.archive_hasher = _Background()
        self.warming: threading.Thread | None = None

    def problem(self, kind: str, path: str | None, message: str) -> None:
        found = Problem(kind, path, message)
        if self.fail_fast:
            raise UnsafeArchiveError(f"refused: {found.format()}")
        self.result.problems.append(found)

    def run(self, archive: Path) -> ScanResult:
        try:
            with open(archive, "rb", buffering=0) as f:
                observe = self.observe_raw if self.expect_sha256 else None
                self.stream = InflateStream(f, observe)
                try:
                    manifest = self.members(TarReader(self.stream))
                finally:
                    self.stream.close()
                self.archive_hasher.drain()  # close() drops queued work: finish it first
        except UnsafeArchiveError as exc:
            if self.fail_fast or self.result.manifest is None:
                raise
            self.result.problems.append(Problem("corrupt", None, exc.message))
            return self.result
        finally:
            self.member_hasher.close()
            self.archive_hasher.close()
        self.report_missing(manifest)
        if self.warming is not None:
            self.warming.join()
        self.check_derived(manifest)
        if self.expect_sha256 and self.whole.hexdigest() != self.expect_sha256:
            raise UnsafeArchiveError("refused: the archive file changed while it was being read")
        return self.result

    def members(self, reader: TarReader) -> manifest_mod.Manifest:
        members = reader.members()
        manifest = self.read_manifest(reader, next(members, None))
        for count, member in enumerate(members, start=1):
            if count > self.limits.max_members:
                raise UnsafeArchiveError(f"refused: more than {self.limits.max_members} members")
            self.member(reader, manifest, member)
        return manifest

    def observe_raw(self, raw: bytes) -> None:
        self.archive_hasher.call(self.whole.update, raw)

    def read_manifest(self, reader: TarReader, first: Member | None) -> manifest_mod.Manifest:
        if first is None or first.name != MANIFEST_NAME or not first.is_file:
            raise UnsafeArchiveError(
                f"not a bundle archive: its first member is not {MANIFEST_NAME}"
            )
        if first.size > manifest_mod.MAX_MANIFEST_SIZE:
            raise UnsafeArchiveError("refused: the manifest is larger than any real one")
        raw = b"".join(reader.data(first))
        manifest = manifest_mod.parse(raw)
        count = len(manifest.files) + len(manifest.directories)
        if count > self.limits.max_members:
            raise UnsafeArchiveError(
                f"refused: {count} members, more than the limit of {self.limits.max_members}"
            )
        if manifest.total_size > self.limits.max_total_size:
            raise UnsafeArchiveError(
                f"refused: {manifest.total_size} bytes unpacked, more than the limit of {self.limits.max_total_size}"
            )
        self.result.manifest = manifest
        keep_buffers(manifest.total_size)
        # headers, padding and end blocks around the listed bytes; a bomb cannot expand further
        self.stream.max_size = manifest.total_size + _OVERHEAD_PER_MEMBER * (count + 2) + _SLACK
        # the rest is inflated on threads of their own
        points = None if manifest.restarts is None else parse_restarts(manifest.restarts)
        self.stream.read_ahead(_AHEAD, points)
        if manifest.total_size >= WORTH_IT:
            self.warming = derived.warm_up()
        if self.sink:
            self.sink.start(manifest, raw)
        self.seen[collision_key(MANIFEST_NAME)] = MANIFEST_NAME
        self.kinds[MANIFEST_NAME] = False
        self.files = {f.path: f for f in manifest.files}
        self.shard_size = manifest.shard_size
        self.dirs = set(manifest.directories)
        # the files the manifest's derived fields come from, kept to recompute them at the end
        bundle = manifest.bundle
        wanted = (CONFIG_FILENAME, bundle.get("requirements_file"), bundle.get("model_file"))
        self.kept: dict[str, list[bytes | memoryview] | None] = {
            n: None for n in wanted if n in self.files
        }
        return manifest

    def member(self, reader: TarReader, manifest: manifest_mod.Manifest, member: Member) -> None:
        name = member.name
        if not self.name_ok(member):
            return
        self.seen[collision_key(name)] = name
        self.kinds[name] = member.is_dir
        if member.is_dir:
            if name not in self.dirs:
                self.problem("extra", name, "folder not listed in the manifest")
            elif member.mode != 0o755:
                self.problem("altered", name, f"mode {member.mode:o}, expected 755")
            elif self.sink:
                self.sink.directory(name)
            return
        self.file(reader, member)

    def name_ok(self, member: Member) -> bool:
        name = member.name
        why = name_problem(name)
        if why is None and not (member.is_file or member.is_dir):
            why = f"is {member.kind_name()}; only regular files and folders are allowed"
        if why is None and name in self.kinds:
            why = "appears twice in the archive"
        if why is None and collision_key(name) in self.seen:
            why = f"collides with {self.seen[collision_key(name)]} on case-insensitive file systems"
        parents = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)]
        if why is None and any(self.kinds.get(p) is False for p in parents):
            why = "is inside a path that is a file"
        if why:
            self.problem("unsafe", name, why)
        return why is None

    def file(self, reader: TarReader, member: Member) -> None:
        record = self.files.get(member.name)
        if record is None:
            return self.problem("extra", member.name, "file not listed in the manifest")
        if member.size != record.size:
            return self.problem(
                "altered", member.name, f"{member.size} bytes, the manifest says {record.size}"
            )
        expected = 0o755 if record.executable else 0o644
        if member.mode != expected:
            return self.problem(
                "altered", member.name, f"mode {member.mode:o}, expected {expected:o}"
            )
        write = self.sink.file(member.name, record.executable) if self.sink else None
        keep: list[bytes | memoryview] | None = (
            [] if member.name in self.kept and member.size <= derived.MAX_TEXT else None
        )
        digest = self.member_hasher.file(record.size, self.shard_size)
        for chunk in reader.data(member):
            digest.update(chunk)
            if write:
                write(chunk)
            if keep is not None:
                keep.append(chunk)
        if write:
            write(None)
        self.result.files_checked += 1
        self.result.bytes_checked += member.size
        found, _ = digest.result()
        if found != (record.shards if record.shards is not None else record.sha256):
            self.problem("altered", member.name, "content differs from the manifest's sha256")
        elif keep is not None:
            self.kept[member.name] = keep

    def check_derived(self, manifest: manifest_mod.Manifest) -> None:
        """The manifest's config digest and bundle section must follow from the packed files."""
        config = self.kept.get(CONFIG_FILENAME)
        if CONFIG_FILENAME not in self.files:
            return self.problem("missing", CONFIG_FILENAME, "a bundle archive needs it")
        if config is None:
            return  # missing, altered or oversized: reported where it was found
        requirements_file = manifest.bundle.get("requirements_file")
        requirements = self.kept.get(requirements_file) if requirements_file else None
        if requirements_file in self.files and requirements is None:
            return  # altered or oversized: reported where it was found
        model_file = manifest.bundle.get("model_file")
        model = self.kept.get(model_file) if model_file else None
        if model_file in self.files and model is None:
            return  # altered or oversized: reported where it was found
        found = derived.mismatches(
            manifest.bundle,
            manifest.config_sha256,
            b"".join(config),
            None if requirements is None else b"".join(requirements),
            (set(self.files), None if model is None else b"".join(model)),
        )
        for what in found:
            self.problem("altered", MANIFEST_NAME, what)

    def report_missing(self, manifest: manifest_mod.Manifest) -> None:
        for name in sorted(set(self.files) | self.dirs):
            if name not in self.kinds:
                self.problem("missing", name, "listed in the manifest but not in the archive")


def scan(
    archive: Path,
    *,
    limits: Limits | None = None,
    sink: Sink | None = None,
    fail_fast: bool = False,
    expect_sha256: str | None = None,
) -> ScanResult:
    """Check the whole archive; with fail_fast, raise UnsafeArchiveError at the first problem.

    With expect_sha256, the archive's own bytes must also have that digest (read in the same pass).
    """
    return Scanner(limits or Limits(), sink, fail_fast, expect_sha256).run(archive)
