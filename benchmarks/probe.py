"""Score `lrdoctor probe` against the learning-rate range test on the corpus tasks.

    python benchmarks/probe.py [--seeds 0 1 2] [--tasks ...] [--device cuda] [--amp] [--amp-dtype T] [--write-docs]

For each task, optimizer and seed, the task's factory (benchmarks/corpus/tasks.py) is probed by

- lrdoctor's probe (default options: 300 steps, 1e-6 to 10);
- torch-lr-finder's range test with its usual settings (start 1e-7, end_lr 10, 100 iterations,
  exponential, its own smoothing and divergence stop), suggesting the steepest descent of its curve;
- fastai's `valley` and `minimum/10` rules read off that same curve (first tenth and last 5
  points trimmed, as fastai does).

Each pick is compared with the sweep-measured best constant rate of that (task, optimizer) in
benchmarks/corpus/labels.json, which trained the task's full step budget at every half-decade
rate: |log10(pick / best)|, and the regret: the final validation loss at the pick, interpolated
in log-rate on the sweep's loss-versus-rate curve (mean over the sweep's seeds), over the best
final loss, minus 1 (a pick in an interval that touches a diverged rate counts as diverged: +inf).

The probe's numbers were chosen on TRAINING_TASKS only; the targets are judged on HELD_OUT.
Single-threaded CPU by default, fixed seeds. `--device cuda` runs both on the GPU (the timers
wait for it); `--amp` runs lrdoctor's probe under autocast (float16 with loss scaling on CUDA),
`--amp-dtype bfloat16` in bfloat16, the anchors' range test as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.corpus import tasks  # noqa: E402
from lrdoctor.probe import ProbeOptions, probe_parts  # noqa: E402
from lrdoctor.probe.config import ProbeConfig  # noqa: E402

TRAINING_TASKS = ("digits_mlp", "cancer_mlp")
HELD_OUT = ("digits_cnn", "linreg_illcond", "char_gru", "digits_ae")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
METHODS = ("lrdoctor", "lr-finder", "valley", "min/10")
LABELS = ROOT / "benchmarks" / "corpus" / "labels.json"
DOCS = ROOT / "BENCHMARKS.md"
MARK_START, MARK_END = "<!-- probe-benchmark:start -->", "<!-- probe-benchmark:end -->"
# torch-lr-finder's usual settings (its README): the optimizer starts at 1e-7.
FINDER_START, FINDER_END, FINDER_ITERS = 1e-7, 10.0, 100


@dataclass
class Pick:
    method: str
    lr: float
    steps: int
    seconds: float
    trials: list[tuple[float, float, list[float]]] = field(default_factory=list)  # lrdoctor's: rate, score, terms
    no_gain: bool = False  # lrdoctor's: no trial scored measurably below the initial weights


@dataclass
class Scored:
    task: str
    optimizer: str
    seed: int
    best_lr: float
    pick: Pick
    error: float  # |log10(pick / best)|
    regret: float


# ---------------------------------------------------------------- the sweep's ground truth


def sweep_truth(labels: dict, task: str, optimizer: str) -> tuple[float, np.ndarray, np.ndarray]:
    """The best rate, and the final validation loss versus rate (mean over seeds; +inf if any diverged)."""
    sweep = f"{task}/{optimizer}_constant"
    best = next(s["best_lr"] for s in labels["sweeps"] if s["sweep"] == sweep)
    by_lr: dict[float, list[float]] = defaultdict(list)
    for r in labels["runs"]:
        if r["sweep"] == sweep:
            ok = r["final_val"] is not None and not r["diverged"]
            by_lr[r["lr"]].append(r["final_val"] if ok else math.inf)
    lrs = np.array(sorted(by_lr))
    vals = np.array([float(np.mean(by_lr[lr])) for lr in lrs])
    return best, lrs, vals


def regret(pick: float, lrs: np.ndarray, vals: np.ndarray) -> float:
    """Final loss at `pick` over the best, minus 1; linear in log-rate between the sweep rates, clamped at the ends."""
    x, p = np.log10(lrs), math.log10(pick)
    if p <= x[0]:
        value = vals[0]
    elif p >= x[-1]:
        value = vals[-1]
    else:
        i = int(np.searchsorted(x, p)) - 1
        a, b = vals[i], vals[i + 1]
        t = (p - x[i]) / (x[i + 1] - x[i])
        if math.isfinite(a) and math.isfinite(b):
            value = a + t * (b - a)
        else:  # next to a diverged rate: diverged, unless exactly on the finite end
            value = a if t < 1e-9 else b if t > 1 - 1e-9 else math.inf
    return float(value / vals.min() - 1.0)


# ---------------------------------------------------------------- the anchors' rules


def steepest(lrs: list[float], losses: list[float], *, skip_start: int = 10, skip_end: int = 5) -> float:
    """torch-lr-finder's suggestion: the rate where the trimmed curve falls fastest per step."""
    lr = lrs[skip_start : len(lrs) - skip_end] or lrs
    loss = losses[skip_start : len(losses) - skip_end] or losses
    return float(lr[int(np.argmin(np.gradient(np.array(loss))))])


def fastai_trim(lrs: list[float], losses: list[float]) -> tuple[list[float], list[float]]:
    """fastai reads the curve without its first tenth and last 5 points."""
    start = len(lrs) // 10
    end = max(start + 2, len(lrs) - 5)
    return lrs[start:end], losses[start:end]


def valley(lrs: list[float], losses: list[float]) -> float:
    """fastai's `valley`: half-way along the longest run of (not necessarily adjacent) falling losses."""
    n = len(losses)
    run = [1] * n  # longest falling subsequence ending at each point
    end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j]:
                run[i] = max(run[i], run[j] + 1)
        if run[i] > run[end]:
            end = i
    start = end - run[end]
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


def minimum_tenth(lrs: list[float], losses: list[float]) -> float:
    """fastai's `minimum` suggestion: a tenth of the rate at the lowest loss."""
    return float(lrs[int(np.nanargmin(np.array(losses)))] / 10)


# ---------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Where:
    """Where both run: the device, and whether lrdoctor's probe runs under autocast."""

    device: str = "cpu"
    amp: bool = False
    amp_dtype: str | None = None
    range_frac: float | None = None  # the probe's share of its budget for the range test (None: its default)

    def clock(self) -> float:
        """Seconds, once the device has finished the work queued on it."""
        if self.device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()


def run_lrdoctor(task: str, optimizer: str, seed: int, where: Where) -> Pick:
    parts = tasks.make(task, optimizer=optimizer, seed=seed)
    start = where.clock()
    options = ProbeOptions(seed=seed, device=where.device, amp=where.amp, amp_dtype=where.amp_dtype)
    config = None if where.range_frac is None else ProbeConfig(range_frac=where.range_frac)
    result = probe_parts(parts, label=f"{task}/{optimizer}", options=options, config=config)
    seconds = where.clock() - start
    trials = [(t.lr, t.loss, list(t.batch_losses)) for t in result.trials]
    return Pick("lrdoctor", result.recommended_lr, result.steps_used, seconds, trials, result.no_gain)


def run_finder(task: str, optimizer: str, seed: int, where: Where) -> list[Pick]:
    from torch_lr_finder import LRFinder

    parts = tasks.make(task, optimizer=optimizer, seed=seed)
    start = where.clock()
    model = parts["model"]
    opt = parts["optimizer"](model.parameters(), FINDER_START)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder = LRFinder(model, opt, parts["loss_fn"], device=where.device)
        finder.range_test(parts["batches"], end_lr=FINDER_END, num_iter=FINDER_ITERS, step_mode="exp")
        finder.reset()
    seconds = where.clock() - start
    lrs, losses = list(finder.history["lr"]), [float(v) for v in finder.history["loss"]]
    steps = len(lrs)
    trimmed = fastai_trim(lrs, losses)
    return [
        Pick("lr-finder", steepest(lrs, losses), steps, seconds),
        Pick("valley", valley(*trimmed), steps, seconds),
        Pick("min/10", minimum_tenth(*trimmed), steps, seconds),
    ]


def warm_up(where: Where) -> None:
    """One untimed run of each, so that neither pays torch's first-call costs inside the timings."""
    run_lrdoctor("linreg_illcond", "sgd", 0, where)
    run_finder("linreg_illcond", "sgd", 0, where)


def score_all(task_names: tuple[str, ...], seeds: list[int], labels: dict, where: Where) -> list[Scored]:
    warm_up(where)
    out = []
    for task in task_names:
        for optimizer in OPTIMIZERS:
            best, lrs, vals = sweep_truth(labels, task, optimizer)
            for seed in seeds:
                picks = [run_lrdoctor(task, optimizer, seed, where), *run_finder(task, optimizer, seed, where)]
                for p in picks:
                    out.append(
                        Scored(task, optimizer, seed, best, p, abs(math.log10(p.lr / best)), regret(p.lr, lrs, vals))
                    )
                line = "  ".join(f"{p.method} {p.lr:.3g}" for p in picks)
                print(f"{task}/{optimizer} seed {seed}: best {best:.3g}  {line}", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- the tables


def summary(rows: list[Scored]) -> list[dict]:
    table = []
    for method in METHODS:
        mine = [r for r in rows if r.pick.method == method]
        steps = sum(r.pick.steps for r in mine)
        table.append(
            {
                "method": method,
                "cases": len(mine),
                "median_abs_log10": statistics.median(r.error for r in mine),
                "within_half_decade": sum(r.error <= 0.5 + 1e-9 for r in mine) / len(mine),
                "median_regret": statistics.median(r.regret for r in mine),
                "mean_regret_finite": _mean_finite([r.regret for r in mine]),
                "diverged_picks": sum(not math.isfinite(r.regret) for r in mine),
                "mean_steps": steps / len(mine),
                "ms_per_step": 1000 * sum(r.pick.seconds for r in mine) / steps,
            }
        )
    return table


def _mean_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.inf


def markdown_summary(table: list[dict]) -> str:
    head = (
        "| method | cases | median abs log10(pick/best) | within half a decade | median regret | "
        "mean regret (finite) | diverged picks | steps | ms per step |\n|---|---|---|---|---|---|---|---|---|"
    )
    body = [
        f"| {t['method']} | {t['cases']} | {t['median_abs_log10']:.2f} | {t['within_half_decade']:.0%} | "
        f"{t['median_regret']:.3f} | {t['mean_regret_finite']:.3f} | {t['diverged_picks']} | "
        f"{t['mean_steps']:.0f} | {t['ms_per_step']:.2f} |"
        for t in table
    ]
    return "\n".join([head, *body])


def markdown_cases(rows: list[Scored]) -> str:
    by_case: dict[tuple[str, str, int], dict[str, Scored]] = defaultdict(dict)
    for r in rows:
        by_case[(r.task, r.optimizer, r.seed)][r.pick.method] = r
    head = "| task / optimizer | seed | best | " + " | ".join(f"{m} (regret)" for m in METHODS) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(METHODS)]
    for (task, opt, seed), picks in by_case.items():
        best = next(iter(picks.values())).best_lr
        cells = [f"{picks[m].pick.lr:.3g} ({_reg(picks[m].regret)})" for m in METHODS]
        lines.append(f"| {task} / {opt} | {seed} | {best:.3g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _reg(value: float) -> str:
    return "diverged" if not math.isfinite(value) else f"{value:.2f}"


def write_docs(text: str) -> None:
    doc = DOCS.read_text()
    start, end = doc.index(MARK_START) + len(MARK_START), doc.index(MARK_END)
    DOCS.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", nargs="+", default=[*HELD_OUT, *TRAINING_TASKS])
    ap.add_argument("--write-docs", action="store_true", help=f"write the tables into {DOCS.relative_to(ROOT)}")
    ap.add_argument("--json", type=Path, help="also write every case as JSON here")
    ap.add_argument(
        "--labels",
        type=Path,
        default=LABELS,
        help="the corpus labels that hold the tasks' sweeps (for the extra tasks: a corpus generated with --extra)",
    )
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where both run (default: cpu)")
    ap.add_argument("--amp", action="store_true", help="lrdoctor's probe under autocast (its --amp)")
    ap.add_argument("--amp-dtype", choices=("float16", "bfloat16"), help="lrdoctor's probe in this autocast type")
    ap.add_argument(
        "--range-steps",
        type=int,
        help=f"the probe's range test in this many of its {ProbeOptions.steps} steps (default: 1/3 of them)",
    )
    args = ap.parse_args()
    torch.set_num_threads(1)
    labels = json.loads(args.labels.read_text())
    frac = None if args.range_steps is None else args.range_steps / ProbeOptions.steps
    where = Where(args.device, args.amp, args.amp_dtype, frac)
    started = time.perf_counter()
    rows = score_all(tuple(args.tasks), args.seeds, labels, where)
    held = [r for r in rows if r.task in HELD_OUT]
    train = [r for r in rows if r.task in TRAINING_TASKS]
    others = [r for r in rows if r.task not in HELD_OUT and r.task not in TRAINING_TASKS]
    command = f"python benchmarks/probe.py --seeds {' '.join(map(str, args.seeds))}"
    command += f" --device {args.device}" * (args.device != "cpu") + " --amp" * args.amp
    command += f" --amp-dtype {args.amp_dtype}" if args.amp_dtype else ""
    command += f" --range-steps {args.range_steps}" if args.range_steps is not None else ""
    if others:
        command += f" --tasks {' '.join(args.tasks)} --labels {args.labels}"
    parts = [f"Command: `{command}`"]
    if held:
        parts += [
            f"\n**Held-out tasks** ({', '.join(t for t in HELD_OUT if t in args.tasks)}):\n",
            markdown_summary(summary(held)),
        ]
    if train:
        parts += [
            f"\nTraining tasks ({', '.join(t for t in TRAINING_TASKS if t in args.tasks)}; "
            "the probe's numbers were chosen on these):\n",
            markdown_summary(summary(train)),
        ]
    if others:
        names = sorted({r.task for r in others})
        parts += [f"\nOther tasks ({', '.join(names)}; never used to choose the probe's numbers):\n"]
        parts += [markdown_summary(summary(others))]
    parts += ["\nEvery case (pick, and its regret in brackets):\n", markdown_cases(rows)]
    probes = [r for r in rows if r.pick.method == "lrdoctor"]
    flat = sum(r.pick.no_gain for r in probes)
    parts.append(f"\nlrdoctor probes that measured no gain on the initial weights (`no_gain`): {flat} of {len(probes)}")
    parts.append(f"\nTotal run time: {time.perf_counter() - started:.0f} s.")
    text = "\n".join(parts)
    print(text)
    if args.json:
        args.json.write_text(json.dumps([{**vars(r), "pick": vars(r.pick)} for r in rows], indent=1, allow_nan=True))
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
