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
# A long log's noise and tail are measured on an even sample of at most this many points.
SAMPLE = 1_000_000


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
    spikes = _excursions(shape.zscores, curve.steps, cfg.z, cfg.max_width, int(np.searchsorted(curve.t, cfg.skip)))
    if curve.binned:
        spikes = _merged(spikes, _raw_spikes(curve, cfg))
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


def _excursions(z: np.ndarray, steps: np.ndarray, threshold: float, max_width: int, first: int) -> list[Spike]:
    """Runs of at most `max_width` consecutive points above `threshold`, from index `first` on."""
    idx = np.flatnonzero(z[first:] > threshold) + first  # few: the work below is O(spikes)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts, ends = idx[np.r_[0, breaks + 1]], idx[np.r_[breaks, len(idx) - 1]] + 1
    return [
        (float(steps[a]), float(steps[b - 1]), float(z[a:b].max()))
        for a, b in zip(starts, ends, strict=True)
        if b - a <= max_width
    ]


def _merged(binned: list[Spike], raw: list[Spike]) -> list[Spike]:
    """Both lists in step order, a raw spike dropped where it lies within a bin spike's bins."""
    kept = [r for r in raw if not any(b[0] <= r[0] <= b[1] for b in binned)]
    return sorted(binned + kept)


def _raw_spikes(curve: Curve, cfg: SpikeConfig) -> list[Spike]:
    """Spikes among a long curve's every finite point: the residual from the trend (through the
    bin medians, robust to the spike itself) over the raw point-to-point noise, above a threshold
    raised by the log's own upper tail. The noise and the tail are measured on an even sample of
    at most SAMPLE points (a robust scale from 10^6 points is as good as from 10^7, at a tenth of
    the cost)."""
    assert curve.raw_steps is not None and curve.raw_y is not None
    steps, y = curve.raw_steps, curve.raw_y
    stride = -(-len(y) // SAMPLE)
    at = np.arange(0, len(y) - 1, stride)
    noise = stats.mad_sigma(y[at + 1] - y[at]) / np.sqrt(2.0)
    if not noise > 0:
        return []
    z = np.interp(steps, curve.steps, curve.trend)  # one array of the log's length, reused in place
    np.subtract(y, z, out=z)
    z /= noise
    first = int(np.searchsorted(steps, steps[0] + cfg.skip * (steps[-1] - steps[0])))
    sample = z[first::stride]
    q = np.quantile(sample, list(NORMAL_QUANTILES)) if len(sample) else np.zeros(len(NORMAL_QUANTILES))
    tail = max(1.0, *(float(v) / ref for v, ref in zip(q, NORMAL_QUANTILES.values(), strict=True)))
    return _excursions(z, steps, cfg.z * tail, cfg.max_width, first)


def _sigmas(z: float) -> str:
    """A z-score in a sentence: whole sigmas, or 3 significant digits once it is huge (a spike to
    1e300 is 1e300-odd sigmas, not a 300-digit number); "over 1e308" when it overflowed."""
    if not np.isfinite(z):
        return "over 1e308"
    return f"{z:.0f}" if z < 1e6 else f"{z:.3g}"
