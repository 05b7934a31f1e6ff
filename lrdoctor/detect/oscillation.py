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
    # A minibatch loss swings by its sampling noise at any rate: on noisy labels (two overlapping
    # classes, flipped labels) a healthy run's swings reach 10-20% of its progress. A validation
    # loss, measured on the same held-out data each time, moves only with the weights. Where the
    # log has one of at least `val_points_min` points, its swings around its own trend (second
    # half, in loss units) must be at least this share of the training loss's: the weights' part
    # of them. The corpus's healthy runs whose minibatch noise read as oscillation show 0.003 to
    # 0.012 of it, its too-high runs 0.115 and more (BENCHMARKS.md, "Minibatch noise is not
    # oscillation").
    val_share_min: float = 0.1
    # (With fewer evaluations the second half's few residuals around a short running median
    # understate the validation loss's swings.)
    val_points_min: int = 10
    # A training loss that ends this many times above the validation loss is on another scale
    # (summed over a batch, or over accumulation steps, where the validation loss is a mean): the
    # swings are then compared as shares of each curve's own progress.
    scale_mismatch: float = 3.0
    # Residuals that alternate this strongly (lag-1 autocorrelation at or below it) are the rate's
    # period-2 swing, not minibatch noise (whose lag-1 is near 0): a validation loss evaluated
    # every even number of steps sees one phase of it only, so it is not asked.
    alternating: float = -0.5


# A validation curve whose second half repeats its previous value at this share of its
# evaluations or more holds a running best, not the loss at each evaluation.
REPEATS_MAX = 0.3


def detect_oscillation(
    curve: Curve | None,
    shape: Shape | None,
    cfg: OscillationConfig,
    lr: LrEvents | None = None,
    val: Curve | None = None,
    val_shape: Shape | None = None,
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
    evidence = {"roughness": shape.roughness, "lag1_autocorr": shape.lag1, "t90": shape.t90}
    message = (
        f"loss swings around its trend by {fmt_share(shape.roughness, 'its progress')} in the second half "
        f"(lag-1 autocorrelation of residuals {shape.lag1:.2f})"
    )
    share = None if shape.lag1 <= cfg.alternating else val_swing_share(curve, shape, val, val_shape, cfg)
    if share is not None:
        if share < cfg.val_share_min:
            return []  # minibatch noise: the weights hardly move the held-out loss
        evidence["val_swing_share"] = share
        message += f"; the validation loss swings {share:.2f} as much"
    return [
        Finding(
            "oscillation",
            "warning",
            start,
            float(curve.steps[-1]),
            message,
            evidence,
            suggests="too_high",
            strength=ramp(shape.roughness, cfg.rough_lo, cfg.rough_hi),
        )
    ]


def val_swing_share(
    curve: Curve, shape: Shape, val: Curve | None, val_shape: Shape | None, cfg: OscillationConfig
) -> float | None:
    """How much of the training loss's swings around its trend (second half) the validation loss
    shows around its own, in loss units (as shares of each curve's progress where the training
    loss is on another scale). None where the log has no validation loss of `val_points_min` points, or
    one that does not vary around its trend or repeats its values (a constant, or the best value
    so far, which a checkpointing callback logs): nothing to compare."""
    if val is None or val_shape is None or len(val.y) < cfg.val_points_min:
        return None
    if not (shape.roughness > 0 and val_shape.roughness > 0) or not np.isfinite(val_shape.roughness):
        return None
    if np.mean(np.diff(val.y[val.t >= HALF]) == 0) >= REPEATS_MAX:
        return None
    if val.end > 0 and curve.end > cfg.scale_mismatch * val.end:
        return float(val_shape.roughness / shape.roughness)
    return float(val_shape.roughness * val.span / (shape.roughness * curve.span))
