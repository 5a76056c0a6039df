"""Keep freed tensor memory in the process (glibc), so the tensor paths stop paying page faults.

The CPU paths allocate and free buffers of 1-100 MB on every step (SRG's constraint-side states
are 6,348 x 16 x 32 floats on hard independent set). glibc serves blocks that large with mmap
and gives them back on free, so every new buffer is zero-filled by the kernel page by page on
first touch: measured on this machine, one sparse product into a fresh 13 MB buffer took 8.2 ms
and into a reused one 2.2 ms. ``keep_freed_memory`` raises glibc's mmap threshold (blocks up to
64 MiB come from the heap) and its trim threshold (up to 256 MiB of free heap stays with the
process), so freed buffers are reused without faults. SRG sampling, K = 16 on 1,500 binaries:
1.90 s -> 1.35 s, bit-identical candidates. The price: a process keeps up to 256 MiB of freed
memory instead of returning it at once.

Called at the start of the processes that run tensors: job and device workers, the CLI. A
no-op where the C library has no mallopt (macOS) or refuses it (musl).
"""

from __future__ import annotations

import ctypes
import functools

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's thresholds once per process; True when they were set."""
    try:  # the process's own symbols: the C library it runs on
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no mallopt (macOS): leave the allocator alone
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
