"""Keeping freed 1 MiB buffers for reuse while packing or checking a large archive.

Every chunk read, inflated or encoded is a fresh `bytes` of about 1 MiB. glibc's malloc serves
those from mmap, or trims them back to the kernel as soon as they are freed, so each new chunk
page-faults its memory in again: about 300,000 faults (1 s of system time, on the critical path)
per GiB verified. `keep_buffers` raises the two thresholds so freed chunks stay in the heap and
the next chunk reuses them; memory stays bounded by the chunks in flight. It is a tuning of the
process's allocator, so it runs only for archives large enough to pay for it, and does nothing
where malloc is not glibc's.
"""

from __future__ import annotations

import sys

WORTH_IT = 64 * 1024 * 1024  # bytes of data below which the faults cost less than ctypes' import
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = (
    16 * 1024 * 1024
)  # allocations below this come from the heap (glibc's max is 32 MiB)
_TRIM_THRESHOLD = 256 * 1024 * 1024  # free memory kept at the heap's top before returning it
_done = False


def keep_buffers(size: int) -> bool:
    """Tune glibc's malloc for streaming `size` bytes; whether it was (or already had been) done."""
    global _done
    if _done:
        return True
    if size < WORTH_IT or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
        gnu = ctypes.CDLL(None).gnu_get_libc_version  # glibc only (musl's mallopt is a no-op)
    except (OSError, AttributeError):
        return False
    del gnu
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
    return _done
