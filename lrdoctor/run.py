"""The normalized run: named scalar series on a step axis, shared by every part of lrdoctor.

Readers produce a :class:`Log` (every point in the order it was written, duplicates and
restarts included); :func:`lrdoctor.normalize.normalize` turns it into a :class:`Run`
(one training run, one value per step, the loss and learning rate identified).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lrdoctor.naming import SIDE_RATE_WORDS

StepKind = Literal["step", "epoch", "index"]


def axis_unit(step_kind: str, *, plural: bool = False) -> str:
    """How a sentence names a point of the x axis: step, epoch, or point (a log without steps)."""
    word = {"step": "step", "epoch": "epoch"}.get(step_kind, "point")
    return word + "s" if plural else word


def fmt_step(x: float) -> str:
    """A step as a person reads it: a whole step exactly (1234567, not 1.23457e+06), else with four
    significant digits after its whole part (epoch 2.5, 3.5025, 123456.75; a point spread within
    its epoch, 12.92857143, as 12.9286; below 1, four significant digits, 0.07143): enough to tell
    the ends of a range apart without printing its float noise."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    whole = len(str(int(abs(x)))) if math.isfinite(x) and 1 <= abs(x) < 1e15 else 0
    return f"{x:.{whole + 4}g}" if whole else f"{x:.4g}"


def fmt_share(x: float, of: str = "") -> str:
    """A share as a person reads it: '130%', but '1.02e+15 times' for a share that an exploding
    loss made absurd as a percentage; `of` the whole ('its progress'): '130% of its progress',
    '118 times its progress'."""
    if abs(x) < 100:
        return f"{100 * x:.0f}%" + (f" of {of}" if of else "")
    return f"{x:.3g} times" + (f" {of}" if of else "")


def fmt_factor(x: float) -> str:
    """A factor of 1 or more to 3 significant digits as a person reads it: '3.24', '909', and
    '1000' or '3160', not '1e+03' or '3.16e+03'."""
    text = f"{x:.3g}"
    if "e" in text and 1 <= x < 1e15:
        return f"{round(x, 2 - math.floor(math.log10(x))):.0f}"
    return text


def fmt_steps(first: float, last: float, joiner: str = "-") -> str:
    """'20' for one step, '20-99' for a range."""
    return fmt_step(first) if first == last else f"{fmt_step(first)}{joiner}{fmt_step(last)}"


def span_of(step_kind: str, first: float, last: float) -> str:
    """'steps 0 to 99', 'epochs 1 to 20', or, in a log without steps, 'points 0 to 99'; 'step 500'
    for one."""
    if first == last:
        return f"{axis_unit(step_kind)} {fmt_step(first)}"
    return f"{axis_unit(step_kind, plural=True)} {fmt_step(first)} to {fmt_step(last)}"


def points(n: int) -> str:
    """'1 point', '20 points'."""
    return f"{n} point" if n == 1 else f"{n} points"


@dataclass(frozen=True)
class Series:
    """One scalar series. `seq` is the global write order of each point within its log."""

    name: str
    steps: np.ndarray
    values: np.ndarray
    seq: np.ndarray = field(default_factory=lambda: np.empty(0))  # default: the point order

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.values):
            raise ValueError(f"series {self.name!r}: {len(self.steps)} steps, {len(self.values)} values")
        if len(self.seq) == 0 and len(self.values):
            object.__setattr__(self, "seq", np.arange(len(self.values), dtype=np.float64))
        elif len(self.seq) != len(self.values):
            raise ValueError(f"series {self.name!r}: {len(self.seq)} write positions, {len(self.values)} values")

    def __len__(self) -> int:
        return len(self.values)

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.values)

    def take(self, mask_or_index: np.ndarray) -> Series:
        if mask_or_index.dtype == bool and len(mask_or_index) == len(self) and mask_or_index.all():
            return self  # every point: no copies of a long series
        return Series(self.name, self.steps[mask_or_index], self.values[mask_or_index], self.seq[mask_or_index])


@dataclass
class Log:
    """What a reader returns: every series as written, before any clean-up."""

    source: str
    format: str
    series: dict[str, Series]
    step_kind: StepKind = "step"
    warnings: list[str] = field(default_factory=list)
    hparams: dict[str, Any] = field(default_factory=dict)
    # Reader-specific hints: a series the writer marks as the training loss, and so on.
    hints: dict[str, str] = field(default_factory=dict)
    # Columns of a table that hold no number at all (text, or nothing): named, not read.
    text_columns: tuple[str, ...] = ()
    # ... of them, those whose every cell is empty (pandas writes NaN so).
    empty_columns: tuple[str, ...] = ()
    # Lists of different lengths, each value at its position in its own list (a JSON dict of
    # lists): a shorter list is a metric logged less often, not one whose values turned to null.
    ragged: bool = False


@dataclass(frozen=True)
class Segment:
    """One training run inside a log that holds several appended ones."""

    index: int  # 1-based, in the order they were written
    points: int  # points of the judged metric in this run
    first_step: float
    last_step: float


@dataclass(frozen=True)
class Run:
    """One training run: the unit every detector, recommendation and report works on."""

    source: str
    format: str
    series: dict[str, Series]
    metric: str
    lr_name: str | None = None
    val_metric: str | None = None
    step_kind: StepKind = "step"
    warnings: tuple[str, ...] = ()
    hparams: dict[str, Any] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    segment: int = 1
    lr_given: float | None = None
    # The loss, on an axis of steps, is logged once per epoch (Lightning's `train_loss_epoch`, the
    # Trainer logging each epoch): epoch means, whose first point holds the first epoch's updates,
    # as on an axis of epochs (:func:`once_per_epoch`, decided once by lrdoctor.normalize).
    epoch_means: bool = False
    # The loss's first point comes after the first updates (lrdoctor.detect.curve.starts_late), as
    # normalize decided it from the log (None: not decided, read from the loss's steps alone).
    late_start: bool | None = None
    # A rate the run's path names ('runs/lr1e-3_s0/...'; lrdoctor.naming.rate_in_path), and that
    # name: the rate trained at, when neither the user, the log nor its settings give one.
    lr_in_name: tuple[float, str] | None = None

    @property
    def loss(self) -> Series:
        return self.series[self.metric]

    @property
    def lr(self) -> Series | None:
        return None if self.lr_name is None else self.series[self.lr_name]

    @property
    def val_loss(self) -> Series | None:
        return None if self.val_metric is None else self.series[self.val_metric]

    @property
    def observed_lr(self) -> float | None:
        """The base or peak learning rate: given by the user, else logged, else from hparams,
        else named in the run's path."""
        return self.observed_lr_from[0]

    @property
    def observed_lr_from(self) -> tuple[float | None, str]:
        """observed_lr and where it comes from: 'given', 'logged', 'hparams', 'name' or 'none'."""
        if self.lr_given is not None:
            return self.lr_given, "given"
        lr = self.lr
        if lr is not None:
            vals = lr.values[np.isfinite(lr.values)]
            if len(vals) and vals.max() > 0:
                return float(vals.max()), "logged"
        if (value := self._hparams_lr()) is not None:
            return value, "hparams"
        if self.lr_in_name is not None:
            return self.lr_in_name[0], "name"
        return None, "none"

    def _hparams_lr(self) -> float | None:
        keys = ("lr", "learning_rate", "base_lr", "max_lr", "peak_lr")
        # ... then a setting named so under a prefix: MLflow's Keras autolog 'opt_learning_rate', 'optim.lr'
        named = (k for k in self.hparams if k not in keys and _names_the_rate(k))
        # (of several, the highest: the peak a group of the model trains at, as of a logged rate)
        for key in (*keys, *sorted(named, key=lambda k: -_number(self.hparams[k]))):
            value = self.hparams.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return float(value)
        return None


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else -math.inf


def _names_the_rate(key: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", key.lower()) if w]
    named = words[-1:] in (["lr"], ["lr0"]) or words[-2:] == ["learning", "rate"]
    return named and SIDE_RATE_WORDS.isdisjoint(words)


def epoch_series(series: dict[str, Series]) -> Series | None:
    """The epoch counter logged beside the steps: `epoch` (Lightning, a plain CSV, the Trainer's
    state), or `train/epoch` (the Trainer's TensorBoard and W&B logs)."""
    found = series.get("epoch")
    if found is None:
        found = next((s for name, s in series.items() if name.endswith("/epoch")), None)
    return found


def once_per_epoch(loss: Series, epochs: Series | None) -> bool:
    """Whether every point of `loss` has an epoch logged at its step, one more than the point
    before, from the first epoch on (a log resumed at epoch 10 still begins late)."""
    if epochs is None or len(loss) < 3 or not len(epochs):
        return False
    seen = epochs.values[np.isfinite(epochs.values)]
    if not len(seen) or seen.max() - seen.min() < len(loss) - 1.5:
        return False  # fewer epochs than points (a log of steps): no sort of a long log's axis
    order = np.argsort(epochs.steps, kind="stable")
    steps, values = epochs.steps[order], epochs.values[order]
    at = np.minimum(np.searchsorted(steps, loss.steps), len(steps) - 1)
    if not np.array_equal(steps[at], loss.steps) or not values[at[0]] <= 1.05:
        return False
    # (the last epoch can be cut short by a step limit: its gap is left out)
    if loss.steps[0] > 1.5 * float(np.median(np.diff(loss.steps)[:-1])):
        return False  # the first epoch's steps come before it: a 0-based log resumed at epoch 1
    return bool(np.all(np.abs(np.diff(values[at]) - 1) < 0.05))
