"""Helpers shared by the readers: building series from rows, parsing numbers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from lrdoctor.run import Series, fmt_step
from lrdoctor.source import decode_text, read_regular

# orjson is a dependency, several times faster than json on large files; large JSON Lines and
# text logs parse their numbers with it. It rejects NaN tokens (json takes those); without it,
# json and float() read everything.
try:
    import orjson

    FAST_LOADS: Callable[[bytes | bytearray | memoryview], Any] | None = orjson.loads
except ImportError:  # pragma: no cover
    FAST_LOADS = None

# Cells that mean "no value here" rather than a value (Keras writes NA, pandas writes empty).
ABSENT = frozenset({"", "na", "n/a", "none", "null", "-"})

# Step names of trainers' loggers besides the usual ones: HF Trainer's step as W&B records it,
# and console lines 'train_step=5 train_loss=2.3', 'Train Step: 5 Loss: 2.3'.
TRAIN_STEP_KEYS = ("train/global_step", "train/step", "train_step", "Iteration")
# Names that carry the step axis, in order of preference.
STEP_KEYS = (
    "global_step",
    "step",
    "_step",
    "iteration",
    "iter",
    "it",
    "steps",
    "current_steps",  # LLaMA-Factory's trainer_log.jsonl
    "global_step/max_steps",  # ms-swift's logging.jsonl ("1/2353")
    "trainer/global_step",
    *TRAIN_STEP_KEYS,
    "Step",
    "batch",
    "batch_idx",
    "training_iteration",  # Ray Tune's count of reports
)
EPOCH_KEYS = ("epoch", "Epoch", "EPOCH", "epochs")
COUNTERS = frozenset((*STEP_KEYS, *EPOCH_KEYS))
# A batch counter (within the epoch, as hand-written loops log it; the epoch beside it places it),
# or, held constant, a batch size: no step then.
BATCH_KEYS = frozenset({"batch", "batch_idx"})


def usable_step_keys(columns: Mapping[str, tuple[np.ndarray, np.ndarray]], keys: Sequence[str]) -> tuple[str, ...]:
    """`keys` without a batch key that cannot place the records: one that goes back with no
    epoch beside it (a counter that restarts would read as new runs) or whose values never
    change (a batch size, not a counter)."""
    with_epoch = any(k in columns for k in EPOCH_KEYS)
    out = []
    for key in keys:
        if key in BATCH_KEYS and key in columns:
            values, present = columns[key]
            seen = values[present & np.isfinite(values)]
            rising = bool((np.diff(seen) >= 0).all())  # a running count of batches needs no epoch
            if not (with_epoch or rising) or len(seen) < 2 or (seen == seen[0]).all():
                continue
        out.append(key)
    return tuple(out)


def to_float(value: object) -> float | None:
    """A cell or JSON value as a float, None when it holds no number (absent, text, bool)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer beyond float64: infinite, as float("1e400") reads
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        text = value.strip().strip('"').rstrip("%")
        if text.lower() in ABSENT:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


def rows_to_series(
    rows: Iterable[Mapping[str, object]],
    *,
    step_keys: tuple[str, ...] = STEP_KEYS,
    unplaced: list[int] | None = None,
    empty: list[str] | None = None,
) -> tuple[dict[str, Series], str]:
    """Series from dict-like records (JSON, JSONL): every numeric key a series.

    Returns the series and the step kind: 'step' when records carry a step key, 'epoch'
    when they carry only an epoch, 'index' when neither (the record number is the step).
    A record whose step (or, lacking one, epoch) is NaN or Inf cannot be placed: it is left
    out, and its index (0-based, in `rows`) is appended to `unplaced`. A record's `seq` is its
    number among the placed records; series come in the order their first value was written.
    A key that is null wherever it is written (pandas writes NaN as null) has no series; its name
    is appended to `empty`.

    The work is done a key at a time over all records (a list per key, converted by numpy),
    not a value at a time: a million records take a fraction of a second.
    """
    records = rows if isinstance(rows, list) else list(rows)
    raw = _raw_columns(records)
    if empty is not None:
        empty.extend(key for key, cells in raw.items() if all(cell is None for cell in cells))
    columns = {key: _counter_column(cells) if key in COUNTERS else _column(cells) for key, cells in raw.items()}
    phases = phase_cells(raw)
    if phases is not None:
        columns = split_phases(columns, phases)

    def position(key: str, first: int) -> int:
        names = list(records[first])
        if key not in names:  # an evaluation's value moved under val_<name>: where <name> stands
            key = key.split("_", 1)[-1]
        return names.index(key) if key in names else len(names)

    return columns_to_series(columns, len(records), step_keys=step_keys, unplaced=unplaced, position=position)


def columns_to_series(
    columns: Mapping[str, tuple[np.ndarray, np.ndarray]],
    n: int,
    *,
    step_keys: tuple[str, ...] = STEP_KEYS,
    unplaced: list[int] | None = None,
    position: Callable[[str, int], int] | None = None,
) -> tuple[dict[str, Series], str]:
    """Series from n records held as columns (values, present): the rules of :func:`rows_to_series`.
    `position(key, record)` is where `key` stands in that record (default: the columns' order)."""
    columns = {key: col for key, col in columns.items() if col[1].any()}
    steps, kind, placed = _steps(columns, n, usable_step_keys(columns, step_keys))
    if unplaced is not None:
        unplaced.extend(np.flatnonzero(~placed).tolist())
    seq = (np.cumsum(placed) - 1).astype(np.float64)
    series: dict[str, Series] = {}
    order = []
    for rank, (key, (values, present)) in enumerate(columns.items()):
        mask = present & placed
        if mask.all():  # every record: the arrays as they are
            first = 0
            series[key] = Series(key, steps, values, seq)
        elif mask.any():
            first = int(np.argmax(mask))
            series[key] = Series(key, steps[mask], values[mask], seq[mask])
        else:
            continue
        order.append((first, rank if position is None else position(key, first), key))
    return {key: series[key] for _, _, key in sorted(order)}, kind


# A key or column that names each record's phase (mmcv's log.json "mode": "train" / "val"), and
# the phases it names: a record of an evaluation holds the evaluation's values under the
# training's names ('loss'), which are its validation (or test) values.
PHASE_KEYS = ("mode", "phase", "split", "stage")
TRAIN_PHASES = frozenset({"train", "training", "fit"})
EVAL_PHASES = frozenset({"val", "valid", "validate", "validation", "eval", "evaluate", "evaluation", "dev"})
TEST_PHASES = frozenset({"test", "testing"})
_EVAL_NAMED = re.compile(r"^(val|valid|validation|eval|evaluation|test|dev)[_/]", re.IGNORECASE)


def phase_cells(raw: Mapping[str, Sequence[object]]) -> Sequence[object] | None:
    """The cells of the first phase key (PHASE_KEYS) that names both training and evaluation
    records, or None where no key does, or where the log names its evaluations' values itself
    (val_loss beside the phase: then the phase is something else, such as model.training stamped
    on each record)."""
    if any(_EVAL_NAMED.match(name) for name in raw):
        return None
    for key in PHASE_KEYS:
        cells = next((c for name, c in raw.items() if name.strip().lower() == key), None)
        if cells is None:
            continue
        names = {c.strip().lower() for c in cells if isinstance(c, str)}
        if names & TRAIN_PHASES and names & (EVAL_PHASES | TEST_PHASES):
            return cells
    return None


def split_phases(
    columns: Mapping[str, tuple[np.ndarray, np.ndarray]], cells: Sequence[object]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The columns with each evaluation record's values moved under `val_<name>` (`test_<name>` for
    a test phase), as the text reader names an evaluation line's. Its learning rate is the
    training's, already logged, and left out; a step that does not advance from one evaluation to
    the next, where the record also holds an epoch, counts the evaluation's own batches, and is left
    out too, so that the record takes the step written before it (:func:`_steps`)."""
    phase = [c.strip().lower() if isinstance(c, str) else "" for c in cells]
    test = np.fromiter((p in TEST_PHASES for p in phase), dtype=bool, count=len(phase))
    evaluation = test | np.fromiter((p in EVAL_PHASES for p in phase), dtype=bool, count=len(phase))
    with_epoch = np.zeros(len(phase), dtype=bool)
    for key in EPOCH_KEYS:
        if key in columns:
            with_epoch |= columns[key][1]
    # An evaluation's step that does not advance from one evaluation to the next counts its own
    # batches (mmcv writes the validation loader's length, 25 each time): left out, where the
    # record has an epoch to be placed by. One that advances is the training's step, and kept.
    own_count = np.zeros(len(phase), dtype=bool)
    for key in STEP_KEYS:
        if key in columns:
            values, present = columns[key]
            at = present & evaluation
            steps = values[at]
            if len(steps) >= 2 and bool(np.all(np.diff(steps) <= 0)):
                own_count |= at & with_epoch
            break
    from lrdoctor.naming import lr_series

    rates = set(lr_series(columns))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    moved: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, (values, present) in columns.items():
        if key in EPOCH_KEYS or _EVAL_NAMED.match(key):
            out[key] = (values, present)
        elif key in STEP_KEYS:
            out[key] = (values, present & ~own_count)
        else:
            out[key] = (values, present & ~evaluation)
            if key in rates:
                continue
            for prefix, rows in (("val_", evaluation & ~test), ("test_", test)):
                if (present & rows).any():
                    moved[prefix + key] = (values, present & rows)
    out.update(moved)  # (no name is taken: a log that names its evaluations' values is not split)
    return out


def _raw_columns(records: list[Mapping[str, object]]) -> dict[str, list[object]]:
    """Each key's values over the records, None where a record lacks the key."""
    return {key: [r.get(key) for r in records] for key in dict.fromkeys(chain.from_iterable(records))}


def _column(raw: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """One key's values over all records as floats, and where a number is present."""
    types = set(map(type, raw))
    if types <= _PLAIN_NUMBERS:
        try:
            values = np.array(raw, dtype=np.float64)  # None (absent) becomes NaN
        except OverflowError:  # an integer beyond float64: one value at a time
            pass
        else:
            if type(None) not in types:
                return values, np.ones(len(raw), dtype=bool)
            return values, np.fromiter((v is not None for v in raw), dtype=bool, count=len(raw))
    floats = [to_float(v) for v in raw]
    present = np.fromiter((v is not None for v in floats), dtype=bool, count=len(raw))
    return np.array([math.nan if v is None else v for v in floats], dtype=np.float64), present


_PLAIN_NUMBERS = frozenset({float, int, type(None)})
# A count written with its total, "3/300" (SlowFast's json_stats epochs, ms-swift's
# global_step/max_steps): the count.
OF_TOTAL = re.compile(r"\s*(\d+)\s*/\s*\d+\s*")


def _counter_column(raw: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """A step or epoch column, its "3/300" cells read as their count."""
    if any(isinstance(v, str) and "/" in v for v in raw):
        raw = [m.group(1) if isinstance(v, str) and (m := OF_TOTAL.fullmatch(v)) else v for v in raw]
    return _column(raw)


def _steps(
    columns: Mapping[str, tuple[np.ndarray, np.ndarray]], n: int, step_keys: tuple[str, ...]
) -> tuple[np.ndarray, str, np.ndarray]:
    """Each record's step, the run's step kind, and which records can be placed.

    Per record: the first step key (in `step_keys` order) holding a finite number; a record that
    names step keys but none finite cannot be placed; lacking step keys, the epoch keys likewise;
    lacking both, the record's index. A key finite on no record at all is taken as absent. In a
    log of steps, a record that has only an epoch (a validation record written at the end of each
    epoch, between training records of every step) takes the step of the last record with a step
    written before it: its epoch number is no step.
    """
    steps = np.arange(n, dtype=np.float64)
    placed = np.ones(n, dtype=bool)
    # A counter key with no finite number on any record (a step written as NaN throughout) counts
    # as absent: it places nothing, and the next key (an epoch), or the record's index, does.
    counters = (k for k in (*step_keys, *EPOCH_KEYS) if k in columns)
    counted = {k for k in counters if np.isfinite(columns[k][0][columns[k][1]]).any()}
    open_ = np.ones(n, dtype=bool)  # records whose step is not settled yet
    kinds = []
    by = {}
    epochs = steps  # each record's epoch (NaN where it has none), from the loop's last pass
    for keys, kind in ((step_keys, "step"), (EPOCH_KEYS, "epoch")):
        named = np.zeros(n, dtype=bool)
        found = np.zeros(n, dtype=bool)
        value = np.full(n, np.nan)
        for key in keys:
            if key not in counted:
                continue
            values, present = columns[key]
            named |= present
            take = present & np.isfinite(values) & ~found
            value[take] = values[take]
            found |= take
        use = open_ & found
        if use.any():
            kinds.append(kind)
        epochs = value
        steps[use] = value[use]
        by[kind] = use
        placed[open_ & named & ~found] = False
        open_ &= ~named
    if "step" in kinds and "epoch" in kinds:
        stepped, epoch_only = by["step"], by["epoch"]
        last_stepped = int(np.flatnonzero(stepped)[-1])
        if (np.flatnonzero(epoch_only) < last_stepped).any():
            # Written between the steps: each takes the step of the last record with a step
            # before it (the first step's, where none is), as many records of one epoch may.
            last = np.maximum.accumulate(np.where(stepped, np.arange(n), -1))
            first = int(np.argmax(stepped))
            steps[epoch_only] = steps[np.where(last[epoch_only] >= 0, last[epoch_only], first)]
        else:  # all appended after the last step: placed by their epochs
            steps[epoch_only] = steps_of_epochs(steps[stepped], epochs[stepped], epochs[epoch_only])
    kind = "step" if "step" in kinds else "epoch" if "epoch" in kinds else "index"
    return steps, kind, placed


def steps_of_epochs(steps: np.ndarray, epochs: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The step of each epoch in `wanted`, for records written after the last step.

    Where steps name their epoch (`epochs`, NaN where a record names none): the last step whose
    epoch is at or before it, the first step for an epoch before them all. Where none does: the
    epochs spread evenly over the steps, the last one wanted at the last step (epochs 0, 1, 2 of
    steps 1-300 at 100, 200, 300), one epoch being the smallest gap between those wanted.
    """
    have = np.isfinite(epochs)
    if have.any():
        order = np.lexsort((steps[have], epochs[have]))
        at, of = steps[have][order], epochs[have][order]
        last = np.maximum.accumulate(at)
        i = np.searchsorted(of, wanted, side="right") - 1
        return np.where(i >= 0, last[np.maximum(i, 0)], at.min())
    end = float(steps.max())
    distinct = np.unique(wanted[np.isfinite(wanted)])
    if len(distinct) < 2:
        return np.full(len(wanted), end)
    gap = float(np.diff(distinct).min())
    base = float(distinct[0]) - gap  # the epoch before the first one wanted: the start of the run
    # In halves, and as a weighted mean: no difference of two huge values overflows.
    share = np.clip((wanted / 2 - base / 2) / (float(distinct[-1]) / 2 - base / 2), 0.0, 1.0)
    # The run's steps: from one stride before its first logged step to its last.
    taken = np.unique(steps)
    stride = float(np.diff(taken).min()) if len(taken) > 1 else 1.0
    start = float(taken[0]) - stride
    return np.round(start * (1 - share) + end * share)


# A log that ends before this share of the steps (or epochs) its run was set for says so (a
# checkpoint saved a few steps before the end, or a last partial epoch, does not).
UNFINISHED = 0.9
# How a note names the last of several runs appended in one log (normalize drops it where another
# run is judged).
LAST_RUN = "the last run in this log"


def unfinished_note(
    label: str,
    unit: str,
    last: float,
    planned: float,
    setting: str,
    why: str = "",
    *,
    done: float | None = None,
    what: str = "the log",
) -> str | None:
    """A note where the log ends well before the `planned` steps (or epochs) of the run's own
    `setting` (max_steps, total_steps, epochs): a run still training, or one stopped early, whose
    shape is not a whole run's. `last`: its last step as logged; `done`: how many that makes, where
    the log counts from 0; `why`, where the log says which."""
    done = last if done is None else done
    if not (math.isfinite(done) and math.isfinite(planned)) or not 0 < done < UNFINISHED * planned:
        return None
    why = why or "a run still training, or one stopped early"
    return (
        f"{label}: {what} ends at {unit} {fmt_step(last)} of the {fmt_step(planned)} the run was set for ({setting}): "
        f"{why}; judged as it stands (a run still training reads as a slow one)"
    )


# TensorBoard's "download data" links: one scalar as CSV (Wall time,Step,Value) or as JSON
# ([[wall time, step, value], ...]), in a file named run-<run>-tag-<tag>.csv (or .json), each
# '/' of the run and tag written '_'.
TENSORBOARD_DOWNLOAD_HEADER = ["Wall time", "Step", "Value"]
_DOWNLOAD_NAME = re.compile(r"^run-(.*)-tag-(.+?)(?: \(\d+\))?\.(?:csv|json)$", re.IGNORECASE)
# Run folders that hold a run's evaluation, beside its training folder (Keras: train/, validation/).
EVAL_RUNS = frozenset({"validation", "valid", "eval", "evaluation"})


def download_tag(file_name: str) -> str:
    """The scalar's name in a TensorBoard download's file name: its tag, under its run where the
    run's folder is an evaluation's (Keras writes `validation/epoch_loss` beside
    `train/epoch_loss`); "Value" where the name says neither. A browser's " (1)" is no part of it."""
    found = _DOWNLOAD_NAME.match(file_name)
    if found is None:
        return "Value"
    run, tag = found.groups()
    last = run.rsplit("_", 1)[-1]
    return f"{last}/{tag}" if last.lower() in EVAL_RUNS else tag


def settings_beside(path: Path | None, names: tuple[str, ...] = ("hparams.yaml",)) -> dict[str, object]:
    """Top-level scalar `key: value` pairs of a Lightning hparams.yaml next to the metrics (or of
    another settings file of `names`)."""
    if path is None:
        return {}
    candidates = [
        *(path.with_name(name) for name in names),
        path.with_name(path.name.replace("metrics.csv", "hparams.yaml")),
    ]
    yaml_path = next((p for p in candidates if p != path and p.is_file()), None)
    try:
        data = None if yaml_path is None else read_regular(yaml_path)
    except OSError:
        return {}
    if data is None:  # none, a FIFO or device, or over a MiB
        return {}
    text = decode_text(data)
    params: dict[str, object] = {}
    for line in text.splitlines():
        if line[:1].isspace() or ":" not in line or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(":")
        number = to_float(value)
        params[key.strip()] = number if number is not None else value.strip()
    return params
