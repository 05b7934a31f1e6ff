"""Training the planned runs, writing their logs, and labelling them against their sweep.

Rounds: first every sweep's grid with seed 0; then, in each sweep, the best rate and its two
neighbours get a second seed (the best of a single seed is often a coin toss between
neighbours, and the rate above the best is often the one that diverges on another seed); the
scores are re-averaged and the rounds repeat until the best and its neighbours all have both
seeds.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks.corpus import labels
from benchmarks.corpus.plan import SEEDS, Job, Sweep, lr_of, make_job
from benchmarks.corpus.tasks import chance_loss
from benchmarks.corpus.train import train_run
from benchmarks.corpus.writers import write_run

# Both failure ends of a grid count as reached when the run there kept at most this fraction
# of the best run's improvement (from the initial loss at the bottom, from the chance loss at
# the top, where diverging also counts).
END_FRACTION = 0.25
# Run summaries kept between generations, so an interrupted or extended generation resumes.
STATE_DIR = ".state"


def execute(job: Job, out: Path) -> dict[str, Any]:
    """Train `job`, write its log under `out`, and summarise it (everything but its label).

    A summary kept from an earlier generation of the same job is reused (runs are deterministic).
    """
    state = out / STATE_DIR / f"{job.run_id}.json"
    if state.is_file():
        kept = json.loads(state.read_text())
        if kept.get("job") == repr(job) and (out / kept["summary"]["path"]).is_file():
            return kept["summary"]
    summary = _train_and_write(job, out)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"job": repr(job), "summary": summary}))
    return summary


def _train_and_write(job: Job, out: Path) -> dict[str, Any]:
    res = train_run(job.spec)
    path = write_run(res, out / "runs" / job.run_id, fmt=job.fmt, sparse=job.sparse, with_lr=job.with_lr)
    init_val = res.val_loss[0]
    final = labels.final_val(res.val_loss)
    final_tr = labels.final_train(res.train_loss, window=res.steps_per_epoch)
    diverged = labels.is_diverged(res.train_loss, res.val_loss, init_loss=init_val, window=res.steps_per_epoch)
    return {
        "run": job.run_id,
        "task": job.sweep.task,
        "optimizer": job.sweep.optimizer,
        "schedule": job.sweep.schedule,
        "lr": lr_of(job.k),
        "k": job.k,
        "seed": job.seed,
        "steps": len(res.train_loss),
        "budget": res.budget,
        "steps_per_epoch": res.steps_per_epoch,
        "evals": len(res.val_loss),
        "stopped_early": res.stopped_early,
        "init_val": init_val,
        "final_val": final,
        "final_train": final_tr,
        "diverged": diverged,
        "path": path.relative_to(out).as_posix(),
        "format": job.fmt,
        "x_axis": "epoch" if job.sparse else "step",
        "lr_recorded": job.with_lr,
    }


def _execute_star(args: tuple[Job, Path]) -> dict[str, Any]:
    return execute(*args)


def run_jobs(jobs: list[Job], out: Path, *, workers: int) -> list[dict[str, Any]]:
    """Execute `jobs` on `workers` processes (slowest tasks first), reporting progress on stderr."""
    order = sorted(jobs, key=lambda j: (j.sweep.task != "char_gru", j.sweep.task != "digits_cnn", j.run_id))
    args = [(j, out) for j in order]
    done: list[dict[str, Any]] = []
    start = time.monotonic()
    if workers <= 1:
        results: Iterable[dict[str, Any]] = map(_execute_star, args)
        return _collect(results, done, len(args), start)
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with mp.get_context(method).Pool(workers) as pool:
        return _collect(pool.imap_unordered(_execute_star, args), done, len(args), start)


def _collect(
    results: Iterable[dict[str, Any]], done: list[dict[str, Any]], total: int, start: float
) -> list[dict[str, Any]]:
    for r in results:
        done.append(r)
        if len(done) % 10 == 0 or len(done) == total:
            print(f"  {len(done)}/{total} runs, {time.monotonic() - start:.0f}s", file=sys.stderr, flush=True)
    return done


def sweep_scores(runs: list[dict[str, Any]]) -> dict[float, float]:
    finals: dict[float, list[float]] = {}
    for r in runs:
        finals.setdefault(r["lr"], []).append(math.inf if r["diverged"] else r["final_val"])
    return labels.rate_scores(finals)


def missing_seed_jobs(sweeps: list[Sweep], done: list[dict[str, Any]], indices: list[int]) -> list[Job]:
    """Second-seed runs still needed at each sweep's best rate and its neighbours (`indices`: each
    sweep's index, which its runs' log formats rotate with)."""
    jobs = []
    for i, sweep in zip(indices, sweeps, strict=True):
        runs = [r for r in done if r["run"].startswith(sweep.name + "/")]
        scores = sweep_scores(runs)
        have = {(r["k"], r["seed"]) for r in runs}
        ks = sorted({r["k"] for r in runs})
        best = labels.best_rate(scores)
        for lr in labels.neighbours([lr_of(k) for k in ks], best):
            k = next(k for k in ks if lr_of(k) == lr)
            jobs += [make_job(sweep, i, k, s) for s in SEEDS if (k, s) not in have]
    return jobs


def label_sweep(sweep: Sweep, runs: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sweep's summary and its runs with their labels."""
    scores = sweep_scores(runs)
    best = labels.best_rate(scores)
    best_val = scores[best]
    entries = []
    for r in sorted(runs, key=lambda r: (r["k"], r["seed"])):
        final = math.inf if r["diverged"] else r["final_val"]
        lab = labels.label(lr=r["lr"], final=final, init=r["init_val"], best_lr=best, best_val=best_val)
        entries.append(
            {
                **r,
                "label": lab,
                "best_lr": best,
                "best_val": best_val,
                "sweep": sweep.name,
                "final_val": r["final_val"] if math.isfinite(r["final_val"]) else None,
                "final_train": r["final_train"] if math.isfinite(r["final_train"]) else None,
            }
        )
    return _sweep_summary(sweep, runs, scores, best), entries


def _gain(r: dict[str, Any], *, start: float, best_val: float) -> float:
    """Fraction of the improvement from `start` to the best score that run `r` kept."""
    if r["diverged"]:
        return -math.inf
    return (start - r["final_val"]) / (start - best_val)


def _sweep_summary(sweep: Sweep, runs: list[dict[str, Any]], scores: dict[float, float], best: float) -> dict[str, Any]:
    """Best rate, and whether the grid reached both failure ends.

    Bottom: the lowest rate kept little of the improvement from its initial loss (barely moved).
    Top: the highest rate diverged or kept little of the improvement over the chance loss
    (stalled or oscillated at the level of a constant prediction).
    """
    seed0 = sorted((r for r in runs if r["seed"] == 0), key=lambda r: r["k"])
    bottom, top = seed0[0], seed0[-1]
    gain_bottom = _gain(bottom, start=bottom["init_val"], best_val=scores[best])
    gain_top = _gain(top, start=chance_loss(sweep.task), best_val=scores[best])
    return {
        "sweep": sweep.name,
        "best_lr": best,
        "best_val": scores[best],
        "rates": [lr_of(r["k"]) for r in seed0],
        "seeds_at_best": sum(1 for r in runs if r["lr"] == best),
        "gain_at_bottom": gain_bottom,
        "gain_over_chance_at_top": gain_top if math.isfinite(gain_top) else None,
        "top_diverged": top["diverged"],
        "bottom_reached": gain_bottom <= END_FRACTION,
        "top_reached": top["diverged"] or gain_top <= END_FRACTION,
    }
