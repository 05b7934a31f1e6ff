"""Vectorised decoding of the commonest scalar Event layouts, all records of a file at once.

The general decoder (:func:`lrdoctor.readers._protobuf.decode_event`) costs a few
microseconds of Python per event; these layouts, which are nearly every event of a training
log, are decoded with numpy over whole arrays of records instead:

    09 <wall_time:8> [10 <step: varint, 1-9 bytes>] 2a <n+2> 0a <n> 0a <t> <tag:t> <number>

with every length one byte, and <number> one of

    15 <f32>                                   simple_value (torch add_scalar, tensorboardX, ...)
    42 <len> 08 01 [12 00] 22 04 <f32>         float tensor_content, shape [] (TF2, Keras .v2)
    42 <len> 08 01 [12 00] 2a 04 <f32>         float_val, packed
    42 <len> 08 01 [12 00] 15 <f32>            float_val, not packed

A value carrying plugin metadata is not of these layouts (the general decoder notes the
plugin). For every record accepted the result equals the general decoder's; the others have
`ok` False and are left to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrdoctor.readers._protobuf import SIMPLE, TENSOR

Reader = Callable[[np.ndarray], np.ndarray]  # offsets -> the bytes there, as int64


@dataclass(frozen=True)
class ScalarBatch:
    ok: np.ndarray  # per record: decoded here
    # The rest: one entry per record decoded here, in record order.
    walls: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    kinds: np.ndarray  # SIMPLE or TENSOR
    tag_starts: np.ndarray
    tag_lens: np.ndarray


def decode_scalar_batch(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> ScalarBatch:
    data = np.frombuffer(buf, dtype=np.uint8)
    top = len(data) - 1
    end = starts + lengths

    def at(offsets: np.ndarray) -> np.ndarray:
        return data[np.minimum(offsets, top)].astype(np.int64)

    ok = (lengths >= 20) & (at(starts) == 0x09)
    step, q = _steps(at, starts, ok)
    outer, inner, tag_len = at(q + 1), at(q + 3), at(q + 5)
    ok &= (at(q) == 0x2A) & (outer < 0x80) & (q + 2 + outer == end)
    ok &= (at(q + 2) == 0x0A) & (inner == outer - 2)
    ok &= (at(q + 4) == 0x0A) & (tag_len < 0x80)
    body = q + 6 + tag_len  # the field after the tag
    value_end = q + 4 + inner
    simple = (at(body) == 0x15) & (body + 5 == value_end)
    number_at, tensor = _tensor_number(at, body, value_end)
    ok &= simple | tensor
    number_at = np.where(simple, body + 1, number_at)
    sel = np.flatnonzero(ok)
    return ScalarBatch(
        ok=ok,
        walls=_gather(data, starts[sel] + 1, "<f8"),
        steps=step[sel].astype(np.float64),
        values=_gather(data, number_at[sel], "<f4").astype(np.float64),
        kinds=np.where(simple[sel], SIMPLE, TENSOR).astype(np.int8),
        tag_starts=q[sel] + 6,
        tag_lens=tag_len[sel],
    )


def _steps(at: Reader, starts: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The step (0 when absent) and where the summary field begins; clears `ok` for a 10-byte
    step varint (a negative step), left to the general decoder."""
    has_step = at(starts + 9) == 0x10
    raw = np.stack([at(starts + 10 + k) for k in range(9)], axis=1)
    more = raw >= 0x80
    ok &= ~(has_step & more.all(axis=1))
    size = np.argmin(more, axis=1) + 1
    step = np.zeros(len(starts), dtype=np.uint64)
    for k in range(9):
        part = (raw[:, k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        step |= np.where(k < size, part, np.uint64(0))
    step = np.where(has_step, step, np.uint64(0))
    return step, starts + 9 + np.where(has_step, 1 + size, 0)


def _tensor_number(at: Reader, body: np.ndarray, value_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the float32 of a one-float tensor field at `body` is, and which rows hold one."""
    size = at(body + 1)
    ok = (at(body) == 0x42) & (size < 0x80) & (body + 2 + size == value_end)
    ok &= (at(body + 2) == 0x08) & (at(body + 3) == 0x01)  # dtype DT_FLOAT
    u = body + 4
    u = np.where((at(u) == 0x12) & (at(u + 1) == 0x00), u + 2, u)  # shape []
    key, width = at(u), at(u + 1)
    counted = ((key == 0x22) | (key == 0x2A)) & (width == 4) & (u + 6 == value_end)
    single = (key == 0x15) & (u + 5 == value_end)
    return np.where(single, u + 1, u + 2), ok & (counted | single)


def _gather(data: np.ndarray, offsets: np.ndarray, dtype: str) -> np.ndarray:
    """The number of type `dtype` (little-endian) stored at each offset."""
    width = np.dtype(dtype).itemsize
    index = offsets[:, None] + np.arange(width)
    return np.ascontiguousarray(data[index]).view(dtype).ravel()
