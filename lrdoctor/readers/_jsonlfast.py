"""JSON Lines of one layout, read as columns without building a dict per record.

Most large JSON Lines logs are written by one `json.dumps` call per step: every line holds the
same keys, in the same order, with a number for each. Such a file is checked to be exactly that,
with whole-buffer operations, and its numbers are then parsed by orjson as one flat JSON array.
That skips the million dicts that dominate reading it record by record, and gives the same
floats, since the same parser reads the same number tokens.

The checks, each over the whole file at once:
- with number bytes and blanks taken out, every line reads exactly as the first line does
  (`{"stp":,"loss":,"lr":}` for `{"step": 0, "loss": 2.3, "lr": 5e-08}`): the same structure,
  no strings, lists, nested objects, null, true, false or NaN among the values;
- from each key's separator ('{' or ',') to its ':', every line holds the very bytes of the
  first line (compared eight bytes at a time): the same keys, in the same order, and nothing
  between a separator and its key;
- orjson reads what is left, keys blanked, as an array of exactly lines x keys numbers: each
  value is one valid JSON number.
A file that fails any check is None here and is read record by record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lrdoctor.readers._common import FAST_LOADS

# Bytes a value may hold: those of JSON numbers, and blanks.
_DELETABLE = b"0123456789.eE+- \t\r"
# Bytes a key may not hold: the separators located below, and escapes.
_STRUCTURE = b"{}[],:\n\\"
# Below this size the dict per record costs too little to matter.
MIN_BYTES = 1 << 20
_WORD = 8  # bytes compared at once
_SLICE = 1 << 20  # bytes searched at once for separators
_RECORDS = 1 << 18  # records parsed at once
_BLANKS = b" \t\r\n"
_LEADING_BLANKS = re.compile(rb"[ \t\r\n]*")
# Spare bytes around the file in the buffer given: for '[' before it, and so that a word read at
# any byte of the file fits.
PAD_BEFORE, PAD_AFTER = 1, _WORD


@dataclass(frozen=True)
class _Key:
    name: str
    span: bytes  # as written from its separator ('{' or ',') to its ':', inclusive


def uniform_columns(padded: bytearray) -> tuple[list[str], np.ndarray, int] | None:
    """The keys, a (keys x records) float64 array and the first record's line number, for a
    file of one numeric layout; None for any other file (or one too small for this to pay).

    `padded` holds the file between PAD_BEFORE spare bytes and PAD_AFTER spare bytes, and is
    overwritten: it becomes the array that orjson reads.
    """
    size = len(padded) - PAD_BEFORE - PAD_AFTER
    if FAST_LOADS is None or size < MIN_BYTES:
        return None
    start, end = _content(padded)
    if end - start < 2 or padded[start] != ord("{") or padded[end - 1] != ord("}"):
        return None
    line_end = padded.find(b"\n", start, end)
    first = bytes(padded[start : line_end if line_end >= 0 else end])
    keys = _keys(first)
    if keys is None:
        return None
    first_line = padded.count(b"\n", 0, start) + 1
    padded[:start] = b" " * start  # blanks around the records: the checks below read them all
    padded[end:] = b" " * (len(padded) - end)
    n = _lines_like(padded, first.translate(None, _DELETABLE))
    if n is None:
        return None
    seps = _separators(np.frombuffer(padded, dtype=np.uint8)).reshape(n, len(keys) + 1)
    words = np.ndarray((len(padded) - _WORD + 1,), dtype="<u8", buffer=padded, strides=(1,))
    for i, key in enumerate(keys):
        blank = key.span[:1] if i else b" "  # the ',' before a value stays; '{' goes
        if not _match_and_blank(words, seps[:, i], key.span, blank + b" " * (len(key.span) - 1)):
            return None
    del words
    ends = seps[:, -1]
    np.frombuffer(padded, dtype=np.uint8)[ends] = ord(",")  # '}' ends a record's numbers
    values = _numbers(padded, ends, len(keys))
    if values is None:
        return None
    return [key.name for key in keys], np.ascontiguousarray(values.reshape(n, len(keys)).T), first_line


def _numbers(padded: bytearray, ends: np.ndarray, k: int) -> np.ndarray | None:
    """The numbers of every record (each ending with the ',' at `ends`), k a record, parsed as
    JSON arrays of _RECORDS records at a time (the floats of one batch alive at once)."""
    assert FAST_LOADS is not None
    n = len(ends)
    values = np.empty(n * k)
    for first in range(0, n, _RECORDS):
        last = min(first + _RECORDS, n)
        opening = int(ends[first - 1]) if first else 0  # the ',' before the batch, or the spare byte
        closing = int(ends[last - 1])
        padded[opening], padded[closing] = ord("["), ord("]")
        try:
            parsed = FAST_LOADS(memoryview(padded)[opening : closing + 1])
            if len(parsed) != (last - first) * k:
                return None
            values[first * k : last * k] = np.fromiter(parsed, dtype=np.float64, count=len(parsed))
        except (ValueError, OverflowError, TypeError):
            return None
    return values


def _content(padded: bytearray) -> tuple[int, int]:
    """Where the records start and end in `padded`: blanks around them left out."""
    blanks = _LEADING_BLANKS.match(padded, PAD_BEFORE)
    start = blanks.end() if blanks else PAD_BEFORE
    end = len(padded) - PAD_AFTER
    while end > start:  # the trailing blanks, a slice at a time (no copy of the file)
        at = max(start, end - _SLICE)
        kept = bytes(padded[at:end]).rstrip(_BLANKS)
        if kept:
            return start, at + len(kept)
        end = at
    return start, start


def _separators(view: np.ndarray) -> np.ndarray:
    """The positions of every '{', ',' and '}', found a slice at a time (whole-buffer masks
    cost more in page faults than in comparisons)."""
    found = []
    for at in range(0, len(view), _SLICE):
        part = view[at : at + _SLICE]
        mask = part == ord("{")
        mask |= part == ord(",")
        mask |= part == ord("}")
        found.append(np.flatnonzero(mask) + at)
    return np.concatenate(found)


def _keys(line: bytes) -> list[_Key] | None:
    """The first record's keys, when it is a flat object of numbers whose keys hold no
    separators or escapes, each key written straight after its separator and blanks."""
    assert FAST_LOADS is not None
    try:
        record = FAST_LOADS(line)
    except ValueError:
        return None
    if type(record) is not dict or not record or any(type(v) not in (int, float) for v in record.values()):
        return None
    quotes = [i for i, byte in enumerate(line) if byte == ord('"')]
    if len(quotes) != 2 * len(record):  # duplicate keys, or an escaped quote
        return None
    keys = []
    for name, opening, closing in zip(record, quotes[0::2], quotes[1::2], strict=True):
        sep = max(line.rfind(b"{", 0, opening), line.rfind(b",", 0, opening))
        colon = line.find(b":", closing)
        span = line[sep : colon + 1]
        inner, around = line[opening : closing + 1], line[sep + 1 : opening] + line[closing + 1 : colon]
        if any(byte in _STRUCTURE for byte in inner) or around.strip(b" \t\r"):
            return None
        keys.append(_Key(name, span))
    return keys


def _lines_like(buffer: bytearray, template: bytes) -> int | None:
    """The number of lines when, with number bytes and blanks taken out, each reads `template`."""
    reduced = buffer.translate(None, _DELETABLE)
    n, left = divmod(len(reduced) + 1, len(template) + 1)
    if left or not reduced.endswith(template) or reduced.count(template + b"\n") != n - 1:
        return None
    return n  # n - 1 lines and a last one of len(template) bytes each: the whole buffer


def _match_and_blank(words: np.ndarray, at: np.ndarray, span: bytes, blank: bytes) -> bool:
    """Whether `span` is written at every position of `at`; if so, it is overwritten by `blank`."""
    for offset in range(0, len(span), _WORD):
        part = span[offset : offset + _WORD]
        mask = np.uint64((1 << (8 * len(part))) - 1)
        expected = np.uint64(int.from_bytes(part, "little"))
        got = words[at + offset]
        if ((got & mask) != expected).any():
            return False
        fill = np.uint64(int.from_bytes(blank[offset : offset + _WORD], "little"))
        words[at + offset] = (got & ~mask) | fill
    return True
