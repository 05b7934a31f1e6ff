"""The text reader's state: the step context while reading, and every point as it was written."""

from __future__ import annotations

import functools
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from lrdoctor import naming
from lrdoctor.errors import UnreadableLog
from lrdoctor.naming import is_eval
from lrdoctor.readers._common import BATCH_KEYS, LAST_RUN, unfinished_note
from lrdoctor.readers._textstyles import (
    BAR_COUNT,
    BAR_FULL,
    DETECTRON2,
    EPOCH_LR,
    EPOCHS_PLANNED,
    EVAL_STEP,
    FAIRSEQ,
    HF,
    LLMC,
    PROGRESS,
    TEXT,
    Parsed,
)
from lrdoctor.run import Log, Series, StepKind

# Series the writer itself marks as the training loss, learning rate and validation loss.
_HINTS = {
    HF: (("loss", "loss"), ("lr", "learning_rate"), ("val", "eval_loss")),
    FAIRSEQ: (("loss", "loss"), ("lr", "lr"), ("val", "valid_loss")),
    LLMC: (("loss", "trl"), ("val", "tel")),
    DETECTRON2: (("loss", "total_loss"), ("lr", "lr")),
}


class State:
    """The step context while reading, and every point in the order it was written."""

    def __init__(self) -> None:
        self.step = math.nan
        self.epoch = math.nan
        self.first_epoch: float | None = None
        self.raw_step: float | None = None
        self.raw_epoch = math.nan  # the epoch of the last step N/M
        self.inner_steps = False  # steps N/M restart each epoch
        # Per metric line (record): its step context, NaN if none. These lists, and those of
        # `points`, hold floats, or arrays of them where a window of lines was read at once.
        self.records = 0
        # (records before it, epochs) of each 'Epoch 11/50' the lines printed
        self.planned: list[tuple[int, float]] = []
        self.rec_step: list[Any] = []
        self.rec_own: list[Any] = []  # whether the record's line wrote its step itself (else it carries the last)
        self.rec_epoch: list[Any] = []
        self.points: dict[str, tuple[list[Any], list[Any]]] = {}  # name -> (values, records)
        self.chunked = False  # whether any list holds an array
        self.styles: Counter[str] = Counter()
        self.config: dict[str, float] = {}
        self.pending: Parsed | None = None
        # Every refresh of a progress bar that shows its counter: (bar, points), the counter last.
        self.refreshes = Refreshes()

    def feed(self, parsed: Parsed) -> None:
        if parsed.bar is not None:
            if self.pending is not None and self.pending.bar != parsed.bar:
                self.apply(self.pending)
            self.pending = parsed
            if len(self.refreshes) < MAX_REFRESHES and parsed.points and parsed.points[-1][0] == BAR_COUNT:
                self.refreshes.append((parsed.bar, parsed.points), self.records)
            elif not parsed.points and self.refreshes and self.refreshes[-1] != (parsed.bar, []):
                self.refreshes.append((parsed.bar, []), self.records)  # a bar that shows no values (a validation run)
            return
        if self.pending is not None:
            self.flush()
        self.apply(parsed)

    def flush(self) -> None:
        if self.pending is not None:
            self.apply(self.pending)
            self.pending = None

    def apply(self, parsed: Parsed) -> None:
        points, step, epoch, total, style, _bar, hparams = parsed
        if hparams:
            for key, value in hparams.items():
                if key == EPOCHS_PLANNED:  # each run its own: kept with where it was printed
                    self.planned.append((self.records, value))
                    self.config[key] = value
                else:
                    self.config.setdefault(key, value)
        if epoch is not None:
            self.epoch = epoch
        if step is not None:
            self.step = step if total is None else self._global_step(step, total)
        if not points:
            return
        rec = self.records
        self.records += 1
        self.rec_step.append(self.step)
        self.rec_own.append(step is not None)
        self.rec_epoch.append(self.epoch)
        table = self.points
        # A name twice on one line is one record written twice: the later value stands.
        for name, value in dict(points).items() if len(points) > 1 else points:
            entry = table.get(name) or self.entry(name)
            entry[0].append(value)
            entry[1].append(rec)
        if style != TEXT:
            self.styles[style] += 1

    def _unfinished(self, epochs: np.ndarray, label: str) -> str | None:
        """A note where the (last) run stops short of the epochs its lines print for it. Runs and
        their epochs are read off the lines that carry the training loss (a closing 'Best model at
        epoch 4' starts no run), a run starting where the epoch goes back to the first epoch of
        the one before or below (a resume goes back less); its total is the last printed within it,
        before its last such line (a next run's header, printed after, is not its)."""
        loss = naming.find_loss(self.points)
        if loss is None:
            return None
        recs = np.asarray(self._array(self.points[loss][1], np.float64), dtype=np.intp)
        recs = recs[np.isfinite(epochs[recs])]
        if not len(recs):
            return None
        mine = epochs[recs]
        start = 0
        for i in np.flatnonzero(mine[1:] < mine[:-1]) + 1:  # (few: where the epoch went back)
            if mine[i] <= mine[start]:
                start = int(i)
        first_rec, last_rec = int(recs[start]), int(recs[-1])
        totals = [total for at, total in self.planned if first_rec <= at <= last_rec]
        if not totals:
            return None
        last, counted_from_0 = float(mine[start:].max()), float(mine[start]) == 0
        return unfinished_note(
            label,
            "epoch",
            last,
            totals[-1],
            "the total its lines print",
            done=last + counted_from_0,
            what=LAST_RUN if first_rec > int(recs[0]) else "the log",
        )

    def entry(self, name: str) -> tuple[list[Any], list[Any]]:
        """The values and record numbers of a name, created empty at its first point."""
        entry = self.points.get(name)
        if entry is None:
            entry = self.points[name] = ([], [])
        return entry

    def _array(self, items: list[Any], dtype: type) -> np.ndarray:
        """One array of a list of numbers and arrays of numbers."""
        if not self.chunked:
            return np.asarray(items, dtype=dtype)
        pieces: list[np.ndarray] = []
        loose: list[float] = []
        for item in items:
            if isinstance(item, np.ndarray):
                if loose:
                    pieces.append(np.asarray(loose, dtype=dtype))
                    loose = []
                pieces.append(item.astype(dtype, copy=False))
            else:
                loose.append(item)
        if loose or not pieces:
            pieces.append(np.asarray(loose, dtype=dtype))
        return np.concatenate(pieces)

    def _evaluations_at_their_steps(self, rec_step: np.ndarray, values: list[Any], records: list[Any]) -> None:
        """Evaluation lines at the step they name ('eval step=25 val_loss=2.3' between 'step=0'
        and 'step=100'), in place in `rec_step`, where every one names a step between the training
        step before it and the next one (the next run's, where a run is appended): the training's
        step. An evaluation's own count of its batches ('val step 5' at step 1000) is not; those
        lines keep the step before them, as a line without a step does."""
        steps, recs = self._array(values, np.float64), self._array(records, np.intp)
        own = self._array(self.rec_own, np.bool_)
        if not len(recs) or not own.any() or not np.isfinite(steps).all():
            return
        # the training step of the next line that wrote its own, after each record (+inf: none)
        later = np.flatnonzero(own)
        at = np.searchsorted(later, recs, side="right")
        following = np.where(at < len(later), rec_step[later[np.minimum(at, len(later) - 1)]], np.inf)
        before = rec_step[recs]
        within = (np.isnan(before) | (steps >= before)) & (steps <= following)
        # (where the next line's step goes back, a run appended: the last run's end, or the next one's start)
        restart = (following < before) & ((steps >= before) | (steps <= following))
        fits = within | restart
        if fits.all():
            rec_step[recs] = steps

    def _evaluated_first(self, loose: np.ndarray) -> np.ndarray:
        """The records right before the first step that hold losses only: an evaluation before
        training, not a config dump (which a code or settings dump earlier in the log is)."""
        first = int(np.argmax(~loose)) if (~loose).any() else len(loose)
        start = first
        while start > 0 and loose[start - 1]:
            start -= 1
        names = _names_by_record(self.points, np.arange(start, first))
        take = first
        while take > start and names.get(take - 1) and all("loss" in n.lower() for n in names[take - 1]):
            take -= 1
        return np.arange(take, first)

    def _steps_too_coarse(self, rec_step: np.ndarray, rec_epoch: np.ndarray) -> bool:
        """Whether the longest series is told apart by its epochs but not by the steps of other
        lines: HF Trainer's dicts carry a fractional epoch and no step, and a DeepSpeed or callback
        line every 100 steps ('step=100, skipped=0, lr=[2e-05]') would put ten of them on each
        step, of which one would be kept."""
        if not self.points:
            return False
        _vals, recs = max(self.points.values(), key=lambda entry: sum(np.size(r) for r in entry[1]))
        at = self._array(recs, np.intp)
        at = at[np.isfinite(rec_step[at])]  # those before the first step are placed either way
        # (a setting printed among the script's numbered stages, 'learning_rate: 0.0002', names no epoch)
        dated = np.isfinite(rec_epoch[at])
        if dated.sum() < 4 or dated.mean() < 0.9:
            return False
        at = at[dated]
        epochs = rec_epoch[at]
        return _changes(rec_step[at]) * 2 < _changes(epochs)

    def _batch_counter(self, rec_epoch: np.ndarray, has_epoch: bool) -> np.ndarray | None:
        """The step of each record from a batch counter ('ep: 0, batch: 20, loss: 10.98'; pix2pix's
        '(epoch: 1, iters: 100, ...)', the images of the epoch so far), where no step counter is
        written: the lines' steps within their epoch (normalize places each epoch after the last),
        or a running count of batches. A line without the count (an epoch's validation) takes the
        count of the last line that had it, as a line without a step takes the last step.

        None for a batch that is no counter (a batch size that holds, grows in stages or ends each
        epoch smaller; one that goes back with no epoch beside it), and where the training loss is
        written on lines without it."""
        name = next((k for k in (*sorted(BATCH_KEYS), "iters") if k in self.points), None)
        if name is None:
            return None
        # The training loss's lines (a GAN's log names none: its longest series's)
        others = [k for k in self.points if k != name]
        loss = naming.find_loss(others) or max(others, key=lambda k: len(self.points[k][1]), default=None)
        if loss is None:
            return None
        vals, recs = self.points[name]
        values, at = self._array(vals, np.float64), self._array(recs, np.intp)
        finite = np.isfinite(values)
        if finite.sum() < 2:  # ('batch: nan' on every line): no counter to place anything by
            return None
        changes = np.diff(values[finite])
        moved = np.diff(rec_epoch[at[finite]])
        new_epoch = np.isfinite(moved) & (moved != 0)  # (with no epoch beside it, never a new one)
        # A counter rises often (on every line, or every few where a GAN prints each loss on a line
        # of its own) and falls where an epoch starts again, or, beside an epoch, back to its first
        # count where a new run is appended; a batch size holds, grows in a few stages, or falls
        # within each epoch (its last batch smaller).
        rises = int((changes > 0).sum())
        kept = values[finite]
        restarts = (changes < 0) & ~new_epoch & (kept[1:] == kept[0]) & np.isfinite(rec_epoch[at[finite]][1:])
        others = (changes < 0) & ~new_epoch & ~restarts
        # (a run or two started again; a batch size that opens small falls back to it every epoch)
        if rises < 2 or rises * 10 < len(changes) or others.any() or restarts.sum() > 2:
            return None
        rec_step = np.full(len(rec_epoch), np.nan)
        rec_step[at[finite]] = values[finite]
        loss_at = self._array(self.points[loss][1], np.intp)
        if not np.isfinite(rec_step[loss_at]).all():
            return None
        del self.points[name]
        last = np.maximum.accumulate(np.where(np.isfinite(rec_step), np.arange(len(rec_step)), -1))
        return np.where(last >= 0, rec_step[np.maximum(last, 0)], np.nan)

    def _global_step(self, step: float, total: float) -> float:
        """Steps N/M on lines that also name an epoch: a running count once they restart each
        epoch, counted from the epoch of the first such line (an epoch named by another line, a
        checkpoint's '(epoch 5)' or an evaluation before training, is not where the count began).
        The count restarts where it falls as the epoch rises; a fall with the epoch back too is a
        resumed run's, of a count that runs on over the epochs."""
        if self.first_epoch is None:
            self.first_epoch = self.epoch
        if self.raw_step is not None and step < self.raw_step and self.epoch > self.raw_epoch:
            self.inner_steps = True
        self.raw_step, self.raw_epoch = step, self.epoch
        return (self.epoch - self.first_epoch) * total + step if self.inner_steps else step

    def log(self, label: str) -> Log:
        rec_step = self._array(self.rec_step, np.float64)
        rec_epoch = self._array(self.rec_epoch, np.float64)
        evaluated_at = self.points.pop(EVAL_STEP, None)
        if evaluated_at is not None:
            self._evaluations_at_their_steps(rec_step, *evaluated_at)
        has_step = bool(np.isfinite(rec_step).any())
        has_epoch = bool(np.isfinite(rec_epoch).any())
        if not has_step:
            counted = self._batch_counter(rec_epoch, has_epoch)
            if counted is not None:
                rec_step, has_step = counted, True
        kind: StepKind = "step" if has_step else "epoch" if has_epoch else "index"
        if has_step and has_epoch and self._steps_too_coarse(rec_step, rec_epoch):
            kind, has_step = "epoch", False
        index = np.arange(len(rec_step), dtype=np.float64)
        axis = {"step": rec_step, "epoch": rec_epoch, "index": index}[kind]
        # Records written before any counter: a config dump, when the log has counters at all.
        # (on an axis of epochs, a record with a step but no epoch yet is one: a setting printed under a
        # script's 'Step 3: Configuring...' banner, before the Trainer's dicts named their epochs)
        if kind == "index":
            loose = np.zeros(len(rec_step), bool)
        else:
            loose = np.isnan(axis) if kind == "epoch" else np.isnan(rec_step) & np.isnan(rec_epoch)
        first_step = float(rec_step[np.isfinite(rec_step)][0]) if has_step else 0.0
        evaluated = self._evaluated_first(loose) if has_step else np.zeros(0, np.intp)
        if kind == "epoch" and loose.any() and not loose.all():
            # An evaluation before 'Epoch 1: ...' (epochs counted from 1): epoch 0, before training.
            first_epoch = float(rec_epoch[~loose][0])
            if first_epoch >= 1:
                evaluated, first_step = self._evaluated_first(loose), first_epoch - 1
        hparams: dict[str, Any] = {}
        series: dict[str, Series] = {}
        warnings: list[str] = []
        for name, (vals, rec_list) in self.points.items():
            recs = self._array(rec_list, np.intp)
            values = self._array(vals, np.float64)
            before = loose[recs]
            if before.any() and np.isin(recs[before], evaluated).all():
                # A loss written just before the first step (build-nanogpt evaluates before
                # training): a measurement at the start, not a setting.
                steps = np.where(before, first_step, axis[recs])
                series[name] = Series(name, np.nan_to_num(steps, nan=0.0), values, recs.astype(np.float64))
                continue
            if before.any():
                hparams.setdefault(name, float(values[before][0]))
            recs, values = recs[~before], values[~before]
            if len(recs):
                steps = np.nan_to_num(axis[recs], nan=0.0)
                series[name] = Series(name, steps, values, recs.astype(np.float64))
        if kind == "step":
            summaries = _summaries(series, self._array(self.rec_own, np.bool_))
            if summaries:
                warnings.append(
                    f"{label}: {summaries} value(s) on lines without a step of their own repeat a series logged "
                    "at the step before them (an epoch's summary, or a setting printed again); the lines with a step "
                    "stand"
                )
        epoch_lr = series.pop(EPOCH_LR, None)
        if epoch_lr is not None and "lr" not in series:
            series["lr"] = Series("lr", epoch_lr.steps, epoch_lr.values, epoch_lr.seq)
        series.pop(BAR_COUNT, None)  # the bars' counters: read by _every_refresh, no series of their own
        series.pop(BAR_FULL, None)
        if not series:
            raise UnreadableLog(
                f"{label}: no training metrics found in this text "
                "(expected lines like 'step 10: loss 2.31' or 'loss=2.31')"
            )
        if kind == "step" and has_epoch and "epoch" not in series:
            # The epoch beside the step, as a series: a step that restarts each epoch (an
            # iteration within the epoch, without its total) is then told from a new run.
            with_both = np.flatnonzero(np.isfinite(rec_epoch) & np.isfinite(rec_step) & ~loose)
            if len(with_both):
                seq = with_both.astype(np.float64)
                series["epoch"] = Series("epoch", rec_step[with_both], rec_epoch[with_both], seq)
        if kind == "index":
            _config_to_hparams(series, hparams)
        for key, value in self.config.items():
            hparams.setdefault(key, value)
        fmt = self.styles.most_common(1)[0][0] if self.styles else TEXT
        hints = {role: name for role, name in _HINTS.get(fmt, ()) if name in series}
        others = {name: s for name, s in series.items() if not name.startswith(PROGRESS)}
        if others and _loss_in_bars_alone(series):
            refreshed = _every_refresh(self.refreshes, others)
            if refreshed is not None:
                series, kind = refreshed, "step"
                warnings.append(
                    f"{label}: the training loss is shown by the progress bar alone: read at every refresh, the bar's "
                    "count as the step (running values, often averages), the other lines' values at the refresh "
                    "before them; log the loss per step for a sharper diagnosis"
                )
        if all(name.startswith(PROGRESS) for name in series):
            refreshed = _every_refresh(self.refreshes)
            if refreshed is not None:
                series, kind = refreshed, "step"
                warnings.append(
                    f"{label}: only progress-bar values found: read at every refresh, the bar's count as the step "
                    "(running values, often averages); log the loss per step for a sharper diagnosis"
                )
            else:
                warnings.append(
                    f"{label}: only progress-bar values found (running values of unfinished epochs); "
                    "log the loss per step or per epoch for a sharper diagnosis"
                )
        if kind == "epoch" and self.planned:
            note = self._unfinished(rec_epoch, label)
            if note is not None:
                warnings.append(note)
        return Log(label, fmt, series, step_kind=kind, warnings=warnings, hparams=hparams, hints=hints)


MAX_REFRESHES = 2_000_000


Refresh = tuple[str, list[tuple[str, float]]]  # a bar's name, and its values as shown (name, value)


class Refreshes:
    """Refreshes of progress bars in the order they were drawn, each as (bar, points): a list
    that keeps them by column. A bar's name and the names of its values are kept once per
    distinct pair, the values in one array of floats: a log of bars alone is read at every
    refresh, and a million of them held as tuples and lists took half a gigabyte."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, tuple[str, ...]], int] = {}
        self._layouts: list[tuple[str, tuple[str, ...]]] = []  # (bar, names of its values)
        self._layout = array("l")  # each refresh's layout
        self._end = array("q", [0])  # where each refresh's values end in `_values` (after a leading 0)
        self._values = array("d")
        self.records_before = array("q")  # the metric lines (records) read before each refresh

    def append(self, refresh: Refresh, records: int = 0) -> None:
        bar, points = refresh
        self.records_before.append(records)
        names, values = zip(*points, strict=True) if points else ((), ())
        key = (bar, names)
        layout = self._ids.get(key)
        if layout is None:
            layout = self._ids[key] = len(self._layouts)
            self._layouts.append(key)
        self._layout.append(layout)
        self._values.extend(values)
        self._end.append(len(self._values))

    def __len__(self) -> int:
        return len(self._layout)

    def __getitem__(self, i: int) -> Refresh:
        if i < 0:
            i += len(self._layout)
        bar, names = self._layouts[self._layout[i]]
        return bar, list(zip(names, self._values[self._end[i] : self._end[i + 1]], strict=True))

    def layouts(self) -> list[tuple[str, tuple[str, ...], int]]:
        """Each distinct (bar, names of its values) with how many refreshes drew it, in the order
        they first came."""
        counts = np.bincount(np.array(self._layout, dtype=np.int64), minlength=len(self._layouts))
        return [(bar, names, int(n)) for (bar, names), n in zip(self._layouts, counts, strict=True)]

    def bar(self, i: int) -> str:
        """The i-th refresh's bar."""
        return self._layouts[self._layout[i]][0]

    def columns(self) -> Iterator[tuple[str, tuple[str, ...], Sequence[float]]]:
        """Each refresh as (bar, the names of its values, the values), without building its points."""
        layouts, values, end = self._layouts, self._values, self._end
        for i, layout in enumerate(self._layout):
            bar, names = layouts[layout]
            yield bar, names, values[end[i] : end[i + 1]]


def _loss_in_bars_alone(series: dict[str, Series]) -> bool:
    """Whether the training loss is a progress bar's value, no line of its own showing one (a tqdm
    bar with the loss in its postfix, and `tqdm.write` lines of validation values)."""
    found = naming.find_loss(series)
    return found is not None and found.startswith(PROGRESS)


def _every_refresh(refreshes: Refreshes, others: dict[str, Series] | None = None) -> dict[str, Series] | None:
    """The bars' values at every refresh, on one step axis: the count of the training bars (the
    kind that shows a training loss, its name with numbers aside: 'Epoch 3'), each after the
    last (one that starts again counts on from the last one's end; its count 0 is the last
    one's end, not a step). Another kind of bar (a validation bar) advances nothing: its values
    stand at the training step it follows, its last refresh kept. None when each bar shows one
    refresh only. `others`: the values of the other lines, by record (`Series.seq`), each placed
    at the step of the refresh drawn before it (the start, before any)."""
    rows = _Rows()
    placed = np.zeros(len(refreshes))  # the step each refresh stands at
    run_of = np.zeros(len(refreshes), dtype=np.int64)  # ... in which run of those appended to the log
    offset = last = 0.0
    run = 0
    bar = None
    train = _training_bar(refreshes)
    # A validation value on the training bar (Lightning shows the last one in every refresh
    # after it) is a point where it changed or after a validation bar ran, not at each refresh.
    shown: dict[str, float] = {}
    keys = {k for _, names, _ in refreshes.layouts() for k in names[:-2]}
    evals = {k for k in keys if is_eval(k[len(PROGRESS) :])}
    validated = False  # a validation bar ran since the training bar last showed its values
    bars = refreshed = 0
    full = False
    for i, (name, names, shown_values) in enumerate(refreshes.columns()):
        kind = _bar_kind(name)
        placed[i] = offset + last
        run_of[i] = run
        if not names:  # a bar that shows no values: only that it ran
            validated = validated or _validating(name, train)
            continue
        count = shown_values[-1]
        values = dict(zip(names[:-2], shown_values[:-2], strict=True))
        if kind != train:  # an evaluation bar: at the step it follows
            if _validating(name, train):  # its values are the evaluation's ('Epoch 3 [val]', loss=...)
                values = {_as_eval(k): v for k, v in values.items()}
            rows.update(offset + last, values, run)
            shown.update((k, values[k]) for k in evals.intersection(values))
            continue
        # A new bar starts where the count goes back (a description that changes each refresh,
        # 'Epoch 3 lr 1.0e-03', is still one bar).
        starts = bar is None or count < last or (count == last and full and name != bar)
        again = False
        if starts:
            bars += 1
            # (a bar whose epoch goes back, 'Epoch 0' after 'Epoch 4', is another run appended: its
            # steps count from the start again, and normalize tells the runs apart where they go back)
            again = bar is not None and _bar_number(name) < _bar_number(bar)
            offset = 0.0 if again else offset + (last if bar is not None else 0.0)
            run += again
            run_of[i] = run
        bar, last, full = name, count, shown_values[-2] == 1.0
        if starts and bars > 1 and count == 0 and not again:
            continue  # a new bar's count 0: the last one's end, already read (a new run's: its start)
        refreshed += 1
        # The first training refresh after a validation is over (the training bar can go on
        # refreshing while the validation bar draws between, as Lightning 1.x's does).
        after = validated and not _validation_next(refreshes, i + 1, train)
        for key in evals.intersection(values):
            if shown.get(key) == values[key] and not after:
                del values[key]
            else:
                shown[key] = values[key]
        validated = validated and not after
        placed[i] = offset + count
        rows.update(offset + count, values, run)
    if refreshed <= bars:  # one refresh per bar (its last): nothing more than the bars' ends
        return None
    if others:
        before = np.frombuffer(refreshes.records_before, dtype=np.int64) if len(refreshes) else np.zeros(0, np.int64)
        points = sorted(
            (rec, name, value) for name, s in others.items() for rec, value in zip(s.seq, s.values, strict=True)
        )
        for rec, name, value in points:
            i = int(np.searchsorted(before, rec, side="right")) - 1
            rows.update(float(placed[i]) if i >= 0 else 0.0, {name: value}, int(run_of[i]) if i >= 0 else 0)
    return rows.series()


class _Rows:
    """Values by step, as `rows.setdefault((run, step), {}).update(values)` on a dict of dicts
    would hold them, kept as arrays of the updates: a row of Python objects per step took most of
    the memory of reading a log of bars alone. `run`: which of the runs appended to one log (each
    counts its steps from its start; a later run's rows come after every row of the one before)."""

    def __init__(self) -> None:
        self.steps = array("d")  # each update's step
        self.runs = array("q")  # ... and run
        self.writes = 0  # values written so far, over every name
        self.columns: dict[str, tuple[array[int], array[int], array[float]]] = {}  # name -> (update, write, value)

    def update(self, step: float, values: dict[str, float], run: int = 0) -> None:
        update = len(self.steps)
        self.steps.append(step)
        self.runs.append(run)
        columns = self.columns
        for name, value in values.items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = (array("q"), array("q"), array("d"))
            column[0].append(update)
            column[1].append(self.writes)
            column[2].append(value)
            self.writes += 1

    def series(self) -> dict[str, Series]:
        """One series per name over the steps in order, each point the last value written at its
        step, `seq` the step's place among every step updated; the names in the order a dict of
        rows would list them (rows by their first update, names within a row by first write)."""
        if len(self.runs) and np.frombuffer(self.runs, dtype=np.int64).any():  # (no Python loop over them)
            keys, first, row_of = np.unique(
                np.column_stack([np.array(self.runs, dtype=np.float64), np.array(self.steps)]),
                axis=0,
                return_index=True,
                return_inverse=True,
            )
            steps, row_of = keys[:, 1], row_of.reshape(-1)
        else:
            steps, first, row_of = np.unique(np.array(self.steps), return_index=True, return_inverse=True)
        firsts = []
        out = {}
        for name, (updates, writes, values) in self.columns.items():
            rows = row_of[np.array(updates, dtype=np.intp)]
            # The last write to each row: the first in reverse order.
            where, back = np.unique(rows[::-1], return_index=True)
            last = len(rows) - 1 - back
            out[name] = Series(name, steps[where], np.array(values)[last], where.astype(np.float64))
            # Where the name first stands in the rows' order: its earliest row, then its first write there.
            earliest = first[rows]
            at = np.flatnonzero(earliest == earliest.min())[0]
            firsts.append((int(earliest[at]), int(writes[at]), name))
        return {name: out[name] for _, _, name in sorted(firsts)}


def _as_eval(key: str) -> str:
    """A validation bar's value named as the evaluation's ('progress/loss' as 'progress/val_loss'),
    not as a point of the training bar's series."""
    name = key[len(PROGRESS) :]
    return key if is_eval(name) else f"{PROGRESS}val_{name}"


def _validation_next(refreshes: Refreshes, i: int, train: str) -> bool:
    """Whether the refresh after the i-th training one is a validation bar's (still validating)."""
    return i < len(refreshes) and _validating(refreshes.bar(i), train)


def _validating(name: str, train: str) -> bool:
    """Whether a bar is a validation's: not of the training bars' kind, and named so."""
    return _bar_kind(name) != train and is_eval(name)


def _training_bar(refreshes: Refreshes) -> str:
    """The kind of the training bars: the one whose values hold a training loss (a validation
    bar's hold a validation loss, a data-loading bar's none), refreshed most among those."""
    from lrdoctor.naming import find_loss

    kinds: Counter[str] = Counter()
    lossy: Counter[str] = Counter()
    has_loss: dict[tuple[str, ...], bool] = {}  # a bar shows the same names at every refresh: ask once
    for name, keys, n in refreshes.layouts():
        kind = _bar_kind(name)
        kinds[kind] += n
        names = tuple(k[len(PROGRESS) :] for k in keys[:-2])
        found = has_loss.get(names)
        if found is None:
            found = has_loss[names] = find_loss(names) is not None
        if found:
            lossy[kind] += n
    chosen = (lossy or kinds).most_common(1)
    return chosen[0][0] if chosen else ""


def _bar_number(name: str) -> float:
    """The epoch a bar is named by ('Epoch 3', 'epoch 3/10: ...'), or +inf where its name does not
    begin with one: a description that opens with a value ('loss: 0.41', set_description each
    epoch) falls from one epoch to the next without a new run."""
    m = _BAR_EPOCH.match(name)
    return float(m.group(1)) if m is not None else math.inf


_BAR_EPOCH = re.compile(r"\s*epoch\s*[:=]?\s*(\d+)\b", re.I)


@functools.lru_cache(maxsize=4096)
def _bar_kind(name: str) -> str:
    """A bar's name with its numbers aside ('Epoch 3 lr 1.0e-03' and 'Epoch 4 lr 0.0e+00' alike)."""
    return _NUMBER.sub("#", name)


_NUMBER = re.compile(r"[-+]?(?:\d[\d.,]*(?:[eE][-+]?\d+)?|(?i:nan|inf(?:inity)?)\b)")


def _changes(values: np.ndarray) -> int:
    """How many times a sequence takes a new value from one item to the next (its distinct values,
    where it does not go back to earlier ones), without sorting it."""
    return 1 + int(np.count_nonzero(values[1:] != values[:-1])) if len(values) else 0


def _summaries(series: dict[str, Series], own: np.ndarray) -> int:
    """Drop, in place, the points of lines that carry the last line's step rather than write their
    own ('Epoch 1 done: loss=0.375' after 'Epoch 1 step 500/500 loss=0.300') where the same series
    was written at that step by a line with a step: an epoch's mean in place of its last batch's
    loss otherwise, the repeat read as a second writer. Returns how many were dropped."""
    dropped = 0
    for name, s in list(series.items()):
        mine = own[s.seq.astype(np.intp)]
        if mine.all() or not mine.any():
            continue
        repeat = ~mine & np.isin(s.steps, s.steps[mine])
        if repeat.any():
            series[name] = s.take(~repeat)
            dropped += int(repeat.sum())
    return dropped


def _names_by_record(points: dict[str, tuple[list[Any], list[Any]]], records: np.ndarray) -> dict[int, set[str]]:
    """The names written on each of `records`, a range of records before the first step. A
    name's records are in write order, so each list is read only up to that range's end."""
    if not len(records):
        return {}
    lo, hi = int(records[0]), int(records[-1])
    out: dict[int, set[str]] = {}
    for name, (_values, recs) in points.items():
        for rec in recs:
            # An item is a record number, or an array of them (a window of lines read at once).
            within = np.atleast_1d(rec)
            for r in within[(within >= lo) & (within <= hi)].tolist():
                out.setdefault(int(r), set()).add(name)
            if within[-1] > hi:
                break
    return out


def _config_to_hparams(series: dict[str, Series], hparams: dict[str, Any]) -> None:
    """Without counters, a one-point series written before the longest series starts is config;
    so is every one-point series written before the first progress bar, in a log that holds
    nothing else (a training script's settings, 'Num examples = 833', then its bars)."""
    bars = [s.seq[0] for n, s in series.items() if n.startswith(PROGRESS)]
    others = [n for n in series if not n.startswith(PROGRESS)]
    if bars and others and all(len(series[n]) == 1 and series[n].seq[0] < min(bars) for n in others):
        for name in others:
            hparams.setdefault(name, float(series.pop(name).values[0]))
        return
    longest = max(series.values(), key=len)
    if len(longest) < 2:
        return
    start = longest.seq[0]
    for name in [n for n, s in series.items() if len(s) == 1 and s.seq[0] < start]:
        hparams.setdefault(name, float(series.pop(name).values[0]))
