"""Oscillation: swings around the trend beyond what minibatch noise explains, once the loss has come down."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrdoctor.detect.curve import Curve
from lrdoctor.detect.lr import LrEvents
from lrdoctor.detect.shape import HALF, Shape, ramp, step_at
from lrdoctor.diagnosis import Finding
from lrdoctor.run import fmt_share


@dataclass(frozen=True)
class OscillationConfig:
    # Residual spread over the second half as a share of the progress span: healthy corpus runs
    # stay below ~0.06 (95th percentile).
    rough_lo: float = 0.07
    rough_hi: float = 0.3
    # Only runs that made most of their progress early (a too-low run is noisy relative to its small span).
    t90_max: float = 0.5
    # Swings while the recorded rate is below this share of its peak (a schedule decayed it) are
    # not the rate's doing: the loss is as noisy as its minibatches, whatever the rate.
    lr_share_min: float = 0.05
    # The loss must have come down before its swings can be told from minibatch noise: its start
    # at least this many residual sigmas above the median of its second half
    # (Shape.came_down).
    # A rate that barely moves the model leaves its loss at the initial level plus minibatch noise,
    # around a trend that fell by less than that noise, and its roughness (noise / a tiny progress)
    # is large: corpus runs 4 to 5 decades too low start 1.2 to 2.0 sigmas up, runs too high that
    # came down and swing 4.5 to 10^5.
    came_down_min: float = 3.0


def detect_oscillation(
    curve: Curve | None, shape: Shape | None, cfg: OscillationConfig, lr: LrEvents | None = None
) -> list[Finding]:
    if curve is None or shape is None or len(curve.y) < 20:
        return []
    if shape.roughness < cfg.rough_lo or shape.t90 > cfg.t90_max:
        return []
    if not shape.came_down >= cfg.came_down_min:  # (NaN: residuals that do not vary)
        return []
    start = step_at(curve, HALF)
    if lr is not None and lr.peak is not None and lr.steps is not None and lr.values is not None:
        during = lr.values[lr.steps >= start]
        if len(during) and float(np.median(during)) < cfg.lr_share_min * lr.peak:
            return []
    return [
        Finding(
            "oscillation",
            "warning",
            start,
            float(curve.steps[-1]),
            f"loss swings around its trend by {fmt_share(shape.roughness, 'its progress')} in the second half "
            f"(lag-1 autocorrelation of residuals {shape.lag1:.2f})",
            {"roughness": shape.roughness, "lag1_autocorr": shape.lag1, "t90": shape.t90},
            suggests="too_high",
            strength=ramp(shape.roughness, cfg.rough_lo, cfg.rough_hi),
        )
    ]
