"""What the recorded learning rate did: warmup, decays, and the rate at any step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve

# A warmup starts below this share of the peak rate; a step decay cuts the rate by this factor.
WARMUP_START = 0.5
DECAY_FACTOR = 2.0
# A rate held before a cut: its last two values before it agree within this share.
HELD = 0.01
# After a decay the loss drops for a while: statistics of the tail start this share of the run later.
SETTLE = 0.05
# ... unless that leaves less than this share of the run: then the cut is too late to wait for (a
# tail of a few points says nothing), and the tail is read as if the rate had been held.
MIN_AFTER = 0.1
# A cut counts as a step decay only from a rate at least this share of the peak: a cosine rate
# printed with fixed decimals holds and halves near zero, as a step schedule would.
CUT_FROM = 0.01
# The loss's progress at the peak rate (from where the rate first reaches 95% of its peak, while
# it stays at HIGH_PHASE of it or more) and once decayed (at LOW_PHASE of it or less, after the
# peak), each over this many points or more.
HIGH_PHASE = 0.7
LOW_PHASE = 0.3
PHASE_POINTS = 6


@dataclass(frozen=True)
class LrEvents:
    steps: np.ndarray | None = None
    values: np.ndarray | None = None
    peak: float | None = None
    warmup_end: float | None = None  # step where the rate first reaches 95% of its peak
    last_decay: float | None = None  # step of the last step decay (a sharp cut after a held rate)
    settled_after: float = 0.0  # position in the run (0-1) after the last step decay with room after it has settled
    # The first step decay proper, a cut after a held rate: (last step logged at the old rate, first
    # at the new). A cosine or one-cycle schedule also halves its rate from one point to the next
    # near its end, where the rate is nearly zero, but never after holding it.
    step_decay: tuple[float, float] | None = None

    @property
    def constant(self) -> bool:
        """A rate was recorded and it never moved (within HELD of its peak)."""
        return self.held_from(-np.inf)

    def held_from(self, step: float) -> bool:
        """A rate was recorded and from `step` on it stayed at its peak (within HELD): a constant
        rate, or the constant part after a warmup."""
        if self.steps is None or self.values is None or self.peak is None:
            return False
        later = self.values[max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0) :]
        return bool(len(later)) and bool(later.min() >= (1 - HELD) * self.peak)

    def at(self, step: float) -> float | None:
        """The recorded rate at `step` (the last value logged at or before it)."""
        if self.steps is None or self.values is None or not len(self.steps):
            return None
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return float(self.values[max(i, 0)])


def lr_events(steps: np.ndarray | None, values: np.ndarray | None, curve: Curve | None) -> LrEvents:
    if steps is None or values is None:
        return LrEvents()
    ok = np.isfinite(values) & (values > 0)
    # A rate printed as 0 after its positive values: a decay rounded away at the digits printed.
    to_zero = bool((values[int(np.argmax(ok)) :] == 0).any()) if ok.any() else False
    if not ok.all():  # the usual recorded rate needs no copy
        steps, values = steps[ok], values[ok]
    if len(values) < 2:
        return LrEvents(steps, values, float(values.max()) if len(values) else None)
    peak = float(values.max())
    warm = None
    if values[0] < WARMUP_START * peak:
        warm = float(steps[int(np.argmax(values >= 0.95 * peak))])
    cuts = np.flatnonzero(values[1:] * DECAY_FACTOR <= values[:-1]) + 1
    unit = _printed_unit(values) if len(cuts) else 0.0  # (once: a long log's rate may halve often)
    held = [
        int(i)
        for i in cuts
        if i >= 2
        and abs(values[i - 1] - values[i - 2]) <= HELD * values[i - 1]
        and values[i - 1] >= CUT_FROM * peak
        and not _rounding(values, int(i), unit, to_zero=to_zero)
    ]
    last_decay = float(steps[held[-1]]) if held else None
    step_decay = (float(steps[held[0] - 1]), float(steps[held[0]])) if held else None
    settled = 0.0
    if curve is not None and curve.steps[-1] > curve.steps[0]:
        for i in reversed(held):  # the last cut that leaves room for a tail after it settles
            position = (float(steps[i]) - curve.steps[0]) / (curve.steps[-1] - curve.steps[0])
            if position + SETTLE <= 1.0 - MIN_AFTER:
                settled = float(max(0.0, position + SETTLE))
                break
    return LrEvents(steps, values, peak, warm, last_decay, settled, step_decay)


def _rounding(values: np.ndarray, i: int, unit: float, *, to_zero: bool = False) -> bool:
    """Whether the cut at i is a smooth decay printed with few digits ('lr: 0.000005'), which holds
    and halves as it rounds, from 2 units of its last printed digit to 1: a fall of one unit, after
    the rate came down one unit at a time (5, 4, 3, 2, 1), or before it is printed as 0 (a cosine
    printed to 4 decimals: 0.0002, 0.0001, 0.0000, each level held about as long). A rate held
    long and halved, or that came down by more (0.0010, 0.0005, 0.0002, 0.0001), was cut by a
    schedule. `unit`: that of the last digit the rate is printed to (_printed_unit)."""
    if unit == 0.0 or values[i - 1] - values[i] > 1.5 * unit:
        return False
    if to_zero:  # ... where the rate held the old value about as long as the new (a smooth decay's steps)
        held_old = int((values[:i] == values[i - 1]).sum())
        return held_old <= 2 * int((values[i:] == values[i]).sum())
    before = values[:i][values[:i] != values[i - 1]]
    return bool(len(before)) and 0 < before[-1] - values[i - 1] <= 1.5 * unit


def _printed_unit(values: np.ndarray) -> float:
    """The unit of the last decimal digit every value is printed to (1e-6 for 0.000005, 0.000004,
    ...), 0 where they carry more than 6 significant digits (a value written in full)."""
    top = float(values.max())
    head = values[:PRINTED_HEAD]  # most units fail on the first values: the whole log only for the rest
    for digits in range(13):
        unit = 10.0**-digits
        if top / unit > 1e6:
            return 0.0
        if _on_grid(head, unit) and (len(values) == len(head) or _on_grid(values, unit)):
            return unit
    return 0.0


# Values of a recorded rate that tell most printed units from the digits they lack.
PRINTED_HEAD = 1000


def _on_grid(values: np.ndarray, unit: float) -> bool:
    scaled = values / unit
    return bool(np.all(np.abs(scaled - np.round(scaled)) <= 1e-6))


def faster_once_decayed(curve: Curve | None, lr: LrEvents) -> dict[str, float] | None:
    """The loss fell faster once the recorded rate had decayed (to LOW_PHASE of its peak or less)
    than while the rate was at its peak: the Theil-Sen slopes of the loss over the two phases, in
    its span per run, where the later one is the steeper fall; else None (no decay recorded, or a
    phase too short to read).

    A rate too low moves the loss in proportion to it, so as the rate decays the loss slows down:
    its late fall is the rate's doing only where the peak rate was above what the loss could use,
    and the decay let it settle (the annealing a cosine or step schedule is for). Of the corpus's
    decaying-schedule runs, 1 of 161 too low ones fell faster once decayed, 9 of 216 healthy ones
    and 17 of 80 too high ones (BENCHMARKS.md, "Came back only part of the way")."""
    if curve is None or lr.steps is None or lr.values is None or lr.peak is None or lr.constant:
        return None
    rate = np.interp(curve.steps, lr.steps, lr.values)
    reached = rate >= 0.95 * lr.peak
    if not reached.any():
        return None
    after = np.arange(len(rate)) >= int(np.argmax(reached))
    high, low = after & (rate >= HIGH_PHASE * lr.peak), after & (rate <= LOW_PHASE * lr.peak)
    if high.sum() < PHASE_POINTS or low.sum() < PHASE_POINTS:
        return None
    at_peak = -stats.theil_sen(curve.t[high], curve.y[high])[0] / curve.span
    decayed = -stats.theil_sen(curve.t[low], curve.y[low])[0] / curve.span
    if not (decayed > 0 and decayed > at_peak):
        return None
    return {"slope_at_peak": float(at_peak), "slope_decayed": float(decayed)}


def warmup_share(curve: Curve | None, lr: LrEvents) -> float | None:
    """The share of the log before the recorded rate reached its peak (its warmup's end), or None
    where no warmup is recorded."""
    if lr.warmup_end is None or curve is None or curve.steps[-1] <= curve.steps[0]:
        return None
    return float((lr.warmup_end - curve.steps[0]) / (curve.steps[-1] - curve.steps[0]))
