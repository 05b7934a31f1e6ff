"""Loss spikes: isolated upward excursions, by robust z-score against the point-to-point noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor.detect.curve import Curve
from lrdoctor.detect.shape import Shape
from lrdoctor.diagnosis import Finding


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
    z = shape.zscores
    above = (z > cfg.z) & (curve.t >= cfg.skip)
    if not above.any():
        return []
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    spikes = [(a, b) for a, b in zip(starts, ends, strict=True) if b - a <= cfg.max_width]
    if len(spikes) < cfg.min_count:
        return []
    peaks = [float(z[a:b].max()) for a, b in spikes]
    first, last = spikes[0][0], spikes[-1][1] - 1
    return [
        Finding(
            "loss_spike",
            "warning" if len(spikes) >= 3 else "info",
            float(curve.steps[first]),
            float(curve.steps[last]),
            f"{len(spikes)} isolated spike(s), up to {_sigmas(max(peaks))} noise sigmas above the trend, "
            "each recovering",
            {"count": len(spikes), "max_z": max(peaks), "steps": [float(curve.steps[a]) for a, _ in spikes[:20]]},
            suggests="too_high",
            strength=min(cfg.cap, cfg.per_spike * len(spikes)),
        )
    ]


def _sigmas(z: float) -> str:
    """A z-score in a sentence: whole sigmas, or 3 significant digits once it is huge (a spike to
    1e300 is 1e300-odd sigmas, not a 300-digit number); "over 1e308" when it overflowed."""
    if not np.isfinite(z):
        return "over 1e308"
    return f"{z:.0f}" if z < 1e6 else f"{z:.3g}"
