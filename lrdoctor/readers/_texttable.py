"""Console tables: a line of column names over rows of numbers, one row per epoch (or step).

fastai's training loop prints its metrics so in a terminal (fastprogress's console output)::

    epoch     train_loss  valid_loss  accuracy  time
    0         1.187322    0.562135    0.825000  00:05
    1         0.628891    0.381934    0.880000  00:04

A header is a line of words whose first word (after any prefix a logger or launcher puts on
every line: a timestamp, torchrun's ``[default0]:``) names a counter (``epoch``, ``step``,
``iter``) and one names a training loss; a row has as many cells as the header, a whole number
under the counter and, under a column named ``time``, a time of the kind of the first row's (a
clock's ``mm:ss`` or seconds: a classification report's support is no fastai time). A column
named for steps is the axis where the first one counts epochs (``epoch  iter  loss``: several
rows per epoch; a step counted within each epoch runs on across them). Lines between the rows
(a callback's "Better model found at epoch 0 ...") are no rows. A cell that is no plain number
(a time, fastai's ``#na#``) is no value. A counter that goes back ends the table: only a header
starts one again, and a table counted from its start again is a new run (``fine_tune`` trains a
frozen epoch, then the rest from epoch 0), as appended runs are elsewhere. The text reader reads
tables only where its lines carried too few points of a training loss, so the search costs
nothing on other logs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lrdoctor import naming
from lrdoctor.readers._textstyles import _ONE_NUM, EPOCH_NAMES, STEP_NAMES, TABLE, Parsed

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|<[A-Za-z_][A-Za-z0-9_]*>")  # fastai names a lambda metric <lambda>
_COUNTER = re.compile(r"\d+")
_NUMBER = re.compile(_ONE_NUM)  # the text reader's own number, linear on any cell
_LAUNCHER = re.compile(r"\[[^\]\s]{1,40}\]:")  # torchrun --tee's '[default0]:', glued to the line
MAX_COLUMNS = 64  # a longer line of words is prose, not a header
MAX_PREFIX = 4  # words a logger may put before the header on every line
MAX_CELL = 64  # a longer cell is no number (and the number pattern stays linear)
MISSING = "#na#"


@dataclass(frozen=True)
class _Header:
    names: tuple[str, ...]  # lower-cased column names
    prefix: int  # words before the first name on every line
    axis: int  # the column that places a row
    epoch: int | None  # the epoch column where the axis counts steps
    time: int | None  # a column of times

    def row(self, cells: list[str]) -> list[str] | None:
        """The cells of a row of this table (without the line's prefix), or None."""
        if len(cells) != self.prefix + len(self.names):
            return None
        cells = cells[self.prefix :]
        if not _COUNTER.fullmatch(cells[self.axis]) or len(cells[self.axis]) > MAX_CELL:
            return None
        return cells


@dataclass
class _Table:
    """A table being read: where its rows go on the axis."""

    header: _Header
    rows: int = 0
    stride: float = 1.0  # the largest gap between its rows within an epoch
    previous: float = -math.inf  # its latest row's axis, as written
    placed: float = -math.inf  # ... and as placed
    epoch: float | None = None  # its latest row's epoch
    offset: float = 0.0  # added to a step counted within each epoch
    clock: bool | None = None  # whether its time cells are clock times (fastai's 'mm:ss')
    in_epoch: int = 0  # rows of its latest epoch

    def place(self, at: float, epoch: float | None) -> float | None:
        """Where a row counted `at` (in `epoch`) goes, or None where it ends the table: a counter
        that goes back, but for a step counted within each epoch (lower as the epoch goes up),
        which runs on across epochs, a stride after the last row."""
        new_epoch = epoch is not None and self.epoch is not None and epoch > self.epoch
        if self.rows and at > self.previous:
            self.stride = max(self.stride, at - self.previous)
        # One row an epoch, counted within it (its count at the epoch's end): an epoch a count long.
        alone = self.in_epoch == 1 and at == self.previous
        if self.rows and new_epoch and (at < self.previous or alone):
            if alone:
                self.stride = max(self.stride, at)
            self.offset = self.placed + self.stride - at
        self.in_epoch = 1 if new_epoch or not self.rows else self.in_epoch + 1
        x = at + self.offset
        if x <= self.placed:
            return None
        self.rows += 1
        self.previous, self.placed, self.epoch = at, x, epoch
        return x

    def timed(self, cell: str) -> bool:
        """Whether a time cell is of the kind of the table's first: a classification report's
        support (a whole number) under fastai's time column ('00:05') is no row of it."""
        if cell == MISSING:
            return True
        clock = ":" in cell
        if self.clock is None:
            self.clock = clock
        return clock == self.clock


def parse_tables(lines: list[str]) -> list[Parsed]:
    """The rows of every table in `lines`, as parsed lines of step or epoch counters and values;
    empty where there is no table with a loss column and a row under it."""
    parsed: list[Parsed] = []
    table: _Table | None = None
    for line in lines:
        if line[:1] == "[":
            line = _LAUNCHER.sub("", line, count=1)
        cells = line.split()
        if not cells:
            continue
        found = _header(cells)
        if found is not None:
            table = _Table(found)
            continue
        if table is None:
            continue
        header = table.header
        row = header.row(cells)
        if row is None or (header.time is not None and not table.timed(row[header.time])):
            continue
        epoch = None if header.epoch is None else _number(row[header.epoch])
        at = table.place(float(row[header.axis]), epoch)
        if at is None:
            table = None  # counting again under no header of its own: a table of something else
            continue
        points = [
            (name, value)
            for k, (name, cell) in enumerate(zip(header.names, row, strict=True))
            if k != header.axis and k != header.epoch and (value := _number(cell)) is not None
        ]
        if not points:
            continue
        if header.names[header.axis] in EPOCH_NAMES:
            parsed.append(Parsed(points, epoch=at, style=TABLE))
        else:
            parsed.append(Parsed(points, step=at, epoch=epoch, style=TABLE))
    return parsed


def _header(cells: list[str]) -> _Header | None:
    """The table `cells` heads: two names or more, all of them words, the first a counter and
    one a training loss; up to MAX_PREFIX words of a logger's prefix before them."""
    if len(cells) < 2 or len(cells) > MAX_COLUMNS + MAX_PREFIX:
        return None
    counters = EPOCH_NAMES | STEP_NAMES
    for prefix in range(min(MAX_PREFIX, len(cells) - 2) + 1):
        first = cells[prefix].lower()
        if first not in counters:
            continue
        names = tuple(c.lower() for c in cells[prefix:])
        if len(names) > MAX_COLUMNS or not all(_NAME.fullmatch(c) for c in names):
            return None
        if naming.find_loss(n for n in names if n not in counters) is None:
            return None
        steps = [k for k, n in enumerate(names) if n in STEP_NAMES]
        axis = steps[0] if steps else 0
        epoch = 0 if steps and first in EPOCH_NAMES else None
        time = names.index("time") if "time" in names else None
        return _Header(names, prefix, axis, epoch, time)
    return None


def _number(cell: str) -> float | None:
    return float(cell) if len(cell) <= MAX_CELL and _NUMBER.fullmatch(cell) else None
