"""TFRecord framing: ``uint64 length | masked CRC-32C of the length | payload | masked CRC-32C
of the payload``, little-endian. Both checksums of every record are verified.

The walk trusts each length to find the next record and checks the length checksums of a
batch of records at once; at the first bad one it falls back to a scan for the next offset
where a whole valid record begins (length checksum, room in the file, payload checksum).
A record whose length runs past the end of the file, with nothing valid after it, is the
last record cut short (the writer was stopped mid-write). No length is trusted before it is
known to fit in the file, so a hostile length allocates nothing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from lrdoctor.readers._crc32c import crc32c_py, mask, masked_crc32c, masked_many

HEADER_BYTES = 12
FOOTER_BYTES = 4
_LENGTH = struct.Struct("<Q")


@dataclass(frozen=True)
class FramingLimits:
    # Records walked before their length checksums are checked together; doubled after a
    # clean batch, back to the minimum after damage (so damage costs a small batch, not a file).
    min_batch: int = 256
    max_batch: int = 1 << 16
    # Offsets looked at per numpy step while scanning for the next valid record; doubled up to
    # the maximum, so nearby records are found quickly and large junk is crossed in few steps.
    min_scan: int = 4096
    max_scan: int = 1 << 20


LIMITS = FramingLimits()


@dataclass
class Framing:
    """Where the whole, checksum-valid records of a buffer are, and what was wrong elsewhere."""

    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # payloads
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    damaged: list[int] = field(default_factory=list)  # offsets where unreadable bytes begin
    skipped_bytes: int = 0  # bytes in those places
    bad_payload: list[int] = field(default_factory=list)  # record offsets, payload checksum wrong
    truncated: tuple[int, int, int] | None = None  # offset, bytes present, bytes needed


def header_ok(buf: bytes, offset: int = 0) -> bool:
    """Does a record header (length and its checksum) start at `offset`?"""
    if len(buf) - offset < HEADER_BYTES:
        return False
    # Eight bytes: the table in Python is as quick as a C call, and sniffing a CSV loads no library.
    return mask(crc32c_py(buf[offset : offset + 8])) == _u32(buf, offset + 8)


def frame(buf: bytes) -> Framing:
    out = Framing()
    size = len(buf)
    starts: list[int] = []  # record offsets, until the end
    lengths: list[int] = []
    pos = 0
    batch = LIMITS.min_batch
    while pos < size:
        offsets, lens, after = _walk(buf, pos, batch)
        good = _good_headers(buf, offsets)
        starts.extend(offsets[:good])
        lengths.extend(lens[:good])
        if good < len(offsets):
            pos = _damage(buf, offsets[good], out)
            batch = LIMITS.min_batch
        elif len(offsets) == batch and after < size:
            pos = after
            batch = min(2 * batch, LIMITS.max_batch)
        else:
            pos = _tail(buf, after, out) if after < size else size
            batch = LIMITS.min_batch
    out.starts = np.asarray(starts, dtype=np.int64) + HEADER_BYTES
    out.lengths = np.asarray(lengths, dtype=np.int64)
    _check_payloads(buf, out)
    return out


def _walk(buf: bytes, pos: int, limit: int) -> tuple[list[int], list[int], int]:
    """Up to `limit` records from `pos` whose lengths fit in the buffer, trusting the lengths."""
    last = len(buf) - HEADER_BYTES - FOOTER_BYTES
    unpack = _LENGTH.unpack_from
    offsets: list[int] = []
    lengths: list[int] = []
    for _ in range(limit):
        if pos > last:
            break
        (length,) = unpack(buf, pos)
        if length > last - pos:
            break
        offsets.append(pos)
        lengths.append(length)
        pos += length + HEADER_BYTES + FOOTER_BYTES
    return offsets, lengths, pos


def _good_headers(buf: bytes, offsets: list[int]) -> int:
    """How many of the leading headers at `offsets` have a valid length checksum."""
    if not offsets:
        return 0
    offs = np.asarray(offsets, dtype=np.int64)
    ok = masked_many(buf, offs, np.full(len(offs), 8), native=False) == _u32_many(buf, offs + 8)
    return len(offsets) if ok.all() else int(np.argmin(ok))


def _tail(buf: bytes, pos: int, out: Framing) -> int:
    """The walk stopped at `pos` before the end: a cut header, a cut record, or damage."""
    size = len(buf)
    if size - pos < HEADER_BYTES:
        out.truncated = (pos, size - pos, HEADER_BYTES)
        return size
    if not header_ok(buf, pos):
        return _damage(buf, pos, out)
    resume = find_record(buf, pos + 1)
    if resume is not None:  # a wrong length with valid records after it: damage, not a cut
        return _damage(buf, pos, out, resume=resume)
    (length,) = _LENGTH.unpack_from(buf, pos)
    out.truncated = (pos, size - pos, HEADER_BYTES + length + FOOTER_BYTES)
    return size


def _damage(buf: bytes, pos: int, out: Framing, resume: int | None = None) -> int:
    """Skip unreadable bytes from `pos` to the next valid record; the position to go on from."""
    if resume is None:
        resume = find_record(buf, pos + 1)
    end = len(buf) if resume is None else resume
    out.damaged.append(pos)
    out.skipped_bytes += end - pos
    return end


def find_record(buf: bytes, start: int) -> int | None:
    """The first offset >= start where a whole valid record begins (both checksums right)."""
    data = np.frombuffer(buf, dtype=np.uint8)
    last = len(buf) - HEADER_BYTES - FOOTER_BYTES  # the last offset where a record can begin
    pos = start
    window = LIMITS.min_scan
    while pos <= last:
        stop = min(last + 1, pos + window)
        lengths = np.zeros(stop - pos, dtype=np.uint64)
        for k in range(8):
            lengths |= data[pos + k : stop + k].astype(np.uint64) << np.uint64(8 * k)
        room = (last - np.arange(pos, stop, dtype=np.int64)).astype(np.uint64)
        cand = np.flatnonzero(lengths <= room) + pos
        if len(cand):
            ok = masked_many(buf, cand, np.full(len(cand), 8), native=False) == _u32_many(buf, cand + 8)
            for offset in cand[ok].tolist():
                payload = offset + HEADER_BYTES
                footer = payload + int(lengths[offset - pos])
                if masked_crc32c(buf[payload:footer]) == _u32(buf, footer):
                    return int(offset)
        pos = stop
        window = min(2 * window, LIMITS.max_scan)
    return None


def _check_payloads(buf: bytes, out: Framing) -> None:
    """Drop the records whose payload checksum is wrong, noting where they were."""
    if not len(out.starts):
        return
    ok = masked_many(buf, out.starts, out.lengths) == _u32_many(buf, out.starts + out.lengths)
    if not ok.all():
        out.bad_payload = (out.starts[~ok] - HEADER_BYTES).tolist()
        out.starts = out.starts[ok]
        out.lengths = out.lengths[ok]


def _u32(buf: bytes, offset: int) -> int:
    return int.from_bytes(buf[offset : offset + 4], "little")


def _u32_many(buf: bytes, offsets: np.ndarray) -> np.ndarray:
    """The little-endian uint32 at each offset."""
    data = np.frombuffer(buf, dtype=np.uint8)
    out = np.zeros(len(offsets), dtype=np.uint32)
    for k in range(4):
        out |= data[offsets + k].astype(np.uint32) << np.uint32(8 * k)
    return out
