"""Memory allocator settings for the lrdoctor command (its own process only, never the library).

Reading a large log makes many short-lived arrays of a few hundred KiB to a few MiB. glibc's
malloc serves each from a fresh mmap and hands it back when freed, so every one costs its page
faults again: on the 1,000,000-line text log of benchmarks/speed.py that was about 40% of the
run (BENCHMARKS.md, "Speed and memory on large logs"). Raising the mmap threshold to glibc's
maximum (32 MiB on 64-bit) and keeping freed memory in the heap lets those arrays reuse pages.
The peak memory is unchanged: it is the most the process holds at once, as before.

A program that calls the library gets the same effect from the environment, before it starts:
MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456.
"""

from __future__ import annotations

import sys

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit systems
TRIM_THRESHOLD = 256 << 20  # freed heap memory kept for reuse, up to this much at the top


def reuse_freed_memory() -> bool:
    """Tell glibc's malloc to keep arrays of up to 32 MiB in the heap; False where there is no
    glibc (macOS, Windows, musl), which is left as it is."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
