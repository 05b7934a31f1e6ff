"""Loss spikes: isolated upward excursions, by robust z-score against the point-to-point noise.

A long log's curve is reduced to bin medians, and a median hides a one-step spike by design; so
there every point is also measured at the log's own resolution, against the trend, in units of
the raw point-to-point noise. With thousands of points, minibatch noise with a heavy upper tail
(a language model's hard batches) reaches 8 sigmas by chance, so there the threshold is scaled by
how far the log's own upper tail (its 99th and 99.9th percentiles of z) lies beyond a normal
distribution's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve
from lrdoctor.detect.shape import Shape
from lrdoctor.diagnosis import Finding

# Upper percentiles of a standard normal, which a long log's own z-scores are compared with.
NORMAL_QUANTILES = {0.99: 2.326, 0.999: 3.090}


@dataclass(frozen=True)
class SpikeConfig:
    z: float = 8.0  # robust z-score of a spike; minibatch noise rarely passes 5
    skip: float = 0.02  # the first share of the run is the initial transient
    max_width: int = 3  # points above threshold in a row; longer is a regime, not a spike
    min_count: int = 1
    # Spikes that recover say little about the rate on their own: each adds this much strength, up to `cap`.
    per_spike: float = 0.1
    cap: float = 0.4


def detect_spikes(curve: Curve | None, shape: Shape | None, cfg: SpikeConfig) -> list[Finding]:
    if curve is None or shape is None or len(curve.y) < 20 or curve.noise <= 0:
        return []
    spikes = _excursions(shape.zscores, curve.steps, curve.t, cfg.z, cfg.max_width, cfg.skip)
    if curve.binned:
        z, steps, t, noise = _raw_view(curve)
        if noise > 0:
            q = np.quantile(z[t >= cfg.skip], list(NORMAL_QUANTILES))
            tail = max(1.0, *(float(v) / ref for v, ref in zip(q, NORMAL_QUANTILES.values(), strict=True)))
            threshold = cfg.z * tail
            spikes = _merged(spikes, _excursions(z, steps, t, threshold, cfg.max_width, cfg.skip))
    if not spikes or len(spikes) < cfg.min_count:
        return []
    peak = max(height for _, _, height in spikes)
    return [
        Finding(
            "loss_spike",
            "warning" if len(spikes) >= 3 else "info",
            spikes[0][0],
            spikes[-1][1],
            f"{len(spikes)} isolated spike(s), up to {_sigmas(peak)} noise sigmas above the trend, each recovering",
            {"count": len(spikes), "max_z": peak, "steps": [a for a, _, _ in spikes[:20]]},
            suggests="too_high",
            strength=min(cfg.cap, cfg.per_spike * len(spikes)),
        )
    ]


Spike = tuple[float, float, float]  # first step, last step, highest z-score


def _excursions(
    z: np.ndarray, steps: np.ndarray, t: np.ndarray, threshold: float, max_width: int, skip: float
) -> list[Spike]:
    """Runs of at most `max_width` points above `threshold`, after the first `skip` of the run."""
    above = (z > threshold) & (t >= skip)
    if not above.any():
        return []
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        (float(steps[a]), float(steps[b - 1]), float(z[a:b].max()))
        for a, b in zip(starts, ends, strict=True)
        if b - a <= max_width
    ]


def _merged(binned: list[Spike], raw: list[Spike]) -> list[Spike]:
    """Both lists in step order, a raw spike dropped where it lies within a bin spike's bins."""
    kept = [r for r in raw if not any(b[0] <= r[0] <= b[1] for b in binned)]
    return sorted(binned + kept)


def _raw_view(curve: Curve) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """z-scores, steps and run positions of a long curve's every finite point, and the noise: the
    residual from the trend (through the bin medians, robust to the spike itself) over the raw
    point-to-point noise."""
    assert curve.raw_steps is not None and curve.raw_y is not None
    steps, y = curve.raw_steps, curve.raw_y
    noise = stats.mad_sigma(np.diff(y)) / np.sqrt(2.0)
    first, last = float(steps[0]), float(steps[-1])
    t = (steps - first) / (last - first) if last > first else np.linspace(0.0, 1.0, len(y))
    if not noise > 0:
        return np.zeros(len(y)), steps, t, 0.0
    return (y - np.interp(steps, curve.steps, curve.trend)) / noise, steps, t, float(noise)


def _sigmas(z: float) -> str:
    """A z-score in a sentence: whole sigmas, or 3 significant digits once it is huge (a spike to
    1e300 is 1e300-odd sigmas, not a 300-digit number); "over 1e308" when it overflowed."""
    if not np.isfinite(z):
        return "over 1e308"
    return f"{z:.0f}" if z < 1e6 else f"{z:.3g}"
