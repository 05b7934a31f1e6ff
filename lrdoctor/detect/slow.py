"""Slow convergence: a steady, still-significant decrease at the end that has not begun to level off."""

from __future__ import annotations

from dataclasses import dataclass

from lrdoctor.detect.curve import Curve
from lrdoctor.detect.shape import Shape, ramp, step_at
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
    # noise (Shape.came_down) while the validation loss fell at nearly every
    # evaluation (Kendall tau at most -val_tau, p below p_value: six evaluations or more), by at
    # most val_fall_max of its start in all, and was still falling late (90% of its progress
    # after val_t90_min of the run). The rate moves the model the right way, too slowly to show
    # above the noise. Corpus runs 2 to 5 decades too low that came down less than 3 sigmas all
    # have a validation tau of -0.98 to -1, a validation t90 of 0.5 or more, and most a fall of
    # under 7%; runs too high that came down as little, a tau of -0.42 or more. A healthy run on
    # noisy labels or tiny batches comes down as little against its per-step noise while its
    # validation loss falls 17-40% of its start, most of it early (t90 0.2-0.3).
    noise_z: float = 3.0
    val_tau: float = 0.8
    val_fall_max: float = 0.15
    val_t90_min: float = 0.5
    # A validation loss that levelled off: its trend over the end of the run (the last 30% of its
    # evaluations, 6 at least) has Kendall tau above this, from `levelled_evals` evaluations or
    # more. The training loss's slow fall is then no sign of a rate too low: more steps at a
    # higher rate would not bring the held-out loss down. Of the 1509 runs of the corpus and its
    # extra tasks, as logged, this takes the slow-convergence finding from 1 of 393 too-low runs
    # that had one, 7 of 62 healthy ones and 10 of 51 too high ones (BENCHMARKS.md, "A validation
    # loss that levelled off").
    levelled_tau: float = -0.3
    levelled_evals: int = 6
    # ... after it had come down by this share of its start: one that never moved (a classifier
    # the rate has not yet moved off chance on held-out data) levelled off nothing.
    levelled_fall: float = 0.05
    # A log whose recorded rate reached its peak only after this share of it is (nearly) all its
    # warmup: a loss that falls late answers a rate still rising (the verdict's warmup_share).
    warmup_share: float = 0.8


# A trend that moves less than this share of its level moves by floating-point rounding alone (a
# constant loss of 0.6931 smoothed: 1e-13): its progress has no timing to read.
FLAT = 1e-9


def detect_slow(
    curve: Curve | None,
    shape: Shape | None,
    cfg: SlowConfig,
    val: Curve | None = None,
    val_shape: Shape | None = None,
    *,
    annealed: dict[str, float] | None = None,
    levelled: tuple[Curve, Shape] | None = None,
    warming: bool = False,
) -> list[Finding]:
    """`val`, `val_shape`: the validation loss, for progress beneath the training loss's noise;
    left out where the log begins late (its first value is not the start) or its loss went
    non-finite (a blow-up, not a slow run). `annealed`: the loss fell faster once the recorded
    rate had decayed than at its peak (lrdoctor.detect.lr.faster_once_decayed); its late progress
    is then the decay's doing, no sign of a rate too low. `levelled`: the validation loss and its
    shape, where it has `levelled_evals` evaluations or more; one that came down and levelled off
    at the end rules out a slow run read from the training loss's shape. `warming`: the log is
    (nearly) all its warmup, its late progress the rising rate's doing (detectron2's first 300 of
    its 1000 warmup iterations)."""
    if curve is None or shape is None or annealed is not None or warming:
        return []
    still_falling = shape.tail_slope > 0 and shape.tail_tau < 0 and shape.tail_p < cfg.p_value
    drop = (curve.start - curve.end) / max(abs(curve.start), 1e-12)
    if drop < 0:
        return []  # it ended above where it started: worse than slow, and the divergence detector's
    if float(curve.trend.max() - curve.trend.min()) <= FLAT * max(abs(curve.start), 1e-12):
        return []  # flat to the rounding of its values: no progress to time (the plateau detector's)
    beneath = _beneath_noise(curve, shape, val, val_shape, cfg)
    if beneath is None and levelled is not None and _levelled_off(*levelled, cfg):
        return []
    if not (still_falling or shape.t90 >= cfg.t90_hi or 0 < drop <= cfg.drop_full or beneath is not None):
        return []
    strength = (
        cfg.w_t90 * ramp(shape.t90, cfg.t90_lo, cfg.t90_hi)
        + cfg.w_tail * (ramp(shape.tail_slope, cfg.tail_lo, cfg.tail_hi) if still_falling else 0.0)
        + cfg.w_drop * (1.0 - ramp(drop, cfg.drop_full, cfg.drop_none))
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


def _levelled_off(val: Curve, val_shape: Shape, cfg: SlowConfig) -> bool:
    """The validation loss came down `levelled_fall` of its start or more, and its trend over the
    end of the run is flat (Kendall tau above `levelled_tau`)."""
    fell = (val.start - val.end) / max(abs(val.start), 1e-12)
    return fell >= cfg.levelled_fall and val_shape.tail_tau > cfg.levelled_tau


BENEATH = "came_down_sigmas"  # the evidence key that marks the sign of progress beneath the noise


def is_beneath_noise(finding: Finding) -> bool:
    """Whether a finding is slow convergence read as progress beneath the noise (from the
    validation loss), not from the training trend's shape."""
    return finding.pathology == "slow_convergence" and BENEATH in finding.evidence


def _beneath_noise(
    curve: Curve, shape: Shape, val: Curve | None, val_shape: Shape | None, cfg: SlowConfig
) -> dict[str, float] | None:
    """The evidence of progress beneath the training loss's noise, or None where there is none."""
    if val is None or val_shape is None:
        return None
    z = shape.came_down
    fall = (val.start - val.end) / max(abs(val.start), 1e-12)
    if not (
        z < cfg.noise_z  # (NaN: a loss that does not vary is not noise)
        and val_shape.all_tau <= -cfg.val_tau
        and val_shape.all_p < cfg.p_value
        and 0 < fall <= cfg.val_fall_max
        and val_shape.t90 >= cfg.val_t90_min
    ):
        return None
    return {
        BENEATH: z,
        "val_kendall_tau": val_shape.all_tau,
        "val_p_value": val_shape.all_p,
        "val_fall": fall,
    }


def _why(
    still_falling: bool, drop: float, shape: Shape, cfg: SlowConfig, beneath: dict[str, float] | None = None
) -> str:
    """The signs that hold, each said only where it is one ("took 3% of its length" is not)."""
    signs = []
    if beneath is not None:
        z = beneath[BENEATH]
        moved = f"came down by {z:.1f} sigmas of its noise (under 3)" if z >= 0.05 else "did not come down"
        signs.append(
            f"training loss {moved} while the validation loss fell at nearly every evaluation (Kendall tau "
            f"{beneath['val_kendall_tau']:.2f}), by {fmt_share(beneath['val_fall'])} in all: the rate moves the "
            "model, too slowly to show above the noise"
        )
    if still_falling:
        signs.append(f"loss still falling steadily (Kendall tau {shape.tail_tau:.2f} at the end of the run)")
    if 0 < drop <= cfg.drop_full:
        shed = "less than 1%" if drop < 0.005 else f"only {fmt_share(drop)}"
        signs.append(f"loss came down {shed} from its start")
    if shape.t90 >= cfg.t90_lo or not signs:
        signs.append(f"the run took {100 * shape.t90:.0f}% of its length to make 90% of its progress")
    return "; ".join(signs)
