"""Divergence: non-finite values, explosive growth, a loss that ends above its start, a dead network.

A log whose training loss begins after the first updates has lost its start level; where its
validation loss was measured before them (an evaluation at step 0), that start stands in: a
validation loss that ended well above it is a divergence the training curve cannot show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lrdoctor import stats
from lrdoctor.detect.curve import (
    Curve,
    learnt_for_a_while,
    nonfinite_after_skips,
    skipped_nonfinite,
    start_level,
    sustained_rise,
)
from lrdoctor.detect.shape import Shape, ramp
from lrdoctor.diagnosis import Finding
from lrdoctor.run import fmt_factor, fmt_step

# A loss that went NaN/Inf had been climbing first when its last finite tenth ended this far above
# its lowest level: more than this many noise sigmas, and this share of its progress.
RISE_SIGMAS = 3.0
RISE_SHARE = 0.1


@dataclass(frozen=True)
class DivergenceConfig:
    # Peak over start level: healthy corpus runs reach at most ~10x (warmup and minibatch spikes),
    # diverging ones 1e3x and more (BENCHMARKS.md, corpus percentiles).
    explode_ratio: float = 100.0
    # ... unless the run came back from it: its end below this share of its start (and its
    # validation loss, where logged, below its own start). Healthy corpus runs that blew up early
    # and recovered (Adam on the ill-conditioned regression) end at 1-4% of their start; the
    # too-high ones that spiked and never came back end at 11-100%+, or with the validation
    # loss far above its start. A recovered blow-up is a warning the verdict model weighs.
    recovered_below: float = 0.1
    # ... and it went on learning once back: from its first point after the peak within this many
    # times its end level, it fell by this share or more; or, blown up after `blowup_points` points
    # or more, it came back to the level its trend had reached before (within `above_before`). A
    # classifier at 20x its best rate, logged as epoch means, came back from a blown-up first epoch
    # (4.5e10, then 2e27) to 0.91 and sat there (0.84 at the end, worse than chance): "recovered"
    # by the ratio alone. Of the corpus's 129 recovered blow-ups (1509 runs at every cadence), this
    # leaves the 102 healthy ones recovered and takes 4 of the 27 too-high ones (BENCHMARKS.md,
    # "Learnt, then lost it").
    recovered_near: float = 10.0
    recovered_fell: float = 0.5
    # End level above the start level by this share of |start|, and beyond the noise of one draw
    # (Curve.draw_noise) or 4x this share above it ...
    end_above_start: float = 0.05
    # ... confirmed, among other ways, by the loss just after the start lying this many sigmas of
    # the noise there above it (a low first draw is that far out once in 700 runs).
    jump_sigmas: float = 3.0
    # ... or by the start lying below all but this share of the points after it: a low first draw
    # from the level a run stayed at lies there once in 1 / share runs, whatever the noise's shape;
    # a loss that jumped at its first update into swings at a higher level lies there in some
    # (BENCHMARKS.md, "A loss that ended above its start").
    start_below_share: float = 0.02
    # A "dead" run: its trend over the last half is flat (|Kendall tau| below this) while it sits
    # within `dead_level` of its start after an early excursion of `dead_spike` x start ...
    dead_tau: float = 0.15
    dead_level: float = 0.1
    dead_spike: float = 1.3
    # ... an excursion that stands out of the point-to-point noise by this many sigmas (the loss
    # spike detector's z): a flat, noisy line that never learnt (a rate far too low on a noisy
    # regression) swings 1.5x its start by minibatch noise alone ...
    dead_spike_z: float = 8.0
    # ... and early: its peak in this first share of the run (the corpus's dead runs peaked within
    # the first 26%), or, for a spike of fewer than `dead_spike_points` points, in the first
    # `dead_spike_at_once` (theirs came within the first 3%). One minibatch spiking in a run that
    # sat at its start is no blow-up.
    dead_spike_by: float = 0.3
    dead_spike_points: int = 3
    dead_spike_at_once: float = 0.05
    # ... wherever the spike came, if the trend had come this share of the start below it first: a
    # run that learnt, spiked, and sits at its initial level again lost what it had learnt.
    learnt_before: float = 0.3
    # A run that learnt and lost it: its trend came `learnt_fall` of |start| below its start (and 3
    # point-to-point noise sigmas) for a while (`blowup_points` points and `blowup_share` of the
    # run), then over the last `lost_share` of the run it never stood more than `lost_kept` of that
    # fall below its start level, and ended within `dead_level` of it: back at its initial level
    # (a classifier at chance), where no healthy run goes once it has learnt; with a blow-up on
    # the way (a peak `dead_spike` x the start and `dead_spike_z` noise sigmas above it: a GAN's
    # discriminator loss comes back to its even odds without one). Real digits MLPs at
    # 3x-10x their best SGD rate did so after falling 18-34% (a spike, or a warmup that went too
    # high, killed them), and were called unknown, or given a plateau "creeping down" that pointed
    # to a rate too low (BENCHMARKS.md, "Learnt, then lost it").
    learnt_fall: float = 0.15
    lost_share: float = 0.2
    lost_kept: float = 0.25
    # A spike of this many times the start level (the median of the first 3 points) or more, after
    # which the trend never came back below that level and the run ended above it: a rate that
    # broke the run at its first updates, short of an explosion (a digits MLP at 10x its best SGD
    # rate jumped 47x at step 5 and sat 10-30% above its start: "unknown"). The spike must come in
    # the first `dead_spike_at_once` of the run (a TD loss grows as a value network learns, and
    # peaks anywhere). Read on logs of steps from the start (not one that begins late, nor epochs or
    # epoch means, whose first point can hold the blow-up), and not where a validation loss measured
    # before training fell. It fires on none of the corpus's runs at any cadence (BENCHMARKS.md,
    # "Learnt, then lost it").
    never_back_spike: float = 10.0
    # ... where at most this share of the points after the spike lie below the start level, and
    # the spike stands this many of the points' noise sigmas above it (a loss that never moved,
    # its minibatch losses exponential, has its largest of 500 draws some 7 sigmas up).
    never_back_below: float = 0.05
    never_back_z: float = 20.0
    # A blow-up the run did not recover from (curve.sustained_rise): the loss stood this many
    # times above the higher of its start level and its end level, in its trend and in its points,
    # for `blowup_points` points and `blowup_share` of the run or more, and it ended within
    # `dead_level` of its start level, or above `recovered_below` of it. Of the 1509 runs of the
    # corpus and its extra tasks, 53 had such an excursion: the 48 too high ones ended at 0.0009x
    # their start and above (43 of them above 0.1x), the 5 healthy ones at 0.012x or below
    # (BENCHMARKS.md, "Back where it started", "Came back only part of the way"). One that came
    # back part of the way is a warning the verdict model weighs, not an error: a fine-tune's loss,
    # or a metric-learning loss that starts low, can rise a few times over and then train well.
    blowup: float = 1.5
    blowup_points: int = 4
    blowup_share: float = 0.02
    # ... where the excursion began in this first share of the run (a rate too high breaks a run
    # early), or the loss ended this share of the start level above its best before it: a run that
    # sat at its floor from the start (a fine-tune) and came back to it after a late excursion
    # recovered.
    blowup_by: float = 0.3
    above_before: float = 0.1
    # A short log (at most `first_fall_points` points, one per epoch, say; any number on an axis of
    # whole epochs or of epoch means) whose first point is `first_fall` times its second or more,
    # while everything after it fell by no more than the square root of that (`first_fall_rest`,
    # in decades, as a share of the first fall's): the first point is the mean of a first epoch in
    # which the loss blew up, and the run spent the rest crawling back. Read only where the first
    # point can be a mean (_first_is_a_mean: not a log of every k > 1 steps from the start, whose
    # first point is the initial loss). Of the 1509 corpus runs, the 5 sparse ones this fits are
    # too high (4 of them diverged); the healthy ones fell at most 115x in their first interval;
    # none of the 153 real logs collected fell 20x (BENCHMARKS.md, "A first epoch that blew up").
    first_fall: float = 1000.0
    first_fall_rest: float = 0.5
    first_fall_points: int = 50
    # ... or whose first point is `first_fall_flat` times its second or more while the rest of the
    # run never went `first_fall_flat_rest` below that second point: a first epoch that blew up and
    # a network that learnt nothing after it (a classifier left at chance). Of the 1509 corpus
    # runs, as logged and re-logged so that their first point is a mean or comes late, 20 runs fit
    # (28 cases), all too high, 19 of the cases not a divergence before; the healthy runs whose first
    # point was 10x their second or more fell at least 1.44x further (BENCHMARKS.md, "A first epoch
    # that blew up, and nothing after").
    first_fall_flat: float = 20.0
    first_fall_flat_rest: float = 1.1
    # A jump to chance: after its first point, the loss stood still for `chance_points` points or
    # more (robust spread under `chance_spread` of its level, |Kendall tau| under `dead_tau`) at
    # the cross-entropy of an even guess among k classes (ln k, k from `chance_min_classes` to
    # `chance_classes`, within `chance_tol` nats), `chance_jump` of that level or more below its
    # first point: the first epoch's mean held a blow-up, and the network came out of it emitting
    # a constant (its units dead). A network that learns, however slowly, does not stand still to a
    # thousandth; one a rate far too low leaves at its start creeps down from there. A validation
    # loss beside it must stand at the same line (within `chance_val_tol`) and not fall. Two
    # classes are left out: a binary classifier stuck at ln 2 is as often inputs that carry no
    # signal; above 20 classes the lines ln k lie so close that a loss a decayed rate froze would
    # sit on one by chance. None of the corpus's runs, at any cadence, does this (their dead
    # networks jitter by a percent or more); a Keras log of an MNIST network does (BENCHMARKS.md,
    # "A flat line at chance").
    chance_points: int = 20
    chance_spread: float = 0.002
    chance_min_classes: int = 3
    chance_classes: int = 20
    chance_tol: float = 0.001
    chance_val_tol: float = 0.003
    chance_jump: float = 0.03
    # A late-start log's validation loss ending above its own start (measured before the first
    # logged training loss) by this share: the corpus labels a run diverged when its final loss
    # is 1.5x the initial one.
    val_end_above_start: float = 0.5
    # ... and a log's from its first update, evaluated at step 0 (the untrained model), by this
    # share, whatever its training loss did: the run left the model worse on held-out data than no
    # training at all. Of the 1052 runs of the extra tasks' and the outside tasks' corpora measured
    # so, the validation loss ended 1.2x its start or more in 81 too high runs, no healthy or too
    # low one: a rate too low leaves it at 1.0x its start at most, healthy runs end at 0.66x or
    # below (benchmarks/val_end_ratio.py; BENCHMARKS.md, "Worse than untrained on held-out data").
    val_end_above_untrained: float = 0.2
    # ... unless its trend had come this share below its start: it improved, then got worse
    # (overfitting), which is not a blow-up.
    val_improved: float = 0.1


def _blew_up(start: float, end: float, message: str, evidence: dict[str, Any]) -> Finding:
    """A divergence that settles the verdict: an error pointing to a rate too high."""
    return Finding("divergence", "error", start, end, message, evidence, suggests="too_high", strength=0.9)


def detect_nonfinite(
    steps: np.ndarray, values: np.ndarray, *, unit: str = "step", late_start: bool = False
) -> list[Finding]:
    """NaN/Inf in the loss: an error that points to a rate too high, a warning where they are a few
    skipped points, and an error that points nowhere where the loss was non-finite from its first
    value on, logged before any update (at step 0 or 1, in a log that does not begin late): no
    rate made that; the data, the initialisation or the loss did."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    blown = nonfinite_after_skips(values)
    earlier = "" if blown is None else _isolated_before(steps, idx[idx < blown], unit)
    first = int(idx[0]) if blown is None else blown
    n_nan = int(np.isnan(values).sum())
    kind = "NaN" if np.isnan(values[first]) else "Inf"
    to_end = bool(bad[first:].all())
    if to_end and len(idx) > 1:
        after = values[first + 1 :]
        same = np.isnan(after).all() if kind == "NaN" else np.isinf(after).all()
        # (an overflow to Inf first, then NaN, as inf - inf makes: say both)
        tail = "and every value after it" if same else f"and non-finite to the end: {_kinds(n_nan, len(idx) - n_nan)}"
    else:
        tail = f"{len(idx)} non-finite value(s) in all"
    last_finite = float(values[first - 1]) if first > 0 and np.isfinite(values[first - 1]) else None
    skipped = skipped_nonfinite(values)
    message = f"loss is {kind} from {unit} {fmt_step(steps[first])} ({tail}){earlier}"
    # (not on an axis of epochs or of positions: a first point there can be the mean of a first
    # epoch that blew up, as a pandas-saved Keras history is)
    unmoved = first == 0 and to_end and not late_start and unit == "step" and steps[0] <= 1
    if unmoved:
        message = (
            f"loss is {kind} from its first value, at {unit} {fmt_step(steps[0])} ({tail}), before an update could "
            "move it: no learning rate does that; look for NaN/Inf in the inputs or targets, the initialisation, "
            "or a loss that takes the log of 0 or divides by 0"
        )
    if skipped:
        message = (
            f"{len(idx)} isolated non-finite value(s) ({_kinds(n_nan, len(idx) - n_nan)}) from {unit} "
            f"{fmt_step(steps[first])}, after which the run went on at "
            "its earlier level: skipped updates (mixed-precision loss scaling skips a step whose gradients "
            "overflowed); judged without them"
        )
    return [
        Finding(
            pathology="divergence",
            severity="warning" if skipped else "error",
            start_step=float(steps[first]),
            end_step=float(steps[idx[-1]]),
            message=message,
            evidence={
                "nonfinite": int(bad.sum()),
                "nan": n_nan,
                "inf": int(bad.sum()) - n_nan,
                "first_nonfinite_step": float(steps[idx[0]]),
                "first_nonfinite_at": round(int(idx[0]) / max(len(values) - 1, 1), 4),
                "last_finite_value": last_finite,
                "nonfinite_to_end": to_end,
                "skipped": skipped,
            },
            suggests=None if skipped or unmoved else "too_high",
            strength=0.0 if skipped else 1.0,
        )
    ]


def _isolated_before(steps: np.ndarray, idx: np.ndarray, unit: str) -> str:
    """The few isolated non-finite points before a run of them to the end, as the message says them."""
    at = ", ".join(fmt_step(steps[i]) for i in idx[:3]) + (", ..." if len(idx) > 3 else "")
    return f"; before it, {len(idx)} isolated non-finite value(s) the run went on from, at {unit} {at}"


def _kinds(nan: int, inf: int) -> str:
    return ", ".join(f"{n} {name}" for n, name in ((nan, "NaN"), (inf, "Inf")) if n)


def detect_divergence(
    curve: Curve | None,
    shape: Shape | None,
    steps: np.ndarray,
    values: np.ndarray,
    cfg: DivergenceConfig,
    *,
    val: Curve | None = None,
    late_start: bool = False,
    epoch_means: bool = False,
    unit: str = "step",
) -> list[Finding]:
    """`late_start`, `epoch_means`: the first training point comes after the first updates (a log
    that begins late, or one of epoch means), so a validation loss measured before it is the only
    start level the log has."""
    findings = detect_nonfinite(steps, values, unit=unit, late_start=late_start)
    if any(f.severity == "error" for f in findings):
        return [_dated_by_rise(f, curve, unit) for f in findings]
    mean_first, epochs = _first_is_a_mean(steps, unit=unit, late_start=late_start, epoch_means=epoch_means)
    if curve is None or shape is None:
        short = _short_explosion(steps, values, cfg, unit)
        return findings + (short or (_first_fall(steps, values, val, cfg, unit, epochs) if mean_first else []))
    # Past here, any finding on non-finite values is a warning of skipped points (the curve holds
    # the finite ones), and the curve is judged as if they had not been logged.
    found = _from_training_loss(curve, shape, val, cfg, values, unit=unit)
    if not found and not (late_start or epoch_means or epochs) and not _val_fell(curve, val, cfg):
        found = _never_back_below(curve, cfg, unit)
    if not found and (late_start or epoch_means) and val is not None:
        found = _from_validation_start(float(steps[0]), curve, val, cfg, unit=unit, epoch_means=epoch_means)
    if not found and mean_first:
        found = _first_fall(steps, values, val, cfg, unit, epochs)
    if not found and not (late_start or epoch_means) and val is not None and unit == "step":
        found = _from_validation_start(float(steps[0]), curve, val, cfg, unit=unit, from_start=True)
    return findings + found


def _first_is_a_mean(steps: np.ndarray, *, unit: str, late_start: bool, epoch_means: bool) -> tuple[bool, bool]:
    """(whether the first point can be a mean over updates, whether each point is an epoch's).

    Each is an epoch's on an axis of whole epochs, or where the log holds epoch means; the first
    can be a mean where the log begins late, or its points are one step apart (each optimizer
    step, or an epoch index on the step axis: a SummaryWriter's `add_scalar(tag, loss, epoch)`).
    Not in a log of every k > 1 steps that begins at its start (step 0, or the first step an HF
    Trainer logs with logging_first_step), nor on an axis of fractional epochs (its console
    lines, every k steps): the first point there may be the initial loss, before any update."""
    # (the first hundred gaps tell the stride: a diff and median over a 10^7-point log took 0.2 s)
    stride = float(np.median(np.diff(steps[:101]))) if len(steps) > 1 else 1.0
    if unit == "epoch":
        whole = stride >= 0.5
        return whole, whole
    if epoch_means:
        return True, True
    return late_start or stride < 2, False


def _first_fall(
    steps: np.ndarray, values: np.ndarray, val: Curve | None, cfg: DivergenceConfig, unit: str, epochs: bool
) -> list[Finding]:
    """A short log (or, `epochs`, a log of epochs, however long) whose first point stands
    `first_fall` times above its second, with the rest of the run falling far less (in decades),
    or `first_fall_flat` times with the rest hardly falling at all: a first epoch that blew up,
    its mean logged first. Not where a validation loss measured before the first training point
    (3 evaluations or more) started that high too: a high initial loss. (One at the first point's
    step is not before it: Keras and Lightning evaluate at the end of the epoch whose mean that
    point is.)"""
    if len(values) > cfg.first_fall_points and not epochs:  # (before the copies: a long log of steps)
        return []
    finite = np.isfinite(values)
    y, s = values[finite], steps[finite]
    if len(y) < 3 or not float(y.min()) > 0:
        return []
    first = math.log10(y[0] / y[1])
    rest = math.log10(y[1] / float(y[1:].min()))
    flat = first >= math.log10(cfg.first_fall_flat) and rest <= math.log10(cfg.first_fall_flat_rest)
    if not flat and (first < math.log10(cfg.first_fall) or rest > cfg.first_fall_rest * first):
        return []
    if (
        val is not None
        and len(val.y) >= 3
        and val.steps[0] < s[0]
        and val.start > 0
        and math.log10(val.start / y[1]) > cfg.first_fall_rest * first
    ):
        return []
    after = (
        f"and the rest of the run fell only {fmt_factor(10**rest)}x more"
        if rest > 0
        else "and the loss never went below that again"
    )
    return [
        _blew_up(
            float(s[0]),
            float(s[-1]),
            f"the first point ({y[0]:.3g} at {unit} {fmt_step(s[0])}) is {fmt_factor(y[0] / y[1])}x the next "
            f"({y[1]:.3g}), {after}: the loss blew up before the second point (the mean of a first epoch that "
            "blew up, logged first)"
            + (
                ", and the network learnt nothing after it (or, on unscaled regression targets, it converged within "
                "that epoch: an evaluation logged before training tells the two apart)"
                if flat
                else ""
            ),
            {"first": float(y[0]), "second": float(y[1]), "first_fall": float(y[0] / y[1]), "rest_fall": 10**rest},
        )
    ]


def _val_before_training(curve: Curve, val: Curve | None) -> Curve | None:
    """The validation loss where it was measured before training (at or before the first logged
    training loss) at 3 evaluations or more, else None."""
    first = curve.raw_steps[0] if curve.raw_steps is not None else curve.steps[0]
    return None if val is None or len(val.y) < 3 or val.steps[0] > first else val


def _val_from_start(curve: Curve, val: Curve | None) -> float:
    """+1 where a validation loss measured before training ended above where it started, -1 where
    below, 0 where none is."""
    val = _val_before_training(curve, val)
    return 0.0 if val is None else float(np.sign(val.end - val.start))


def _start_lies_low(curve: Curve, share: float) -> bool:
    """The first point lies below all but `share` of the raw points after it, and there are enough
    of them for that to happen by chance once in 1 / share runs at most (the first of 27 points is
    their lowest once in 28)."""
    if not share > 0:
        return False  # (a threshold of 0 turns this confirmation off)
    y = curve.raw_y if curve.raw_y is not None else curve.y
    later = y[1:]
    return len(later) >= math.ceil(1 / share) - 1 and float(np.mean(later <= y[0])) <= share


def _from_validation_start(
    first_step: float,
    curve: Curve,
    val: Curve,
    cfg: DivergenceConfig,
    *,
    unit: str = "step",
    epoch_means: bool = False,
    from_start: bool = False,
) -> list[Finding]:
    """The validation loss ended far above where it was before the first logged training loss,
    and never came well below it (a run that improved and then overfit is not a divergence). Beside
    epoch means, never below it at all: a run that overfits from its first epoch on (its training
    loss falling far, its validation loss lowest after the first epoch) dips below its evaluation
    before training by a little only, and its first epoch's mean hides how far the loss fell.
    `from_start`: the training loss is logged from the first update, and the validation loss was
    measured at step 0; whatever the training loss did, the held-out loss says the run made the
    model worse than no training (DivergenceConfig.val_end_above_untrained)."""
    if not val.steps[0] < first_step or val.start <= 0 or (from_start and not float(val.steps[0]) <= 0):
        return []
    rise = (val.end - val.start) / val.start
    improved = 0.0 if epoch_means else cfg.val_improved
    bar = cfg.val_end_above_untrained if from_start else cfg.val_end_above_start
    if rise <= bar or val.best < (1 - improved) * val.start:
        return []
    if from_start:
        why = "the run left the model worse on held-out data than no training at all"
    elif epoch_means:
        why = (
            f"never below it; the training loss's first point, at {unit} {fmt_step(first_step)}, is the mean of "
            "the first epoch's updates"
        )
    else:
        why = f"the training loss is logged only from {unit} {fmt_step(first_step)}, after the first updates"
    return [
        Finding(
            "divergence",
            "error",
            float(val.steps[0]),
            float(curve.steps[-1]),
            f"validation loss ended above where it started ({val.start:.4g} at {unit} {fmt_step(val.steps[0])} -> "
            f"{val.end:.4g}, +{100 * rise:.0f}%)" + (", " if epoch_means else "; ") + why,
            {"val_start": val.start, "val_end": val.end, "val_rise": rise, "first_logged_step": first_step},
            suggests="too_high",
            strength=1.0,
        )
    ]


def _from_training_loss(
    curve: Curve, shape: Shape, val: Curve | None, cfg: DivergenceConfig, values: np.ndarray, *, unit: str = "step"
) -> list[Finding]:
    scale = max(abs(curve.start), 1e-12)
    ratio = curve.peak / scale if curve.start > 0 else float("nan")
    if np.isfinite(ratio) and ratio >= cfg.explode_ratio:
        top = int(np.argmax(curve.y))
        at, rose = float(curve.steps[top]), _lowest_before(curve, top)
        recovered = _recovered(curve, val, cfg)
        return [
            Finding(
                "divergence",
                "warning" if recovered else "error",
                rose,
                float(curve.steps[-1]),
                f"loss exploded to {curve.peak:.3g} at {unit} {fmt_step(at)}, {ratio:.3g}x its start "
                f"({curve.start:.3g})"
                + (f", rising from {unit} {fmt_step(rose)}" if rose < at else "")
                + (f", then recovered to {curve.end:.3g}" if recovered else ""),
                {
                    "peak": curve.peak,
                    "peak_step": at,
                    "start": curve.start,
                    "peak_ratio": ratio,
                    "recovered": recovered,
                },
                suggests="too_high",
                strength=0.5 if recovered else 1.0,
            )
        ]
    rise = (curve.end - curve.start) / scale
    rose_from = curve.best_step  # where the trouble began: at the trend's lowest point
    # The start is one draw. A run that never moved on noisy minibatches, whose first one came out
    # low, did not diverge. So the end must lie beyond the noise of one draw (or far above the
    # start), and one of these must confirm it:
    # - a validation loss measured before training ended higher (one that ended lower rules the
    #   finding out);
    # - the end stands out of the noise at the start (a calm start, a rise late in the run);
    # - the loss jumped at the first updates: just after the start it sat far above it, in the
    #   noise there;
    # - the start lies below nearly all the points after it (a jump into wide swings).
    above = curve.end - curve.start
    beyond = above > 2 * curve.draw_noise or rise > 4 * cfg.end_above_start
    lifted = _val_from_start(curve, val)
    jumped = curve.early - curve.start > cfg.jump_sigmas * curve.start_noise
    confirmed = lifted > 0 or above > 2 * curve.start_noise or jumped or _start_lies_low(curve, cfg.start_below_share)
    if rise > cfg.end_above_start and beyond and confirmed and lifted >= 0:
        return [
            Finding(
                "divergence",
                "error",
                rose_from,
                float(curve.steps[-1]),
                f"loss ended above where it started ({curve.start:.4g} -> {curve.end:.4g}, +{100 * rise:.0f}%)"
                + (
                    f", rising from its best ({curve.best:.4g}) after {unit} {fmt_step(rose_from)}"
                    if curve.best_t > 0
                    else ""
                ),
                {"start": curve.start, "end": curve.end, "rise": rise, "best": curve.best},
                suggests="too_high",
                strength=ramp(rise, 0.0, cfg.end_above_start * 2) * 0.5 + 0.5,
            )
        ]
    tau = shape.half_tau
    near_start = abs(curve.end - curve.start) <= cfg.dead_level * scale
    top = int(np.argmax(curve.y))
    spiked = np.isfinite(ratio) and ratio >= cfg.dead_spike and _spiked_early(curve, cfg)
    if near_start and spiked:
        # The peak is a raw value: measure it against the raw points' noise (a long log's curve
        # holds bin medians, far less noisy than the points its peak came from).
        raw = curve.raw_y if curve.raw_y is not None else values[: curve.n_finite_prefix]
        noise = stats.mad_sigma(np.diff(raw)) / np.sqrt(2.0) if len(raw) > 1 else 0.0
        spiked = curve.peak - curve.start > cfg.dead_spike_z * noise
    if near_start and spiked and np.isfinite(tau) and abs(tau) < cfg.dead_tau:
        return [
            _blew_up(
                float(curve.steps[top]),
                float(curve.steps[-1]),
                f"loss spiked to {ratio:.2g}x its start, then flat-lined at its initial level {curve.end:.4g}: "
                "the network stopped learning (dead units)",
                {"peak_ratio": ratio, "start": curve.start, "end": curve.end, "tail_kendall_tau": tau},
            )
        ]
    if _val_fell(curve, val, cfg):
        return []
    return _unrecovered(curve, cfg, val) or _lost_what_it_learnt(curve, cfg, unit) or _at_chance(curve, val, cfg, unit)


def _never_back_below(curve: Curve, cfg: DivergenceConfig, unit: str) -> list[Finding]:
    """A spike of `never_back_spike` x the start level or more, after which the loss's trend never
    came back below that level, and ended above it (DivergenceConfig.never_back_spike)."""
    level = start_level(curve)
    y = curve.raw_y if curve.raw_y is not None else curve.y
    steps = curve.raw_steps if curve.raw_steps is not None else curve.steps
    top = int(np.argmax(y))
    if not (level > 0 and y[top] >= cfg.never_back_spike * level) or len(y) - 1 - top < cfg.blowup_points:
        return []
    span = float(steps[-1] - steps[0])
    if not span > 0 or float(steps[top] - steps[0]) / span > cfg.dead_spike_at_once:
        return []  # (a loss that grows as it learns, a TD loss's, peaks anywhere: this is the first updates')
    after = curve.trend[curve.steps > steps[top]]
    if not len(after) or float(after.min()) <= level or curve.end <= level:
        return []
    # The start level is where the run began, not a low draw of a loss that never moved (heavy-
    # tailed minibatch losses, whose largest draw stands 10x above a low median of three): the
    # points after the spike lie below it rarely, and the spike stands far out of their noise.
    below = float(np.mean(y[top + 1 :] < level))
    if below > cfg.never_back_below or not y[top] - level > cfg.never_back_z * curve.draw_noise:
        return []
    return [
        _blew_up(
            _lowest_before(curve, int(np.searchsorted(curve.steps, steps[top]))),
            float(curve.steps[-1]),
            f"loss spiked to {y[top] / level:.3g}x its start ({level:.4g}, the median of its first 3 points) at "
            f"{unit} {fmt_step(float(steps[top]))} and never came back below it (its trend's lowest after: "
            f"{float(after.min()):.4g}; {curve.end:.4g} at the end): the run did not recover",
            {"peak_ratio": float(y[top] / level), "start": level, "lowest_after": float(after.min()), "end": curve.end},
        )
    ]


def _lost_what_it_learnt(curve: Curve, cfg: DivergenceConfig, unit: str) -> list[Finding]:
    """The loss came far below its start, then went back to its initial level and stayed there
    (DivergenceConfig.learnt_fall)."""
    scale = abs(curve.start)
    fell = curve.start - curve.best
    if learnt_for_a_while(curve, cfg.learnt_fall, cfg.blowup_points, cfg.blowup_share) is None:
        return []
    tail = curve.t >= 1.0 - cfg.lost_share
    if not tail.any() or float(curve.trend[tail].min()) < curve.start - cfg.lost_kept * fell:
        return []
    if abs(curve.end - curve.start) > cfg.dead_level * scale:
        return []
    # ... with a blow-up on the way, as a rate too high leaves (a GAN's discriminator loss falls
    # and comes back to its even odds without one)
    if not (
        curve.peak >= cfg.dead_spike * curve.start and curve.peak - curve.start > cfg.dead_spike_z * curve.draw_noise
    ):
        return []
    below = np.flatnonzero(curve.trend <= curve.start - cfg.lost_kept * fell)  # (the best among them)
    since = float(curve.steps[min(int(below[-1]) + 1, len(curve.steps) - 1)])  # back for good from here
    return [
        _blew_up(
            curve.best_step,
            float(curve.steps[-1]),
            f"loss came down to {curve.best:.4g} ({unit} {fmt_step(curve.best_step)}), then went back to its "
            f"initial level ({curve.start:.4g} -> {curve.end:.4g}, from {unit} {fmt_step(since)}) and stayed there: "
            "the run lost what it had learnt (a rate too high kills units, or knocks a classifier to chance)",
            {"start": curve.start, "best": curve.best, "end": curve.end, "lost_share": (curve.end - curve.best) / fell},
        )
    ]


def _at_chance(curve: Curve, val: Curve | None, cfg: DivergenceConfig, unit: str) -> list[Finding]:
    """A loss that jumped to chance and flat-lined (DivergenceConfig.chance_points), read on the
    raw points (a long log's curve holds bin medians, whose spread is the points' shrunk)."""
    lo, hi = math.log(cfg.chance_min_classes - 0.5), math.log(cfg.chance_classes + 0.5)
    # (first on the curve, cheaply: a long log's raw points are read only where its bin medians
    # stand still near a line; theirs spread less than the points do)
    near = float(np.median(curve.y[1:])) if len(curve.y) > 1 else math.nan
    if not lo < near < hi or abs(near - math.log(round(math.exp(near)))) > 10 * cfg.chance_tol:
        return []
    if not stats.mad_sigma(curve.y[1:]) <= cfg.chance_spread * near:
        return []
    y = curve.raw_y if curve.raw_y is not None else curve.y
    steps = curve.raw_steps if curve.raw_steps is not None else curve.steps
    if len(y) <= cfg.chance_points:
        return []
    rest = y[1:]
    level = float(np.median(rest))
    k = round(math.exp(level))
    chance = math.log(k)
    spread = stats.mad_sigma(rest)
    if not lo < level < hi or abs(level - chance) > cfg.chance_tol or not spread <= cfg.chance_spread * level:
        return []
    if not y[0] - level > max(cfg.chance_jump * level, 10 * spread):
        return []
    # (a line printed with few digits can stand exactly still: no trend, not an undefined one)
    tau = 0.0 if np.ptp(rest) == 0 else stats.kendall_tau(steps[1:], rest)[0]
    if not abs(tau) < cfg.dead_tau:
        return []
    if val is not None:
        v_tau, v_p = stats.kendall_tau(val.t, val.y)
        if abs(float(np.median(val.y)) - chance) > cfg.chance_val_tol or (v_tau < 0 and v_p < 0.01):
            return []
    return [
        _blew_up(
            float(steps[1]),
            float(steps[-1]),
            f"after its first point ({y[0]:.4g}) the loss stood still at {level:.5g} (robust spread "
            f"{100 * spread / level:.2g}%, Kendall tau {tau:.3f}) for {len(rest)} points ({unit}s "
            f"{fmt_step(steps[1])} to {fmt_step(steps[-1])}): the cross-entropy of "
            f"an even guess among {k} classes (ln {k} = {chance:.4f}). It jumped to chance and flat-lined: the "
            "network stopped learning (dead units, which a rate too high leaves behind; or inputs that carry no "
            "signal)",
            {"first": float(y[0]), "level": level, "chance": chance, "classes": k, "spread": spread}
            | {"kendall_tau": tau},
        )
    ]


def _val_fell(curve: Curve, val: Curve | None, cfg: DivergenceConfig) -> bool:
    """A validation loss measured before training (3 evaluations or more) ended `val_improved` of
    its start or more below it, and never blew up itself: the run learnt, whatever its training
    loss shows."""
    val = _val_before_training(curve, val)
    if val is None or not val.start > 0:
        return False
    return val.end < (1 - cfg.val_improved) * val.start and float(val.y.max()) < cfg.blowup * val.start


def _spiked_early(curve: Curve, cfg: DivergenceConfig) -> bool:
    """The highest raw point came early: in the first `dead_spike_by` of the run, or, for a spike
    of fewer than `dead_spike_points` points in a row above `dead_spike` x the start, in the first
    `dead_spike_at_once` (read on the raw points: a long log's curve holds bin medians). A run
    that had come far below its start before the spike, and is back at it, learnt and lost it:
    its spike counts wherever it came."""
    y = curve.raw_y if curve.raw_y is not None else curve.y
    steps = curve.raw_steps if curve.raw_steps is not None else curve.steps
    span = float(steps[-1] - steps[0])
    if not span > 0:
        return False
    top = int(np.argmax(y))
    high = y >= cfg.dead_spike * curve.start
    lo, hi = top, top
    while lo > 0 and high[lo - 1]:
        lo -= 1
    while hi < len(y) - 1 and high[hi + 1]:
        hi += 1
    at = float(steps[top] - steps[0]) / span
    if at <= (cfg.dead_spike_by if hi - lo + 1 >= cfg.dead_spike_points else cfg.dead_spike_at_once):
        return True
    before = curve.trend[curve.t < at]
    if not len(before):
        return False
    fell = curve.start - float(before.min())  # beyond the noise too: a short noisy log's trend dips by it
    return fell > cfg.learnt_before * curve.start and fell > 3 * curve.noise


# The evidence key of a blow-up the run did not recover from (`_unrecovered`): what follows it is
# the recovery, whose late fall other detectors are not to read as the rate's progress.
UNRECOVERED = "share_above"


def _unrecovered(curve: Curve, cfg: DivergenceConfig, val: Curve | None = None) -> list[Finding]:
    """A blow-up the run did not come back from: the loss stood far above where it began for a
    while (curve.sustained_rise), early in the run, and ended back at its start level, or came
    down from it only part of the way a recovered run goes (to `recovered_below` of its start)."""
    before = _val_before_training(curve, val)
    level = start_level(curve, None if before is None else before.start)
    high = sustained_rise(curve, cfg.blowup, points=cfg.blowup_points, share=cfg.blowup_share, level=level)
    if high is None:
        return []
    back = abs(curve.end - level) <= cfg.dead_level * level
    if not back and not curve.end > cfg.recovered_below * level:
        return []  # (it came back far below its start: recovered)
    first = int(np.flatnonzero(high)[0])
    before = float(curve.trend[:first].min()) if first > 0 else level
    if curve.t[first] > cfg.blowup_by and (not back or curve.end < before + cfg.above_before * level):
        return []
    rose = float(curve.trend.max()) / level
    share = float(high.mean())
    first_y = curve.raw_y[0] if curve.raw_y is not None else curve.y[0]
    origin = (
        "its first point, as the validation loss before training confirms"
        if before is not None and level == float(first_y)
        else "the median of its first 3 points"
    )
    came_back = (
        f"came back only to its initial level ({curve.end:.4g}): the run did not recover from it"
        if back
        else f"came back only to {curve.end / level:.2g}x its start ({curve.end:.4g}), where a run that "
        f"recovered goes below {cfg.recovered_below:g}x: it may not have recovered from it"
    )
    found = _blew_up(
        _lowest_before(curve, first),
        float(curve.steps[-1]),
        f"loss blew up to {rose:.2g}x its start ({level:.4g}, {origin}; its trend, "
        f"over {share:.0%} of the run; {curve.peak / level:.2g}x at its peak) and {came_back}",
        {"trend_peak_ratio": rose, UNRECOVERED: share, "start": level, "end": curve.end},
    )
    return [found if back else replace(found, severity="warning", strength=0.5)]


def detect_val_nonfinite(steps: np.ndarray, values: np.ndarray, *, unit: str = "step") -> list[Finding]:
    """NaN/Inf in the validation loss while the training loss stayed finite: said, as a warning
    that suggests no rate (an evaluation in half precision that overflowed, an empty validation
    batch); the validation statistics are read from the finite evaluations."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return []
    idx = np.flatnonzero(bad)
    first = int(idx[0])
    to_end = bool(bad[first:].all())
    kinds = _kinds(int(np.isnan(values).sum()), len(idx) - int(np.isnan(values).sum()))
    return [
        Finding(
            "divergence",
            "warning",
            float(steps[first]),
            float(steps[idx[-1]]),
            f"validation loss is non-finite at {len(idx)} of {len(values)} evaluations ({kinds}) from {unit} "
            f"{fmt_step(steps[first])}{' to the end' if to_end else ''}, while the training loss stayed finite: "
            "an evaluation that overflowed (half precision?) or had no batch; judged on the finite ones",
            {"val_nonfinite": len(idx), "val_points": len(values), "first_nonfinite_step": float(steps[first])},
        )
    ]


def _short_explosion(steps: np.ndarray, values: np.ndarray, cfg: DivergenceConfig, unit: str) -> list[Finding]:
    """A log too short for shape statistics (a few epochs) can still show an explosion: a value
    explode_ratio times its first or more, after it, and the loss ending far above its start."""
    finite = np.isfinite(values)
    y, s = values[finite], steps[finite]
    if len(y) < 2 or not y[0] > 0:
        return []
    top = int(np.argmax(y))
    ratio = float(y[top] / y[0])
    if not (ratio >= cfg.explode_ratio and y[-1] > y[0]):
        return []
    return [
        Finding(
            "divergence",
            "error",
            float(s[int(np.argmin(y[: top + 1]))]),
            float(s[-1]),
            f"loss exploded to {y[top]:.3g} at {unit} {fmt_step(s[top])}, {ratio:.3g}x its start ({y[0]:.3g})",
            {"peak": float(y[top]), "peak_step": float(s[top]), "start": float(y[0]), "peak_ratio": ratio},
            suggests="too_high",
            strength=1.0,
        )
    ]


def _lowest_before(curve: Curve, i: int) -> float:
    """The step where the trend was lowest up to point i: where a blow-up began."""
    return float(curve.steps[int(np.argmin(curve.trend[: i + 1]))])


def _dated_by_rise(f: Finding, curve: Curve | None, unit: str) -> Finding:
    """A loss that went NaN/Inf after climbing for a while: the trouble began where it started to
    climb (the trend's lowest point), not at the first NaN. The rate there is the one a warmup
    broke at (the stability limit) and what the schedule advice reads."""
    if (
        curve is None
        or f.evidence.get("skipped")
        or not curve.end - curve.best > max(RISE_SIGMAS * curve.noise, RISE_SHARE * curve.span)
    ):
        return f
    rose = curve.best_step
    if rose >= f.start_step:
        return f
    return replace(
        f,
        start_step=rose,
        message=f"{f.message}; it climbed from {unit} {fmt_step(rose)} ({curve.best:.4g} -> {curve.end:.4g}) before",
    )


def _recovered(curve: Curve, val: Curve | None, cfg: DivergenceConfig) -> bool:
    """The loss (and the validation loss, where logged) came back far below where it started, and
    it went on learning once back: from its first point after the peak within `recovered_near`
    times its end level, it fell `recovered_fell` of the way or more (a first point that is the
    mean of a blown-up epoch makes any end look far below the start)."""
    if not 0 < curve.end <= cfg.recovered_below * curve.start:
        return False
    top = int(np.argmax(curve.y))
    after = curve.y[top + 1 :]
    near = after[after <= cfg.recovered_near * curve.end]
    learning = len(near) > 0 and near[0] - curve.end >= cfg.recovered_fell * near[0]
    # ... or, blown up after it had learnt for a while, it came back to where it had got to
    back = top >= cfg.blowup_points and curve.end <= float(curve.trend[:top].min()) * (1 + cfg.above_before)
    if not (learning or back):
        return False
    return val is None or val.end < val.start
