"""Long ("tidy") tables: a row per point, the metric named in a column of its own.

tbparse's ``SummaryReader(...).scalars`` (``step, tag, value``; ``wall_time`` and ``dir_name``
where asked for) and MLflow's metric history (``key, value, step, timestamp``; MLflow 3 adds
``run_id``, ``model_id`` and the dataset's name and digest) are saved this way with pandas'
``to_csv`` or ``to_json``. Each tag becomes a series, on the table's step. In such a table every
row is a logged point: an empty value (pandas writes NaN so) is a NaN, not a gap.

A run column (tbparse's ``dir_name``) whose last folder is a phase (``train``, ``validation``)
names the phase of one run, as the TensorBoard reader names a Keras run's ``train/`` and
``validation/`` folders; of several runs, the first is read, with a note.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrdoctor.readers._common import (
    ABSENT,
    COUNTERS,
    STEP_KEYS,
    _counter_column,
    _steps,
    to_float,
    usable_step_keys,
)
from lrdoctor.run import Series

NAME_COLUMNS = ("tag", "key", "metric", "metric_name", "name")
VALUE_COLUMNS = ("value",)
RUN_COLUMNS = ("dir_name", "run", "run_id", "run_name")
# Columns beside them that are no metric: times, MLflow 3's model and dataset, pandas' index.
OTHER_COLUMNS = frozenset(
    {"wall_time", "timestamp", "time", "model_id", "dataset_name", "dataset_digest", "index", "", "unnamed: 0"}
)
PHASES = frozenset({"train", "training", "val", "valid", "validation", "eval", "evaluation", "test"})
# Records looked at to tell a long JSON table, and the share of them that must fit it.
SAMPLE = 1000
FIT = 0.9
SHOWN = 3


@dataclass(frozen=True)
class Layout:
    name: str
    value: str
    run: str | None
    counters: tuple[str, ...]


def long_layout(columns: Sequence[str]) -> Layout | None:
    """The layout where `columns` are a long table's: one name column, one value column, and
    nothing else but counters, times, a run and an index (any case: tbparse's `Step,Tag,Value`)."""
    lower = {c: c.strip().lower() for c in columns}
    names = [c for c in columns if lower[c] in NAME_COLUMNS]
    values = [c for c in columns if lower[c] in VALUE_COLUMNS]
    if len(names) != 1 or len(values) != 1:
        return None
    counters = tuple(c for c in columns if c in COUNTERS or lower[c] in COUNTERS)
    runs = [c for c in columns if lower[c] in RUN_COLUMNS]
    rest = set(columns) - {names[0], values[0], *counters, *runs}
    if any(lower[c] not in OTHER_COLUMNS for c in rest):
        return None
    return Layout(names[0], values[0], runs[0] if runs else None, counters)


def records_layout(records: Sequence[Mapping[str, object]]) -> Layout | None:
    """The layout of JSON records that are a long table's: most of them hold its name and value."""
    if not records:
        return None
    layout = long_layout(list(records[0]))
    if layout is None:
        return None
    sample = records[:SAMPLE]
    fitting = sum(layout.name in r and layout.value in r for r in sample)
    return layout if fitting >= FIT * len(sample) else None


def pivot_records(
    records: Iterable[Mapping[str, object]], layout: Layout, label: str
) -> tuple[dict[str, Series], str, list[str]]:
    """:func:`pivot` of JSON records."""
    header = [layout.name, layout.value, *([layout.run] if layout.run else []), *layout.counters]
    return pivot(([r.get(h) for h in header] for r in records), header, layout, label)


def json_number(value: object) -> float | None:
    """A JSON value as a point: null or an absent mark is a NaN; text is no number (None)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ABSENT):
        return math.nan
    return to_float(value)


def pivot(
    rows: Iterable[Sequence[object]],
    header: Sequence[str],
    layout: Layout,
    label: str,
    number: Callable[[object], float | None] = json_number,
) -> tuple[dict[str, Series], str, list[str]]:
    """The series of a long table's rows (cells in `header`'s order), its step kind, and notes."""
    at = {h: i for i, h in enumerate(header)}
    name_at, value_at = at[layout.name], at[layout.value]
    run_at = at.get(layout.run) if layout.run is not None else None
    counter_at = [at[c] for c in layout.counters]
    values: list[float] = []
    counters: list[list[object]] = [[] for _ in counter_at]
    by_tag: dict[str, list[int]] = {}
    runs: dict[object, None] = {}
    unnamed = text = no_step = 0
    for cells in rows:
        tag = cells[name_at]
        if not isinstance(tag, str) or not tag.strip():
            unnamed += 1
            continue
        tag = tag.strip()
        if run_at is not None:
            run, phase = _phase(cells[run_at])
            runs.setdefault(run)
            if run != next(iter(runs)):
                continue
            tag = f"{phase}/{tag}" if phase else tag
        value = number(cells[value_at])
        if value is None:
            text += 1
            continue
        raw = [cells[i] for i in counter_at]
        if counter_at and all(_blank(c) for c in raw):
            no_step += 1
            continue
        by_tag.setdefault(tag, []).append(len(values))
        values.append(value)
        for column, cell in zip(counters, raw, strict=True):
            column.append(None if _blank(cell) else cell)
    n = len(values)
    columns = {c: _counter_column(raw) for c, raw in zip(layout.counters, counters, strict=True)}
    steps, kind, placed = _steps(columns, n, usable_step_keys(columns, STEP_KEYS))
    seq = (np.cumsum(placed) - 1).astype(np.float64)
    array = np.array(values, dtype=np.float64)
    series: dict[str, Series] = {}
    for tag, found in by_tag.items():
        index = np.array(found, dtype=np.int64)
        index = index[placed[index]]
        if len(index):
            series[tag] = Series(tag, steps[index], array[index], seq[index])
    return series, kind, _notes(label, layout, list(runs), unnamed, text, no_step + int((~placed).sum()))


def pivot_frame(frame: Any, layout: Layout, label: str) -> tuple[dict[str, Series], str, list[str]] | None:
    """:func:`pivot` of a table pandas has parsed (its name and run columns as text), done on whole
    columns; None where a value or counter column holds text (the row-wise pivot says which)."""
    import pandas as pd

    numeric = [layout.value, *layout.counters]
    if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in numeric):
        return None
    names = frame[layout.name].str.strip()
    named = (names.notna() & (names != "")).fillna(False).to_numpy(dtype=bool)
    unnamed = int((~named).sum())
    tags = names.to_numpy(dtype=object)
    keep = named.copy()
    runs: list[object] = []
    if layout.run is not None:
        cells = frame[layout.run].to_numpy(dtype=object)
        codes, uniques = pd.factorize(cells[named], use_na_sentinel=False)
        split = [_phase(None if isinstance(u, float) and math.isnan(u) else u) for u in uniques]
        runs = list(dict.fromkeys(run for run, _ in split))
        first = np.array([run == runs[0] for run, _ in split], dtype=bool)
        phases = np.array([phase for _, phase in split], dtype=object)
        where = np.flatnonzero(named)
        keep[where] = first[codes]
        with_phase = where[phases[codes] != ""]
        tags[with_phase] = phases[codes[phases[codes] != ""]] + "/" + tags[with_phase]
    counters = {c: frame[c].to_numpy(dtype=np.float64) for c in layout.counters}
    if counters:
        stepped = np.logical_or.reduce([~np.isnan(v) for v in counters.values()])
        no_step = int((keep & ~stepped).sum())
        keep &= stepped
    else:
        no_step = 0
    values = frame[layout.value].to_numpy(dtype=np.float64)[keep]
    columns = {c: (v[keep], ~np.isnan(v[keep])) for c, v in counters.items()}
    steps, kind, placed = _steps(columns, len(values), usable_step_keys(columns, STEP_KEYS))
    seq = (np.cumsum(placed) - 1).astype(np.float64)
    codes, uniques = pd.factorize(tags[keep])
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(uniques)))
    series: dict[str, Series] = {}
    for k, tag in enumerate(uniques):
        index = order[bounds[k - 1] if k else 0 : bounds[k]]
        index = index[placed[index]]
        if len(index):
            series[str(tag)] = Series(str(tag), steps[index], values[index], seq[index])
    return series, kind, _notes(label, layout, runs, unnamed, 0, no_step + int((~placed).sum()))


def _phase(cell: object) -> tuple[object, str]:
    """(the run, the phase) of a run cell: 'version_0/validation' is run 'version_0', phase 'validation'."""
    if cell is None:  # (an empty cell: no run named)
        return "", ""
    if not isinstance(cell, str):
        return cell, ""
    head, _, last = cell.strip().replace("\\", "/").rstrip("/").rpartition("/")
    return (head, last) if last.lower() in PHASES else (cell.strip(), "")


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip().lower() in ABSENT)


def _notes(label: str, layout: Layout, runs: list[object], unnamed: int, text: int, unplaced: int) -> list[str]:
    notes = []
    if len(runs) > 1:
        others = ", ".join(repr(r) for r in runs[1 : 1 + SHOWN]) + (", ..." if len(runs) > 1 + SHOWN else "")
        notes.append(
            f"{label}: a table of {len(runs)} runs ({layout.run!r}); judged the first, {runs[0]!r} (the others: "
            f"{others}); save one run per file to judge each"
        )
    for count, what in (
        (unnamed, f"no {layout.name!r}"),
        (text, f"text for a {layout.value!r}"),
        (unplaced, "no step that is a finite number"),
    ):
        if count:
            notes.append(f"{label}: left out {count} row(s) with {what}")
    return notes
