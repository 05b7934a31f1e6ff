"""Oscillation: swings around the trend beyond what minibatch noise explains, once the loss has come down."""

from __future__ import annotations

from dataclasses import dataclass

from lrdoctor.detect.curve import Curve
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


def detect_oscillation(curve: Curve | None, shape: Shape | None, cfg: OscillationConfig) -> list[Finding]:
    if curve is None or shape is None or len(curve.y) < 20:
        return []
    if shape.roughness < cfg.rough_lo or shape.t90 > cfg.t90_max:
        return []
    start = step_at(curve, HALF)
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
