"""From a reader's :class:`Log` to one clean :class:`Run`.

- several runs appended to one file (the metric's step goes back to where the run began)
  become segments; the last one is judged unless the caller picks another;
- a run resumed from a checkpoint (the step goes back, but not to the start) keeps the
  latest write: earlier points at or after the resume step are dropped;
- HF Trainer's `loss: 0.0` with a NaN `grad_norm` (every step of the window was NaN) is NaN;
- a loss first logged well after the first update gets a note: the first updates are where a
  too-high rate blows up and a good one makes its fastest progress, and the detectors read the
  first logged value as the start level (BENCHMARKS.md, "Other logging cadences").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from lrdoctor import naming
from lrdoctor.detect.curve import LATE_AXES, MIN_POINTS, SKIPPED_SHARE, starts_late
from lrdoctor.errors import MissingMetric, NoLossYet, NoSeries
from lrdoctor.readers._common import EPOCH_KEYS, LAST_RUN, STEP_KEYS
from lrdoctor.run import Log, Run, Segment, Series, StepKind, axis_unit, epoch_series, fmt_step, once_per_epoch


def normalize(
    log: Log,
    *,
    metric: str | None = None,
    segment: int | None = None,
    lr: float | None = None,
) -> Run:
    """Pick the metric, split appended runs, keep the latest write of each step."""
    series = {name: s for name, s in log.series.items() if len(s)}
    warnings = list(log.warnings)
    name = _choose_metric(log, series, metric)
    if metric is None and name != log.hints.get("loss"):
        name = _denser_epoch_series(series, name, warnings)
        tied = naming.tied_losses(series, name, {k: len(v) for k, v in series.items()})
        if tied:
            warnings.append(
                f"{log.source}: {len(tied) + 1} series are named and logged alike as a training loss "
                f"({', '.join(sorted([name, *tied]))}): judging {name!r}; pass --metric NAME to judge another"
            )
    series = _newest_first(series, name, warnings)
    series = _fix_hf_zero_loss(series, name, warnings, log.format)
    series, step_kind = _spread_coarse_steps(series, name, log.step_kind, warnings)

    metric_seq = series[name].seq
    # Points written together (one event holding a tag twice) cannot start a new run.
    starts = [i for i in restart_positions(series[name].steps) if metric_seq[i] > metric_seq[i - 1]]
    steps = series[name].steps
    falls = [i for i in (np.flatnonzero(steps[1:] < steps[:-1]) + 1).tolist() if metric_seq[i] > metric_seq[i - 1]]
    if (starts or falls) and step_kind == "step":
        counted = _per_epoch_counter(series, name, starts, falls)
        if counted is not None:
            series, note = counted
            warnings.append(f"{log.source}: {note}")
            starts = [i for i in restart_positions(series[name].steps) if metric_seq[i] > metric_seq[i - 1]]
    cuts = sorted({float(metric_seq[i]) for i in starts})
    bounds = list(zip([-np.inf, *cuts], [*cuts, np.inf], strict=True))
    segments = tuple(_describe(series[name], lo, hi, k + 1) for k, (lo, hi) in enumerate(bounds))
    chosen = _pick_segment(log.source, len(segments), segment)
    if chosen < len(segments):  # a note the reader wrote of the last run is not of this one
        warnings = [w for w in warnings if LAST_RUN not in w]
    if len(segments) > 1:
        seg = segments[chosen - 1]
        warnings.append(
            f"{len(segments)} runs are appended in this log (the {axis_unit(step_kind)} restarts); judging run "
            f"{chosen} ({axis_unit(step_kind, plural=True)} {fmt_step(seg.first_step)}-{fmt_step(seg.last_step)}); "
            "choose another with --segment N"
        )
    lo, hi = bounds[chosen - 1]
    if len(segments) > 1:
        reused, twin = _header_reused(series, name, bounds, chosen)
        if reused:
            warnings.append(reused)
        if twin is not None and metric is None and log.hints.get("loss") != name:
            shifted = _shifted_under_header(series[name], series[twin], bounds[chosen - 1])
            if shifted:
                run = normalize(log, metric=twin, segment=segment, lr=lr)
                said = f"{twin!r} equals {name!r} point for point"  # (the same note, told from the twin)
                run = replace(run, warnings=tuple(w for w in run.warnings if not w.startswith(said)))
                note = (
                    f"{log.source}: in run {chosen}, {name!r} {shifted}, while {twin!r} falls: judging {twin!r}, "
                    f"the column {name!r} equalled in the other runs; pass --metric {name} to judge {name!r}"
                )
                return replace(run, warnings=(*run.warnings, note))
    kept: dict[str, Series] = {}
    firsts = [float(series[name].steps[series[name].seq >= c][0]) for c in cuts]  # each later run's first step
    for key, s in series.items():
        own_lo, own_hi = lo, hi
        if key != name and len(bounds) > 1:
            if chosen > 1:
                own_lo = _own_cut(s, bounds[chosen - 2][0], lo, firsts[chosen - 2])
            if chosen < len(bounds):
                own_hi = _own_cut(s, lo, hi, firsts[chosen - 1])
        part = s.take((s.seq >= own_lo) & (s.seq < own_hi))
        part = _latest_writes(part, warnings if key == name else None, axis_unit(step_kind))
        if len(part):
            kept[key] = part
    if name not in kept:
        raise NoSeries(f"{log.source}: the metric {name!r} has no points in run {chosen}")
    mine = _own_run(log, kept, name)
    missing = _MISSING_NAN.get("csv" if log.format.endswith("csv") else log.format)
    if missing is not None and not log.ragged:
        # (lists of two lengths, on an axis of positions, hold no null: a loss logged less often)
        lr_name = naming.find_lr({k: kept[k] for k in mine})
        anchor = lr_name
        if anchor is None and log.format in FULL_ROWS:
            anchor = _companion(kept, name, mine)
        kept[name] = _empty_cells_as_nan(
            kept,
            name,
            warnings,
            anchor,
            written_as=missing,
            between=log.format in PANDAS_FORMATS,
            what="the learning rate" if anchor == lr_name else "the column",
        )
    kept[name] = _drop_placeholders(kept[name], warnings)
    own = {k: kept[k] for k in mine}
    val_name = _val_metric(log, own, name)
    if val_name is not None:
        kept[val_name] = _drop_placeholders(kept[val_name], warnings)
        if log.format.startswith("text") and (step_kind == "step" or _within_epochs(kept[name], step_kind)):
            kept[val_name] = _evaluations_once(kept[val_name], kept[name], warnings)
        if step_kind == "step" or (step_kind == "index" and log.format == "json"):  # (lists of two lengths)
            kept[val_name] = _val_on_epochs(kept[val_name], kept[name], warnings, unit=axis_unit(step_kind))

    epoch_means = step_kind == "step" and once_per_epoch(kept[name], epoch_series(kept))
    late = not epoch_means and _starts_late(kept[name], step_kind, log.hparams)
    if late:
        warnings.append(_late_start(kept[name], step_kind, log.format))
    lr_name = log.hints.get("lr") if log.hints.get("lr") in own else naming.find_lr(own)
    if lr_name is not None and lr_name != name and step_kind == "step":
        kept[lr_name] = own[lr_name] = _lr_on_epochs(kept[lr_name], kept[name], warnings)
    groups = _other_groups(own, lr_name)
    if groups:
        warnings.append(groups)
    if lr is not None and lr_name is not None:
        warnings.append(
            f"--lr {lr:g} is taken as the observed rate in place of the logged {lr_name!r}, and the recommendation "
            "scales it; leave --lr out to judge by the logged rate"
        )
    elif lr_name is not None and not (kept[lr_name].values[np.isfinite(kept[lr_name].values)] > 0).any():
        said = (
            "is 0 at every point (written with too few decimals, as '0.0000'?)"
            if (kept[lr_name].values == 0).all()
            else "holds no positive value"
        )
        warnings.append(f"the rate {lr_name!r} {said}: pass the rate with --lr VALUE")
    if not late:  # (a first point logged long after the first update may be a blow-up's)
        warnings.extend(_scale_note(kept[name]))
    if metric is None:
        warnings.extend(_judge_val_instead(kept, name, val_name))
    export = export_note(log, name)
    if export:
        warnings.insert(0, export)
    return Run(
        source=log.source,
        format=log.format,
        series=kept,
        metric=name,
        lr_name=lr_name,
        val_metric=val_name,
        step_kind=step_kind,
        warnings=tuple(warnings),
        hparams=dict(log.hparams),
        segments=segments,
        segment=chosen,
        lr_given=lr,
        epoch_means=epoch_means,
        late_start=late,
        lr_in_name=None if lr is not None else naming.rate_in_path(log.source),
    )


def _own_cut(s: Series, before: float, cut: float, first: float) -> float:
    """Where another series's points of the next run begin, near `cut` (the write that begins the
    next run of the metric; `before`, the one that began the run before it; `first`, the step
    the next run's metric begins at): at the last point where its steps go back among those written
    between, if every point from there is at or before that first step (an evaluation before
    training, nanoGPT's 'step 0: train loss 2.34, val loss 2.32', printed before the run's first
    'iter 0'). Those had ended the run before, every evaluation of it superseded by the later one
    at step 0, and left the next run's start level out."""
    inside = np.flatnonzero((s.seq >= before) & (s.seq < cut))
    if len(inside) < 2:
        return cut
    steps = s.steps[inside]
    falls = np.flatnonzero(steps[1:] < steps[:-1]) + 1
    if not len(falls) or not (steps[falls[-1] :] <= first).all():
        return cut
    return float(s.seq[inside[falls[-1]]])


def runs_to_judge(log: Log, metric: str) -> list[tuple[str, str | None]]:
    """(run, the series judged as its training loss, or None where it logs none) for every run a
    W&B export holds, in the order written: `metric` for its own run, each other run's loss found
    by name among its own series; [('', metric)] for any other log."""
    runs = naming.export_runs([*log.series, *log.text_columns]) if log.format == "wandb-csv" else []
    if " - " not in metric or _run_of(metric) not in runs:
        return [("", metric)]
    out: list[tuple[str, str | None]] = []
    for run in runs:
        # Its metrics by their own names: a run named 'val' does not make its 'loss' a validation loss.
        own = {
            k.rpartition(" - ")[2]: len(s)
            for k, s in log.series.items()
            if _run_of(k) == run and not k.endswith(naming.BOUNDS)
        }
        found = naming.find_loss(own, own)
        out.append((run, metric if run == _run_of(metric) else None if found is None else f"{run} - {found}"))
    return out


def export_note(log: Log, metric: str) -> str:
    """Which run of a W&B export of several is judged, how to judge another (its own loss's
    name), and which others logged a non-finite loss ('' for any other log)."""
    runs = runs_to_judge(log, metric)
    if len(runs) < 2:
        return ""
    names = [run for run, _ in runs]
    shown = ", ".join(names[:SHOWN_RUNS]) + (", ..." if len(names) > SHOWN_RUNS else "")
    others = [loss for _, loss in runs if loss is not None and loss != metric]
    note = (
        f"{log.source}: this export holds {len(runs)} runs ({shown}); judged: {_run_of(metric)}; "
        f"choose another with --metric '{others[0] if others else '<run> - <metric>'}', "
        "or judge every run with lrdoctor check"
    )
    bad = [_run_of(loss) for loss in others if not np.isfinite(log.series[loss].values).all()]
    risen = [
        f"{_run_of(loss)} ({ratio:.3g}x)"
        for loss in others
        if _run_of(loss) not in bad and (ratio := _end_over_start(log.series[loss].values)) > ROSE_ABOVE
    ]
    said = [f"{', '.join(map(str, bad))} logged a non-finite loss"] if bad else []
    if risen:
        said.append(f"{', '.join(risen)} ended with a loss above {ROSE_ABOVE:g}x its first")
    if said:
        note += f"; not judged here: {'; '.join(said)}"
    return note


SHOWN_RUNS = 5
# An export's other run whose loss ended this many times above its first value is named in the note
# beside those that went non-finite: it blew up without a NaN (diagnose judges one run of the export).
ROSE_ABOVE = 3.0


def _end_over_start(values: np.ndarray) -> float:
    """The median of a loss's last tenth (3 points at least) over its first value; 0 where that
    is not positive or there are fewer than 6 points."""
    if len(values) < 6 or not values[0] > 0:
        return 0.0
    return float(np.median(values[-max(3, len(values) // 10) :]) / values[0])


def _run_of(name: str) -> str | None:
    return name.rpartition(" - ")[0] if " - " in name else None


def _own_run(log: Log, kept: dict[str, Series], metric: str) -> list[str]:
    """The names of the series of the metric's own run in a W&B export of several: its rate and
    validation loss are not another run's (series of no run, such as 'Step', are shared)."""
    run = _run_of(metric)
    if log.format != "wandb-csv" or run is None or run not in naming.export_runs([*log.series, *log.text_columns]):
        return list(kept)
    return [k for k in kept if _run_of(k) in (None, run)]


def _other_groups(series: dict[str, Series], lr_name: str | None) -> str:
    """A note when other parameter groups logged a different peak rate than the one judged (the
    first group): the observed and recommended rates are that group's, and the others scale with it."""
    if lr_name is None:
        return ""

    def peak(key: str) -> float:
        v = series[key].values
        v = v[np.isfinite(v)]
        return float(v.max()) if len(v) else math.nan

    mine = peak(lr_name)
    # A group at the judged group's rate once a warmup of its own is over (YOLO's biases begin
    # theirs at 0.1) is the same rate, not another.
    others = [
        k
        for k in naming.lr_series(series)
        if k != lr_name
        and naming.lr_group(k) is not None
        and not math.isclose(peak(k), mine, rel_tol=1e-6)
        and not _same_rate_late(series[k], series[lr_name])
    ]
    if not others or not math.isfinite(mine):
        return ""
    listed = ", ".join(f"{k!r} peaks at {peak(k):.3g}" for k in others[:4]) + (", ..." if len(others) > 4 else "")
    return (
        f"the learning rate read is {lr_name!r} (peak {mine:.3g}); other parameter groups logged other rates "
        f"({listed}): the observed and recommended rates are for that series; scale the other groups by the same factor"
    )


def _same_rate_late(group: Series, judged: Series) -> bool:
    """Whether `group` runs at the judged group's rate once a warmup of its own is over: over the
    last stretch of steps where the two agree, to the end (at least 2 steps, at or near the judged
    group's peak: a shared floor of 0 or a min_lr at the end of a schedule is no same rate).
    Between two steps of `group`, agreeing is lying between its two values there."""
    ok = np.isfinite(group.values)
    mine = np.isfinite(judged.values)
    if ok.sum() < 2 or not mine.any():
        return False
    order = np.argsort(group.steps[ok], kind="stable")
    g_steps, g_values = group.steps[ok][order], group.values[ok][order]
    steps, values = judged.steps[mine], judged.values[mine]
    inside = (steps >= g_steps[0]) & (steps <= g_steps[-1])
    steps, values = steps[inside], values[inside]
    if len(steps) < 2:
        return False
    right = np.minimum(np.searchsorted(g_steps, steps), len(g_steps) - 1)
    left = np.where(g_steps[right] == steps, right, np.maximum(right - 1, 0))
    low = np.minimum(g_values[left], g_values[right]) * (1 - 1e-6)
    high = np.maximum(g_values[left], g_values[right]) * (1 + 1e-6)
    agree = (values >= low) & (values <= high)
    since = len(agree) - int(np.argmin(agree[::-1])) if not agree.all() else 0
    return len(values) - since >= 2 and float(values[since:].max()) >= 0.9 * float(judged.values[mine].max())


# A series whose rows the loss shared up to its last point, and which goes on for this many more,
# tells a loss that stopped (NaN written as an empty cell) from one logged less often.
GOES_ON_MIN = 3
SHARED_MIN = 10
# How formats whose writers cannot write NaN write it instead (the readers leave such values out):
# pandas' to_csv as an empty cell, its to_json (and orjson, and JavaScript) as null.
_MISSING_NAN = {"csv": ("empty", "an empty cell"), "json": ("null", "null"), "jsonl": ("null", "null")}


# The formats pandas writes (to_csv, to_json), where a cell with nothing in it between a loss's
# points is a NaN: a logger's own table (Lightning's, Ultralytics', W&B's) leaves a cell empty where
# it logged nothing.
PANDAS_FORMATS = ("csv", "json", "jsonl")
# ... and those whose every row holds every column a training row holds, whether pandas wrote them
# or not (a Keras history saved by pandas reads as a Keras CSV): a loss cell left empty beside its
# companions (_companion) is a NaN. Not W&B's export (a run's column ends where its run did, its
# 'Step' goes on for the longer runs) nor Lightning's table (a row holds what was logged on it).
FULL_ROWS = (*PANDAS_FORMATS, "keras-csv")


def _training_rows(
    series: dict[str, Series], name: str, loss: Series, steps: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Which rows without the loss are the training's rows, their loss NaN: at a step on the
    loss's stride (an evaluation's row at step 1925 between training rows every 50 is not), and
    holding no column that the loss's rows never hold (a val_loss written on rows of its own).
    Vectorised over the rows: a table of a million rows with a NaN tail asks it of every row after."""
    ok = np.ones(len(rows), dtype=bool)
    if not len(rows):
        return ok
    stride = float(np.median(np.diff(loss.steps))) if len(loss.steps) > 1 else 0.0
    if stride > 0:
        k = (steps - loss.steps[0]) / stride
        ok &= np.isclose(k, np.round(k), rtol=0.0, atol=1e-6)
    for key, s in series.items():
        if key != name and not np.isin(s.seq, loss.seq).any():
            ok &= ~np.isin(rows, s.seq)
    return ok


def _companion(series: dict[str, Series], name: str, mine: Iterable[str]) -> str | None:
    """Where no learning rate is logged: a series of the judged run that measures the training
    (an accuracy: no counter or clock, :func:`_a_measure`), written on every row of the loss, that
    goes on for GOES_ON_MIN rows or more after the loss's last point. :func:`_empty_cells_as_nan`
    reads it as it reads the rate: a table that pandas wrote has every row, so a loss cell left
    empty beside it is a NaN (a Keras history saved with `pd.DataFrame(history.history).to_csv`,
    whose loss went NaN at epoch 8 of 20, had read as a run of 8 epochs, judged "ok")."""
    loss = series[name]
    for key in mine:
        s = series[key]
        if key == name or not len(s) or not _a_measure(key) or not np.isin(loss.seq, s.seq).all():
            continue
        if np.count_nonzero(s.seq > loss.seq[-1]) >= GOES_ON_MIN:
            return key
    return None


# Columns that go on whatever the training did: the row's counters and clocks (W&B's history has
# '_runtime' and '_timestamp' on the rows of evaluations and tests after training).
_COUNTERS = {k.lower() for k in (*STEP_KEYS, *EPOCH_KEYS)}
_CLOCK_WORDS = {"time", "runtime", "timestamp", "wall", "walltime", "seconds", "duration", "elapsed"}


def _a_measure(name: str) -> bool:
    """Whether a column measures the training (an accuracy, a gradient norm), rather than counting
    its rows or timing them, or being the row's index (an unnamed first column)."""
    low = name.lower().lstrip("_")
    return not (low in _COUNTERS or name.startswith("column_") or _CLOCK_WORDS & set(naming.tokens(name)))


def _empty_cells_as_nan(
    series: dict[str, Series],
    name: str,
    warnings: list[str],
    lr_name: str | None,
    *,
    written_as: tuple[str, str],
    between: bool = True,
    what: str = "the learning rate",
) -> Series:
    """The loss as NaN where its cells are empty in rows that go on training: pandas writes NaN as
    an empty cell (and as null in JSON, `written_as`), so a run whose loss went NaN at step 22 of
    1500 read as a run of 22 steps. Only where the learning rate (`lr_name`; where none is
    logged, a companion series, :func:`_companion`, `what` says which) was logged on every step of
    the loss: after the loss's last point, where the rate goes on for a few rows (a loss NaN after its
    first epoch, in a log of epochs, had read as a log of one point, judged "unknown" and passed);
    and at the loss's steps between, where the rate's rows hold no loss, up to the share of
    isolated non-finite points a run can go on from (SKIPPED_SHARE; a stray NaN of a step skipped
    by loss scaling: with it left out, a NaN tail after it was not seen either), where `between`
    (PANDAS_FORMATS). Other columns go on after training for other reasons (a wall clock,
    evaluation and test rows)."""
    loss = series[name]
    if lr_name is None or lr_name == name:
        return loss
    lr = series[lr_name]
    first = int(np.searchsorted(lr.steps, loss.steps[0], side="left"))
    until = int(np.searchsorted(lr.steps, loss.steps[-1], side="right"))
    inside = lr.steps[first:until]
    if len(inside) == len(loss) and np.array_equal(inside, loss.steps):  # (the usual table: no gap, no sort)
        gaps = np.zeros(0, np.intp)
    elif not np.isin(loss.steps, inside).all():
        return loss
    else:
        gaps = np.flatnonzero(~np.isin(inside, loss.steps)) + first
    if len(gaps) > max(1, int(SKIPPED_SHARE * len(loss))) or (len(gaps) and not between):
        return loss
    gaps = gaps[_training_rows(series, name, loss, lr.steps[gaps], lr.seq[gaps])]
    after = np.arange(until, len(lr))
    # (rows of an evaluation or a test after training hold a column of their own)
    after = after[_training_rows(series, name, loss, lr.steps[after], lr.seq[after])]
    if len(after) < GOES_ON_MIN:
        after = np.zeros(0, np.intp)
    if not len(gaps) and not len(after):
        return loss
    said = []
    if len(gaps):
        more = f" (and {len(gaps) - 1} other step{'s' if len(gaps) > 2 else ''})" if len(gaps) > 1 else ""
        said.append(f"at step {fmt_step(float(lr.steps[gaps[0]]))}{more} between its points")
    if len(after):
        said.append(f"from step {fmt_step(float(lr.steps[after[0]]))} on")
    rate = f"{what} {lr_name!r}"
    warnings.append(
        f"{name!r} is {written_as[0]} {' and '.join(said)}"
        + (f" while {rate} goes on for {len(after)} more rows" if len(after) else f", where {rate} is logged")
        + f": read as NaN there (pandas writes NaN as {written_as[1]})"
    )
    added = np.concatenate([gaps, after])
    steps = np.concatenate([loss.steps, lr.steps[added]])
    order = np.argsort(steps, kind="stable")
    return Series(
        name,
        steps[order],
        np.concatenate([loss.values, np.full(len(added), np.nan)])[order],
        np.concatenate([loss.seq, lr.seq[added]])[order],
    )


# A validation loss at steps 0..N-1 (or 1..N) beside a training loss of this many times as many
# steps is logged against the epoch: `add_scalar("Loss/val", v, epoch)` beside the training loss's
# `add_scalar("Loss/train", loss, global_step)`, as the PyTorch tutorials write them.
EPOCH_AXIS_RATIO = 4
EPOCH_AXIS_MIN = 3


def _epochs_beside(s: Series, loss: Series) -> tuple[float, float] | None:
    """(the steps of an epoch, the step the first epoch began at) where `s` is logged against the
    epoch beside a training loss logged against the step: at consecutive whole steps from 0 or 1
    (EPOCH_AXIS_MIN of them at least), the loss running over EPOCH_AXIS_RATIO times as many steps
    or more; else None. The epochs begin at the loss's first step, or at the epoch counter's first
    value where the loss's first step lies within the first epoch after it (a loss logged from
    step 1, or every k batches from step k, beside an epoch counted from 0: the PyTorch tutorial's
    logging, whose rate and evaluations had stood at the run's first steps)."""
    n = len(s)
    first = float(s.steps[0]) if n else math.nan
    if n < EPOCH_AXIS_MIN or first not in (0.0, 1.0) or not np.array_equal(s.steps, first + np.arange(n)):
        return None
    start, end = float(loss.steps[0]), float(loss.steps[-1])
    origin = min(start, first)
    span = end - origin + 1
    if span < EPOCH_AXIS_RATIO * n or not np.isfinite(span) or start - origin >= span / n:
        return None
    return span / n, origin


def _val_on_epochs(val: Series, loss: Series, warnings: list[str], *, unit: str) -> Series:
    """A validation loss logged against the epoch beside a training loss logged against the step,
    placed at the end of each epoch: N evaluations at consecutive whole steps from 0 or 1, where
    the training loss runs over N epochs' worth of steps (EPOCH_AXIS_RATIO or more per
    evaluation) from its first step. Its steps had read as the run's first N steps."""
    beside = _epochs_beside(val, loss)
    if beside is None:
        return val
    per_epoch, start = beside
    n, first, end = len(val), float(val.steps[0]), float(loss.steps[-1])
    steps = np.round(start + per_epoch * np.arange(1, n + 1) - 1)
    warnings.append(
        f"{val.name!r} is logged at {unit}s {fmt_step(first)}-{fmt_step(float(val.steps[-1]))} while the training "
        f"loss runs to {unit} {fmt_step(end)}: read as logged against the epoch, one evaluation at the end of each of "
        f"{n} epochs of {per_epoch:.4g} {unit}s (log it against the step to place it exactly)"
    )
    return Series(val.name, steps, val.values, val.seq)


def _lr_on_epochs(lr: Series, loss: Series, warnings: list[str]) -> Series:
    """A learning rate logged against the epoch beside a training loss logged against the step
    (`add_scalar("lr", scheduler.get_last_lr()[0], epoch)`), read as :func:`_val_on_epochs` reads
    a validation loss, but placed at the start of each epoch, where the rate took effect: its
    steps had read as the run's first N steps, a schedule over the run squeezed into them. Only
    where its writes span the run (its last written after half the training loss's points): a
    rate logged at each step of a warmup alone is written with the first steps' losses."""
    beside = _epochs_beside(lr, loss)
    if beside is None or np.count_nonzero(loss.seq < lr.seq[-1]) < 0.5 * len(loss):
        return lr
    per_epoch, start = beside
    n, first, end = len(lr), float(lr.steps[0]), float(loss.steps[-1])
    warnings.append(
        f"{lr.name!r} is logged at steps {fmt_step(first)}-{fmt_step(float(lr.steps[-1]))} while the training loss "
        f"runs to step {fmt_step(end)}: read as logged against the epoch, the rate of each of {n} epochs of "
        f"{per_epoch:.4g} steps from the epoch's start (log it against the step to place it exactly)"
    )
    return Series(lr.name, np.round(start + per_epoch * np.arange(n)), lr.values, lr.seq)


def _within_epochs(loss: Series, step_kind: str) -> bool:
    """An axis of epochs holding several training lines an epoch (a progress bar's refreshes), not
    one line an epoch: a validation loss repeated there is the last evaluation carried on, whereas
    on one line an epoch a repeat is an evaluation of its own (a value printed to one decimal)."""
    if step_kind != "epoch":
        return False
    epochs = np.unique(np.floor(loss.steps[np.isfinite(loss.steps)]))
    return len(loss) > 2 * max(len(epochs), 1)


def _evaluations_once(s: Series, loss: Series, warnings: list[str]) -> Series:
    """A validation loss printed on every training line, the last evaluation's carried on
    ('step=10 loss=3.66 val_loss=4.2905' from step 0 to the end): most of its points repeat the one
    before exactly, on the lines of the training loss. Each evaluation is kept once, where it was
    first printed. Evaluations on lines of their own that repeat a value are each an evaluation (a
    model whose outputs no longer change scores the same every time)."""
    if len(s) < 3:
        return s
    v = s.values
    again = np.r_[False, (v[1:] == v[:-1]) | (np.isnan(v[1:]) & np.isnan(v[:-1]))]
    on_training_lines = np.isin(s.seq, loss.seq).mean() >= 0.5
    if again.sum() < 0.5 * len(s) or not on_training_lines:
        return s
    repeats = int(again.sum())
    # A non-finite value carried from the first line to the first evaluation ('val_loss nan' until
    # one has run): a placeholder, no evaluation that overflowed.
    finite = np.isfinite(v)
    lead = int(np.argmax(finite)) if finite.any() else 0
    placeholder = lead >= 2 and not finite[0] and bool(again[1:lead].all())
    keep = ~again
    if placeholder:
        keep[:lead] = False
    warnings.append(
        f"{repeats} of the {len(s)} points of {s.name!r} repeat the one before exactly: the last evaluation "
        f"printed again on each line; each is kept once, where first printed ({int(keep.sum())} left"
        + (f"; the {v[0]} printed before the first evaluation is left out as a placeholder)" if placeholder else ")")
    )
    return s.take(keep)


def _drop_placeholders(s: Series, warnings: list[str]) -> Series:
    """A series NaN in most of its rows from its start and finite in between, to its end, is a
    sparse column written with NaN for "not logged here" (pandas' na_rep='nan', a csv writer's
    float('nan')): the NaN points followed by a finite one are dropped, with a note. A NaN tail
    is kept, and so is Inf (an overflow, never a placeholder), and NaN that sets in after a dense
    start (a run whose loss went NaN on most batches)."""
    finite = np.isfinite(s.values)
    if finite.all() or not finite.any() or np.isinf(s.values).any():
        return s
    last = int(np.flatnonzero(finite)[-1])
    between = ~finite
    between[last + 1 :] = False
    head = between[: max(len(between) // 4, 1)]
    if between.sum() < finite.sum() or between.sum() < SHARED_MIN or head.mean() < 0.5:
        return s
    warnings.append(
        f"{s.name!r} is NaN in {int(between.sum())} rows between its {int(finite.sum())} finite values: read as "
        "not logged there (a sparse column written with NaN for the rows without a value)"
    )
    return s.take(~between)


def _judge_val_instead(series: dict[str, Series], name: str, val_name: str | None) -> list[str]:
    """A hint when the training loss is too short to judge and the validation loss is not (a
    HuggingFace run whose logging_steps outlasted training leaves one `train_loss` summary)."""
    values = series[name].values
    count = int(np.isfinite(values).sum())
    if val_name is None or count >= MIN_POINTS or not np.isfinite(values[-1]):
        return []  # enough to judge, or a loss that went NaN/Inf: the divergence is the finding
    val_count = int(np.isfinite(series[val_name].values).sum())
    if val_count < MIN_POINTS:
        return []
    return [
        f"{name!r} has {count} finite point(s), too few to judge; the validation loss {val_name!r} has "
        f"{val_count}: --metric {val_name!r} judges it"
    ]


def _shifted_under_header(metric: Series, twin: Series, bounds: tuple[float, float]) -> str:
    """How the judged run's metric reads as an accuracy filed under the loss's name (Keras'
    CSVLogger with append=True: a later run logging accuracy and loss under a header of loss and
    mse), where the column that equalled it in the other runs falls as a loss does: its values
    within [0, 1] and rising, from its first quarter to its last; else ""."""
    lo, hi = bounds
    mine = metric.values[(metric.seq >= lo) & (metric.seq < hi)]
    theirs = twin.values[(twin.seq >= lo) & (twin.seq < hi)]
    if len(mine) < 2 * MIN_POINTS or len(theirs) != len(mine) or not np.isfinite(mine).all():
        return ""
    if not (mine.min() >= 0 and mine.max() <= 1 and np.isfinite(theirs).all()):
        return ""
    head, q = max(3, len(mine) // 20), len(mine) // 4  # (its start: an accuracy climbs most at once)
    first, last = float(np.median(mine[:head])), float(np.median(mine[-q:]))
    rises = last - first > 0.2 * (mine.max() - mine.min()) and last > first
    falls = float(np.median(theirs[-q:])) < float(np.median(theirs[:head]))
    if not (rises and falls):
        return ""
    return f"rises within [0, 1] (from {first:.3g} at its start to {last:.3g} in its last quarter) as an accuracy does"


def _header_reused(
    series: dict[str, Series], name: str, bounds: list[tuple[float, float]], chosen: int
) -> tuple[str, str | None]:
    """A column that equals the metric point for point in the other appended runs, and not in
    the judged one: the runs share one header but not one meaning (Keras' CSVLogger with
    append=True writes its header once; a later run that logs other metrics fills the same
    columns with them). Said, since the judged column may not be the loss at all (an accuracy
    or a learning rate filed under it); a note, never a finding."""
    metric = series[name]

    def part(s: Series, k: int) -> np.ndarray:
        lo, hi = bounds[k]
        return s.values[(s.seq >= lo) & (s.seq < hi)]

    others = [k for k in range(len(bounds)) if k != chosen - 1]
    for key, s in series.items():
        if key == name or len(s) != len(metric) or not np.array_equal(s.seq, metric.seq):
            continue
        equal = [  # (columns of NaN alone, a run that logged neither, are not one column twice)
            k
            for k in others
            if np.isfinite(part(s, k)).any() and np.array_equal(part(s, k), part(metric, k), equal_nan=True)
        ]
        if equal and not np.array_equal(part(s, chosen - 1), part(metric, chosen - 1), equal_nan=True):
            runs = ", ".join(str(k + 1) for k in equal[:6]) + (", ..." if len(equal) > 6 else "")
            return (
                f"{name!r} equals {key!r} point for point in run(s) {runs}, not in the judged run {chosen}: the "
                "appended runs share one header, and a later run may have logged other metrics under it (Keras' "
                f"CSVLogger with append=True keeps the first header); check which column holds its loss (--metric)"
            ), key
    return "", None


def _newest_first(series: dict[str, Series], name: str, warnings: list[str]) -> dict[str, Series]:
    """A log written from its last step to its first (a table sorted newest first) is read in
    step order: every series in reverse write order. Not a run restarting at every point."""
    steps = series[name].steps
    if len(steps) < 3 or not (np.diff(steps) < 0).all():
        return series
    top = max(float(s.seq.max()) for s in series.values())
    warnings.append(
        f"{name!r} is written from its last step to its first (newest first, as a table sorted that way holds "
        "it); read in step order"
    )
    return {key: Series(s.name, s.steps[::-1], s.values[::-1], (top - s.seq)[::-1]) for key, s in series.items()}


def restart_positions(steps: np.ndarray) -> list[int]:
    """Indices where a new run starts: the step falls back to (or below) the current run's first
    step after the run had moved past it (a first step written twice is one run writing it again)."""
    starts = []
    first = steps[0] if len(steps) else 0.0
    back = np.flatnonzero(steps[1:] <= steps[:-1]) + 1
    for i in back:
        if steps[i] <= first and steps[i - 1] > first:
            starts.append(int(i))
            first = steps[i]
    return starts


def _per_epoch_counter(
    series: dict[str, Series], name: str, starts: list[int], falls: list[int]
) -> tuple[dict[str, Series], str] | None:
    """A step that restarts at each epoch (an iteration within the epoch, as mmcv and many
    hand-written loops log it), told by an epoch series that rises where it restarts: the series
    on one step axis, each epoch's steps after the last one's, and a note saying so. A restart
    where the epoch does not rise is a new run and stays one (its steps start again). `falls`:
    every point where the step goes back, which restarts the count too where the epoch rises,
    though not to the run's first step (a batch counter printed every 10 global steps: 'epoch 1
    batch 40', 'epoch 2 batch 8', ..., 'epoch 5 batch 42', 'epoch 6 batch 10'). None when no
    restart is an epoch change."""
    epoch_name = next((k for k in EPOCH_KEYS if k in series and k != name), None)
    if epoch_name is None:
        return None
    epoch, metric = series[epoch_name], series[name]
    order = np.argsort(epoch.seq, kind="stable")
    at = np.searchsorted(epoch.seq[order], metric.seq, side="right") - 1  # the epoch each point was written in
    if (at < 0).any():
        return None
    epochs = epoch.values[order][at]
    rises = {i for i in (*starts, *falls) if epochs[i] > epochs[i - 1]}
    if not rises:
        return None
    starts = sorted(rises.union(starts))
    bounds = [0, *starts, len(metric)]
    offsets = [0.0]
    for lo, nxt in itertools.pairwise(bounds[:-1]):
        if nxt not in rises:  # a new run: its steps start again
            offsets.append(0.0)
            continue
        part = np.unique(metric.steps[lo:nxt])
        stride = float(np.diff(part).min()) if len(part) > 1 else 1.0
        offsets.append(offsets[-1] + float(part[-1]) + stride - float(metric.steps[nxt]))
    cuts = metric.seq[starts]
    moved = {}
    for key, s in series.items():
        shift = np.asarray(offsets)[np.searchsorted(cuts, s.seq, side="right")]
        moved[key] = Series(s.name, s.steps + shift, s.values, s.seq)
    return moved, (
        f"the step restarts at each {epoch_name} ({len(rises)} time(s)): read as steps within the "
        f"{epoch_name}, each {epoch_name} after the last"
    )


def _counts(s: Series) -> bool:
    """A series that never goes down: a counter (the step or epoch column), not a loss."""
    v = s.values[np.isfinite(s.values)]
    return len(v) > 1 and bool((np.diff(v) >= 0).all())


def _choose_metric(log: Log, series: dict[str, Series], metric: str | None) -> str:
    if metric is not None:
        if metric in series and (metric in STEP_KEYS or metric in EPOCH_KEYS) and _counts(series[metric]):
            raise MissingMetric(
                f"{log.source}: {metric!r} is the log's {'epoch' if metric in EPOCH_KEYS else 'step'} counter, not a "
                f"loss; found {_listing(series)}",
                tuple(series),
            )
        if metric in series:
            return metric
        folded = {"_".join(naming.tokens(k)): k for k in series}
        key = "_".join(naming.tokens(metric))
        if key in folded:
            return folded[key]
        # Lightning's self.log(name, on_step=True, on_epoch=True) writes name_step and name_epoch:
        # the name it was logged under (its ModelCheckpoint monitors it so) means the per-step one.
        for suffix in ("_step", "_epoch"):
            if metric + suffix in series:
                return metric + suffix
        if metric in log.text_columns:
            raise NoSeries(f"{log.source}: the column {metric!r} holds no number (text or empty cells only)")
        message = f"{log.source}: no series named {metric!r}; found {_listing(series)}"
        if naming.find_loss(series) is not None:  # a training log, without this series
            raise MissingMetric(message, tuple(series))
        raise NoSeries(message)
    hinted = log.hints.get("loss")
    if hinted in series:
        return hinted
    found = naming.find_loss(series, {k: len(v) for k, v in series.items()})
    if found is None:
        textual = naming.find_loss(log.text_columns)
        if not series and (textual is None or textual not in log.empty_columns):
            raise NoSeries(f"{log.source}: the log holds no data points")
        if textual is not None and textual in log.empty_columns:
            # A run whose loss was NaN from its first step (pandas writes NaN as an empty cell), or
            # one whose loss is logged less often than its rate and has not come yet: a training
            # log either way, which check does not pass over (and watch waits for).
            found = f"; found {_listing(series)} (pass --metric NAME to judge another)" if series else ""
            raise NoLossYet(
                f"{log.source}: the column {textual!r} holds no number yet, every cell empty (NaN as pandas writes "
                f"it, or a loss logged less often than the other columns){found}"
            )
        if textual is not None:
            raise NoSeries(f"{log.source}: the column {textual!r} holds no number (text or empty cells only)")
        if log.format in ("tensorboard-csv", "tensorboard-json") and "Value" in series:
            raise NoSeries(
                f"{log.source}: one scalar downloaded from TensorBoard, and its file name does not say which "
                "(TensorBoard names it run-<run>-tag-<tag>); if it is the training loss, pass --metric Value"
            )
        if log.format == "hf-trainer-state":
            raise NoSeries(f"{log.source}: {_no_training_logs(log)}; found {_listing(series)}; pass --metric NAME")
        raise NoSeries(
            f"{log.source}: no series looks like a training loss; found {_listing(series)}; pass --metric NAME"
        )
    return found


def _no_training_logs(log: Log) -> str:
    """Why a trainer_state.json holds evaluations but no training loss: the Trainer logs the loss
    every logging_steps steps (500 by default), and a run shorter than that logs none."""
    step, every = log.hparams.get("global_step"), log.hparams.get("logging_steps")
    if isinstance(step, int | float) and isinstance(every, int | float) and step < every:
        return (
            f"log_history holds no training loss: global_step {fmt_step(step)} < logging_steps {fmt_step(every)}, "
            "so the Trainer logged none (lower logging_steps)"
        )
    return "log_history holds no training loss (only evaluations and the run's summary)"


def _denser_epoch_series(series: dict[str, Series], name: str, warnings: list[str]) -> str:
    """Lightning logs `X_step` every `log_every_n_steps` and `X_epoch` every epoch: with fewer
    steps in a run than that stride allows for, the per-step series has fewer points than the
    per-epoch one, which is then the better curve."""
    if not name.endswith("_step"):
        return name
    sibling = name[: -len("_step")] + "_epoch"
    if sibling not in series or len(series[sibling]) <= len(series[name]):
        return name
    warnings.append(
        f"{name!r} holds {len(series[name])} point(s) and {sibling!r} {len(series[sibling])}: judging "
        f"{sibling!r} (log every few steps to judge the steps: Lightning's log_every_n_steps)"
    )
    return sibling


def _listing(series: dict[str, Series], most: int = 12) -> str:
    names = sorted(series)
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "") if names else "none"


def _val_metric(log: Log, kept: dict[str, Series], train: str) -> str | None:
    hinted = log.hints.get("val")
    if hinted == train:  # the validation loss asked for as the metric: no second curve beside it
        return None
    if hinted in kept:
        return hinted
    return naming.find_val_loss((k for k in kept if k != train), train, {k: len(s) for k, s in kept.items()})


def _pick_segment(source: str, count: int, segment: int | None) -> int:
    if segment is None:
        return count
    index = segment if segment > 0 else count + 1 + segment
    if not 1 <= index <= count:
        raise NoSeries(
            f"{source}: --segment {segment} asked for, but the log holds {count} run(s): "
            f"give 1 to {count} (1 the first), or -1 to -{count} (-1 the last)"
        )
    return index


# How each writer is told to log its first step too (where it has a setting for it).
FIRST_STEP_SETTING = {
    "hf-trainer-state": " (HuggingFace Trainer: logging_first_step=True)",
    "text-hf": " (HuggingFace Trainer: logging_first_step=True)",
    "lightning-csv": " (Lightning: Trainer(log_every_n_steps=1), or log the first batch's loss yourself)",
}


def _writer(fmt: str, metric: str) -> str:
    """The writer whose setting the late-start note names: the HuggingFace Trainer also writes
    TensorBoard files, its loss under 'train/loss'."""
    return "hf-trainer-state" if fmt == "tensorboard" and metric == "train/loss" else fmt


def _starts_late(s: Series, step_kind: str, hparams: dict[str, Any]) -> bool:
    """Whether the metric's first point comes after the first updates (what chooses the late-start
    models, :func:`lrdoctor.detect.log_kind`). On an axis of epochs, the HF Trainer's closing summary
    tells one step from a stride of k: a log of every step begins at the first."""
    if step_kind not in LATE_AXES or not starts_late(s.steps, epochs=step_kind == "epoch"):
        return False
    steps = _steps_run(hparams) if step_kind == "epoch" else None
    if steps is None or steps / len(s) >= EVERY_STEP:
        return True
    # A log of every step that begins after a resume: its first point's step, from the epochs of
    # the summary (less the half hundredth an epoch printed to two decimals may be off by; the
    # points were spread since), is well past the first.
    epochs = hparams.get("epoch")
    if not (isinstance(epochs, int | float) and math.isfinite(epochs) and epochs > 0):
        return False
    per_epoch = steps / float(epochs)
    return float(s.steps[0]) * per_epoch - 0.005 * per_epoch >= EVERY_STEP


# A log of a point every this many optimizer steps or more began after the first updates; one of
# every step began at the first.
EVERY_STEP = 1.5


def _steps_run(hparams: dict[str, Any]) -> float | None:
    """The optimizer steps of the run, from the HF Trainer's summary (train_runtime seconds at
    train_steps_per_second), else None. (Its epochs, printed to two decimals, are too coarse to
    place the first point within one step.)"""
    runtime, rate = hparams.get("train_runtime"), hparams.get("train_steps_per_second")
    if not all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in (runtime, rate)):
        return None
    return float(runtime) * float(rate)


def _late_start(s: Series, step_kind: str, fmt: str) -> str:
    """The note for a metric whose first point comes after the first updates."""
    first = float(s.steps[0])
    return (
        f"{s.name!r} is first logged at {step_kind} {fmt_step(first)}: the updates before it are not in the log, so "
        "the start level is not known (its first value stands in for it) and a blow-up in the first "
        f"steps can be missed; log the first step too{FIRST_STEP_SETTING.get(_writer(fmt, s.name), '')}, "
        "or, for a resumed run, diagnose the log from the start of training"
    )


def _spread_coarse_steps(
    series: dict[str, Series], name: str, kind: StepKind, warnings: list[str]
) -> tuple[dict[str, Series], StepKind]:
    """An axis coarser than the writes: most points of the metric share their epoch with the
    point written before them, with other values (an epoch printed to two decimals), or every
    point has one step (TensorBoard's add_scalar or MLflow's log_metric without a step: step
    0). Those are not one value written again; each run of writes is spread evenly, in write
    order, from its epoch towards the next one (with one step for all, one step per point);
    every other series takes the place of the metric's point written last before it, so that
    the rate and the validation loss stay where they were written. On an axis of steps with
    several values, a few points sharing a step (under 16 as a rule) are other writers' (DDP
    ranks, a logger called per micro-batch): the latest write of each step is kept, as for a
    resume; many (an epoch number given as the step of every batch) are spread as above. With
    the axis: points in write order (an index) where every point had one value of it."""
    s = series[name]
    if len(s) < 8:
        return series, kind
    same = s.steps[1:] == s.steps[:-1]  # the usual log (steps rising) leaves here, at one pass
    if not same.any() or not (s.seq[1:] > s.seq[:-1]).all():
        return series, kind
    if np.count_nonzero(same) < 0.5 * len(s) and not (kind == "epoch" and _hundredths(s.steps)):
        return series, kind
    if (s.values[1:][same] == s.values[:-1][same]).mean() > 0.5:
        return series, kind
    first = np.flatnonzero(np.concatenate([[True], ~same]))  # where each run of one step begins
    sizes = np.diff(np.append(first, len(s)))
    if kind == "step" and len(first) > 1 and np.median(sizes) < 16:
        return series, kind  # a few writes per step: ranks or micro-batches, each step's latest kept
    at = s.steps[first]
    rises = np.diff(at)
    stride = float(np.median(rises[rises > 0])) if (rises > 0).any() else float(sizes.max())
    span = np.where(np.append(rises, stride) > 0, np.append(rises, stride), stride)
    group = np.repeat(np.arange(len(first)), sizes)
    within = np.arange(len(s)) - first[group]
    # (points in write order where all had one value: numbered from 0, as a log without steps is)
    x = at[group] + span[group] * within / sizes[group] if len(first) > 1 else within.astype(np.float64)
    moved = {}
    for key, other in series.items():
        # Each point at the step of the metric's point written last before it (or with it).
        steps = x if other is s else x[np.maximum(np.searchsorted(s.seq, other.seq, side="right") - 1, 0)]
        moved[key] = Series(other.name, steps, other.values, other.seq)
    if len(first) == 1:
        warnings.append(
            f"every point of {name!r} is at {axis_unit(kind)} {fmt_step(at[0])}: "
            + ("no step was given (TensorBoard's add_scalar without global_step?); " if kind == "step" else "")
            + "read in write order, one point after another"
        )
        return moved, "index"
    else:
        why = (
            "printed to two decimals, as the HuggingFace Trainer rounds it"
            if kind == "epoch" and _hundredths(s.steps)
            else f"the step is written coarser than the points: {len(first)} distinct values; "
            "an epoch given as the step?"
        )
        warnings.append(
            f"{int(same.sum())} of {len(s)} points of {name!r} share their {axis_unit(kind)} with the point before "
            f"({why}); each {axis_unit(kind)}'s points are spread evenly in write order up to the next"
        )
    return moved, kind


def _hundredths(epochs: np.ndarray) -> bool:
    """Fractional epochs printed to two decimals, as the HuggingFace Trainer's console dicts have
    them (`round(epoch, 2)`): from 100 points an epoch some share their epoch with the point before,
    from 200 all do; each is a point of its own, not one written again."""
    finite = epochs[np.isfinite(epochs)]
    scaled = finite * 100
    return (
        len(finite) > 0
        and bool(np.all(np.abs(scaled - np.round(scaled)) < 1e-6))
        and np.count_nonzero(finite % 1) > 0.5 * len(finite)
    )


# A loss that starts this large (its first points, before any rate could blow it up) is past what a
# loss is once its terms are scaled (a cross-entropy of a few units, a squared error on normalised
# targets): a term left unscaled, or targets in raw units, which no learning rate fixes (a
# physics-informed loss of 3.8e25 that moved 0.0% in 535 steps, told "too low, 3160x higher").
HUGE_START = 1e12
START_POINTS = 5
# ... and that ended above this share of its start (a loss that came down tenfold was trained).
KEPT_SHARE = 0.1


def _scale_note(loss: Series) -> list[str]:
    """A note where the loss starts and ends beyond HUGE_START, finite at both (a loss non-finite
    at either end blew up, and its first values may be the blow-up's; one that came down far
    was trained, whatever its units)."""
    head, tail = loss.values[:START_POINTS], loss.values[-START_POINTS:]
    if not len(head) or not np.isfinite(head).all() or not np.isfinite(tail).all():
        return []
    with np.errstate(over="ignore"):  # (the middle two of 1e308s average past the float's top)
        start, end = float(np.median(np.abs(head))), float(np.median(np.abs(tail)))
    if not (math.isfinite(start) and math.isfinite(end)) or start < HUGE_START:
        return []
    if end < max(HUGE_START, KEPT_SHARE * start):  # (a loss that came down far was trained, whatever its units)
        return []
    return [
        f"{loss.name!r} starts at about {start:.2g}: a loss this large usually holds a term left unscaled (or "
        "targets in raw units), which no learning rate fixes; check its scale before acting on the verdict"
    ]


def _describe(s: Series, lo: float, hi: float, index: int) -> Segment:
    steps = s.steps[(s.seq >= lo) & (s.seq < hi)]
    return Segment(index, len(steps), float(steps.min()), float(steps.max()))


def _latest_writes(s: Series, warnings: list[str] | None, unit: str = "step") -> Series:
    """Drop every point that a later write supersedes (same or later step written after it);
    `unit`: what the axis counts, as the notes name it."""
    if len(s) < 2:
        return s
    if not (s.seq[1:] >= s.seq[:-1]).all():  # already in write order: no sort, no copies
        s = s.take(np.argsort(s.seq, kind="stable"))
    later_min = np.minimum.accumulate(s.steps[::-1])[::-1]
    keep = np.ones(len(s), dtype=bool)
    keep[:-1] = s.steps[:-1] < later_min[1:]
    dropped = int((~keep).sum())
    if dropped and warnings is not None:
        back = np.flatnonzero(s.steps[1:] <= s.steps[:-1]) + 1
        # Only steps written again right after themselves, more than once (one such repeat is as
        # likely a run resumed from its last step, unless it is the first step: nothing to resume):
        if (s.steps[back] == s.steps[back - 1]).all() and (len(back) > 1 or back[0] == 1):
            why = (
                f"at {unit} {fmt_step(s.steps[1])} (a run started again from its first log, or a logger called twice)"
                if len(back) == 1
                else f"at the same {unit} (two writers to one file, or a logger called twice per step)"
            )
            warnings.append(
                f"{dropped} point(s) of {s.name!r} were written twice in a row {why}; keeping the latest write "
                f"of each {unit}"
            )
        else:
            warnings.append(
                f"{dropped} point(s) of {s.name!r} were written again later (resumed at {unit} "
                f"{fmt_step(s.steps[back[0]])}); keeping the latest write of each {unit}"
            )
    return s.take(keep) if dropped else s


# The HuggingFace Trainer's own logs: its trainer_state.json and its console's dict prints.
HF_FORMATS = ("hf-trainer-state", "text-hf")
# A logged loss this far above 0 that the next log reports as exactly 0.0: no window's mean falls so.
HF_ZERO_JUMP = 0.01


def _fix_hf_zero_loss(series: dict[str, Series], name: str, warnings: list[str], fmt: str = "") -> dict[str, Series]:
    """HF Trainer logs loss 0.0 when every step in the window was NaN (its NaN filter keeps none),
    and since 4.38 a NaN grad_norm beside it. Without a grad_norm (earlier versions), in the
    Trainer's own logs, a loss 0.0 to the end of the log from a 0.0 that came straight after a loss
    of 0.01 or more, or that an evaluation found NaN at or after, is read as NaN too."""
    grad = next((s for k, s in series.items() if "_".join(naming.tokens(k)).endswith("grad_norm")), None)
    loss = series[name]
    zero = loss.values == 0.0
    if not zero.any():
        return series
    if grad is not None:
        bad = zero & np.isin(loss.steps, grad.steps[np.isnan(grad.values)])
        why = "with a NaN grad norm at the same step"
    elif fmt in HF_FORMATS:
        bad = _zeros_of_nan_windows(loss, series, name)
        why = "straight after a loss above 0.01, or before an evaluation that was NaN"
    else:
        return series
    if not bad.any():
        return series
    values = loss.values.copy()
    values[bad] = np.nan
    warnings.append(
        f"{int(bad.sum())} point(s) of {name!r} read 0.0 {why}: "
        "the trainer logs 0.0 when every step in the window was NaN; read as NaN"
    )
    return {**series, name: Series(name, loss.steps, values, loss.seq)}


def _zeros_of_nan_windows(loss: Series, series: dict[str, Series], name: str) -> np.ndarray:
    """The exact zeros of an HF loss logged without a grad norm that stand for NaN windows."""
    zero = loss.values == 0.0
    before = np.r_[np.nan, loss.values[:-1]]
    evals = [
        s.steps[np.isnan(s.values)]
        for k, s in series.items()
        if k != name and "_".join(naming.tokens(k)) in ("eval_loss", "val_loss", "validation_loss")
    ]
    nan_evals = np.concatenate(evals) if evals else np.zeros(0)
    last_nan_eval = float(nan_evals.max()) if len(nan_evals) else -np.inf
    first = np.flatnonzero(zero & ((before >= HF_ZERO_JUMP) | (loss.steps <= last_nan_eval)))
    # A dead run logs 0.0 to its end; a healthy one that fits its batches to 0.0 logs small
    # losses between its zeros (logging_steps=1 logs each batch's own).
    if not len(first) or not zero[first[0] :].all():
        return np.zeros(len(zero), dtype=bool)
    return zero & (np.arange(len(zero)) >= first[0])
