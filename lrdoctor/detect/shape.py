"""Shape statistics of a prepared curve, measured once per run and read by several detectors.

The O(n^2) statistics (Theil-Sen, Kendall's tau) are computed here, once; the detectors only
compare them with their thresholds, so that a threshold search re-judges a corpus cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve

TAIL_WINDOW = 0.3  # the "end" of a run, for trends: its last 30%
HALF = 0.5  # the second half, for roughness
WINDOW_MIN_POINTS = 6  # a window holds at least this many points (sparse, per-epoch logs)


@dataclass(frozen=True)
class Shape:
    t50: float  # share of the run the trend took for 50% of its progress start -> best
    t90: float  # ... and for 90%
    tail_slope: float  # remaining slope over the tail window, progress-per-run in units of the span
    tail_tau: float  # Kendall tau of the tail window
    tail_p: float
    tail_from: float  # where the tail window starts (later after a learning-rate cut)
    all_tau: float  # Kendall tau over the whole run
    all_p: float
    half_tau: float  # Kendall tau over the second half
    roughness: float  # robust spread of residuals around the trend in the second half, / span
    lag1: float  # lag-1 autocorrelation of those residuals
    zscores: np.ndarray  # residual / point-to-point noise, per point
    # The part of the run its progress is timed on (t50, t90): before a recorded step decay, else 1.
    timed_until: float = 1.0
    # How far the loss came down from its start, in sigmas of its noise (:func:`came_down`).
    came_down: float = math.nan


def ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below `lo`, 1 at or above `hi`, linear between: a statistic as a strength."""
    if not np.isfinite(x):
        return 0.0
    if hi == lo:
        return float(x >= hi)
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def time_to(curve: Curve, fraction: float, *, until: float = 1.0) -> float:
    """Share of the run (of its part before `until`, as a share of that part) the trend took to
    make `fraction` of its progress from the start to its best (its best before `until`)."""
    t, trend = curve.t, curve.trend
    if until < 1.0:
        keep = t < until
        t, trend = t[keep] / until, trend[keep]
    best = float(trend.min())
    target = curve.start - fraction * (curve.start - best)
    hit = np.flatnonzero(trend <= target)
    return float(t[hit[0]]) if len(hit) else 1.0


def trend_over(curve: Curve, t0: float) -> tuple[float, float, float]:
    """Over t >= t0: Theil-Sen slope per whole run (units of the span, positive = falling), Kendall tau, p."""
    t, y = curve.window(t0)
    if len(t) < WINDOW_MIN_POINTS:
        t, y = curve.t[-WINDOW_MIN_POINTS:], curve.y[-WINDOW_MIN_POINTS:]
    slope, _ = stats.theil_sen(t, y)
    tau, p = stats.kendall_tau(t, y)
    return -slope / curve.span, tau, p


# A first step decay at least this far into the run: its progress is timed before the cut (the
# peak rate's own doing), since the drop a cut brings would read as late progress.
DECAY_PHASE_MIN = 0.4


def measure(curve: Curve, *, settled_after: float = 0.0, first_decay: float | None = None) -> Shape:
    """`first_decay`: where the first step decay of the recorded rate came, as a share of the run."""
    tail_from = max(1.0 - TAIL_WINDOW, settled_after)
    until = 1.0
    if (
        first_decay is not None
        and first_decay >= DECAY_PHASE_MIN
        and (curve.t < first_decay).sum() >= 2 * WINDOW_MIN_POINTS
    ):
        until = first_decay
    tail_slope, tail_tau, tail_p = trend_over(curve, tail_from)
    all_tau, all_p = stats.kendall_tau(curve.t, curve.y)
    half = curve.t >= HALF
    resid = curve.y - curve.trend
    _, half_tau, _ = trend_over(curve, HALF)
    roughness = stats.mad_sigma(resid[half]) / curve.span
    return Shape(
        t50=time_to(curve, 0.5, until=until),
        t90=time_to(curve, 0.9, until=until),
        tail_slope=tail_slope,
        tail_tau=tail_tau,
        tail_p=tail_p,
        tail_from=tail_from,
        all_tau=all_tau,
        all_p=all_p,
        half_tau=half_tau,
        roughness=roughness,
        lag1=stats.lag1_autocorr(resid[half]),
        zscores=resid / curve.noise if curve.noise > 0 else np.zeros_like(resid),
        timed_until=until,
        came_down=came_down(curve, roughness * curve.span),
    )


def came_down(curve: Curve, sigma: float) -> float:
    """How far the loss came down from its start to its second half, in units of `sigma`, the
    robust spread of the second half's residuals around the trend. The start is the higher of
    the median of the first three points and that of the first tenth (a loss that rose first
    starts near the later level): medians, since one minibatch can be 3 sigmas off, and a first
    value that high reopened the oscillation check on runs 100x too low. Residuals that do not
    vary (a noiseless curve) give inf where the loss came down at all, else NaN: no noise to
    measure against."""
    tenth = max(int(np.searchsorted(curve.t, 0.1)), 3)
    start = max(float(np.median(curve.y[:3])), float(np.median(curve.y[:tenth])))
    drop = start - float(np.median(curve.y[curve.t >= HALF]))
    if not sigma > 0:
        return math.inf if drop > 0 else math.nan
    return drop / sigma


def step_at(curve: Curve, t: float) -> float:
    return float(curve.steps[min(int(np.searchsorted(curve.t, t)), len(curve.steps) - 1)])
