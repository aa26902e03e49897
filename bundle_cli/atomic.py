"""Writing a file a user named (`-o`, `--junit-xml`, an archive), safely and atomically; and
the tool's own files (cache entries) through `replace_file`, and folders built beside their
target (`new_folder`: unpack, init, build_flow).

What is at PATH decides how it is written (documented in the README, under "Output files"):
- nothing, or a regular file: a temporary file beside it is written, then renamed over PATH only
  when every byte was written; a failed or interrupted run leaves the old file, or none, and no
  temporary file. A replaced file keeps its permission bits.
- a symbolic link: followed. The file it points to is replaced as above; the link stays a link.
- a character device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe): written through as a
  shell redirection would, never replaced by a regular file.
- a folder, a block device or a socket: refused.
Every file-system failure (permission denied, read-only, a parent that is a file, a full disk, a
name too long) is a FileSystemError that names PATH and what was being done.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from bundle_cli.errors import FileSystemError, UsageError

_REFUSED = {stat.S_IFDIR: "a folder", stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def destination(path: Path) -> tuple[Path, os.stat_result | None]:
    """The file to write for PATH (a symlink followed) and its status (None if it is new).

    Raises UsageError for a folder, block device or socket, FileSystemError when PATH cannot be
    examined (a parent that is a file, a name too long, no permission)."""
    try:
        real = Path(os.path.realpath(path)) if stat.S_ISLNK(os.lstat(path).st_mode) else path
        st = os.stat(real)
    except FileNotFoundError:
        return (Path(os.path.realpath(path)) if path.is_symlink() else path), None
    except OSError as exc:
        raise FileSystemError("write", path, exc) from None
    kind = _REFUSED.get(stat.S_IFMT(st.st_mode))
    if kind:
        raise UsageError(f"{path}: is {kind}; give a file name to write")
    return real, st


def make_parents(path: Path) -> None:
    """Create PATH's missing parent folders; a parent that is a file is a FileSystemError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the parent, or one of its own parents, is a file
        error = NotADirectoryError(errno.ENOTDIR, "a file is in the way (not a folder)")
        raise FileSystemError("create the folder", path.parent, error) from None
    except OSError as exc:
        raise FileSystemError("create the folder", path.parent, exc) from None


def new_temp(real: Path, shown: Path) -> tuple[int, str]:
    """A temporary file beside `real` (fd, name), mode 0600 until it is placed; named by
    bundle_cli.tempnames, so that the next run removes it if this process is killed."""
    import tempfile  # here, not at the top: `bundle sign` writes through this on a tight budget

    from bundle_cli.tempnames import prefix, remove_stale

    remove_stale(real, ".tmp")  # left by a run that was killed
    try:
        return tempfile.mkstemp(prefix=prefix(real), suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise FileSystemError("write", shown, exc) from None


def replace_file(path: Path, text: str) -> None:
    """Write one of the tool's own files (a cache entry) atomically: a temp file beside it, named
    by bundle_cli.tempnames, renamed over PATH; the temp file never stays. OSError propagates
    (callers whose file is only a cache ignore it); a missing parent folder is created."""
    import tempfile

    from bundle_cli.tempnames import prefix

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def new_folder(target: Path, suffix: str, *, private: bool = False) -> Path:
    """A new empty folder beside `target` to build it in, renamed into place by the caller when
    complete: named by bundle_cli.tempnames (`.NAME.PID.RANDOM<suffix>`), so that the next run
    removes the ones a killed process left. Its mode is what mkdir would give, or 0700 when
    `private` (until the caller opens it). OSError propagates."""
    import tempfile

    from bundle_cli.tempnames import prefix, remove_stale

    remove_stale(target, suffix)
    folder = Path(tempfile.mkdtemp(prefix=prefix(target), suffix=suffix, dir=target.parent))
    if not private:
        os.chmod(folder, 0o777 & ~umask())
    return folder


def place(fd: int, temp: str, real: Path, before: os.stat_result | None, shown: Path) -> None:
    """Give the temp file the mode PATH had (or a new file's), then rename it over `real`."""
    try:
        os.fchmod(fd, stat.S_IMODE(before.st_mode) if before else 0o666 & ~umask())
        os.replace(temp, real)
    except OSError as exc:
        raise FileSystemError("write", shown, exc) from None


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file object whose content replaces PATH when the block ends without an exception.

    Writes that fail (a full disk, a file size limit) raise FileSystemError naming PATH."""
    shown = Path(path)
    real, before = destination(shown)
    mode = "wb" if binary else "w"
    encoding = None if binary else "utf-8"
    if before is not None and not stat.S_ISREG(before.st_mode):
        with _opened(shown, lambda: open(real, mode, encoding=encoding)) as through:
            yield cast(IO[Any], _Checked(through, shown))
        return
    fd, temp = new_temp(real, shown)
    try:
        with _opened(shown, lambda: open(fd, mode, encoding=encoding, closefd=False)) as handle:
            yield cast(IO[Any], _Checked(handle, shown))
        place(fd, temp, real, before, shown)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def _opened(shown: Path, opener: Any) -> Iterator[IO[Any]]:
    try:
        handle = opener()
    except OSError as exc:
        raise FileSystemError("write", shown, exc) from None
    try:
        yield handle
    finally:
        try:
            handle.close()
        except OSError as exc:  # the last buffered bytes did not fit
            raise FileSystemError("write", shown, exc) from None


class _Checked:
    """A file object whose write and flush failures name the file the user gave."""

    def __init__(self, handle: IO[Any], shown: Path) -> None:
        self._handle, self._shown = handle, shown

    def write(self, data: Any) -> int:
        try:
            return self._handle.write(data)
        except OSError as exc:
            raise FileSystemError("write", self._shown, exc) from None

    def flush(self) -> None:
        try:
            self._handle.flush()
        except OSError as exc:
            raise FileSystemError("write", self._shown, exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def output_path(given: str | Path, default_name: str) -> Path:
    """Where `-o GIVEN` writes, the one rule of `predict -o` and `package -o`: an existing folder,
    or a name ending in a slash, means "into this folder, as `default_name`"; anything else is
    the file itself. Missing parent folders are created when the file is written."""
    text = os.fspath(given)
    if not text:
        raise UsageError("-o '': give a file name, or a folder ending in /")
    path = Path(text)
    try:
        into = text.endswith(("/", os.sep)) or path.is_dir()
    except OSError as exc:  # a name too long, a loop of links
        raise FileSystemError("write", path, exc) from None
    if into:
        return path / default_name
    return path
