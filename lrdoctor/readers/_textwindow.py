"""A window of text lines of one layout, checked and read with whole-array operations.

The layout cache (:mod:`lrdoctor.readers._textcache`) reads a run of lines of one layout a
window at a time. A regex over the window costs a microsecond or more a line, and turning the
captured strings into floats as much again; here both are done over the window's bytes at once:

- the layout: with digits taken out, each line is the layout's text (one comparison of the
  window against that text repeated); a digit comes just before each character of text
  exactly where the layout has a digit run (one comparison of booleans); and the runs the
  layout fixes (a date, a digit in a name) hold its digits;
- the numbers: each number read starts at, or just after, a known character of its line's
  text and ends before another, so the positions of the text give where it lies; the numbers
  are gathered with a ',' after each, and orjson reads them as one JSON array.

Only ASCII windows without carriage returns are taken, without a digit run that may overflow
a float (MAX_RUN, in_exponent), and only numbers that are valid JSON numbers other than -0
(whose sign an integer token loses); any other window gives None, and
the caller reads it with the regex as before. float() and orjson both round correctly, so the
values are the same.
"""

from __future__ import annotations

import numpy as np

from lrdoctor.readers._common import FAST_LOADS

_DIGITS = b"0123456789"


# Longer digit runs are left to the full parse: they may overflow a float, alone or with an
# exponent of two digits (see in_exponent): 10**200 * 10**99 stays below float's 1.8e308.
MAX_RUN = 200


def in_exponent(masked: str, at: int) -> bool:
    """Whether the digit run at masked[at] (a layout, each run written '0') is an exponent's,
    after 'e' or 'E' (and a sign, if any): two digits at most, as three may overflow a float."""
    before = masked[max(at - 2, 0) : at]
    return before[-1:] in ("e", "E") or (before[-1:] in ("+", "-") and before[:1] in ("e", "E"))


class WindowReader:
    """Reads whole lines of one layout from a window of text, as a (lines x numbers) table.

    `masked` is the layout (each digit run of the line written '0'), `fixed` maps the runs the
    layout fixes (by their position in `masked`) to their digits, and `spans` gives where each
    number read stands in `masked`, in line order.

    Positions are counted in the layout's text (the line short of its digits, '\n' included):
    a number begins at a character of text or just after one, and ends just before one.
    """

    def __init__(self, masked: str, fixed: dict[int, str], spans: list[tuple[int, int]]) -> None:
        self.line = masked.replace("0", "").encode() + b"\n"
        self._lines_text = b"\n"  # self.line repeated after a '\n', grown as windows need
        text_at = [i for i, ch in enumerate(masked) if ch != "0"] + [len(masked)]  # '\n' last
        index = {at: k for k, at in enumerate(text_at)}
        # Per character of text: whether a digit run comes just before it.
        self.after_run = np.array([at > 0 and masked[at - 1] == "0" for at in text_at], dtype=bool)

        # A number or fixed run from masked[a:b] starts at a character of text (offset 0) or
        # just after one (offset 1; -1 is the '\n' before the line), and ends before another.
        def bounds(a: int, b: int) -> tuple[int, int, int]:
            if masked[a] != "0":
                return index[a], 0, index[b]
            return (index[a - 1] if a else -1), 1, index[b]

        # The characters of text just after an exponent's digit run (see in_exponent).
        # (a fixed run, 'node-001' in a name, is checked digit by digit below)
        exponents = [at for at, ch in enumerate(masked) if ch == "0" and at not in fixed and in_exponent(masked, at)]
        self.after_exponent = np.array([index[at + 1] for at in exponents], dtype=np.intp)
        numbers = [bounds(a, b) for a, b in spans]
        fixed_runs = [(bounds(at, at + 1), digits) for at, digits in fixed.items()]
        # The characters of text these need, gathered for every line at once (row by row:
        # column by column would walk the window's positions once per column).
        needed = sorted({k for first, _, end in [*numbers, *(b for b, _ in fixed_runs)] for k in (first, end)})
        self.needed = np.array(needed, dtype=np.intp) + 1  # in a line's positions, after its '\n'
        column = {k: i for i, k in enumerate(needed)}
        self.numbers = [(column[first], offset, column[end]) for first, offset, end in numbers]
        self.fixed = [
            ((column[first], offset, column[end]), np.frombuffer(digits.encode(), dtype=np.uint8))
            for (first, offset, end), digits in fixed_runs
        ]

    def table(self, chunk: str, count: int) -> np.ndarray | None:
        """The numbers read from every line of `chunk` (`count` whole lines, each ending
        '\n'), when every line is of the layout; else None."""
        if FAST_LOADS is None or not count or not chunk.isascii():
            return None
        data = b"\n" + chunk.encode()  # each line after a '\n'
        if b"\r" in data or data.translate(None, _DIGITS) != self._text(count):
            return None
        view = np.frombuffer(data, dtype=np.uint8)
        text = np.flatnonzero((view - np.uint8(ord("0"))) >= 10)  # where each character of text is
        # A digit run before a character of text: a gap between it and the one before.
        runs = (text[1:] - text[:-1] - 1).reshape(count, len(self.line))  # the length of each
        if not ((runs > 0) == self.after_run).all():
            return None
        if runs.max() > MAX_RUN or (runs[:, self.after_exponent] > 2).any():
            return None  # digits that may overflow a float: the full parse reads them
        # Per line, the positions of the characters of text needed: (needed x lines).
        at = (np.arange(count) * len(self.line))[:, None] + self.needed
        picked = np.ascontiguousarray(text[at].T)
        for (first, offset, end), digits in self.fixed:
            start, stop = picked[first] + offset, picked[end]
            if (stop - start != len(digits)).any():
                return None
            if any((view[start + i] != byte).any() for i, byte in enumerate(digits)):
                return None
        if not self.numbers:
            return np.empty((count, 0))
        starts = np.stack([picked[first] + offset for first, offset, _ in self.numbers], axis=1).ravel()
        stops = np.stack([picked[end] for _, _, end in self.numbers], axis=1).ravel()
        return self._floats(view, starts, stops, count)

    def _text(self, count: int) -> memoryview:
        """The text of `count` lines of the layout, short of their digits, after a '\n'."""
        size = 1 + count * len(self.line)
        if len(self._lines_text) < size:
            lines = max(count, 2 * (len(self._lines_text) // len(self.line)))
            self._lines_text = b"\n" + self.line * lines
        return memoryview(self._lines_text)[:size]

    def _floats(self, view: np.ndarray, starts: np.ndarray, stops: np.ndarray, count: int) -> np.ndarray | None:
        """The numbers at view[starts[i]:stops[i]], read by orjson from one array of them."""
        lengths = stops - starts + 1  # each with the byte after it, which becomes its ','
        ends = np.cumsum(lengths)
        gathered = view[np.arange(ends[-1]) - np.repeat(ends - lengths - starts, lengths)]
        gathered[ends - 1] = ord(",")
        gathered[-1] = ord("]")
        buffer = b"[" + gathered.tobytes()
        if b"-0," in buffer or b"-0]" in buffer:  # '-0' reads as the integer 0: its sign is lost
            return None
        assert FAST_LOADS is not None
        try:
            parsed = FAST_LOADS(buffer)
        except ValueError:  # not a JSON number (leading zeros, '1.', '+1', beyond float64)
            return None
        if len(parsed) != len(starts):
            return None
        values = np.fromiter(parsed, dtype=np.float64, count=len(parsed))
        return values.reshape(count, len(self.numbers))
