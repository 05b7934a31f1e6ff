"""Slow convergence: a steady, still-significant decrease at the end that has not begun to level off."""

from __future__ import annotations

from dataclasses import dataclass

from lrdoctor.detect.curve import Curve
from lrdoctor.detect.shape import Shape, came_down, ramp, step_at
from lrdoctor.diagnosis import Finding
from lrdoctor.run import fmt_share


@dataclass(frozen=True)
class SlowConfig:
    # Share of the run needed for 90% of the progress: healthy corpus runs take at most ~0.6
    # (95th percentile), too-low ones 0.55-1.0.
    t90_lo: float = 0.5
    t90_hi: float = 0.6
    # Remaining slope over the tail, as progress-per-run in units of the span start -> best.
    tail_lo: float = 0.2
    tail_hi: float = 0.5
    p_value: float = 0.01
    # Progress relative to the start level: healthy corpus runs end 50-99% below their start
    # (10th percentile by task 0.5-0.95), too-low ones 2-60% below.
    drop_full: float = 0.2
    drop_none: float = 0.7
    # Weights of the three signs in the strength.
    w_t90: float = 0.5
    w_tail: float = 0.3
    w_drop: float = 0.2
    # Progress beneath the noise: the training loss came down less than this many sigmas of its
    # minibatch noise (lrdoctor.detect.shape.came_down) while the validation loss fell at nearly
    # every evaluation (Kendall tau at most -val_tau, p below p_value: six evaluations or more).
    # The rate moves the model the right way, too slowly to show above the noise: corpus runs 2 to
    # 5 decades too low that came down less than 3 sigmas all have a validation tau of -0.98 to -1,
    # runs too high that came down as little -0.42 or more.
    noise_z: float = 3.0
    val_tau: float = 0.8


def detect_slow(
    curve: Curve | None, shape: Shape | None, cfg: SlowConfig, val_shape: Shape | None = None
) -> list[Finding]:
    if curve is None or shape is None:
        return []
    still_falling = shape.tail_slope > 0 and shape.tail_tau < 0 and shape.tail_p < cfg.p_value
    drop = (curve.start - curve.end) / max(abs(curve.start), 1e-12)
    beneath = _beneath_noise(curve, shape, val_shape, cfg)
    if drop < 0 and beneath is None:
        return []  # it ended above where it started: worse than slow, and the divergence detector's
    if not (still_falling or shape.t90 >= cfg.t90_hi or 0 < drop <= cfg.drop_full or beneath is not None):
        return []
    strength = (
        cfg.w_t90 * ramp(shape.t90, cfg.t90_lo, cfg.t90_hi)
        + cfg.w_tail * (ramp(shape.tail_slope, cfg.tail_lo, cfg.tail_hi) if still_falling else 0.0)
        + cfg.w_drop * (1.0 - ramp(max(drop, 0.0), cfg.drop_full, cfg.drop_none))
    ) / (cfg.w_t90 + cfg.w_tail + cfg.w_drop)
    if beneath is not None:
        strength = 1.0
    if strength <= 0:
        return []
    # (progress beneath the noise is the whole run's)
    start = float(curve.steps[0]) if beneath is not None else step_at(curve, shape.tail_from)
    return [
        Finding(
            "slow_convergence",
            "warning" if strength >= 0.5 else "info",
            start,
            float(curve.steps[-1]),
            _why(still_falling, drop, shape, cfg, beneath),
            {
                "kendall_tau": shape.tail_tau,
                "p_value": shape.tail_p,
                "tail_slope": shape.tail_slope,
                "t90": shape.t90,
                "drop": drop,
                **({} if beneath is None else beneath),
            },
            suggests="too_low",
            strength=strength,
        )
    ]


def _beneath_noise(curve: Curve, shape: Shape, val_shape: Shape | None, cfg: SlowConfig) -> dict[str, float] | None:
    """The evidence of progress beneath the training loss's noise, or None where there is none."""
    if val_shape is None:
        return None
    z = came_down(curve, shape)
    if z >= cfg.noise_z or val_shape.all_tau > -cfg.val_tau or val_shape.all_p >= cfg.p_value:
        return None
    return {"came_down_sigmas": z, "val_kendall_tau": val_shape.all_tau, "val_p_value": val_shape.all_p}


def _why(
    still_falling: bool, drop: float, shape: Shape, cfg: SlowConfig, beneath: dict[str, float] | None = None
) -> str:
    """The signs that hold, each said only where it is one ("took 3% of its length" is not)."""
    signs = []
    if beneath is not None:
        moved = (
            f"came down {beneath['came_down_sigmas']:.1f} sigmas of its noise"
            if beneath["came_down_sigmas"] > 0
            else "did not come down"
        )
        signs.append(
            f"training loss {moved} while the validation loss fell steadily (Kendall tau "
            f"{beneath['val_kendall_tau']:.2f}): the rate moves the model, too slowly to show above the minibatch noise"
        )
    if still_falling:
        signs.append(f"loss still falling steadily (Kendall tau {shape.tail_tau:.2f} at the end of the run)")
    if 0 < drop <= cfg.drop_full:
        shed = "less than 1%" if drop < 0.005 else f"only {fmt_share(drop)}"
        signs.append(f"loss came down {shed} from its start")
    if shape.t90 >= cfg.t90_lo or not signs:
        signs.append(f"the run took {100 * shape.t90:.0f}% of its length to make 90% of its progress")
    return "; ".join(signs)
