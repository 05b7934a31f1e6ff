"""Replay the probe's walk on recorded trials (probe_trials.py) under other scoring and pick rules.

    python benchmarks/probe_trials.py          # once: about 5 minutes, one thread
    python benchmarks/probe_sim.py [--trials benchmarks/.cache/probe_trials.json ...] [--labels FILE]

The walk is the probe's own: its start and bounds (``curve.walk_range``), its steps
(``curve.next_index``), 50-step trials while the 300-step budget lasts after the recorded range
test, a trial that went non-finite charged the steps it ran. Only the trial's score, or the way
the pick is read off the scores, changes. Each rule is judged as benchmarks/probe.py judges the probe:
|log10(pick / best)| and regret against the corpus sweep's best constant rate, on the training
tasks and the held-out ones. "shipped" is the probe as it is; its figures equal benchmarks/probe.py's.
Records of other tasks (say the corpus's extra tasks, `probe_trials.py --tasks ...`, with
`--labels` naming a labels.json that holds their sweeps) are judged as a third group: more tasks
to choose the probe's numbers on, never the held-out ones.

The rules ask whether a trial's score can be carried to the length of the user's run (the corpus
runs are 296 to 400 steps, the trials 50): a power law in time fitted to three scores of a trial,
a damped log-linear continuation, an optimum that moves down with the horizon (as the best
constant rate does for longer runs), scores averaged over the trial's last checkpoints, or the
training loss rather than the scoring batches.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.probe import HELD_OUT, LABELS, TRAINING_TASKS, regret, sweep_truth  # noqa: E402
from lrdoctor.probe import RAMP_RANGE, ProbeConfig, ProbeOptions, curve  # noqa: E402

CONFIG = ProbeConfig()
BUDGET = ProbeOptions().steps  # 300
GRID = CONFIG.grid_step
STEPS = (BUDGET - max(CONFIG.min_range_steps, round(BUDGET * CONFIG.range_frac))) // CONFIG.trials  # 50
Score = Callable[[dict, int], float]  # (trial record, horizon in steps) -> score, lower is better
Pick = Callable[[Mapping[int, float], int], float]  # (grid index -> score, horizon) -> rate


def at(trial: dict, step: int) -> float:
    value = trial["scores"].get(str(step))
    return math.inf if value is None or not math.isfinite(value) else value


def shipped(trial: dict, horizon: int) -> float:
    return at(trial, STEPS)


def power_law(points: tuple[int, int, int]) -> Score:
    """The score at the horizon of L(t) = a + b t^-c through three checkpoint scores."""

    def score(trial: dict, horizon: int) -> float:
        return extrapolate(points, [at(trial, p) for p in points], horizon)

    return score


def extrapolate(points: tuple[int, int, int], values: list[float], horizon: int) -> float:
    """The score at `horizon` of the power law L(t) = a + b t^-c through three scores.

    c comes from the ratio of the two improvements (bisection); c -> 0 is linear in log t, the
    most a power law allows, and a ratio beyond it is read as that. A score that got worse over
    the last interval is carried forward unchanged.
    """
    if not all(math.isfinite(v) for v in values):
        return math.inf
    (t1, t2, t3), (v1, v2, v3) = points, values
    d1, d2 = v1 - v2, v2 - v3
    if d2 <= 0 or horizon <= t3:
        return v3
    if d1 <= 0 or d1 / d2 <= math.log(t2 / t1) / math.log(t3 / t2):
        return v3 - d2 * math.log(horizon / t3) / math.log(t3 / t2)

    def ratio(c: float) -> float:
        return (t1**-c - t2**-c) / (t2**-c - t3**-c)

    lo, hi = 1e-6, 20.0
    if ratio(hi) < d1 / d2:
        return v3
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < d1 / d2 else (lo, mid)
    c = (lo + hi) / 2
    b = d2 / (t2**-c - t3**-c)
    return v3 - b * (t3**-c - horizon**-c)


def damped(since: int, weight: float) -> Score:
    """The last score, less `weight` x its improvement per unit log-time since `since`, over log(horizon / steps)."""

    def score(trial: dict, horizon: int) -> float:
        a, b = at(trial, since), at(trial, STEPS)
        if not (math.isfinite(a) and math.isfinite(b)):
            return math.inf
        return b - weight * max(0.0, a - b) / math.log(STEPS / since) * math.log(horizon / STEPS)

    return score


def mean_of(points: tuple[int, ...]) -> Score:
    def score(trial: dict, horizon: int) -> float:
        return sum(at(trial, p) for p in points) / len(points)

    return score


def train_tail(share: float) -> Score:
    """The mean training (minibatch) loss over the trial's last `share` of steps."""

    def score(trial: dict, horizon: int) -> float:
        losses = trial["train"][:STEPS]
        if len(losses) < STEPS or not all(math.isfinite(v) for v in losses):
            return math.inf
        n = max(1, round(STEPS * share))
        return sum(losses[-n:]) / n

    return score


def grid_pick(scores: Mapping[int, float], horizon: int) -> float:
    return curve.grid_rate(curve.best_index(_finite(scores)), step=GRID)


def shifted(alpha: float, vertex: float, snap: bool) -> Pick:
    """The best grid rate moved `vertex` of the way to the parabola's vertex, then down by
    (horizon / steps)^-alpha; snapped back to the grid or not."""

    def pick(scores: Mapping[int, float], horizon: int) -> float:
        best = curve.best_index(_finite(scores))
        k = best + curve.vertex_shift(scores, best, fraction=vertex) - alpha * math.log10(horizon / STEPS) / GRID
        return curve.grid_rate(math.floor(k + 0.5) if snap else k, step=GRID)

    return pick


def lower_if_close(margin: float) -> Pick:
    """The best grid rate, or the one below it when that scored within `margin` of the best
    (longer runs favour lower rates)."""

    def pick(scores: Mapping[int, float], horizon: int) -> float:
        finite = _finite(scores)
        return curve.grid_rate(curve.lower_if_close(finite, curve.best_index(finite), within=margin), step=GRID)

    return pick


def midpoint_if_close(margin: float) -> Pick:
    """The best grid rate, or the geometric mean of it and the neighbour that scored within
    `margin` of it (the better of two such): rates that tie after a trial leave the best full-run
    rate anywhere between them, and their midpoint is at most a quarter decade from either."""

    def pick(scores: Mapping[int, float], horizon: int) -> float:
        finite = _finite(scores)
        best = curve.best_index(finite)
        close = [k for k in (best - 1, best + 1) if k in finite and finite[k] <= finite[best] * (1 + margin)]
        k = best + (close[0] - best) / 2 if len(close) == 1 else best
        return curve.grid_rate(k, step=GRID)

    return pick


def _finite(scores: Mapping[int, float]) -> Mapping[int, float]:
    return {k: v for k, v in scores.items() if math.isfinite(v)} or scores


def walk(case: dict, score: Score, steps: int = STEPS, budget: int = BUDGET) -> dict[int, float]:
    """The probe's walk over the recorded trials of `steps` steps each: grid index -> score."""
    by_k = {t["k"]: t for t in case["trials"]}
    first, lowest, highest = curve.walk_range(case["limit"], RAMP_RANGE, step=GRID, offset=CONFIG.start_offset)
    scores: dict[int, float] = {}
    left = budget - case["ramp_steps"]
    while left >= steps or not scores:
        k = curve.next_index(scores, start=first, lowest=lowest, highest=highest)
        if k is None:
            break
        if k not in by_k:
            raise SystemExit(f"{case['task']}/{case['optimizer']}: no recorded trial at grid index {k}")
        scores[k] = score(by_k[k], case["steps"])
        left -= min(steps, len(by_k[k]["train"]))  # a trial that went non-finite stopped there
    return scores


def longer(steps: int) -> Score:
    def score(trial: dict, horizon: int) -> float:
        return at(trial, steps)

    return score


# rule -> (score, pick, trial steps, budget)
RULES: dict[str, tuple[Score, Pick, int, int]] = {
    f"shipped: score after 50 steps, the rate below the best when within {CONFIG.lower_within:.0%} of it": (
        shipped,
        lower_if_close(CONFIG.lower_within),
        STEPS,
        BUDGET,
    ),
    "score after 50 steps, best grid rate (shipped before)": (shipped, grid_pick, STEPS, BUDGET),
    "power law through steps 12, 25, 50, to the run's length": (power_law((12, 25, 50)), grid_pick, STEPS, BUDGET),
    "power law through steps 25, 37, 50": (power_law((25, 37, 50)), grid_pick, STEPS, BUDGET),
    "damped log-linear since step 25, x0.1": (damped(25, 0.1), grid_pick, STEPS, BUDGET),
    "damped log-linear since step 25, x0.3": (damped(25, 0.3), grid_pick, STEPS, BUDGET),
    "damped log-linear since step 33, x0.1": (damped(33, 0.1), grid_pick, STEPS, BUDGET),
    "mean of steps 37 and 50": (mean_of((37, 50)), grid_pick, STEPS, BUDGET),
    "mean of steps 33, 37, 50": (mean_of((33, 37, 50)), grid_pick, STEPS, BUDGET),
    "training loss, last 20% of the trial": (train_tail(0.2), grid_pick, STEPS, BUDGET),
    "training loss, last 40% of the trial": (train_tail(0.4), grid_pick, STEPS, BUDGET),
    "best rate x (horizon/50)^-0.3, rounded to the grid": (shipped, shifted(0.3, 0.0, True), STEPS, BUDGET),
    "best rate x (horizon/50)^-0.5, rounded to the grid": (shipped, shifted(0.5, 0.0, True), STEPS, BUDGET),
    **{
        f"the rate below the best when within {m:.0%} of it": (shipped, lower_if_close(m), STEPS, BUDGET)
        for m in (0.02, 0.03, 0.04, 0.05, 0.1)
    },
    **{
        f"the midpoint with a neighbour within {m:.0%} of the best": (shipped, midpoint_if_close(m), STEPS, BUDGET)
        for m in (0.01, 0.02, 0.03, 0.05, 0.1)
    },
    "parabola vertex, off the grid": (shipped, shifted(0.0, 1.0, False), STEPS, BUDGET),
    "parabola vertex x (horizon/50)^-0.2, off the grid": (shipped, shifted(0.2, 1.0, False), STEPS, BUDGET),
    "trials of 67 steps (2 or 3 fit in the budget)": (longer(67), grid_pick, 67, BUDGET),
    "trials of 100 steps after the same range test, budget 400": (longer(100), grid_pick, 100, 400),
}


def judge(cases: list[dict], labels: dict, rule: tuple[Score, Pick, int, int], names: tuple[str, ...]) -> str:
    score, pick, steps, budget = rule
    errors, regrets = [], []
    for case in cases:
        if case["task"] not in names:
            continue
        best, lrs, vals = sweep_truth(labels, case["task"], case["optimizer"])
        lr = pick(walk(case, score, steps, budget), case["steps"])
        errors.append(abs(math.log10(lr / best)))
        regrets.append(regret(lr, lrs, vals))
    finite = [r for r in regrets if math.isfinite(r)]
    return (
        f"{statistics.median(errors):.2f} | {sum(e < 1e-6 for e in errors)}/{len(errors)} | "
        f"{statistics.median(regrets):.3f} | {sum(finite) / max(len(finite), 1):.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=Path, nargs="+", default=[ROOT / "benchmarks" / ".cache" / "probe_trials.json"])
    ap.add_argument(
        "--labels", type=Path, default=LABELS, help="the corpus labels that hold every recorded task's sweeps"
    )
    args = ap.parse_args()
    cases = [case for path in args.trials for case in json.loads(path.read_text())]
    labels = json.loads(args.labels.read_text())
    others = tuple(sorted({c["task"] for c in cases} - set(TRAINING_TASKS) - set(HELD_OUT)))
    groups = [
        ("training", TRAINING_TASKS),
        *([("other tasks", others), ("training and other tasks", (*TRAINING_TASKS, *others))] if others else []),
        ("held-out", HELD_OUT),
    ]
    if others:
        print(f"other tasks: {', '.join(others)}\n")
    cells = " | ".join(f"{g}: median abs log10 | exact | median regret | mean regret" for g, _ in groups)
    print(f"| rule | {cells} |")
    print("|---|" + "---|" * (4 * len(groups)))
    for name, rule in RULES.items():
        print(f"| {name} | " + " | ".join(judge(cases, labels, rule, names) for _, names in groups) + " |")


if __name__ == "__main__":
    main()
