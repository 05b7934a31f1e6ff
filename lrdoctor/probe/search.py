"""The probe's method: a range test for the stability limit, then short trials below it, scored."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from lrdoctor.errors import ProbeError
from lrdoctor.probe import curve
from lrdoctor.probe.batches import BatchSource, guarded, hold_count
from lrdoctor.probe.config import ProbeConfig, ProbeOptions
from lrdoctor.probe.engine import Trainer, gradients_kept
from lrdoctor.probe.progress import Progress
from lrdoctor.probe.result import ProbeResult, Trial
from lrdoctor.probe.spec import Parts, host_rng, seed_host

METHOD = (
    "range test: {range_steps} steps from {min_lr:.3g} to {max_lr:.3g} (exponential), stability limit at the "
    "lowest point of its running-median loss; then trials of {trial_steps} steps at constant rates on the "
    "half-decade grid from the same initial weights, starting one step below the limit and walking toward "
    "lower scores until the best has a worse rate on each side ({trials} trials); score: loss on {scored} "
    "after the trial; pick: {pick}"
)
PICK_GRID = "the best-scoring rate"
PICK_LOWER = (
    ", or the rate below it where that scored within {within:g}% of it and made {gain:g}% of its gain on the "
    "initial weights"
)
# A loss_fn closing over the user's model (not a module, nor a method of one: those are copied
# with the model) computes on the original's weights, which the probe never trains.
LOSS_ON_ORIGINAL = (
    "loss_fn refers to your original model (its gradients were put back): its terms on the model's weights were "
    "computed on the original, untrained weights and not measured; give it as a method of the model "
    "(model.compute_loss) or compute them in forward"
)
SCHEDULED = (
    "the optimizer factory attaches a learning-rate scheduler: the probe holds each group at the scheduler's "
    "peak rate (its initial_lr, or OneCycleLR's max_lr) and never steps it; the rate recommended is that peak"
)
# The loss taken from a tuple the model returned (nanoGPT's (logits, loss)): named, so that an
# auxiliary term returned beside the logits is not trained on unseen.
IN_TUPLE = (
    "the model returned a tuple: its scalar element {element} of {elements} was taken as the loss; "
    "if that is not the training loss, return 'loss_fn' from the factory"
)
PICK_VERTEX = "moved {fraction:g} of the way to the vertex of the parabola through it and its neighbours"


@dataclass
class Ramp:
    lrs: list[float]
    losses: list[float]
    stopped: str


@dataclass(frozen=True)
class Start:
    """The first half of a probe: a private trainer, the replayable minibatches, what scores a
    trial, and the range test with the stability limit read off it."""

    trainer: Trainer
    source: BatchSource
    scoring: list[Any]
    scored: str
    range_steps: int
    ramp: Ramp
    limit: float
    initial: tuple[float, ...] = ()  # the scoring batches' losses at the initial weights


def start(parts: Parts, options: ProbeOptions, config: ProbeConfig, progress: Progress) -> Start:
    """Set up and run the range test; call it inside the probe's seeded random-number scope."""
    trainer = Trainer(
        parts,
        device=options.device,
        amp=options.amp or options.amp_dtype is not None,
        accum=options.accum,
        amp_dtype=options.amp_dtype,
    )
    hold = 0 if parts.val_batches is not None else hold_count(parts.batches, most=config.hold_back_max)
    source = BatchSource(parts.batches, hold=hold, cache_bytes=config.cache_bytes)
    source.prime()
    scoring, scored = _scoring(parts, source, config)
    initial = trainer.batch_losses(scoring)  # at the initial weights: every trial is scored on these
    range_steps = max(config.min_range_steps, round(options.steps * config.range_frac))
    ramp = _range_test(trainer, source, options, config, range_steps, scoring, progress)
    if not math.isfinite(ramp.losses[0]):  # measured before the first update: no rate is to blame
        raise ProbeError(
            f"the loss is {ramp.losses[0]} at the initial weights, before any update; check the data "
            "(NaN or Inf inputs or targets) and the loss function"
        )
    if not all(math.isfinite(v) for v in initial):
        bad = next(i for i, v in enumerate(initial) if not math.isfinite(v))
        raise ProbeError(
            f"the loss on scoring batch {bad + 1} ({scored}) is {initial[bad]} at the initial weights, before any "
            "update; check that data for NaN or Inf"
        )
    limit = curve.stability_limit(np.array(ramp.lrs), np.array(ramp.losses), window=config.median_window)
    return Start(trainer, source, scoring, scored, range_steps, ramp, limit, tuple(initial))


def run_probe(parts: Parts, options: ProbeOptions, config: ProbeConfig, progress: Progress) -> ProbeResult:
    started = time.monotonic()
    bounds = _range(options)
    with (
        torch.random.fork_rng(devices=_rng_devices(options.device)),
        host_rng(options.seed),
        gradients_kept(parts) as original,
    ):
        torch.manual_seed(options.seed)
        s = start(parts, options, config, progress)
        trial_steps = max(config.min_trial_steps, (options.steps - s.range_steps) // config.trials)
        budget = options.steps - len(s.ramp.lrs)
        trials = _walk(s, options, config, bounds, trial_steps, budget, progress)
        _check_some_trained(trials, s, bounds, config)
        pick = _pick(trials, config, start=sum(s.initial) / len(s.initial) if s.initial else None)
        group_lrs = s.trainer.group_lrs(pick)  # as the factory builds them at the pick
    method = METHOD.format(
        range_steps=s.range_steps,
        min_lr=bounds[0],
        max_lr=bounds[1],
        trial_steps=trial_steps,
        trials=len(trials),
        scored=s.scored,
        pick=_pick_text(config),
    )
    progress.advance(progress.total)
    losses = np.array(s.ramp.losses)
    flat = _no_gain(s.initial, trials, config)
    return ProbeResult(
        recommended_lr=pick,
        method=method,
        steps_used=len(s.ramp.lrs) + sum(t.steps for t in trials),
        source=parts.label,
        lrs=tuple(s.ramp.lrs),
        losses=tuple(s.ramp.losses),
        smoothed=tuple(float(v) for v in curve.running_median(losses[np.isfinite(losses)], config.median_window)),
        limit=s.limit,
        trials=tuple(sorted(trials, key=lambda t: t.lr)),
        scored_on=s.scored,
        group_lrs=tuple(group_lrs),
        range_stopped=s.ramp.stopped,
        notes=(
            *s.source.notes,
            *_ignored(parts),
            *((LOSS_ON_ORIGINAL,) if original.received else ()),
            *((SCHEDULED,) if s.trainer.scheduled else ()),
            *_in_tuple(s.trainer),
            *_beyond(trials, pick, s.limit, bounds, config),
            *((flat,) if flat else ()),
        ),
        no_gain=flat is not None,
        seconds=time.monotonic() - started,
    )


def _in_tuple(trainer: Trainer) -> tuple[str, ...]:
    where = trainer.loss_in_tuple
    return () if where is None else (IN_TUPLE.format(element=where[0], elements=where[1]),)


def _scoring(parts: Parts, source: BatchSource, config: ProbeConfig) -> tuple[list[Any], str]:
    """The minibatches that score a trial, and how to name them: validation, else held-back training ones."""
    if parts.val_batches is None:
        if not source.held_apart:
            return (
                source.held,
                f"the {len(source.held)} training batches trained on ('batches' holds too few to hold any back)",
            )
        return source.held, f"{len(source.held)} held-back training batches (kept out of the first pass only)"
    scoring = list(itertools.islice(guarded(parts.val_batches, "'val_batches'"), config.max_score_batches))
    if not scoring:
        raise ProbeError("'val_batches' is empty: iterating it gave no minibatch")
    full = len(scoring) < config.max_score_batches
    return scoring, "val_batches" if full else f"the first {len(scoring)} val_batches"


def _walk(
    s: Start,
    options: ProbeOptions,
    config: ProbeConfig,
    bounds: tuple[float, float],
    steps: int,
    budget: int,
    progress: Progress,
) -> list[Trial]:
    """Trials on the grid, from one step below the limit toward lower scores, while the budget lasts."""
    first, lowest, highest = curve.walk_range(s.limit, bounds, step=config.grid_step, offset=config.start_offset)
    scores: dict[int, float] = {}
    trials: list[Trial] = []
    while budget >= steps or not trials:
        k = curve.next_index(scores, start=first, lowest=lowest, highest=highest)
        if k is None:
            break
        lr = curve.grid_rate(k, step=config.grid_step)
        trial = _trial(s.trainer, s.source, options, lr, steps, s.scoring, progress)
        scores[k] = trial.loss
        trials.append(trial)
        budget -= trial.steps
    return trials


def _range_test(
    trainer: Trainer,
    source: BatchSource,
    options: ProbeOptions,
    config: ProbeConfig,
    steps: int,
    scoring: list[Any],
    progress: Progress,
) -> Ramp:
    """Raise the rate exponentially each step; stop on a non-finite loss or a smoothed loss past the divergence stop."""
    lrs = [float(lr) for lr in curve.ramp(*_range(options), steps)]
    trainer.restart(lrs[0])
    group_lrs = trainer.ramp_rates(lrs)  # as the optimizer's set-up gives them: a group may keep its own rate
    batches = source.sequence(steps * options.accum)
    ramp = Ramp([], [], "reached max-lr")
    avg, best = 0.0, math.inf
    previous: list[Any] = []
    for i, lr in enumerate(lrs):
        trainer.set_rates(group_lrs[i])
        micro = _take(batches, options.accum)
        loss = trainer.step(micro)
        if not math.isfinite(loss) and i > 0:  # the first step's loss is checked by the caller
            _blame_the_data(trainer, lrs[0], "the range test", i + 1, micro, previous)
        if options.val and math.isfinite(loss):
            loss = trainer.evaluate(scoring)
        previous = micro
        progress.advance(label=f"range test lr={lr:.2g}")
        ramp.lrs.append(float(lr))
        ramp.losses.append(loss)
        avg = config.ema_beta * avg + (1 - config.ema_beta) * loss
        smooth = avg / (1 - config.ema_beta ** (i + 1))
        if curve.diverged(smooth, best, factor=config.diverge_factor):
            ramp.stopped = "diverged"
            break
        best = min(best, smooth)
    return ramp


def _trial(
    trainer: Trainer,
    source: BatchSource,
    options: ProbeOptions,
    lr: float,
    steps: int,
    scoring: list[Any],
    progress: Progress,
) -> Trial:
    """`steps` steps at a constant `lr` from the initial weights, on the same minibatches and with
    the same random numbers (torch's, numpy's, Python's: dropout, augmentation) as every trial."""
    torch.manual_seed(options.seed)
    seed_host(options.seed)
    trainer.restart(lr)
    batches = source.sequence(steps * options.accum)
    previous: list[Any] = []
    for done in range(1, steps + 1):
        micro = _take(batches, options.accum)
        loss = trainer.step(micro)
        progress.advance(label=f"trial lr={lr:.2g}")
        if not math.isfinite(loss):
            _blame_the_data(trainer, lr, "a trial", done, micro, previous)
            return Trial(lr, math.inf, done, diverged=True)
        previous = micro
    terms = trainer.batch_losses(scoring)
    score = sum(terms) / len(terms)
    finite = math.isfinite(score)
    if not finite:
        _blame_the_data(trainer, lr, "a trial", steps + 1, [], previous)
    return Trial(lr, score if finite else math.inf, steps, diverged=not finite, batch_losses=tuple(terms))


def _blame_the_data(trainer: Trainer, lr: float, run: str, step: int, micro: list[Any], previous: list[Any]) -> None:
    """A NaN/Inf at `step` of `run` that is the data's (or the loss function's) doing, not the
    rate's: the step's minibatches (`micro`) give a NaN/Inf loss at the initial weights too, or
    the step before's (`previous`) NaN/Inf gradients there (a finite loss whose gradients are not,
    as a NaN target masked out by torch.where gives). Raises; returns when the rate is to blame."""
    trainer.restart(lr)
    initial = trainer.batch_losses(micro) if micro else []
    bad = [v for v in initial if not math.isfinite(v)]
    if bad:
        raise ProbeError(
            f"a training minibatch (step {step} of {run}) gives a loss of {bad[0]} at the initial weights, "
            "before any update: the data holds NaN or Inf (inputs or targets), whatever the rate"
        )
    if previous and not trainer.finite_gradients(previous):
        raise ProbeError(
            f"a training minibatch (step {step - 1} of {run}) gives NaN or Inf gradients at the initial weights, "
            "before any update, whatever the rate: look for NaN or Inf in the data (a NaN target masked out "
            "with torch.where still makes a NaN gradient) or in the loss function"
        )


def _pick_text(config: ProbeConfig) -> str:
    """How the pick is read off the trials' scores, as the method says it."""
    text = PICK_GRID
    if config.lower_within > 0:
        text += PICK_LOWER.format(within=round(100 * config.lower_within, 6), gain=round(100 * config.lower_gain, 6))
    if config.interpolate:
        text += ", " + PICK_VERTEX.format(fraction=config.interpolate)
    return text


def _check_some_trained(trials: list[Trial], s: Start, bounds: tuple[float, float], config: ProbeConfig) -> None:
    """Raise where every trial diverged: its loss went non-finite, or its score ended
    `diverge_factor` times that of the initial weights or more (the range test's own divergence
    stop). Every rate tried was too high; the advice says what kept lower ones from being tried."""
    start = sum(s.initial) / len(s.initial) if s.initial else math.nan
    if any(math.isfinite(t.loss) and not t.loss >= config.diverge_factor * start for t in trials):
        return
    lowest = min(t.lr for t in trials)
    finite = [t for t in trials if math.isfinite(t.loss)]
    scored = ""
    if finite:
        best = min(finite, key=lambda t: t.loss)
        scored = f" (the best, at {best.lr:.3g}, scored {best.loss:.4g}, {best.loss / start:.3g}x the initial weights')"
    _, bottom, _ = curve.walk_range(s.limit, bounds, step=config.grid_step, offset=config.start_offset)
    at_bottom = round(math.log10(lowest) / config.grid_step) <= bottom
    raise ProbeError(
        f"every rate tried diverged, down to {lowest:.3g}{scored}; "
        + ("pass a lower --min-lr" if at_bottom else "give a larger --steps, so that lower rates are tried")
    )


def _pick(trials: list[Trial], config: ProbeConfig, *, start: float | None = None) -> float:
    """The best trial's rate (or the one below it, where it scored within `lower_within` of it and
    gained `lower_gain` of what it gained on `start`, the initial weights' score), moved part of
    the way toward the vertex through its neighbours."""
    step = config.grid_step
    scores = {round(math.log10(t.lr) / step): t.loss for t in trials}
    best = curve.best_index(scores)
    best = curve.lower_if_close(scores, best, within=config.lower_within, start=start, gain_share=config.lower_gain)
    shift = curve.vertex_shift(scores, best, fraction=config.interpolate)
    return curve.grid_rate(best + shift, step=step)


def _beyond(
    trials: list[Trial], pick: float, limit: float, bounds: tuple[float, float], config: ProbeConfig
) -> tuple[str, ...]:
    """A note when the pick is the highest (or lowest) rate tried and no worse rate was tried
    beyond it: the walk stopped there (its budget spent, or the range's end), still improving."""
    step = config.grid_step
    scores = {round(math.log10(t.lr) / step): t.loss for t in trials}
    sides = curve.unbracketed(scores)
    _, lowest, highest = curve.walk_range(limit, bounds, step=step, offset=config.start_offset)
    if len(sides) == 2:
        said = "the only rate tried: the best rate may lie above or below it; give a larger --steps"
    elif sides == [1]:
        fix = "a higher --max-lr" if max(scores) >= highest else "a larger --steps"
        said = f"the highest rate tried, still the best: the best rate may lie above it; give {fix}"
    elif sides == [-1]:
        fix = "a lower --min-lr" if min(scores) <= lowest else "a larger --steps"
        said = f"the lowest rate tried, still the best: the best rate may lie below it; give {fix}"
    else:
        return ()
    best = curve.grid_rate(curve.best_index(scores), step=step)
    if not math.isclose(best, pick, rel_tol=1e-9):  # the rate below the best, which scored within the margin
        return (
            f"the best-scoring rate {best:.3g} (the pick, {pick:.3g}, is the rate below it, which scored within "
            f"{round(100 * config.lower_within, 6):g}% of it) is {said}",
        )
    return (f"the pick {pick:.3g} is {said}",)


PAIRED_MIN = 3


def paired_z(before: Sequence[float], after: Sequence[float]) -> float:
    """How far `after` scored below `before` on the same scoring batches: the mean of the
    batch-by-batch differences over its standard error (the spread of those differences over
    the root of their count). inf where every batch moved by the same amount, and NaN for fewer
    than PAIRED_MIN batches (a spread of one or two differences measures nothing)."""
    d = np.asarray(before, dtype=np.float64) - np.asarray(after, dtype=np.float64)
    if len(d) < PAIRED_MIN:
        return math.nan
    mean, se = float(d.mean()), float(d.std(ddof=1)) / math.sqrt(len(d))
    if se == 0.0:
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / se


def gain_z(before: Sequence[float], after: Sequence[float]) -> float:
    """paired_z of the batches' losses, or of their logarithms where every one is positive, the
    higher: a gain read as a share of each batch's loss counts as well as one read in the loss's
    units, so that batches of very different sizes (a validation set in order of its targets'
    scale) do not drown a fall that every batch shows in the spread of their differences."""
    z = paired_z(before, after)
    if all(v > 0 for v in before) and all(v > 0 for v in after):
        logged = paired_z(np.log(np.asarray(before, dtype=np.float64)), np.log(np.asarray(after, dtype=np.float64)))
        z = logged if math.isnan(z) else max(z, logged)
    return z


def _no_gain(initial: Sequence[float], trials: list[Trial], config: ProbeConfig) -> str | None:
    """A note where no trial scored measurably below the initial weights, else None: the best
    trial's loss fell by less than `gain_z` standard errors of its batch-by-batch change
    (:func:`gain_z`), or rose (with fewer than PAIRED_MIN scoring batches: did not fall). The pick
    then rests on no measured gain: within the noise, the trials read the scoring batches' noise
    (a model already trained on this data); risen beyond it, every rate tried was too high for
    trials this short."""
    scored = [t for t in trials if math.isfinite(t.loss) and len(t.batch_losses) == len(initial)]
    if not scored or not initial:
        return None
    best = min(scored, key=lambda t: t.loss)
    z = gain_z(initial, best.batch_losses)
    start = sum(initial) / len(initial)
    if (best.loss < start) if math.isnan(z) else (z >= config.gain_z):
        return None
    said = f"{start:.4g} there; the best trial, at {best.lr:.3g}, {best.loss:.4g}"
    if math.isnan(z):
        return (
            f"no rate tried scored below the initial weights ({said}): the pick rests on no measured gain. "
            "A model already trained on this data gains nothing from any rate; rates all too high for "
            f"trials of {best.steps} steps need a larger --steps"
        )
    said += f", {abs(z):.1f} standard errors of its batch-by-batch change {'below' if z > 0 else 'above'} it"
    if z <= -config.gain_z:
        return (
            f"every rate tried left the score above that of the initial weights ({said}): they were too high for "
            f"trials of {best.steps} steps, and the pick is the least harmful of them, not a measured gain; give a "
            "larger --steps, so that lower rates are tried"
        )
    return (
        f"no rate tried scored measurably below the initial weights ({said}): the trials differ by noise and the "
        "pick rests on none of them. A model already trained on this data gains nothing from any rate; trials "
        "too short to move it need a larger --steps"
    )


def _ignored(parts: Parts) -> tuple[str, ...]:
    if not parts.ignored:
        return ()
    keys = ", ".join(repr(k) for k in parts.ignored)
    return (f"the factory's {keys} not read (the keys read: model, batches, loss_fn, optimizer, val_batches)",)


def _take(batches: Any, n: int) -> list[Any]:
    return [next(batches) for _ in range(n)]


def _range(options: ProbeOptions) -> tuple[float, float]:
    if options.min_lr is None or options.max_lr is None:
        raise ProbeError("the rate range is not set (min_lr, max_lr)")
    return options.min_lr, options.max_lr


def _rng_devices(device: str) -> list[int]:
    if device == "cuda" and torch.cuda.is_available():
        return [torch.cuda.current_device()]
    return []
