"""Robust statistics for the detectors, in numpy.

These mirror scipy (``scipy.stats.theilslopes``, ``scipy.stats.kendalltau`` with
``method="asymptotic"``, ``scipy.ndimage.median_filter`` with ``mode="nearest"``); scipy's
modules cost 1-2 s to import, which the start-up budget of ``lrdoctor diagnose`` cannot pay
(see BENCHMARKS.md). ``tests/test_stats.py`` checks each against scipy's output.
"""

from __future__ import annotations

import math

import numpy as np

MAD_TO_SIGMA = 1.482602218505602  # 1 / Phi^-1(3/4): the MAD of a normal sample estimates sigma
# Theil-Sen and Kendall's tau are O(n^2): longer inputs are first reduced to bin medians.
PAIRWISE_MAX = 400
# Values gathered per call when reducing groups to medians (8 MB of float64).
GATHER_MAX = 1 << 20


def mad_sigma(x: np.ndarray) -> float:
    """Robust standard deviation: the scaled median absolute deviation."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(x - np.median(x))))


def bin_medians(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """x (sorted) and y reduced to `bins` consecutive groups: each group's middle x, one of its
    own (a step the log holds, not a half-way 919.5), and the median of its y."""
    if len(x) <= bins:
        return x, y
    edges = np.linspace(0, len(x), bins + 1).astype(int)
    return x[(edges[:-1] + edges[1:] - 1) // 2], group_medians(y, edges)


def group_medians(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The median of each v[edges[i]:edges[i+1]]. Groups differ in size by at most one, so the
    groups of each size are gathered into one 2-D array and reduced in a single call."""
    starts, sizes = edges[:-1], np.diff(edges)
    out = np.empty(len(starts))
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        step = max(1, GATHER_MAX // int(size))  # groups per call: temporaries stay small
        for lo in range(0, len(which), step):
            part = which[lo : lo + step]
            out[part] = np.median(v[starts[part, None] + np.arange(size)], axis=1)
    return out


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Median of pairwise slopes and the matching intercept (scipy.stats.theilslopes)."""
    x, y = bin_medians(np.asarray(x, float), np.asarray(y, float), PAIRWISE_MAX)
    if len(x) < 2:
        return float("nan"), float("nan")
    i, j = np.triu_indices(len(x), k=1)
    dx = x[j] - x[i]
    keep = dx != 0
    if not keep.any():
        return float("nan"), float("nan")
    slope = float(np.median((y[j] - y[i])[keep] / dx[keep]))
    intercept = float(np.median(y) - slope * np.median(x))
    return slope, intercept


def kendall_tau(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b and its two-sided asymptotic p-value (scipy.stats.kendalltau)."""
    x, y = bin_medians(np.asarray(x, float), np.asarray(y, float), PAIRWISE_MAX)
    n = len(x)
    if n < 3:
        return float("nan"), float("nan")
    i, j = np.triu_indices(n, k=1)
    sx = np.sign(x[j] - x[i])
    sy = np.sign(y[j] - y[i])
    s = float((sx * sy).sum())
    n0 = n * (n - 1) / 2
    tx = _tie_sums(x)
    ty = _tie_sums(y)
    denom = math.sqrt((n0 - tx[0]) * (n0 - ty[0]))
    if denom == 0:
        return float("nan"), float("nan")
    tau = s / denom
    var = (
        (n * (n - 1) * (2 * n + 5) - tx[1] - ty[1]) / 18
        + tx[2] * ty[2] / (9 * n * (n - 1) * (n - 2))
        + tx[0] * ty[0] * 2 / (n * (n - 1))
    )
    z = s / math.sqrt(var) if var > 0 else 0.0
    return tau, math.erfc(abs(z) / math.sqrt(2))


def _tie_sums(v: np.ndarray) -> tuple[float, float, float]:
    _, counts = np.unique(v, return_counts=True)
    t = counts[counts > 1].astype(float)
    return (
        float((t * (t - 1) / 2).sum()),
        float((t * (t - 1) * (2 * t + 5)).sum()),
        float((t * (t - 1) * (t - 2)).sum()),
    )


def median_filter(y: np.ndarray, size: int) -> np.ndarray:
    """Running median over `size` points (made odd), edges padded with the end values (mode='nearest')."""
    size = max(1, int(size)) | 1
    if size == 1 or len(y) == 0:
        return y.astype(float, copy=True)
    left = size // 2
    right = size - 1 - left
    padded = np.concatenate([np.repeat(y[:1], left), y, np.repeat(y[-1:], right)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, size)
    return np.median(windows, axis=1)


# Above this magnitude a running sum of a few thousand values can overflow float64 (about 1.8e308).
OVERFLOW_SAFE = 1e300


def moving_average(y: np.ndarray, size: int) -> np.ndarray:
    """Centred running mean over `size` points (made odd), edges padded with the end values."""
    size = max(1, int(size)) | 1
    if size == 1 or len(y) == 0:
        return y.astype(float, copy=True)
    half = size // 2
    padded = np.concatenate([np.repeat(y[:1], half), y, np.repeat(y[-1:], half)]).astype(float)
    # Values near the float limit would overflow the running sum: sum them in units of the largest.
    unit = float(np.abs(padded).max()) if len(padded) else 0.0
    unit = unit if math.isfinite(unit) and unit > OVERFLOW_SAFE else 1.0
    csum = np.concatenate([[0.0], np.cumsum(padded / unit if unit != 1.0 else padded)])
    return (csum[size:] - csum[:-size]) / size * unit


def trend(y: np.ndarray, size: int) -> np.ndarray:
    """Running median (robust to spikes) then running mean (a median alone follows a period-2 swing)."""
    return moving_average(median_filter(y, size), size)


def lag1_autocorr(r: np.ndarray) -> float:
    """Lag-1 autocorrelation of a residual series (negative: values alternate around the trend)."""
    r = r[np.isfinite(r)]
    if len(r) < 3:
        return float("nan")
    r = r - r.mean()
    denom = float((r * r).sum())
    return float((r[1:] * r[:-1]).sum() / denom) if denom > 0 else float("nan")
