"""Helpers shared by the readers: building series from rows, parsing numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from lrdoctor.run import Series

# Cells that mean "no value here" rather than a value (Keras writes NA, pandas writes empty).
ABSENT = frozenset({"", "na", "n/a", "none", "null", "-"})

# Names that carry the step axis, in order of preference.
STEP_KEYS = (
    "global_step",
    "step",
    "_step",
    "iteration",
    "iter",
    "it",
    "steps",
    "trainer/global_step",
    "Step",
)
EPOCH_KEYS = ("epoch", "Epoch", "epochs")


def to_float(value: object) -> float | None:
    """A cell or JSON value as a float, None when it holds no number (absent, text, bool)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().strip('"').rstrip("%")
        if text.lower() in ABSENT:
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


class SeriesBuilder:
    """Collects (name, step, value) points in write order; `seq` is the global order of writes."""

    def __init__(self) -> None:
        self._points: dict[str, tuple[list[float], list[float], list[float]]] = {}
        self.seq = 0

    def add(self, name: str, step: float, value: float, seq: float | None = None) -> None:
        steps, values, seqs = self._points.setdefault(name, ([], [], []))
        steps.append(step)
        values.append(value)
        seqs.append(self.seq if seq is None else seq)

    def add_row(self, row: Mapping[str, float], step: float) -> None:
        for name, value in row.items():
            self.add(name, step, value)
        self.seq += 1

    def build(self) -> dict[str, Series]:
        return {
            name: Series(
                name,
                np.asarray(st, dtype=np.float64),
                np.asarray(va, dtype=np.float64),
                np.asarray(sq, dtype=np.float64),
            )
            for name, (st, va, sq) in self._points.items()
        }


def rows_to_series(
    rows: Iterable[Mapping[str, object]],
    *,
    step_keys: tuple[str, ...] = STEP_KEYS,
    unplaced: list[int] | None = None,
) -> tuple[dict[str, Series], str]:
    """Series from dict-like records (JSON, JSONL): every numeric key a series.

    Returns the series and the step kind: 'step' when records carry a step key, 'epoch'
    when they carry only an epoch, 'index' when neither (the record number is the step).
    A record whose step (or, lacking one, epoch) is NaN or Inf cannot be placed: it is left
    out, and its index (0-based, in `rows`) is appended to `unplaced`.
    """
    builder = SeriesBuilder()
    kinds: set[str] = set()
    for index, row in enumerate(rows):
        numeric = {k: v for k, v in ((k, to_float(v)) for k, v in row.items()) if v is not None}
        step, kind = _row_step(numeric, index, step_keys)
        if step is None:
            if unplaced is not None:
                unplaced.append(index)
            continue
        kinds.add(kind)
        builder.add_row(numeric, step)
    kind = "step" if "step" in kinds else "epoch" if "epoch" in kinds else "index"
    return builder.build(), kind


def _row_step(row: Mapping[str, float], index: int, step_keys: tuple[str, ...]) -> tuple[float | None, str]:
    """The record's step and its kind; None when the step it names is NaN or Inf."""
    for keys, kind in ((step_keys, "step"), (EPOCH_KEYS, "epoch")):
        named = [row[k] for k in keys if k in row]
        finite = [v for v in named if math.isfinite(v)]
        if finite:
            return finite[0], kind
        if named:
            return None, kind
    return float(index), "index"
