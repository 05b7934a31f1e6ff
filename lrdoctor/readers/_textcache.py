"""The layout cache of the text reader: each kind of line learnt once, then read by one regex.

A long log writes a few kinds of lines millions of times. A line's layout is the line with
its free-standing numbers replaced; for a layout seen again, what :func:`parse_line` did with
it (which number became which point, the step, the epoch) is learnt from parse_line itself
on the line and on copies with other numbers, checked on the next lines, and then replayed
with one regex per line, or per window of lines in a row of one layout (read with
whole-array operations where it can be: :mod:`lrdoctor.readers._textwindow`). Anything the cache
cannot prove it reads exactly as parse_line does gets the full parse. The text reader's
results are the same with and without it (tests/readers/test_text_fast.py).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import takewhile
from operator import itemgetter
from typing import Any, cast

import numpy as np

from lrdoctor.readers._textstate import State
from lrdoctor.readers._textstyles import BAR_COUNT, BAR_FULL, PROGRESS, TEXT, Parsed, parse_line, tqdm_bar
from lrdoctor.readers._textwindow import MAX_RUN, WindowReader, in_exponent


def read_cached(text: str, state: State, parse_line: Callable[[str], Parsed | None] = parse_line) -> None:
    """Every segment of the text fed to the state as parse_line reads it, through the layout cache.

    Segments end at a line break or a carriage return, as in :func:`lrdoctor.readers.text._segments`. Each is tried
    against the programs of the latest lines, then looked up by its layout (see
    :class:`_Layouts`). After a few lines in a row of one layout, the lines that follow are
    read a window at a time (see :func:`_put_window`): a log writes runs of lines of one layout.
    """
    layouts = _Layouts(parse_line)
    feed = state.feed
    recent: list[_Program] = []  # programs of the latest lines, the latest first
    streak = 0  # lines in a row read by recent[0]
    window = LIMITS.window
    probe_after, probe_every = LIMITS.probe_after, LIMITS.probe_every
    pos = 0
    nl = cr = -2  # where the next '\n' and '\r' are, at or after pos (-1: none left; -2: not looked up)
    parsed_lines = 0  # lines read by parse_line, through layouts.lookup or not
    while True:
        if streak >= LIMITS.streak and recent[0].batched:
            taken, whole, pos = _put_window(recent[0], state, text, pos, window)
            layouts.served += taken
            window = min(window * 2, LIMITS.run) if whole else LIMITS.window
            if taken:
                streak = streak if whole else 0
                continue
            streak = 0
        # The next line break and carriage return, each looked up again once passed: between the
        # carriage returns of a progress bar, the line break is a whole epoch of refreshes away.
        if nl == -2 or 0 <= nl < pos:
            nl = text.find("\n", pos)
        if cr == -2 or 0 <= cr < pos:
            cr = text.find("\r", pos)
        stop = cr if nl < 0 or 0 <= cr < nl else nl
        last = stop < 0
        segment = text[pos:] if last else text[pos:stop]
        if parsed_lines > probe_after and layouts.served < parsed_lines and parsed_lines % probe_every:
            parsed_lines += 1  # few lines repeat a layout: look one up now and then only
            streak = 0
            parsed = parse_line(segment)
            if parsed is not None:
                feed(parsed)
            if last:
                return
            pos = stop + 1
            continue
        found: _Program | Parsed | None = None
        match = None
        for program in recent:
            if not program.accepts(segment):
                continue
            match = program.line.fullmatch(segment)
            if match is not None:
                found = program
                break
        else:
            parsed_lines += 1
            found = layouts.lookup(segment)
            if isinstance(found, _Program):
                parsed_lines -= 1
                match = found.line.fullmatch(segment)
        if isinstance(found, _Program):
            assert match is not None
            if recent and found is recent[0]:
                streak += 1
            else:
                recent = [found, *(p for p in recent if p is not found)][: LIMITS.recent]
                streak = 1
            layouts.served += 1
            if not found.put(state, match):
                found = parse_line(segment)
        else:
            streak = 0
        if found is not None and not isinstance(found, _Program):
            feed(found)
        if last:
            return
        pos = stop + 1


def _put_window(program: _Program, state: State, text: str, pos: int, window: int) -> tuple[int, bool, int]:
    """Put the lines of text[pos:pos + window] that keep the program's layout, up to the first other.

    Returns the lines taken, whether they were all the whole lines of the window, and where the
    next line starts. A window larger than the first is tried whole at once (the lines before
    it kept the layout), else line by line.
    """
    chunk = text[pos : pos + window]
    cut = chunk.rfind("\n") + 1  # whole lines only: the rest may be cut short
    count = chunk.count("\n", 0, cut)
    whole = window > LIMITS.window and (not program.strict or _dict_safe_lines(chunk[:cut]))
    table = program.window.table(chunk[:cut], count) if whole and program.direct else None
    if table is not None:
        taken = program.put_table(state, table)
    else:
        rows = program.rows.findall(chunk, 0, cut) if whole else []
        if len(rows) != count:
            lines = chunk[:cut].split("\n")
            lines.pop()  # the empty rest after the last line break
            if program.strict:  # (a line it does not accept ends the lines taken)
                lines = list(takewhile(program.accepts, lines))
            matched = takewhile(bool, map(program.line.fullmatch, lines))
            rows = list(map(re.Match.groups, cast(Iterator[re.Match[str]], matched)))
        taken = program.put_rows(state, rows)
    if taken == count:
        return taken, bool(taken), pos + cut
    return taken, False, pos + sum(map(len, chunk.split("\n", taken)[:taken])) + taken


@dataclass(frozen=True)
class LayoutLimits:
    """Bounds of the layout cache, per file."""

    # Layouts remembered: a training log writes a few dozen kinds of lines; a log with a new
    # layout on every line gains nothing from the cache and stops filling it here.
    layouts: int = 4096
    # Longer lines are not cached (their layouts would hold megabytes); metric lines are short.
    line_chars: int = 4096
    # Fixed digit variants of one layout (a date, digits inside a name), the oldest dropped first.
    variants: int = 64
    # Later lines of a new layout also read with the full parse and compared: a mismatch (none is
    # known) sends the layout back to the full parse for good.
    checks: int = 2
    # Characters of text tried at once against the last layout: the window starts small (a log
    # may switch layouts every line) and doubles while every line keeps the layout, up to `run`.
    window: int = 1024
    run: int = 1 << 18
    # Lines in a row of one layout before the next are read a window at a time, and the
    # programs tried on each line read one at a time (the latest first).
    streak: int = 4
    recent: int = 3
    # Where few lines repeat a layout (fewer than the lines parse_line reads, after this many),
    # only one line in `probe_every` is looked up: the cache then costs the full parse nothing.
    probe_after: int = 1024
    probe_every: int = 16
    # Learning a layout costs about ten full parses: learnt only while the lines read from
    # programs pay for it, one learning per `learn_cost` lines, after `learn_free` learnt freely.
    learn_free: int = 32
    learn_cost: int = 64


LIMITS = LayoutLimits()
# A number standing alone (not glued after a name character): the numbers a layout may vary.
_NUMBER = re.compile(r"(?<![\w.@/\-])[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)")
_SPLIT_RUNS = re.compile(r"(\d+)")  # text and digit runs, alternating
_Token = tuple[int, int, str, str]  # a number: parts[a:b] between a prefix and a suffix of the layout


class _Program:
    """How parse_line reads every line of one layout: which number becomes which value.

    `line` matches exactly the lines of the layout (with its fixed digits) and captures the
    numbers read, in line order; `slots` index those numbers followed by `consts`. `run`
    matches a run of such lines and `rows` captures their numbers, a run at a time.
    """

    def __init__(self, layout: _Layout, parts: list[str], read: list[int], parsed: Parsed | None) -> None:
        # A line ending '\r\n' is the line and an empty segment, which parse_line reads as nothing.
        self.line = re.compile(layout.regex(parts, read) + "\r?")
        # Whole lines of the layout in a text of lines; the empty group: findall gives tuples.
        self.rows = re.compile(rf"(?<![^\n]){layout.regex(parts, read)}()\r?\n")
        self.read = len(read)
        self.empty = parsed is None  # parse_line returns None on this layout
        self.consts: list[float] = []
        self.style = TEXT
        self.bar: str | None = None
        self.points: list[tuple[str, int]] = []
        self.step: int | None = None
        self.epoch: int | None = None
        self.total: int | None = None
        self.hparams: list[tuple[str, int]] | None = None
        self.unique: list[tuple[str, int]] = []
        # A tqdm bar's line: its name and whether it is full are read off the line by
        # tqdm_bar (they are not numbers read), the latter put at this index of the points.
        self.tqdm = False
        self.full_at: int | None = None
        self.direct = True  # no config values, step totals or bars: put_rows reads it
        self.batched = True  # put_rows takes its lines (direct, or read as nothing)
        # A printed dict is read by json or ast (integers as Python ints): a number read there as
        # '-0' is 0 (:func:`_plain`), and anywhere on the line a leading zero ('07') or a character
        # beyond ASCII (a digit of another script) makes the dict none, as does a line longer than
        # `line_chars` (Python's limit on the digits of an int, the size of a dict print): such
        # lines are left to parse_line (:meth:`accepts`), and a window holding one is read line by line.
        self.strict = _strict(layout.masked)
        self.targets: list[tuple[list[Any], list[Any], int]] | None = None
        self.checks = LIMITS.checks
        self._layout, self._parts, self._read = layout, parts, read
        self._window: WindowReader | None = None

    def accepts(self, line: str) -> bool:
        """Whether the program may read this line of its layout (see `strict`)."""
        return not self.strict or _dict_safe(line)

    @property
    def window(self) -> WindowReader:
        """The whole-array reader of windows of this layout, made at the first window."""
        if self._window is None:
            layout = self._layout
            self._window = WindowReader(
                layout.masked,
                {layout.masked_runs[i]: self._parts[2 * i + 1] for i in layout.fixed},
                [layout.spans[j] for j in self._read],
            )
        return self._window

    def set_slots(self, parsed: Parsed, slots: list[int], consts: list[float]) -> None:
        """Where each value of `parsed` comes from: an index into the numbers read, then `consts`."""
        self.consts = consts
        it = iter(slots)
        self.points = [(name, next(it)) for name, _ in parsed.points]
        self.step = None if parsed.step is None else next(it)
        self.epoch = None if parsed.epoch is None else next(it)
        self.total = None if parsed.step_total is None else next(it)
        self.hparams = None if parsed.hparams is None else [(key, next(it)) for key in parsed.hparams]
        self.style, self.bar = parsed.style, parsed.bar
        # A name twice on one line is one record written twice: the later value stands.
        self.unique = list(dict(self.points).items())
        self.direct = self.hparams is None and self.total is None and self.bar is None
        self.batched = self.direct

    def set_bar(self, full_at: int | None) -> None:
        """Read as a tqdm bar's line: its name and fullness by tqdm_bar, one line at a time."""
        self.tqdm, self.full_at = True, full_at
        self.direct = self.batched = False

    def build(self, match: re.Match[str]) -> Parsed | None:
        """What parse_line returns on a line of this layout (`line` matched it); _Refused for a
        line it declines (a number that is not finite; in a dict, one that is not :func:`_plain`)."""
        if self.empty:
            return None
        numbers = match.groups()
        if self.strict and not all(map(_plain, numbers)):
            raise _Refused
        vals = [*map(float, numbers), *self.consts]
        if not all(map(math.isfinite, vals[: self.read])):
            raise _Refused
        step = None if self.step is None else vals[self.step]
        epoch = None if self.epoch is None else vals[self.epoch]
        if (step is not None and not math.isfinite(step)) or (epoch is not None and not math.isfinite(epoch)):
            raise _Refused
        total = None if self.total is None else vals[self.total]
        hparams = None if self.hparams is None else {key: vals[i] for key, i in self.hparams}
        points = [(name, vals[i]) for name, i in self.points]
        if not self.tqdm:
            return Parsed(points, step, epoch, total, self.style, self.bar, hparams)
        bar = tqdm_bar(match.string)
        if bar is None:
            raise _Refused
        if self.full_at is not None:
            points.insert(self.full_at, (BAR_FULL, 1.0 if bar[1] else 0.0))
        return Parsed(points, step, epoch, total, self.style, bar[0], hparams)

    def put(self, state: State, match: re.Match[str]) -> bool:
        """state.feed(build(match)); False (nothing done) for a line build refuses."""
        if self.empty:
            return True
        numbers = match.groups()
        if not self.direct:
            try:
                parsed = self.build(match)
            except _Refused:
                return False
            assert parsed is not None
            state.feed(parsed)
            return True
        if self.strict and not all(map(_plain, numbers)):
            return False
        vals = [*map(float, numbers), *self.consts]
        if not all(map(math.isfinite, vals[: self.read])):
            return False
        step = epoch = math.nan
        if self.step is not None:
            step = vals[self.step]
            if not math.isfinite(step):
                return False
        if self.epoch is not None:
            epoch = vals[self.epoch]
            if not math.isfinite(epoch):
                return False
        if state.pending is not None:
            state.flush()
        if self.epoch is not None:
            state.epoch = epoch
        if self.step is not None:
            state.step = step
        if not self.unique:
            return True
        rec = state.records
        state.records += 1
        state.rec_step.append(state.step)
        state.rec_own.append(self.step is not None)
        state.rec_epoch.append(state.epoch)
        if self.targets is None:
            self.targets = [(*state.entry(name), i) for name, i in self.unique]  # in apply's order
        for values, recs, i in self.targets:
            values.append(vals[i])
            recs.append(rec)
        if self.style != TEXT:
            state.styles[self.style] += 1
        return True

    def put_rows(self, state: State, rows: list[Any]) -> int:
        """Feed lines of this layout (the numbers each matched, as tuples) as put does one at a time.

        Returns how many it took: all, or those before the first it refuses (see build), or
        none for a program that takes one line at a time.
        """
        if self.strict:
            read = self.read
            rows = list(takewhile(lambda row: all(map(_plain, row[:read])), rows))
        return self._put_columns(state, len(rows), lambda i: self._column(rows, i))

    def put_table(self, state: State, table: np.ndarray) -> int:
        """put_rows, for lines whose numbers are read already: a (lines x numbers) table."""
        return self._put_columns(state, len(table), lambda i: self._table_column(table, i))

    def _put_columns(self, state: State, count: int, column: Callable[[int], np.ndarray]) -> int:
        """put_rows over columns: `column(i)` gives the i-th value of every line, as an array.
        The lists of the state receive arrays (see State)."""
        if self.empty:
            return count
        if not self.direct:
            return 0
        read = [column(i) for i in range(self.read)]
        column = _read_first(read, column)
        for values in read:
            bad = ~np.isfinite(values)
            if bad.any():
                count = min(count, int(np.argmax(bad)))
        if not count:
            return 0
        steps = None if self.step is None else column(self.step)
        epochs = None if self.epoch is None else column(self.epoch)
        if state.pending is not None:
            state.flush()
        if epochs is not None:
            state.epoch = float(epochs[count - 1])
        if steps is not None:
            state.step = float(steps[count - 1])
        if not self.unique:
            return count
        rec = state.records
        state.records += count
        state.chunked = True
        state.rec_step.append(np.full(count, state.step) if steps is None else steps[:count])
        state.rec_own.append(np.full(count, steps is not None))
        state.rec_epoch.append(np.full(count, state.epoch) if epochs is None else epochs[:count])
        if self.targets is None:
            self.targets = [(*state.entry(name), i) for name, i in self.unique]  # in apply's order
        records = np.arange(rec, rec + count)
        for into, recs, i in self.targets:
            into.append(column(i)[:count])
            recs.append(records)
        if self.style != TEXT:
            state.styles[self.style] += count
        return count

    def _column(self, rows: list[tuple[str, ...]], i: int) -> np.ndarray:
        if i >= self.read:
            return np.full(len(rows), self.consts[i - self.read])
        return np.fromiter(map(float, map(itemgetter(i), rows)), dtype=np.float64, count=len(rows))

    def _table_column(self, table: np.ndarray, i: int) -> np.ndarray:
        if i >= self.read:
            return np.full(len(table), self.consts[i - self.read])
        return np.ascontiguousarray(table[:, i])


# A number with a leading zero, not a fraction's or an exponent's digits: no number to json or ast.
# A number 0 followed by a digit, '_' or a base letter ('07', '0_5', '0x1', '0b1'): what ast reads
# or refuses in a dict depends on that 0, while its copies' other first digits read otherwise.
_LEADING_ZERO = re.compile(r"(?<![\w.+\-])[-+]?0[\d_bBoOxX]")


def _strict(masked: str) -> bool:
    """Whether lines of this layout may be a printed dict (see _Program.strict)."""
    return "{" in masked


# Digits whose value decides how parse_line reads a line, wherever they stand, read by a program
# or not: a number that overflows to inf (a run of hundreds of digits, an exponent of three),
# which parse_line drops (a step, and with it how the rest is read; an integer in a dict); a
# digit of another script, which some of its patterns take for a digit and others for no name
# character ('\u0663Step 5'). Such lines are not learnt from, and no program's regex matches them
# (:func:`_run_pattern`); the whole-array reader of windows refuses them too.
# (An exponent is a number's, after a digit or its point: 'node-001' holds none.)
_OVERFLOWS = re.compile(rf"\d{{{MAX_RUN + 1}}}|(?<=[0-9.])[eE][-+]?\d{{3}}")
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def _digits_safe(text: str) -> bool:
    """Whether no digits in `text` (a line, or lines) are of those kinds."""
    return _OVERFLOWS.search(text) is None and (text.isascii() or _OTHER_DIGIT.search(text) is None)


def _dict_safe(line: str) -> bool:
    """A line of a printed dict that json or ast reads whatever its digits: ASCII, no number with
    a leading zero, at most `line_chars` long."""
    return len(line) <= LIMITS.line_chars and line.isascii() and _LEADING_ZERO.search(line) is None


def _dict_safe_lines(chunk: str) -> bool:
    """_dict_safe of every line of `chunk` (whole lines, each ending '\n'), over its bytes at once
    (a regex search for leading zeros took 4 ms per 256 KiB window, this 0.3 ms)."""
    if not chunk.isascii():
        return False
    view = np.frombuffer(b"\n\n" + chunk.encode(), dtype=np.uint8)  # (two bytes before the first)
    if _leading_zero(view):
        return False
    ends = np.flatnonzero(view == ord("\n"))
    return int(np.diff(ends).max(initial=0)) - 1 <= LIMITS.line_chars


# Bytes after which a digit run continues a number (its fraction, its exponent) or a name.
_CONTINUES = np.zeros(256, dtype=bool)
_CONTINUES[[ord(c) for c in "0123456789.+-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"]] = True
_AFTER_ZERO = np.zeros(256, dtype=bool)  # what makes a leading zero (_LEADING_ZERO)
_AFTER_ZERO[[ord(c) for c in "0123456789_bBoOxX"]] = True


def _leading_zero(view: np.ndarray) -> bool:
    """_LEADING_ZERO.search over ASCII bytes that begin with two that are not part of it."""
    zeros = np.flatnonzero(view[2:-1] == ord("0")) + 2
    zeros = zeros[_AFTER_ZERO[view[zeros + 1]]]  # '0' then a digit, '_' or a base letter
    before = view[zeros - 1]
    signed = (before == ord("-")) | (before == ord("+"))
    starts = np.where(signed, zeros - 1, zeros)  # a sign is the number's own unless it follows more
    return bool((~_CONTINUES[view[starts - 1]]).any())


def _read_first(read: list[np.ndarray], column: Callable[[int], np.ndarray]) -> Callable[[int], np.ndarray]:
    """`column`, with the columns of the numbers read taken from `read`."""
    return lambda i: read[i] if i < len(read) else column(i)


def _plain(number: str) -> bool:
    """A number read from a printed dict that holds the value float() gives: not a negative zero
    (json and ast read the integer '-0' as 0)."""
    return not (number[:1] == "-" and float(number) == 0)


class _Refused(Exception):
    """A program declines a line (a number that is not finite, a dict's that is not _plain): the full parse reads it."""


class _Layout:
    """One layout (a line with each digit run masked as '0'): its numbers and its programs."""

    def __init__(self, masked: str) -> None:
        self.masked = masked
        runs = [i for i, ch in enumerate(masked) if ch == "0"]
        self.masked_runs = runs  # where each digit run stands in `masked`
        used: set[int] = set()
        self.tokens: list[_Token] = []
        self.spans: list[tuple[int, int]] = []
        for m in _NUMBER.finditer(masked):
            first, last = bisect_left(runs, m.start()), bisect_left(runs, m.end()) - 1
            pre, suf = masked[m.start() : runs[first]], masked[runs[last] + 1 : m.end()]
            self.tokens.append((2 * first + 1, 2 * last + 2, pre, suf))
            self.spans.append(m.span())
            used.update(range(first, last + 1))
        self.fixed = [i for i in range(len(runs)) if i not in used]  # runs in names, dates: as written
        self.key: Callable[[list[str]], object] = (
            itemgetter(*(2 * i + 1 for i in self.fixed)) if self.fixed else _no_key
        )
        self.programs: dict[object, _Program | None] = {}

    def regex(self, parts: list[str], read: list[int]) -> str:
        """The lines of this layout with the fixed digits of `parts`, capturing the numbers `read`."""
        fixed = {2 * i + 1 for i in self.fixed}
        opens = {self.spans[j][0] for j in read}
        closes = {self.spans[j][1] for j in read}
        out: list[str] = []
        run = 1
        for pos, ch in enumerate(self.masked):
            out.append(")" if pos in closes else "")
            out.append("(" if pos in opens else "")
            if ch == "0":
                out.append(re.escape(parts[run]) if run in fixed else _run_pattern(self.masked, pos))
                run += 2
            else:
                out.append(re.escape(ch))
        out.append(")" if len(self.masked) in closes else "")
        return "".join(out)


def _run_pattern(masked: str, at: int) -> str:
    """The digit run at masked[at] in a program's regex: ASCII digits, fewer than can overflow a
    float, and two at most in an exponent (see :func:`_digits_safe`)."""
    return "[0-9]{1,2}" if in_exponent(masked, at) else f"[0-9]{{1,{MAX_RUN}}}"


def _no_key(parts: list[str]) -> None:
    return None


class _Layouts:
    """Finds the program of a line's layout, learning programs from parse_line.

    A layout is the line with every digit run masked. Its program maps the numbers standing
    alone to the values parse_line gives, learnt from the line and two copies of it with other
    numbers (see :func:`_derive`) and then checked against parse_line on the next lines of the
    layout. Digit runs inside names and dates are part of the layout as written. parse_line
    reads a line the same whatever its digits (its patterns see a digit run as a class), except:

    - a number that is not finite changes what parse_line makes of a line (a counter is
      dropped, and with it, on some lines, what follows), read by the program or not: lines
      with digits that may overflow a float (over 200 in a run, three in an exponent) are
      never learnt from, and no program's regex matches them (see :func:`_digits_safe`);
    - a digit of another script is a digit to some of parse_line's patterns and no name
      character to others: such lines are left to parse_line likewise;
    - a printed dict is read by json or ast, where '-0' is the integer 0, '07', '0_5' or a digit
      of another script is no number, '0x1' and '0b1' are and '1x1' is not, an integer beyond
      float64 is dropped, and a line too long is no dict: programs refuse such lines (see
      _Program.strict);
    - a value parse_line computes from a number and a fixed run of more digits than float's
      exact integers (an epoch, e + seen / total) may not change with the copies' numbers:
      such layouts get no program;
    - a progress bar compares its count with its total (is it full?), which copies with other
      numbers never show: a tqdm bar's program reads that, and the bar's name, off each line
      with :func:`tqdm_bar` (the code parse_line runs); not where text follows the bar (parse_line
      reads that instead), nor where the bar's counter is renamed (an evaluation's prefix); a
      Keras bar, whose count and total decide its values' names, and torchtune's get no program;
    - a tqdm percent has at most three digits, a thousands group exactly three: the copies'
      three-digit numbers cross those bounds from any line (a four-digit percent becomes a bar,
      '12,5' becomes '110,111', a group), so such layouts fail the check of :func:`_derive`;
      a bar's program refuses a percent of four digits (its first joins the bar's name).

    Known to remain: a pattern that bounds a count of characters a number stands among (timm's
    `[^]]{0,40}` before its bracket closes) reads a line whose numbers grew past the bound
    otherwise; the copies do not cross it. Real lines stay far inside it.
    """

    def __init__(self, parse_line: Callable[[str], Parsed | None]) -> None:
        self.parse_line = parse_line
        self.limits = LIMITS
        self.once: set[str] = set()
        self.layouts: dict[str, _Layout | None] = {}
        self.served = 0  # lines read from programs
        self.learnt = 0  # programs learnt

    def lookup(self, line: str) -> _Program | Parsed | None:
        """The line's program when it has a checked one, else what parse_line returns."""
        if len(line) > self.limits.line_chars or not _digits_safe(line):
            return self.parse_line(line)  # (not learnt from either)
        parts = _SPLIT_RUNS.split(line)
        masked = "0".join(parts[::2])
        if _strict(masked) and not _dict_safe(line):
            return self.parse_line(line)  # (a dict's line no program reads: not learnt from either)
        layout = self.layouts.get(masked)
        if layout is not None:
            program = layout.programs.get(layout.key(parts))
            if program is not None and not program.checks:
                return program
        return self._learn(line, parts, masked)

    def _learn(self, line: str, parts: list[str], masked: str) -> Parsed | None:
        parsed = self.parse_line(line)
        if masked not in self.layouts:
            if masked not in self.once:
                if len(self.once) < self.limits.layouts:
                    self.once.add(masked)
                return parsed
            self.once.discard(masked)
            if len(self.layouts) >= self.limits.layouts:
                return parsed
            self.layouts[masked] = _Layout(masked)
        layout = self.layouts[masked]
        if layout is None:
            return parsed
        key = layout.key(parts)
        programs = layout.programs
        if key not in programs:
            if self.learnt >= self.limits.learn_free + self.served // self.limits.learn_cost:
                return parsed
            self.learnt += 1
            if len(programs) >= self.limits.variants:
                del programs[next(iter(programs))]
            programs[key] = _derive(layout, parts, parsed, self.parse_line)
            return parsed
        program = programs[key]
        if program is not None:
            match = program.line.fullmatch(line)
            try:
                same = match is not None and repr(program.build(match)) == repr(parsed)
            except _Refused:
                return parsed
            if same:
                program.checks -= 1
            else:
                programs[key] = None
        return parsed


# The longest fixed run (a total after '/', a date) a program is learnt with: beyond float's exact
# integers, a value parse_line computes from it and a number (an epoch, e + seen / total) may
# not change with that number's copies, and would be learnt as following another.
_FIXED_DIGITS = 15


def _derive(
    layout: _Layout, parts: list[str], parsed: Parsed | None, parse_line: Callable[[str], Parsed | None]
) -> _Program | None:
    """The program of a layout, from a line and two copies with other numbers; None if none fits.

    Each value parse_line returns must follow one number through the three lines, or stay the
    same in all three (a value written in letters, as 'nan'); the program must rebuild all three.
    """
    if any(len(parts[2 * i + 1]) > _FIXED_DIGITS for i in layout.fixed):
        return None  # a value summed from it and a number read would not show that number in the copies
    tokens = layout.tokens
    lines = [parts]
    for k in (1, 2):
        alt = parts.copy()
        for i, (a, b, _pre, _suf) in enumerate(tokens):
            alt[a] = f"{k}{i + 10}"
            for r in range(a + 2, b, 2):  # a fraction's or an exponent's digits vary too
                alt[r] = str(k)
        lines.append(alt)
    numbers = [[float(pre + "".join(p[a:b]) + suf) for a, b, pre, suf in tokens] for p in lines]
    if not all(math.isfinite(f) for row in numbers for f in row):
        return None
    if any(len(set(row)) < len(row) for row in numbers[1:]):
        return None
    found = [parsed, *(parse_line("".join(p)) for p in lines[1:])]
    if any(f is None for f in found):
        if all(f is None for f in found):
            return _Program(layout, parts, [], None)
        return None
    assert parsed is not None
    bars = [_unbarred("".join(p), f) for p, f in zip(lines, found, strict=True)]
    if any(b is None for b in bars):
        return None
    outs = [_values(b[0]) for b in bars if b is not None]
    if outs[1][0] != outs[0][0] or outs[2][0] != outs[0][0]:
        return None
    # The numbers by their values in the three lines (repr: the sign of zero counts).
    follows: dict[tuple[str, ...], list[int]] = {}
    for j, triple in enumerate(zip(*numbers, strict=True)):
        follows.setdefault(tuple(map(repr, triple)), []).append(j)
    sources: list[int] = []  # per value: the number it follows, or -1 - its index in consts
    consts: list[float] = []
    for column in zip(*(vals for _, vals in outs), strict=True):
        js = follows.get(tuple(map(repr, column)), [])
        if len(js) == 1:
            sources.append(js[0])
        elif not js and repr(column[0]) == repr(column[1]) == repr(column[2]):
            sources.append(-1 - len(consts))
            consts.append(column[0])
        else:
            return None
    read = sorted({j for j in sources if j >= 0})
    place = {j: i for i, j in enumerate(read)}
    slots = [place[j] if j >= 0 else len(read) - 1 - j for j in sources]
    program = _Program(layout, parts, read, parsed)
    program.set_slots(bars[0][0], slots, consts)
    if parsed.bar is not None:
        program.set_bar(bars[0][1])
    try:
        for p, f in zip(lines, found, strict=True):
            match = program.line.fullmatch("".join(p))
            if match is None or repr(program.build(match)) != repr(f):
                return None
    except _Refused:
        return None
    return program


def _unbarred(line: str, parsed: Parsed) -> tuple[Parsed, int | None] | None:
    """A parse with what a program does not learn from the numbers taken out: a tqdm bar's name
    and whether it is full (where that stood among the points), which tqdm_bar reads off the
    line; None where tqdm_bar does not read them as parse_line did (a Keras bar, whose count
    and total change its values' names; torchtune's)."""
    names = [name for name, _ in parsed.points]
    # A bar's counter under another name (an evaluation's prefix): its fullness is not read.
    if any(name.endswith(_BAR_KEYS) and name not in _BAR_NAMES for name in names):
        return None
    if parsed.bar is None:
        return None if BAR_FULL in names else (parsed, None)
    bar = tqdm_bar(line)
    full_at = names.index(BAR_FULL) if BAR_FULL in names else None
    if bar is None or bar[0] != parsed.bar or parsed.style != TEXT:
        return None
    if full_at is not None and parsed.points[full_at][1] != (1.0 if bar[1] else 0.0):
        return None
    points = [p for i, p in enumerate(parsed.points) if i != full_at]
    return parsed._replace(points=points, bar=None), full_at


_BAR_NAMES = (BAR_FULL, BAR_COUNT)
_BAR_KEYS = tuple(name[len(PROGRESS) :] for name in _BAR_NAMES)


def _values(parsed: Parsed) -> tuple[tuple[object, ...], list[float]]:
    """A parse's fixed part (names, which counters, style) and its values, in program order."""
    points, step, epoch, total, style, bar, hparams = parsed
    values = [v for _, v in points] + [v for v in (step, epoch, total) if v is not None]
    values += list(hparams.values()) if hparams is not None else []
    names = [name for name, _ in points]
    keys = None if hparams is None else list(hparams)
    return (names, step is None, epoch is None, total is None, style, bar, keys), values
