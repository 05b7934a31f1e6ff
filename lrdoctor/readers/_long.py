"""Long ("tidy") tables: a row per point, the metric named in a column of its own.

tbparse's ``SummaryReader(...).scalars`` (``step, tag, value``; ``wall_time`` and ``dir_name``
where asked for) and MLflow's metric history (``key, value, step, timestamp``; MLflow 3 adds
``run_id``, ``model_id`` and the dataset's name and digest) are saved this way with pandas'
``to_csv`` or ``to_json``. Each tag becomes a series, on the table's step. In such a table every
row is a logged point: an empty value (pandas writes NaN so) is a NaN, not a gap.

A run column (tbparse's ``dir_name``) whose last folder is a phase (``train``, ``validation``)
names the phase of one run, as the TensorBoard reader names a Keras run's ``train/`` and
``validation/`` folders, and so does one that add_scalars wrote (``loss_train`` beside a ``loss``
tag); of several runs, the first is read, with a note. A table without a counter column places
each tag's points at their own count.

Two pivots give the same result (``tests/readers/test_long.py``): :func:`pivot`, row by row, for
small or damaged files and JSON, and :func:`pivot_frame`, on whole columns, for a large CSV file
pandas parses.
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
    """The layout of JSON records that are a long table's: its name, value and run columns the
    commonest among the first records, where most of them hold the name and value; its counters
    every counter those records hold (a first record may have none)."""
    sample = records[:SAMPLE]
    layouts: dict[frozenset[str], Layout | None] = {}
    for record in sample:
        keys = frozenset(record)
        if keys not in layouts:
            layouts[keys] = long_layout(list(record))
    found = [layout for layout in layouts.values() if layout is not None]
    if not found:
        return None
    layout = max(found, key=lambda f: sum(f.name in r and f.value in r for r in sample))
    if sum(layout.name in r and layout.value in r for r in sample) < FIT * len(sample):
        return None
    same = [f for f in found if (f.name, f.value) == (layout.name, layout.value)]
    counters = tuple(dict.fromkeys(c for f in same for c in f.counters))
    run = next((f.run for f in same if f.run is not None), None)
    return Layout(layout.name, layout.value, run, counters)


MISSING = object()  # a record without the value key (a null is a NaN; no key, no point)


def pivot_records(
    records: Iterable[Mapping[str, object]], layout: Layout, label: str
) -> tuple[dict[str, Series], str, list[str]]:
    """:func:`pivot` of JSON records."""
    header = [layout.name, layout.value, *([layout.run] if layout.run else []), *layout.counters]
    return pivot(([r.get(h, MISSING) for h in header] for r in records), header, layout, label)


def json_number(value: object) -> float | None:
    """A JSON value as a point: null or an absent mark is a NaN; text (or no value) is no number."""
    if value is MISSING:
        return None
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
    present: set[object] = set()
    if run_at is not None:  # (the runs the table holds decide what an add_scalars folder is)
        rows = list(rows)
        present = {_folder(cells[run_at]) for cells in rows if not _unnamed(cells[name_at])}
    for cells in rows:
        tag = cells[name_at]
        if not isinstance(tag, str) or not tag.strip():
            unnamed += 1
            continue
        tag = tag.strip()
        if run_at is not None:
            run, prefix = _run_of(cells[run_at], tag, present)
            runs.setdefault(run)
            if run != next(iter(runs)):
                continue
            tag = f"{prefix}/{tag}" if prefix else tag
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
    columns = {c: _counter_column(raw) for c, raw in zip(layout.counters, counters, strict=True)}
    found = {tag: np.array(rows_of, dtype=np.int64) for tag, rows_of in by_tag.items()}
    series, kind, unplaced = _series(found, np.array(values, dtype=np.float64), columns)
    return series, kind, _notes(label, layout, list(runs), unnamed, text, no_step + unplaced)


def pivot_frame(frame: Any, layout: Layout, label: str) -> tuple[dict[str, Series], str, list[str]] | None:
    """:func:`pivot` of a table pandas has parsed (its name and run columns as text), done on whole
    columns; None where a value or counter column holds text (the row-wise pivot says which). Text
    is handled once per distinct tag and run, never per row."""
    import pandas as pd

    numeric = [layout.value, *layout.counters]
    if not all(pd.api.types.is_numeric_dtype(frame[c]) for c in numeric):
        return None
    tag_codes, raw_tags = pd.factorize(frame[layout.name].to_numpy(dtype=object, na_value=None))
    clean = np.array([t.strip() if isinstance(t, str) else "" for t in raw_tags], dtype=object)
    named = (tag_codes >= 0) & np.append(clean != "", False)[tag_codes]  # (code -1: no cell)
    unnamed = int((~named).sum())
    if layout.run is not None:
        run_codes, run_cells = pd.factorize(frame[layout.run].to_numpy(dtype=object, na_value=None))
        run_codes = np.where(run_codes < 0, len(run_cells), run_codes)  # (an empty cell: its own code)
        cells = [*run_cells, None]
    else:
        run_codes, cells = np.zeros(len(tag_codes), dtype=np.int64), [None]
    # Each (run cell, tag) pair once: its run and the series it feeds.
    pair_codes, _ = pd.factorize(run_codes[named].astype(np.int64) * (len(clean) + 1) + tag_codes[named])
    firsts = _first_rows(pair_codes, int(pair_codes.max(initial=-1)) + 1)
    where = np.flatnonzero(named)
    present = {_folder(cells[c]) for c in np.unique(run_codes[named])}
    runs: list[object] = []
    pair_names: list[str] = []
    pair_runs: list[object] = []
    for row in firsts:
        tag = str(clean[tag_codes[where[row]]])
        run, prefix = _run_of(cells[run_codes[where[row]]], tag, present) if layout.run is not None else ("", "")
        pair_runs.append(run)
        pair_names.append(f"{prefix}/{tag}" if prefix else tag)
    runs = list(dict.fromkeys(pair_runs[k] for k in np.argsort(firsts)))  # in the order rows name them
    keep = np.zeros(len(tag_codes), dtype=bool)
    keep[where] = np.array([run == runs[0] for run in pair_runs], dtype=bool)[pair_codes] if len(pair_runs) else False
    name_codes = np.zeros(len(tag_codes), dtype=np.int64)
    series_names = list(dict.fromkeys(pair_names[k] for k in np.argsort(firsts)))
    index = {name: k for k, name in enumerate(series_names)}
    name_codes[where] = np.array([index[name] for name in pair_names], dtype=np.int64)[pair_codes]
    counters = {c: frame[c].to_numpy(dtype=np.float64) for c in layout.counters}
    no_step = 0
    if counters:
        stepped = np.logical_or.reduce([~np.isnan(v) for v in counters.values()])
        no_step = int((keep & ~stepped).sum())
        keep &= stepped
    values = frame[layout.value].to_numpy(dtype=np.float64)[keep]
    columns = {c: (v[keep], ~np.isnan(v[keep])) for c, v in counters.items()}
    kept = name_codes[keep]
    order = np.argsort(kept, kind="stable")
    bounds = np.cumsum(np.bincount(kept, minlength=len(series_names)))
    found = {name: order[bounds[k - 1] if k else 0 : bounds[k]] for k, name in enumerate(series_names)}
    found = {name: rows for name, rows in found.items() if len(rows)}
    # (the series in the order their first point comes, as row by row)
    found = dict(sorted(found.items(), key=lambda item: int(item[1][0])))
    series, kind, unplaced = _series(found, values, columns)
    return series, kind, _notes(label, layout, runs, unnamed, 0, no_step + unplaced)


def _first_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """The first row of each code."""
    first = np.full(count, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def _series(
    found: dict[str, np.ndarray], values: np.ndarray, columns: dict[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[dict[str, Series], str, int]:
    """Each tag's points on the table's step (a counter column's, whatever its case), the step
    kind, and the points that cannot be placed. With no counter, each tag on its own count."""
    if not columns:
        seq = np.arange(len(values), dtype=np.float64)
        own = {t: Series(t, np.arange(len(i), dtype=np.float64), values[i], seq[i]) for t, i in found.items() if len(i)}
        return own, "index", 0
    columns = {(c if c in COUNTERS else c.lower()): col for c, col in columns.items()}
    steps, kind, placed = _steps(columns, len(values), usable_step_keys(columns, STEP_KEYS))
    seq = (np.cumsum(placed) - 1).astype(np.float64)
    series: dict[str, Series] = {}
    for tag, index in found.items():
        index = index[placed[index]]
        if len(index):
            series[tag] = Series(tag, steps[index], values[index], seq[index])
    return series, kind, int((~placed).sum())


def _run_of(cell: object, tag: str, present: set[object]) -> tuple[object, str]:
    """(the run, the prefix of its series) of a run cell: 'version_0/validation' is run
    'version_0', phase 'validation'; 'loss_train' beside a 'loss' tag is what add_scalars writes
    (a folder per key, '<tag>_<key>', a tag's '/' written '_', in the run's folder), so the run
    is its parent, where the table holds that run too (`present`: every run folder it names);
    else it is a run of its own (a sweep's 'loss_lr0.1')."""
    folder = _folder(cell)
    if not isinstance(folder, str):
        return folder, ""
    head, _, last = folder.rpartition("/")
    if last.lower() in PHASES or (last.startswith(tag.replace("/", "_") + "_") and head in present):
        return head, last
    return folder, ""


def _folder(cell: object) -> object:
    """A run cell as a folder: '' for an empty cell, '/' for Windows' '\\', no trailing '/'."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):  # (pandas' empty cell: NaN)
        return ""
    return cell.strip().replace("\\", "/").rstrip("/") if isinstance(cell, str) else cell


def _unnamed(tag: object) -> bool:
    return not isinstance(tag, str) or not tag.strip()


def _blank(cell: object) -> bool:
    return cell is None or cell is MISSING or (isinstance(cell, str) and cell.strip().lower() in ABSENT)


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
        (text, f"no number under {layout.value!r}"),
        (unplaced, "no step that is a finite number"),
    ):
        if count:
            notes.append(f"{label}: left out {count} row(s) with {what}")
    return notes
