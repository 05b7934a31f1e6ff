"""CRC-32C (Castagnoli) as TFRecord framing uses it: a C implementation when one is installed,
else a table-driven one in Python for single buffers and in numpy for many records at once.

TFRecord stores a *masked* CRC: rotate right by 15 bits, then add 0xa282ead8 (so that a CRC of
data that itself holds CRCs is not degenerate).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78  # CRC-32C, reflected
# Below this many records still being summed, the numpy loop costs more than plain Python.
_NUMPY_MIN_ROWS = 48


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()
_TABLE_NP = np.asarray(_TABLE, dtype=np.uint32)


def _update_py(crc: int, data: bytes | memoryview) -> int:
    """Feed `data` into a running (pre-inverted) CRC state."""
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def crc32c_py(data: bytes | memoryview) -> int:
    """CRC-32C of `data`, in Python (the fallback; slow for large buffers)."""
    return _update_py(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def _load_native() -> Callable[[bytes | memoryview], int] | None:
    """The `crc32c` package's function, else `google-crc32c`'s when its C build is there."""
    with warnings.catch_warnings():
        # Without the CPU instruction `crc32c` may warn that it uses its (still C) software path.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            import crc32c as _native

            return _native.crc32c  # type: ignore[no-any-return]
        except (ImportError, AttributeError):  # absent, or a 1.x release without crc32c()
            pass
        try:
            import google_crc32c as _google
        except ImportError:
            return None
    if getattr(_google, "implementation", "c") != "c":
        return None  # its pure-Python fallback is slower than ours for many records
    return _google.value  # type: ignore[no-any-return]


# Resolved on first use: loading a C library costs tens of milliseconds, which every
# `lrdoctor diagnose` of a CSV would otherwise pay at start-up.
_UNSET: Any = object()
NATIVE: Any = _UNSET  # the C function, or None
crc32c: Any = _UNSET  # the function in use: NATIVE, else crc32c_py


def _resolve() -> None:
    global NATIVE, crc32c
    if NATIVE is _UNSET:
        NATIVE = _load_native()
    if crc32c is _UNSET:
        crc32c = NATIVE or crc32c_py


def mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes | memoryview) -> int:
    if crc32c is _UNSET:
        _resolve()
    return mask(crc32c(data))


def masked_many(buf: bytes, starts: np.ndarray, lengths: np.ndarray, *, native: bool = True) -> np.ndarray:
    """Masked CRC-32C of every slice ``buf[start:start+length]``, as uint32.

    With a C implementation each slice is one call; without, all slices are summed together,
    one byte position per numpy step (see :func:`_crc_many_numpy`).
    """
    if NATIVE is _UNSET:
        _resolve()
    if native and NATIVE is not None:
        fn = NATIVE
        ends = (starts + lengths).tolist()
        crcs = np.array([fn(buf[s:e]) for s, e in zip(starts.tolist(), ends, strict=True)], dtype=np.uint32)
    else:
        crcs = _crc_many_numpy(buf, starts, lengths)
    rotated = (crcs >> np.uint32(15)) | (crcs << np.uint32(17))
    return rotated + np.uint32(MASK_DELTA)  # uint32 arithmetic wraps, as the mask wants


def _crc_many_numpy(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Unmasked CRC-32C of many slices at once: rows sorted by length, longest first, so the
    rows still running at byte j are a prefix; the last few long rows finish in Python."""
    count = len(starts)
    if count == 0:
        return np.zeros(0, dtype=np.uint32)
    data = np.frombuffer(buf, dtype=np.uint8)
    order = np.argsort(-lengths, kind="stable")
    st = starts[order].astype(np.int64)
    ln = lengths[order].astype(np.int64)
    neg = -ln  # ascending
    state = np.full(count, 0xFFFFFFFF, dtype=np.uint32)
    j = 0
    active = count
    while j < ln[0]:
        active = int(np.searchsorted(neg, -j, side="left"))  # rows with length > j
        if active < _NUMPY_MIN_ROWS:
            break
        cur = state[:active]
        byte = data[st[:active] + j]
        state[:active] = _TABLE_NP[(cur ^ byte) & 0xFF] ^ (cur >> np.uint32(8))
        j += 1
    for row in range(active if j < ln[0] else 0):
        if ln[row] > j:
            state[row] = _update_py(int(state[row]), buf[st[row] + j : st[row] + ln[row]])
    out = np.empty(count, dtype=np.uint32)
    out[order] = state ^ np.uint32(0xFFFFFFFF)
    return out
