"""Reading a range-test curve and placing the candidates: pure functions over numpy arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def ramp(min_lr: float, max_lr: float, n: int) -> np.ndarray:
    """`n` rates growing exponentially from `min_lr` to `max_lr`, both included."""
    return np.geomspace(min_lr, max_lr, max(n, 2))


def ema(values: np.ndarray, beta: float) -> np.ndarray:
    """Bias-corrected exponential moving average; a non-finite value makes the rest non-finite."""
    out = np.empty(len(values))
    avg = 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1.0 - beta) * v
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running median (the window shrinks at the ends); no lag, robust to single bad batches."""
    half = max(window, 1) // 2
    n = len(values)
    return np.array([np.median(values[max(0, i - half) : min(n, i + half + 1)]) for i in range(n)])


def diverged(smoothed: float, best: float, *, factor: float) -> bool:
    """The ramp's stop: a non-finite loss, or the smoothed loss past `factor` times its minimum so far."""
    if not math.isfinite(smoothed):
        return True
    return best > 0 and smoothed > factor * best


def stability_limit(lrs: np.ndarray, losses: np.ndarray, *, window: int) -> float:
    """The rate where the ramp's loss, median-smoothed, is lowest: past it, the loss starts to rise.

    Non-finite losses (the ramp's last point, when it diverged) count as +inf.
    """
    clean = np.where(np.isfinite(losses), losses, np.inf)
    finite = np.isfinite(clean)
    if not finite.any():
        return float(lrs[0])
    last = int(np.flatnonzero(finite)[-1]) + 1
    smooth = running_median(clean[:last], window)
    return float(lrs[int(np.argmin(smooth))])


def grid_index(lr: float, *, step: float) -> int:
    """The index k of the highest grid rate 10**(k*step) at or below `lr`."""
    return math.floor(math.log10(lr) / step + 1e-9)


def grid_rate(k: float, *, step: float) -> float:
    return float(10 ** (k * step))


def walk_range(limit: float, bounds: tuple[float, float], *, step: float, offset: int) -> tuple[int, int, int]:
    """Where the walk on the grid starts (`offset` grid steps below the highest grid rate at or
    under the stability limit), and the lowest and highest grid indices inside `bounds`."""
    lowest = math.ceil(math.log10(bounds[0]) / step - 1e-9)
    highest = grid_index(bounds[1], step=step)
    return min(max(grid_index(limit, step=step) - offset, lowest), highest), lowest, highest


def best_index(scores: Mapping[int, float]) -> int:
    """The grid index with the lowest score; the lower rate on a tie."""
    return min(scores, key=lambda k: (scores[k], k))


def lower_if_close(
    scores: Mapping[int, float], best: int, *, within: float, start: float | None = None, gain_share: float = 0.0
) -> int:
    """`best`, or the grid index below it where that scored within `within` of the best score
    (relative to its size, so that a loss below zero compares the same way) and, given the
    initial weights' score `start`, gained at least `gain_share` of what the best gained from it:
    trials that barely moved the loss all score within a few percent of each other."""
    below, top = scores.get(best - 1, math.inf), scores[best]
    if not (math.isfinite(below) and math.isfinite(top) and below - top <= within * abs(top)):
        return best
    if start is not None and math.isfinite(start) and below - top > (1 - gain_share) * (start - top):
        return best
    return best - 1


def unbracketed(scores: Mapping[int, float]) -> list[int]:
    """The sides (+1 above, -1 below) where the best grid index has no worse rate tried: it is
    the highest (or lowest) index tried, and the best rate may lie beyond it."""
    best = best_index(scores)
    return [side for side, edge in ((1, max(scores)), (-1, min(scores))) if best == edge]


def next_index(scores: Mapping[int, float], *, start: int, lowest: int, highest: int) -> int | None:
    """Where the next trial goes: a walk on the grid from `start` toward lower scores.

    The start and the rate above it first; then one step further up while the highest rate
    tried is the best, or one step further down while the lowest is; None once the best has a
    worse rate on each side (or the walk would leave [lowest, highest]).
    """
    if start not in scores:
        nxt = start
    elif start + 1 not in scores:
        nxt = start + 1
    else:
        best = best_index(scores)
        if best == max(scores):
            nxt = best + 1
        elif best == min(scores):
            nxt = best - 1
        else:
            return None
    return nxt if lowest <= nxt <= highest else None


def vertex_shift(scores: Mapping[int, float], best: int, *, fraction: float) -> float:
    """How far (in grid steps) toward the vertex of the parabola through the best and its neighbours.

    0 when a neighbour is missing or not finite; the vertex is clipped to half a step.
    """
    ys = [scores.get(best + d, math.inf) for d in (-1, 0, 1)]
    if not all(math.isfinite(y) for y in ys):
        return 0.0
    curvature = ys[0] - 2 * ys[1] + ys[2]
    if curvature <= 0:
        return 0.0
    vertex = 0.5 * (ys[0] - ys[2]) / curvature
    return fraction * max(-0.5, min(0.5, vertex))
