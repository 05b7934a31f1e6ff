"""Loss spikes: isolated upward excursions, by robust z-score against the point-to-point noise.

The noise is measured locally: minibatch noise grows with the loss, so the fast early descent of
a healthy run is noisier than its end, and one noise level for the whole run would find "spikes"
there. Each point is measured against the larger of the run's noise and the noise around it (the
robust spread of the point-to-point changes over a trend's window). The threshold is raised by as
much as the log's own upper tail of z (its 99th and 99.9th percentiles, where the log holds enough
points to measure them) lies beyond a normal distribution's: a language model's hard batches
reach 8 sigmas by chance in a log of thousands of steps, and they are not spikes.

A long log's curve is reduced to bin medians, and a median hides a one-step spike by design; so
there every point is also measured at the log's own resolution (its noise measured on an even
sample of at most SAMPLE points), and a spike found both ways is reported once, at its own steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import Curve
from lrdoctor.detect.shape import Shape
from lrdoctor.diagnosis import Finding
from lrdoctor.run import axis_unit, fmt_step, fmt_steps

# Upper percentiles of a standard normal, which a log's own z-scores are compared with; each is
# used where the log has points enough to expect TAIL_POINTS or more beyond it.
NORMAL_QUANTILES = {0.99: 2.326, 0.999: 3.090}
TAIL_POINTS = 2
# A long log's noise and tail are measured on an even sample of at most this many points.
SAMPLE = 200_000
# The local noise is taken over this share of the run (the trend's window), in points or bins.
LOCAL_SHARE = 1 / 25


@dataclass(frozen=True)
class SpikeConfig:
    z: float = 8.0  # robust z-score of a spike; minibatch noise rarely passes 5
    skip: float = 0.02  # the first share of the run is the initial transient
    max_width: int = 3  # points above threshold in a row; longer is a regime, not a spike
    min_count: int = 1
    # Spikes that recover say little about the rate on their own: each adds this much strength, up to `cap`.
    per_spike: float = 0.1
    cap: float = 0.4
    # A spike's recovery: the loss back within this many noise sigmas of its median over the
    # `level_points` points before the spike (a few: a schedule's restart just before it moves the
    # level). One that took longer than `slow_share` of the run, or never came back where the run
    # went on that long, is a jump the run paid for (a warning), not minibatch luck: a ViT whose
    # loss jumped 4.5 -> 5.3 and took 40 of its 300 epochs to come back.
    recovered_sigmas: float = 3.0
    level_points: int = 5
    slow_share: float = 0.05


Spike = tuple[float, float, float]  # first step, last step, highest z-score


def detect_spikes(curve: Curve | None, shape: Shape | None, cfg: SpikeConfig, *, unit: str = "step") -> list[Finding]:
    if curve is None or shape is None or len(curve.y) < 20 or curve.noise <= 0:
        return []
    first = int(np.searchsorted(curve.t, cfg.skip))
    noise = np.maximum(local_noise(curve.y, _window(len(curve.y))), curve.noise)
    z = shape.zscores * (curve.noise / noise)  # the residual from the trend over the local noise
    spikes = excursions(z, curve.steps, cfg.z * tail_factor(z[first:]), cfg.max_width, first)
    if curve.binned:
        spikes = _merged(spikes, _raw_spikes(curve, cfg), _bin_width(curve))
    if not spikes or len(spikes) < cfg.min_count:
        return []
    peak = max(height for _, _, height in spikes)
    took = [_recovery(curve, noise, spike, cfg.level_points, cfg.recovered_sigmas) for spike in spikes]
    slow = cfg.slow_share * float(curve.steps[-1] - curve.steps[0])
    end = float(curve.steps[-1])
    # (a spike too near the end to have come back yet is not counted as slow)
    paid = [(s, t) for s, t in zip(spikes, took, strict=True) if t > slow and end - s[1] > slow]
    return [
        Finding(
            "loss_spike",
            "warning" if len(spikes) >= 3 or paid else "info",
            spikes[0][0],
            spikes[-1][1],
            f"{len(spikes)} isolated spike(s), up to {_sigmas(peak)} noise sigmas above the trend"
            + _recovered(took, paid, unit),
            {
                "count": len(spikes),
                "max_z": peak,
                "steps": [a for a, _, _ in spikes[:20]],
                "recovery": took[:20],
            },
            suggests="too_high",
            strength=min(cfg.cap, cfg.per_spike * len(spikes)),
        )
    ]


def _recovery(curve: Curve, noise: np.ndarray, spike: Spike, window: int, sigmas: float) -> float:
    """How long after its last point the loss came back within `sigmas` of the noise around it
    of its median over the `window` points before the spike (in the units of the x axis); inf
    where it never did."""
    i0 = int(np.searchsorted(curve.steps, spike[0]))
    i1 = int(np.searchsorted(curve.steps, spike[1], side="right"))
    before = curve.y[max(0, i0 - window) : i0]
    if not len(before) or i0 >= len(curve.y):
        return 0.0
    level = float(np.median(before)) + sigmas * float(noise[i0])
    back = np.flatnonzero(curve.y[i1:] <= level)
    return float(curve.steps[i1 + back[0]]) - spike[1] if len(back) else math.inf


def _recovered(took: list[float], paid: list[tuple[Spike, float]], unit: str) -> str:
    """How the run came back from its spikes, as the end of a sentence."""
    if not paid:
        back = [t for t in took if math.isfinite(t)]
        late = len(took) - len(back)  # too near the end to have come back yet
        within = f"within {fmt_step(max(back))} {axis_unit(unit, plural=max(back) != 1)}" if back else ""
        if not late:
            return f", {'each ' if len(took) > 1 else ''}recovering {within}"
        at_end = "not back by the end of the run" if late == len(took) else f"{late} not back by the end of the run"
        return f", {at_end}" + (f", the others recovering {within}" if back else "")
    (first, t), more = paid[0], len(paid) - 1
    at = "it" if len(took) == 1 else f"the one at {unit} {fmt_steps(first[0], first[1])}"
    said = (
        "; the loss never came back to its level from before " + at
        if not math.isfinite(t)
        else f"; the loss took {fmt_step(t)} {axis_unit(unit, plural=True)} to come back to its level from before {at}"
    )
    return said + (f" ({more} more as slow)" if more else "")


def local_noise(y: np.ndarray, window: int) -> np.ndarray:
    """The robust sigma of each point's noise from the changes around it: the running median of
    |point-to-point change| over `window` changes, scaled as the MAD (changes are nearly centred
    at 0) and divided by sqrt(2) (a change holds two points' noise). One value per point."""
    if len(y) < 2:
        return np.zeros(len(y))
    spread = stats.median_filter(np.abs(np.diff(y)), window) * (stats.MAD_TO_SIGMA / np.sqrt(2.0))
    return np.concatenate([spread[:1], spread])


def tail_factor(z: np.ndarray) -> float:
    """How far the upper tail of z lies beyond a normal distribution's, at least 1: the largest
    ratio of its percentiles to a normal's, over those it holds points enough to measure."""
    usable = [(q, ref) for q, ref in NORMAL_QUANTILES.items() if len(z) * (1 - q) >= TAIL_POINTS]
    if not usable:
        return 1.0
    values = np.quantile(z, [q for q, _ in usable])
    return max(1.0, *(float(v) / ref for v, (_, ref) in zip(values, usable, strict=True)))


def _window(n: int) -> int:
    return max(3, int(n * LOCAL_SHARE))


def excursions(z: np.ndarray, steps: np.ndarray, threshold: float, max_width: int, first: int) -> list[Spike]:
    """Runs of at most `max_width` consecutive points above `threshold`, from index `first` on."""
    idx = np.flatnonzero(z[first:] > threshold) + first
    return _runs(idx, z[idx], steps, max_width)


def _runs(idx: np.ndarray, heights: np.ndarray, steps: np.ndarray, max_width: int) -> list[Spike]:
    """The runs of consecutive indices in `idx` (sorted; `heights` their z-scores), as spikes,
    where at most `max_width` long."""
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    firsts, lasts = np.r_[0, breaks + 1], np.r_[breaks, len(idx) - 1]  # positions in idx
    return [
        (float(steps[idx[i]]), float(steps[idx[j]]), float(heights[i : j + 1].max()))
        for i, j in zip(firsts, lasts, strict=True)
        if idx[j] - idx[i] < max_width
    ]


def _bin_width(curve: Curve) -> float:
    assert curve.raw_steps is not None
    return float(curve.raw_steps[-1] - curve.raw_steps[0]) / max(len(curve.y), 1)


def _merged(binned: list[Spike], raw: list[Spike], width: float) -> list[Spike]:
    """Every raw spike (at its own steps), and each bin spike with no raw spike within a bin of it
    (a spike lasting more points than a raw spike may, but few enough bins)."""
    kept = [b for b in binned if not any(b[0] - width <= r[0] <= b[1] + width for r in raw)]
    return sorted(raw + kept)


def _raw_spikes(curve: Curve, cfg: SpikeConfig) -> list[Spike]:
    """Spikes among a long curve's every finite point: the residual from the trend (through the
    bin medians, robust to the spike itself) over the local noise of the raw points, measured on
    an even sample of at most SAMPLE points (100 per bin of a 2000-bin curve: a robust spread
    as good as from all of them, at a fraction of the cost) for each bin, then over a trend's
    window of bins."""
    assert curve.raw_steps is not None and curve.raw_y is not None
    steps, y = curve.raw_steps, curve.raw_y
    stride = -(-len(y) // SAMPLE)
    at = np.arange(0, len(y) - 1, stride)
    changes = np.abs(y[at + 1] - y[at])
    noise = stats.mad_sigma(y[at + 1] - y[at]) / np.sqrt(2.0)
    if not noise > 0:
        return []
    # The sample's changes in as many even groups as the curve has bins (the sample is even, so
    # each group spans about one bin), each group's robust spread.
    edges = np.linspace(0, len(at), len(curve.y) + 1).astype(int)
    per_bin = stats.group_medians(changes, edges) * (stats.MAD_TO_SIGMA / np.sqrt(2.0))
    local = np.maximum(stats.median_filter(per_bin, _window(len(per_bin))), noise)
    resid = np.interp(steps, curve.steps, curve.trend)  # one array of the log's length, reused in place
    np.subtract(y, resid, out=resid)
    first = int(np.searchsorted(steps, steps[0] + cfg.skip * (steps[-1] - steps[0])))
    sample = at[at >= first]
    z_sample = resid[sample] / np.interp(steps[sample], curve.steps, local)
    threshold = cfg.z * tail_factor(z_sample)
    # The local noise is never below the run's: points above the threshold at the run's noise are
    # the only candidates, few, and only they are measured against the noise around them.
    candidates = np.flatnonzero(resid[first:] > threshold * noise) + first
    z = resid[candidates] / np.interp(steps[candidates], curve.steps, local)
    keep = z > threshold
    return _runs(candidates[keep], z[keep], steps, cfg.max_width)


def _sigmas(z: float) -> str:
    """A z-score in a sentence: whole sigmas, or 3 significant digits once it is huge (a spike to
    1e300 is 1e300-odd sigmas, not a 300-digit number); "over 1e308" when it overflowed."""
    if not np.isfinite(z):
        return "over 1e308"
    return f"{z:.0f}" if z < 1e6 else f"{z:.3g}"
