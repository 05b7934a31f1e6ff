"""The shared view of one loss curve that every detector reads.

`prepare` is computed once per run: the finite prefix of the curve (what came before the first
NaN/Inf), reduced to bin medians when it is long, its running-median trend, the point-to-point
noise and the levels the statistics refer to (start, best, end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrdoctor import stats

# Above this many points the curve is reduced to bin medians: levels and trends are unchanged
# (medians of medians of minibatch noise), and every statistic stays O(n) in the raw length.
MAX_POINTS = 2000
# Fewer finite points than this say too little about a curve's shape.
MIN_POINTS = 8
# Non-finite values that are a few isolated points of a run that went on (a step skipped by
# mixed-precision loss scaling, a logged mean that overflowed) are left out of the curve rather
# than ending it: at most this share of the points (or one point), followed by at least
# SKIPPED_AFTER finite ones no higher than the loss just before them.
SKIPPED_SHARE = 0.02
SKIPPED_AFTER = 3
# A log whose first point comes at this step or later, and at half its stride or later, leaves the
# first updates out (written every k steps from step k); in a log of every step, this many.
LATE_START_STEP = 2
LATE_START_STRIDE = 0.5
LATE_START_DENSE = 10
# The axes on which a log can be seen to begin after the first updates (starts_late).
LATE_AXES = ("step", "epoch")
STRIDE_GAPS = 1000
# Point-to-point changes that measure the noise at the start (Curve.start_noise).
START_NOISE_MIN = 8
START_NOISE_MAX = 1000
# ... and over the run, at most about this many (Curve.draw_noise).
DRAW_NOISE_CHANGES = 100_000


@dataclass(frozen=True)
class Curve:
    steps: np.ndarray  # step of each kept point
    y: np.ndarray  # finite values (bin medians on long runs)
    t: np.ndarray  # position in the run, 0 at the first point, 1 at the last
    trend: np.ndarray  # running median then running mean of y
    noise: float  # robust sigma of point-to-point changes, per point
    # ... of the raw points (`noise` is that of bin medians on a long log): how far one value, the
    # first one say, can sit from the level it was drawn at.
    draw_noise: float
    # ... of the raw points near the start (the first tenth, 8 to 1000 changes): minibatch noise
    # can be there from the start, or come only with an instability later on.
    start_noise: float
    # The median of those raw points after the first: where the loss was just after the start.
    early: float
    start: float  # level at the start: the first value (before the first update moved anything)
    end: float  # level at the end: median of the last tenth
    best: float  # lowest level the trend reached
    best_t: float  # where it reached it
    best_step: float  # ... and at which step: where a run that got worse began to
    peak: float  # highest raw finite value
    n_raw: int  # points before reduction, non-finite included
    n_finite_prefix: int  # points before the first non-finite value
    # The finite points before reduction (the same arrays as steps and y when the curve is short):
    # what a detector of single-point events (a spike) reads on a long log.
    raw_steps: np.ndarray | None = None
    raw_y: np.ndarray | None = None

    @property
    def binned(self) -> bool:
        return self.raw_y is not None and len(self.raw_y) > len(self.y)

    @property
    def span(self) -> float:
        """How far the curve came down from its start to its best; at least 1% of the start level
        and the point-to-point noise, so that a run that never improved has no tiny denominator."""
        return max(self.start - self.best, 0.01 * abs(self.start), self.noise, 1e-12)

    def window(self, t0: float, t1: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(t, y) of the points with t0 <= t <= t1."""
        mask = (self.t >= t0) & (self.t <= t1)
        return self.t[mask], self.y[mask]


def start_level(curve: Curve, before: float | None = None) -> float:
    """Where the run began: the median of its first three logged points (one low or high first
    draw is not the level; a long log's curve holds bin medians, so its raw points are read).
    `before`: a validation loss measured before training; where the first point lies nearer it
    than that median does, the first point is the level (a loss that blew up at the first update,
    1.62 then 32.8 and 27.6, had been measured from 27.6: its blow-up from its own level)."""
    first = curve.raw_y if curve.raw_y is not None else curve.y
    level = float(np.median(first[:3]))
    if before is not None and abs(float(first[0]) - before) < abs(level - before):
        return float(first[0])
    return level


# A stretch of loss standing high must rise this many point-to-point noise sigmas above the
# higher of the start and end levels: the noise of a loss that never moved (heavy-tailed minibatch
# losses) lifts a running median 0.5 sigmas; the corpus's blow-ups rose 3.8 to 10^13.
RISE_NOISE_SIGMAS = 3.0


def learnt_for_a_while(curve: Curve, fall: float, points: int, share: float) -> float | None:
    """The level its trend stayed below for `points` points and `share` of the run or more: `fall`
    of |start| (and 3 noise sigmas) under its start; None where it never did."""
    bar = curve.start - max(fall * abs(curve.start), 3 * curve.noise)
    low = int((curve.trend < bar).sum())  # for a while: a short dip of a noisy trend is no learning
    return bar if low >= max(points, share * len(curve.y)) else None


def sustained_rise(
    curve: Curve, factor: float, *, points: int, share: float, level: float | None = None
) -> np.ndarray | None:
    """The points of a stretch where the loss stood `factor` times or more above the higher of its
    start level and its end level (positive levels only), both in its trend and in the points
    themselves, at `points` points and `share` of the run or more, its trend rising beyond the
    noise (RISE_NOISE_SIGMAS); None where there is none. Both must be high: the trend alone is
    lifted near the log's ends by a single high first or last point; the points alone by the noise
    of a loss that never moved. `level`: the start level, where the caller knows it better
    (:func:`start_level` with a validation loss before training)."""
    level = start_level(curve) if level is None else level
    if not (level > 0 and curve.end > 0):
        return None
    base = max(level, curve.end)
    if not float(curve.trend.max()) - base > RISE_NOISE_SIGMAS * curve.noise:
        return None
    high = (curve.trend >= factor * base) & (curve.y >= factor * base)
    n = int(high.sum())
    return high if n >= max(points, share * len(curve.y)) else None


def starts_late(steps: np.ndarray, *, epochs: bool = False) -> bool:
    """True when the first logged point comes after the first updates: Lightning's
    log_every_n_steps and the HuggingFace Trainer's logging_steps write the loss every k steps from
    step k, and a log can begin at a resume. The first value then stands in for the start level,
    after the updates where a too-high rate blows up and a good one makes its fastest progress.

    `epochs`: the axis counts epochs. Only a log written within them (the HF Trainer's dicts on
    the console: 'epoch': 0.2273 every 10 steps) can tell; its first point half its stride or more
    into an epoch comes after the first updates. A first point at a whole epoch is an epoch's start
    (PyTorch's MNIST example counts from 'Train Epoch: 1 [0/60000 (0%)]'), and points one epoch
    apart are the epochs' means."""
    gaps = np.diff(steps)
    if not (gaps > 0).all():  # normalized runs are sorted and unique already: no copies then
        steps = np.unique(steps[np.isfinite(steps)])
        gaps = np.diff(steps)
    if len(steps) < 3:
        return False
    # The stride where the log begins (its first STRIDE_GAPS gaps: O(1) on a long log).
    first, stride = float(steps[0]), float(np.median(gaps[:STRIDE_GAPS]))
    if epochs:
        into = first - math.floor(first)
        return 0 < stride < 1 and into >= LATE_START_STRIDE * stride
    if first < LATE_START_STEP or first < LATE_START_STRIDE * stride:
        return False
    return stride >= 2 or first >= LATE_START_DENSE


def skipped_nonfinite(values: np.ndarray) -> bool:
    """True when the NaN/Inf values are a few isolated points that the run went on from, at a level
    no higher than it had just before them: updates skipped, not a divergence."""
    bad = ~np.isfinite(values)
    if not bad.any() or bad.sum() > max(1.0, SKIPPED_SHARE * len(values)):
        return False
    idx = np.flatnonzero(bad)
    before, after = values[: idx[0]], values[idx[-1] + 1 :]
    # (a log of a few epochs shows the run went on in fewer points: half of them)
    if len(after) < min(SKIPPED_AFTER, max(1, len(values) // 2)):
        return False
    if not len(before):  # the first value only (a mean over no batch): nothing to compare with
        return True
    recent = before[-max(SKIPPED_AFTER, len(before) // 10) :]
    return bool(np.median(after[: max(SKIPPED_AFTER, len(after) // 10)]) <= recent.max())


def nonfinite_after_skips(values: np.ndarray) -> int | None:
    """Where NaN/Inf values that run to the end begin, when the non-finite points before them are
    a few isolated ones the run went on from (skipped updates, as :func:`skipped_nonfinite` reads
    them, then a blow-up); None when there are none before them, or no such run to the end."""
    bad = ~np.isfinite(values)
    if not bad.any() or not bad[-1] or bad.all():
        return None
    tail = int(np.flatnonzero(~bad)[-1]) + 1
    before = np.flatnonzero(bad[:tail])
    if not len(before) or len(before) > max(1.0, SKIPPED_SHARE * tail) or tail - before[-1] - 1 < SKIPPED_AFTER:
        return None
    return tail


def prepare(steps: np.ndarray, values: np.ndarray, *, min_points: int = MIN_POINTS) -> Curve | None:
    """The curve's shared statistics, or None when fewer than MIN_POINTS finite points precede any
    NaN/Inf. The curve ends at the first NaN/Inf, unless those are a few skipped points
    (:func:`skipped_nonfinite`): then it holds every finite point; or a few skipped points and
    then NaN/Inf to the end (:func:`nonfinite_after_skips`): then every finite point before those."""
    finite = np.isfinite(values)
    stop = len(values) if finite.all() else int(np.argmin(finite))
    blown = None if stop == len(values) else nonfinite_after_skips(values)
    if blown is not None:
        steps_f, y_raw = steps[:blown][finite[:blown]], values[:blown][finite[:blown]]
    elif stop < len(values) and skipped_nonfinite(values):
        steps_f, y_raw = steps[finite], values[finite]
    else:
        steps_f, y_raw = steps[:stop], values[:stop]
    if len(y_raw) < min_points:
        return None
    peak = float(y_raw.max())
    s, y = stats.bin_medians(steps_f, y_raw, MAX_POINTS)
    n = len(y)
    first, last = float(s[0]), float(s[-1])
    t = (s - first) / (last - first) if last > first else np.linspace(0.0, 1.0, n)
    trend = stats.trend(y, max(3, n // 25))
    diffs = np.diff(y)
    noise = stats.mad_sigma(diffs) / np.sqrt(2.0) if len(diffs) else 0.0
    # (a median over every change of a 10^6-point log would take as long as the rest of prepare)
    raw_diffs = np.diff(y_raw)[:: max(1, len(y_raw) // DRAW_NOISE_CHANGES)]
    draw_noise = stats.mad_sigma(raw_diffs) / np.sqrt(2.0) if len(y_raw) > n else noise
    near = min(max(START_NOISE_MIN, len(y_raw) // 10), START_NOISE_MAX, len(y_raw) - 1)
    start_noise = stats.mad_sigma(np.diff(y_raw[: near + 1])) / np.sqrt(2.0) if near > 0 else 0.0
    early = float(np.median(y_raw[1 : near + 1])) if near > 0 else float(y_raw[0])
    tail = max(1, n // 10)
    best_i = int(np.argmin(trend))
    return Curve(
        steps=s,
        y=y,
        t=t,
        trend=trend,
        noise=float(noise),
        draw_noise=float(draw_noise),
        start_noise=float(start_noise),
        early=early,
        start=float(y_raw[0]),
        end=float(np.median(y[-tail:])),
        best=float(trend[best_i]),
        best_t=float(t[best_i]),
        best_step=float(s[best_i]),
        peak=peak,
        n_raw=len(values),
        n_finite_prefix=stop,
        raw_steps=steps_f,
        raw_y=y_raw,
    )
