"""Plateaus: the loss stopped improving far above the best level the run itself reached, or never left its start."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrdoctor.detect.curve import Curve, learnt_for_a_while, start_level, sustained_rise
from lrdoctor.detect.shape import Shape, ramp, step_at
from lrdoctor.diagnosis import Finding, Verdict
from lrdoctor.run import fmt_share, fmt_step

# The evidence key of a loss that stalled after an early fall (the share of its level it shed
# after), present only then: the verdict reads it as a rate too high (lrdoctor.verdict).
STALLED = "shed_after"
STALLED_STRENGTH = 0.9


@dataclass(frozen=True)
class PlateauConfig:
    # End level above the run's own best, as a share of the progress start -> best. Healthy corpus
    # runs end within 2% of their best (95th percentile); runs above the best rate lose 5-80%.
    above_best: float = 0.05
    above_best_full: float = 0.3
    # ... and with its best in the last tenth, only where the trend climbed back this share of it.
    climb_back: float = 0.2
    # The end level is the median of the last tenth of the points, and of at least this many: in a
    # short log of single minibatch losses (every 25th step of a run, 16 points) the last tenth is
    # one or two of them, and one heavy-tailed draw stood 5x above the trend's best. (Where the
    # lower of the last two points is higher, it is the end level: a climb at the very end.)
    end_points: int = 5
    # "Stuck": the end within this share of |start| of the start level ...
    stuck_drop: float = 0.02
    # ... where the loss never stood this many times above its start (and its end) for a while
    # (curve.sustained_rise, the divergence detector's test of a blow-up left unrecovered): a
    # loss that blew up and came back to where it began did not stay there.
    stuck_excursion: float = 1.5
    excursion_points: int = 4
    excursion_share: float = 0.02
    # ... or where its trend never came this share of |start| below it for a while: a loss that
    # fell far and climbed back gave its progress back (the divergence detector's "learnt, then
    # lost it", or the plateau above its best, says so), it did not stay.
    stuck_fall: float = 0.15
    # Which way a stuck loss points is read off the validation loss where it has more than this
    # many evaluations: a steady fall (Kendall, p_value) is a rate too low; later evaluations
    # whose mean stands more than `stuck_val_sds` standard deviations of theirs above an evaluation
    # before training, a network knocked at its first updates (too high; flat evaluations with
    # normal noise pass that in about 1 of 50 runs with 6 of them, 1 of 250 with 20); a median above the
    # first, no direction: the training loss's creep is not learning. Over the 1509 runs of the
    # corpus and its extra tasks, as logged and re-logged at seven other cadences, the steady fall
    # was too low in 516 of 536 cases; the training loss's creep had read 49 too-high cases as too
    # low, 22 now (`python benchmarks/stuck_direction.py`; BENCHMARKS.md, "A loss that never left
    # its start"). (Six evaluations at least: with five, a fall at every one has a Kendall p of
    # 0.014.)
    stuck_val_points: int = 5
    stuck_val_sds: float = 3.0
    # A validation loss that first rose above its evaluation before training, by this many sigmas
    # of its own point-to-point noise (and `stuck_val_rise_share` of its level), and then came back
    # down to it (within `stuck_drop`), did not creep down: it went back to where a network knocked
    # to chance stands (too high). A rate too low moves it down from the first evaluation on, if at all.
    stuck_val_rise_sigmas: float = 5.0
    stuck_val_rise_share: float = 0.01
    # A decrease is significant below this Kendall p-value.
    p_value: float = 0.01
    # "Early": 90% of the progress within this share of the run, then no significant decrease:
    # healthy corpus runs take 4-40% of the run (10th-90th percentile), runs above the best
    # rate often under 3%. Needs enough points to resolve the start.
    early_t90: float = 0.03
    early_t90_full: float = 0.0
    early_min_points: int = 50
    # ... and a loss that, after that early fall, shed less than this share of the level it stood
    # at then (the median from its t90 to a tenth of the run) by its end learnt nothing more: a
    # network stalled at the first level it reached (an autoencoder giving every input the mean
    # image), a rate too high whatever how early. Healthy corpus runs that made their progress that
    # early went on to shed over 90% of that level (a small loss refined tenfold); the stalled ones
    # shed 0-10% of it (BENCHMARKS.md, "Stalled after an early fall").
    stalled_kept: float = 0.25
    # A loss that stopped improving must first have come down from its start level this many
    # sigmas of that level's noise (a median of three draws), or ended this far above it.
    moved_sigmas: float = 3.0


def detect_plateau(
    curve: Curve | None,
    shape: Shape | None,
    cfg: PlateauConfig,
    *,
    unit: str = "step",
    val: Curve | None = None,
    val_shape: Shape | None = None,
    val_before_training: bool = False,
) -> list[Finding]:
    """`val_before_training`: the validation loss's first evaluation saw the untrained model (at
    step 0 of an axis of steps; an epoch 0 can be the first epoch's end, as Keras numbers them)."""
    if curve is None or shape is None:
        return []
    scale = max(abs(curve.start), 1e-12)
    drop = (curve.start - curve.end) / scale
    if abs(drop) < cfg.stuck_drop and not _left_its_start(curve, cfg):
        return [_stuck(curve, shape, drop, cfg, val, val_shape, val_before_training, unit=unit)]
    early = _early(curve, shape, cfg)
    tail, end, said = _end_level(curve, cfg)
    regret = (end - curve.best) / curve.span
    # A best inside the points the end level is read from, where the trend did not climb
    # back after it by a good share of its progress, is a loss still falling there (a log of each
    # epoch's running mean saws up within every epoch by a few percent).
    end_from = float(curve.t[-tail])
    climbed = float(curve.trend[-1]) - curve.best > max(2 * curve.noise, cfg.climb_back * curve.span)
    if (
        regret > cfg.above_best
        and end - curve.best > 2 * curve.noise
        and (curve.best_t < end_from or climbed)
        and _moved(curve, end, cfg)
    ):
        at = curve.best_step
        given = (
            f"above where it started ({curve.start:.4g})"
            if end >= curve.start
            else f"giving back {fmt_share(regret, 'its progress')}"
        )
        return [
            Finding(
                "plateau",
                "warning",
                at,
                float(curve.steps[-1]),
                f"loss stopped improving at {unit} {fmt_step(at)} (its trend's lowest: {curve.best:.4g}) and ended "
                f"at {end:.4g} ({said}), {given}",
                {"best": curve.best, "best_step": at, "end": end, "given_back": regret},
                suggests="too_high",
                strength=max(ramp(regret, cfg.above_best, cfg.above_best_full), early),
            )
        ]
    if early > 0:
        at = step_at(curve, shape.t90)
        kept = _kept(curve, shape)
        stalled = kept < cfg.stalled_kept
        then = (
            f"then stayed at that level ({_shed(kept)} over the rest of the run): the network stopped learning, "
            "as a rate this high can leave it"
            if stalled
            else "then stayed flat: a rate this high may stall on a noise floor"
        )
        return [
            Finding(
                "plateau",
                "warning",
                at,
                float(curve.steps[-1]),
                f"loss made 90% of its progress by {unit} {fmt_step(at)} ({100 * shape.t90:.1f}% of the run) "
                f"and {then}",
                {"t90": shape.t90, "tail_kendall_tau": shape.tail_tau, "tail_p_value": shape.tail_p}
                | ({STALLED: kept} if stalled else {}),
                suggests="too_high",
                strength=STALLED_STRENGTH if stalled else early,
            )
        ]
    return []


def _kept(curve: Curve, shape: Shape) -> float:
    """The share of its level just after an early fall (the median from its t90 to a tenth of the
    run) that the loss shed by its end; negative where it ended higher."""
    _, after = curve.window(shape.t90, max(0.1, shape.t90))
    level = float(np.median(after)) if len(after) else float(curve.y[0])
    return (level - curve.end) / max(abs(level), 1e-12)


def _shed(kept: float) -> str:
    if kept >= 0.005:
        return f"it shed {fmt_share(kept)} of it"
    if kept <= -0.005:
        return f"it ended {fmt_share(-kept)} above it"
    return "it ended where it was"


def _moved(curve: Curve, end: float, cfg: PlateauConfig) -> bool:
    """Whether the loss came down from its start level (the median of its first three points), or
    ended above it, beyond the noise of that median: one that did neither (a fine-tune at its
    floor, its first value a low draw) gave back no progress. (A long noisy log's clear dip and
    climb back stands well above it.)"""
    start = start_level(curve)
    bar = cfg.moved_sigmas * curve.draw_noise / math.sqrt(3)
    return start - curve.best > bar or end - start > bar


def _stuck(
    curve: Curve,
    shape: Shape,
    drop: float,
    cfg: PlateauConfig,
    val: Curve | None,
    val_shape: Shape | None,
    before_training: bool,
    *,
    unit: str = "step",
) -> Finding:
    """A loss that stayed at its initial level, and which way that points. Minibatch noise can hide
    the creep of a rate too low from the training loss; the validation loss, measured on the same
    data each time, shows it: it falls steadily. A validation loss that did not
    come down from an evaluation before training says the training loss's creep is not the model
    learning (a classifier that a rate too high knocked to chance creeps down as its output bias
    learns the class prior), and, where its later evaluations stand far above that one, that a
    rate too high knocked the network at its first updates. A first evaluation after training
    began says neither: a resumed run near its end does not come down either."""
    evidence: dict[str, float] = {
        "start": curve.start,
        "end": curve.end,
        "drop": drop,
        "kendall_tau": shape.all_tau,
        "p_value": shape.all_p,
    }
    said = f"loss stayed near its initial level ({curve.start:.4g} -> {curve.end:.4g}, " + (
        f"{100 * abs(drop):.1f}% {'lower' if drop >= 0 else 'higher'})"
    )
    if val is not None and val_shape is not None and len(val.y) > cfg.stuck_val_points:
        later = val.y[1:]
        evidence |= {
            "val_start": val.start,
            "val_later_median": float(np.median(later)),
            "val_kendall_tau": val_shape.all_tau,
            "val_p_value": val_shape.all_p,
        }
        rose = float(later.max()) - val.start
        back = abs(val.end - val.start) <= cfg.stuck_drop * abs(val.start)  # (one far below it learnt)
        high = rose > max(cfg.stuck_val_rise_sigmas * val.noise, cfg.stuck_val_rise_share * abs(val.start))
        if before_training and back and high:
            top = int(np.argmax(later)) + 1
            evidence |= {"val_peak": float(later.max()), "val_peak_step": float(val.steps[top])}
            said += (
                f", while the validation loss rose from its evaluation before training ({val.start:.4g}) to "
                f"{float(later.max()):.4g} ({unit} {fmt_step(float(val.steps[top]))}, "
                f"{100 * rose / abs(val.start):.1f}% higher) and came back only to {val.end:.4g}: "
                "a rate too high can knock a network to chance at its first updates"
            )
            return _stuck_finding(curve, said, evidence, "too_high")
        if val_shape.all_tau < 0 and val_shape.all_p < cfg.p_value and val.end < val.start:
            said += (
                f", creeping down: the validation loss fell steadily ({val.start:.4g} -> {val.end:.4g}, "
                f"Kendall tau {val_shape.all_tau:.2f})"
            )
            return _stuck_finding(curve, said, evidence, "too_low")
        sds = _sds_above(val.start, later)
        if before_training and sds > cfg.stuck_val_sds:
            evidence["val_sds_above_start"] = sds
            above = int((later > val.start).sum())
            said += (
                f", while the validation loss stood above its evaluation before training ({val.start:.4g}) at "
                f"{'all' if above == len(later) else f'{above} of'} {len(later)} later ones, their mean "
                f"{sds:.1f} standard deviations above it: a rate too high can knock a network to chance at its "
                "first updates"
            )
            return _stuck_finding(curve, said, evidence, "too_high")
        if before_training and np.median(later) > val.start:
            said += (
                f"; the validation loss did not come down (the median of its later evaluations is "
                f"{float(np.median(later)) - val.start:+.2g} from its first), so any creep of the training loss "
                "is not the model learning"
            )
            return _stuck_finding(curve, said, evidence, None)
    if shape.all_tau < 0 and shape.all_p < cfg.p_value:
        # (its first value can be a high or low draw: the trend, not the end against it, says so)
        creep = (
            ", creeping down"
            if drop > 0
            else f", its trend creeping down (Kendall tau {shape.all_tau:.2f}) though it ended above its first value"
        )
        return _stuck_finding(curve, said + creep, evidence, "too_low")
    return _stuck_finding(curve, said + ", with no significant trend", evidence, None)


def _stuck_finding(curve: Curve, said: str, evidence: dict[str, float], side: Verdict | None) -> Finding:
    return Finding(
        "plateau",
        "warning",
        float(curve.steps[0]),
        float(curve.steps[-1]),
        said,
        evidence,
        suggests=side,
        strength=0.0 if side is None else 0.9,
    )


def _sds_above(first: float, later: np.ndarray) -> float:
    """How far the mean of the later evaluations stands above the first, in standard deviations
    of a new evaluation predicted from them (the t statistic of a one-sided prediction interval);
    0 where they do not vary."""
    sd = float(np.std(later, ddof=1)) if len(later) > 1 else 0.0
    if not sd > 0:
        return 0.0
    return (float(np.mean(later)) - first) / (sd * math.sqrt(1.0 + 1.0 / len(later)))


def _end_level(curve: Curve, cfg: PlateauConfig) -> tuple[int, float, str]:
    """(how many of the last points it is read from, the end level, how to say it): the median of
    the last tenth, and of `end_points` at least; or, where the last tenth is fewer points, the
    lower of the last two where that is higher: one heavy-tailed draw cannot lift it, a climb over
    the last epochs (a run stopped early as it blew up) does."""
    n = len(curve.y)
    if n // 10 >= cfg.end_points:
        words = "median of the last tenth" + (" of the run" if curve.binned else "")
        return n // 10, curve.end, words
    tail = min(cfg.end_points, n)
    end, last = float(np.median(curve.y[-tail:])), float(curve.y[-2:].min())
    if last > end:
        return 2, last, "the lower of its last 2 points"
    return tail, end, f"median of the last {tail} points"


def _left_its_start(curve: Curve, cfg: PlateauConfig) -> bool:
    """The loss stood far above its start for a while, or its trend stayed far below it (and beyond
    the noise) for as long: it went somewhere and came back, whatever its end."""
    rise = sustained_rise(curve, cfg.stuck_excursion, points=cfg.excursion_points, share=cfg.excursion_share)
    low = learnt_for_a_while(curve, cfg.stuck_fall, cfg.excursion_points, cfg.excursion_share)
    return rise is not None or low is not None


def _early(curve: Curve, shape: Shape, cfg: PlateauConfig) -> float:
    if (
        len(curve.y) < cfg.early_min_points
        or curve.end >= curve.start
        or (shape.tail_p < cfg.p_value and shape.tail_tau < 0)
    ):
        return 0.0
    return 1.0 - ramp(shape.t90, cfg.early_t90_full, cfg.early_t90) if shape.t90 < cfg.early_t90 else 0.0
