"""Console tables: a line of column names over rows of numbers, one row per epoch.

fastai's training loop prints its metrics so in a terminal (fastprogress's console output)::

    epoch     train_loss  valid_loss  accuracy  time
    0         1.187322    0.562135    0.825000  00:05
    1         0.628891    0.381934    0.880000  00:04

Lines between the rows (a callback's "Better model found at epoch 0 ...") are left to the line
reader. A cell that is no plain number (a time, fastai's ``#na#``) is no value. A second table
whose counter starts again (``fine_tune`` trains a frozen epoch, then the rest from epoch 0)
continues the first one's axis; a counter that goes back under no header of its own ends the
table (a classification report's rows ``0  0.61  0.60  0.61  1000`` after the training). The
text reader reads a log this way only where its lines carried no training loss, so the search
costs nothing on other logs.
"""

from __future__ import annotations

import math
import re

from lrdoctor import naming
from lrdoctor.readers._textstyles import EPOCH_NAMES, STEP_NAMES, TABLE, Parsed

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COUNTER = re.compile(r"\d+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.IGNORECASE)
MAX_COLUMNS = 64  # a longer line of words is prose, not a header


def parse_tables(lines: list[str]) -> list[Parsed]:
    """The rows of every table in `lines`, as parsed lines of epoch (or step) counters and values;
    empty where there is no table with a loss column and a row under it."""
    parsed: list[Parsed] = []
    header: list[str] | None = None
    counter = "epoch"
    previous: float | None = None  # the counter of the table's latest row
    offset, last = 0.0, -math.inf
    for line in lines:
        cells = line.split()
        if not cells:
            continue
        names = _header(cells)
        if names is not None:
            header, counter, previous = names, _counter_kind(names[0]), None
            continue
        if header is None or len(cells) != len(header) or not _COUNTER.fullmatch(cells[0]):
            continue
        at = float(cells[0])
        if previous is not None and at <= previous:
            header = None  # counting again under no header of its own: a table of something else
            continue
        points = [
            (name, float(cell)) for name, cell in zip(header[1:], cells[1:], strict=True) if _NUMBER.fullmatch(cell)
        ]
        if not points:
            continue
        if at + offset <= last:  # a new table, counted from its start again
            offset = last + 1 - at
        previous, last = at, at + offset
        step, epoch = (last, None) if counter == "step" else (None, last)
        parsed.append(Parsed(points, step=step, epoch=epoch, style=TABLE))
    return parsed


def _header(cells: list[str]) -> list[str] | None:
    """Column names, lower-cased, where `cells` is a table's header: two names or more, all of
    them words, the first a counter and one a loss."""
    if not 2 <= len(cells) <= MAX_COLUMNS or not all(_NAME.fullmatch(c) for c in cells):
        return None
    names = [c.lower() for c in cells]
    if names[0] not in EPOCH_NAMES | STEP_NAMES or naming.find_loss(names[1:]) is None:
        return None
    return names


def _counter_kind(name: str) -> str:
    return "epoch" if name in EPOCH_NAMES else "step"
