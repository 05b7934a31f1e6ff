"""Schedule advice, where the findings and the recorded learning rate support it.

- The loss diverged or spiked only in the first steps, with no warmup recorded: add a warmup.
- It diverged during a recorded warmup: the peak is past the stability limit; lower the peak.
- It diverged or spiked in the first steps just after a recorded warmup ended: lengthen it.
- Steady progress turned into a plateau or oscillation after step k, at a constant rate: decay there.
- The validation loss climbed away from its best while the training loss kept falling: keep the
  weights from its best step (early stopping) or regularise.
- A recorded step decay came late (the loss had been flat for a long stretch before the cut) or
  early (the loss was still falling steadily, by a good share of its progress, when cut).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrdoctor import stats
from lrdoctor.detect import Signals
from lrdoctor.detect.curve import Curve
from lrdoctor.diagnosis import Finding
from lrdoctor.run import fmt_step


@dataclass(frozen=True)
class AdviceConfig:
    early: float = 0.1  # "the first steps": this share of the run
    warmup_share: float = 0.05  # suggested warmup length, as a share of the run (a common default)
    decay_factor: float = 10.0  # decay to a tenth of the rate, the usual step-decay factor
    # A decay came late when the loss's trend had stayed within this share of the run's progress
    # (start to best) of its level at the cut for this share of the run or more ...
    flat_band: float = 0.05
    flat_share: float = 0.25
    # ... unless the trend still fell to a third of its own level or less over that stretch: a loss
    # heading for 0 (0.11 -> 0.0075) is within 5% of the progress from 2.3, and not flat at all; one
    # settling on a floor (0.30 -> 0.19) is.
    flat_rel_fall: float = 2 / 3
    # ... or fell steadily over it (Kendall tau at most -steady_tau, p below p_value): a loss that
    # most of its points take lower is not flat, however small its slope is beside a large first
    # drop (DETR's loss, 8.0 -> 7.0 over the 240 epochs before its cut, tau -0.98). Over the
    # stretch it was said of in the corpus, the loss drifts down at tau -0.30 to -0.56. Read off the
    # points as logged (an even sample of a long log's, not its bin medians, which hold no noise: a
    # drift of 3% in a log of 100,000 steps would read as steady there, and flat in the same run
    # logged every 100 steps).
    steady_tau: float = 0.6
    # ... after the loss had come down by this share of its start level (a run stuck near its start
    # is flat too, but a decay would not have helped it).
    min_drop: float = 0.5
    # ... and early when, over the last `falling_window` of the stretch before the cut, the loss
    # fell significantly (Kendall's p below `p_value`) by this share of the progress or more (the
    # corpus's too-low runs fall 0.1-0.4 there before their cut at mid-run, its healthy ones 0.03
    # at most; BENCHMARKS.md).
    falling_window: float = 0.3
    falling_share: float = 0.1
    p_value: float = 0.01
    min_points: int = 8


def advise(sig: Signals, findings: Sequence[Finding], recommended: float | None, cfg: AdviceConfig) -> list[str]:
    curve = sig.curve
    first = float(sig.steps[0]) if len(sig.steps) else 0.0
    last = float(sig.steps[-1]) if len(sig.steps) else 0.0
    length = max(last - first, 1.0)
    # Trouble only in the first steps: a divergence starting there, or loss spikes all there, of
    # severity warning or error (a spike or two of severity info is minibatch luck, not a reason
    # to change the schedule).
    horizon = first + cfg.early * length
    early = [
        f
        for f in findings
        if f.severity != "info"
        and f.start_step <= horizon
        and f.suggests == "too_high"
        and (f.pathology == "divergence" or (f.pathology == "loss_spike" and f.end_step <= horizon))
    ]
    out = []
    peak = f" to {recommended:.3g}" if recommended else ""
    if early and sig.lr.warmup_end is None and sig.lr.steps is not None:
        steps = max(int(cfg.warmup_share * length), 1)
        unit = sig.unit if steps == 1 else f"{sig.unit}s"
        share = f"{cfg.warmup_share:.0%} of the run"
        out.append(
            f"the trouble starts in the first {sig.unit}s: besides a lower rate, add a linear warmup over the first "
            f"~{steps} {unit} ({share}){peak}"
        )
    elif early and sig.lr.warmup_end is not None and early[0].start_step <= sig.lr.warmup_end:
        rate = sig.lr.at(early[0].start_step)
        if rate is not None:
            out.append(f"the loss broke during warmup at lr {rate:.3g}: keep the warmup but end it below that")
    elif (
        early
        and sig.lr.warmup_end is not None
        and early[0].start_step - sig.lr.warmup_end <= max(sig.lr.warmup_end - first, 1.0)
    ):  # within one warmup length of the end of a recorded warmup
        warm = sig.lr.warmup_end - first
        out.append(
            f"the trouble starts at {sig.unit} {fmt_step(early[0].start_step)}, just after the warmup ended at "
            f"{sig.unit} {fmt_step(sig.lr.warmup_end)}: lengthen it (to ~{fmt_step(max(2 * warm, 1))} "
            f"{sig.unit}s){peak}"
        )
    stalled = [f for f in findings if f.pathology in ("plateau", "oscillation") and f.suggests == "too_high"]
    # the rate held at its peak from the stall on (a constant rate, or the constant part after a warmup)
    constant = bool(stalled) and sig.lr.held_from(stalled[0].start_step)
    # (a run that broke, a network dead or blown up, is not revived by a decay: the lower rate is the fix)
    broke = any(f.pathology == "divergence" and f.severity == "error" for f in findings)
    if constant and stalled and curve is not None and not early and not broke and stalled[0].start_step > horizon:
        # (a stall from the first steps is a rate too high from the start: the recommendation says so)
        at = stalled[0].start_step
        lr_now = sig.lr.at(at)
        # ... to a tenth, and no higher than the rate recommended for the whole run
        target = None if not lr_now else min(lr_now / cfg.decay_factor, recommended or math.inf)
        to = f" to {target:.3g}" if target else ""
        out.append(
            f"progress stalls from {sig.unit} {fmt_step(at)} at a constant rate: "
            f"decay the rate there{to} (step decay or cosine)"
        )
    out += decay_timing(sig, cfg)
    for f in findings:
        if f.pathology == "overfitting":
            out.append(
                f"the validation loss was lowest at {sig.unit} {fmt_step(f.start_step)}: keep the weights from there "
                "(early stopping) or regularise (weight decay, dropout, more data), besides any change of rate"
            )
    return out


def decay_timing(sig: Signals, cfg: AdviceConfig) -> list[str]:
    """Whether the first step decay of the recorded rate came late or early, by the loss before it."""
    lr, curve = sig.lr, sig.curve
    if lr.step_decay is None or curve is None:
        return []
    # The rate changed after `old` (its last logged step at the old rate) and by `cut`: with the rate
    # logged sparsely, the loss between the two may already follow the new rate.
    old, cut = lr.step_decay
    if (curve.steps > cut).sum() < cfg.min_points // 2:
        return []  # a cut at the end of the run, or after the loss went non-finite: nothing to judge by
    begin = lr.warmup_end if lr.warmup_end is not None else float(curve.steps[0])
    before = (curve.steps >= begin) & (curve.steps <= old)
    if before.sum() < cfg.min_points:
        return []
    steps, y = curve.steps[before], curve.y[before]
    # The stretch's own trend: the run's centred trend, near the cut, already holds the drop after it.
    trend = stats.trend(y, max(3, len(y) // 25))
    length = max(float(sig.steps[-1] - sig.steps[0]), 1.0)
    unit = sig.unit
    stride = float(np.median(np.diff(curve.steps))) if len(curve.steps) > 1 else 1.0
    when = f"at {unit} {_step(cut)}" if cut - old <= 1.5 * stride else f"between {unit} {_step(old)} and {_step(cut)}"
    # Late: from some point on, the trend stayed near its level at the cut.
    off = np.flatnonzero(np.abs(trend - trend[-1]) > cfg.flat_band * curve.span)
    j = int(off[-1]) + 1 if len(off) else 0
    came_down = curve.start - float(trend[j]) >= cfg.min_drop * abs(curve.start)
    flat = (old - steps[j]) / length
    level = abs(float(trend[j]))
    still_falling = level > 0 and (float(trend[j]) - float(trend[-1])) / level >= cfg.flat_rel_fall
    if not still_falling and len(steps) - j >= cfg.min_points:
        tau, p = _steadiness(curve, float(steps[j]), old)
        still_falling = tau <= -cfg.steady_tau and p < cfg.p_value
    if came_down and not still_falling and j < len(steps) - cfg.min_points // 2 and flat >= cfg.flat_share:
        return [
            f"the loss was flat from {unit} {_step(steps[j])} until the rate was cut {when} "
            f"({100 * flat:.0f}% of the run, within {100 * cfg.flat_band:.0f}% of its progress): "
            f"the decay came late; cut nearer {unit} {_step(steps[j])}"
        ]
    # Early: still falling steadily, and by a good share of its progress, when cut.
    window = steps >= old - cfg.falling_window * (old - begin)
    if window.sum() < cfg.min_points:
        return []
    tau, p = stats.kendall_tau(steps[window], y[window])
    fell = (float(trend[window][0]) - float(trend[-1])) / curve.span
    if tau < 0 and p < cfg.p_value and fell >= cfg.falling_share:
        return [
            f"the loss was still falling steadily when the rate was cut {when} (Kendall tau {tau:.2f}, "
            f"{100 * fell:.0f}% of its progress in the {unit}s just before): the decay came early; cut later, "
            "or raise the rate"
        ]
    return []


def _steadiness(curve: Curve, first: float, last: float) -> tuple[float, float]:
    """Kendall's tau (and its p) of the loss as logged between two steps: an even sample of the raw
    points of a long log, whose curve holds bin medians."""
    steps, y = (
        (curve.raw_steps, curve.raw_y)
        if curve.raw_steps is not None and curve.raw_y is not None
        else (curve.steps, curve.y)
    )
    keep = (steps >= first) & (steps <= last)
    steps, y = steps[keep], y[keep]
    every = max(1, -(-len(y) // stats.PAIRWISE_MAX))
    return stats.kendall_tau(steps[::every], y[::every])


def _step(x: float) -> str:
    """A step in a sentence: whole from 100 on (a long log's curve holds bin medians, 3034.5)."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:g}"
