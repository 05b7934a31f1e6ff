"""Ultralytics YOLO's series, in whichever file they are read from (its results.csv, or the
TensorBoard events it writes beside it): the loss logged in parts, and the rate in groups.

- The loss is logged in parts (`train/box_loss`, `train/cls_loss`, `train/dfl_loss`; YOLOv5's
  `train/obj_loss`): their sum is the loss the optimizer minimised, added as `train/loss` (and
  `val/loss`), where the writer did not log a total itself.
- The rate is logged per parameter group (`lr/pg0..2`, YOLOv5's `x/lr0..2`): the first is the
  biases', whose warmup starts at 0.1; the weights' group (`lr/pg1`, `x/lr1`) is the rate.
- A point whose validation losses and metrics are all 0 was not validated (`val=False` writes
  zeros on every epoch but the last).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial

import numpy as np

from lrdoctor.run import Series

RATE_GROUPS = ("lr/pg1", "x/lr1")  # the weights' group, in v8 and later and in YOLOv5
FIRST_GROUPS = frozenset({"lr/pg0", "x/lr0"})
LOSS_PART = re.compile(r"(train|val)/(\w+)_loss")
YOLO_LOSS = re.compile(r"train/(?:\w+_)?loss")


def looks_like(names: Iterable[str]) -> bool:
    """Series names as Ultralytics writes them: rate groups and a training loss in its namespace."""
    names = set(names)
    return bool(names & FIRST_GROUPS) and any(YOLO_LOSS.fullmatch(n) for n in names)


def in_events(series: dict[str, Series]) -> bool:
    """Ultralytics' series in TensorBoard events, which hold no column that says so (a results.csv
    opens with its epoch): its names, a point per epoch, and its metrics at every epoch but the
    last (written after validation: a run read while it validates, or killed there, lacks them)."""
    if not looks_like(series):
        return False
    epochs = _epochs(next(s for name, s in series.items() if YOLO_LOSS.fullmatch(name)))
    if epochs is None:
        return False
    last = {max(epochs)}
    return any(n.startswith("metrics/") and epochs - set(s.steps.tolist()) <= last for n, s in series.items())


# Ultralytics writes a point per epoch, and runs of more epochs than this are rare: a log of more
# points at every step is another writer's that named its rate groups alike.
MAX_EPOCHS = 2000


def _epochs(loss: Series) -> set[float] | None:
    """The epochs of a loss written at whole numbers, every one from the first to the last (a
    resumed run writes some again); None where it is not."""
    steps = loss.steps
    if not 0 < len(steps) <= 2 * MAX_EPOCHS or not np.all(steps == np.round(steps)):
        return None  # (twice: a resumed run writes some epochs again)
    epochs = set(steps.tolist())
    if len(epochs) > MAX_EPOCHS or max(epochs) - min(epochs) + 1 != len(epochs):
        return None
    return epochs


def totals(series: dict[str, Series], label: str, warnings: list[str], *, by_row: bool = False) -> dict[str, str]:
    """The totals of the loss parts added to `series` (on the points that hold every part), the
    validation total without unvalidated points, and the series that play the training loss,
    validation loss and rate. Points of different series are matched by their row (`by_row`: a
    table's, whose `seq` is the row) or else by their step and how often that step came before
    in the series (a resumed run writes a step again)."""
    hints: dict[str, str] = {}
    rate = next((name for name in RATE_GROUPS if name in series), None)
    if rate is not None:
        hints["lr"] = rate
    keys = partial(_keys, by_row=by_row)
    validated = _validated(series, keys)
    for split, role in (("train", "loss"), ("val", "val")):
        parts = [n for n in series if (m := LOSS_PART.fullmatch(n)) and m.group(1) == split]
        total = f"{split}/loss"
        named = total if total in series else next((n for n in parts if "total" in n), None)
        if named is not None:  # the writer logged the total itself
            hints[role] = named
            if split == "val":
                s = series[named]
                series[named] = s.take(np.asarray([k in validated for k in keys(s)], dtype=bool))
            continue
        if len(parts) < 2:
            continue
        found = _summed([series[n] for n in parts], total, validated if split == "val" else None, keys)
        if found is not None:
            series[total] = found
            hints[role] = total
            if role == "loss":
                warnings.append(f"{label}: {total!r} is the sum of {', '.join(repr(p) for p in parts)}")
    return hints


Key = tuple[float, int]  # a step, and how many points of the series had that step before; or a row


def _keys(s: Series, *, by_row: bool) -> list[Key]:
    if by_row:
        return [(row, 0) for row in s.seq.tolist()]
    seen: dict[float, int] = {}
    out = []
    for step in s.steps.tolist():
        k = seen.get(step, 0)
        seen[step] = k + 1
        out.append((step, k))
    return out


def _validated(series: dict[str, Series], keys: Callable[[Series], list[Key]]) -> set[Key]:
    """The points at which some validation loss or metric is not 0."""
    out: set[Key] = set()
    for name, s in series.items():
        if name.startswith(("val/", "metrics/")):
            out.update(k for k, v in zip(keys(s), s.values.tolist(), strict=True) if v != 0)
    return out


def _summed(
    parts: list[Series], name: str, keep: set[Key] | None, keys_of: Callable[[Series], list[Key]]
) -> Series | None:
    """The sum of `parts` at the points all of them hold (and, given `keep`, only there)."""
    first = parts[0]
    keys = keys_of(first)
    common = set(keys).intersection(*(keys_of(p) for p in parts[1:]))
    if keep is not None:
        common &= keep
    at = np.asarray([k in common for k in keys], dtype=bool)
    if not at.any():
        return None
    total = np.zeros(int(at.sum()))
    with np.errstate(over="ignore", invalid="ignore"):
        for part in parts:
            index = {k: i for i, k in enumerate(keys_of(part))}
            total = total + part.values[[index[k] for k, a in zip(keys, at, strict=True) if a]]
    return Series(name, first.steps[at], total, first.seq[at])
