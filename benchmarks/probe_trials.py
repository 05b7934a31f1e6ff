"""Record probe trials densely, for choosing the probe's numbers offline.

    python benchmarks/probe_trials.py --out benchmarks/.cache/probe_trials.json [--seeds 0 1 2]

For each corpus task, optimizer and seed this runs the probe's own range test (default options),
then a trial of `--trial-steps` steps at every half-decade rate from `--above` grid steps above
the stability limit down to `--below` below it. Each trial records its score (the loss on the
probe's scoring batches) at every checkpoint and its training loss at every step. A trial that
goes non-finite stops there. `probe_sim.py` replays the probe's walk and any scoring rule on
these records, without training again.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks.corpus import tasks  # noqa: E402
from benchmarks.probe import HELD_OUT, OPTIMIZERS, TRAINING_TASKS  # noqa: E402
from lrdoctor.probe import RAMP_RANGE, ProbeOptions, curve  # noqa: E402
from lrdoctor.probe.config import ProbeConfig  # noqa: E402
from lrdoctor.probe.progress import Progress  # noqa: E402
from lrdoctor.probe.search import start  # noqa: E402
from lrdoctor.probe.spec import check_parts  # noqa: E402

TASKS = (*TRAINING_TASKS, *HELD_OUT)


def record(task: str, optimizer: str, seed: int, args: argparse.Namespace) -> dict:
    config = ProbeConfig()
    options = ProbeOptions(seed=seed, min_lr=RAMP_RANGE[0], max_lr=RAMP_RANGE[1])
    parts = check_parts(f"{task}/{optimizer}", tasks.make(task, optimizer=optimizer, seed=seed))
    progress = Progress(1, enabled=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        begun = start(parts, options, config, progress)  # the probe's own set-up and range test
        trainer, source, scoring, ramp, limit = begun.trainer, begun.source, begun.scoring, begun.ramp, begun.limit
        top = curve.grid_index(limit, step=config.grid_step)
        checkpoints = sorted({int(c) for c in args.checkpoints if c <= args.trial_steps} | {args.trial_steps})
        trials = []
        for k in range(top + args.above, top - args.below - 1, -1):
            lr = curve.grid_rate(k, step=config.grid_step)
            torch.manual_seed(seed)
            trainer.restart(lr)
            batches = source.sequence(args.trial_steps)
            train, scores = [], {}
            for done in range(1, args.trial_steps + 1):
                loss = trainer.step([next(batches)])
                train.append(loss)
                if not math.isfinite(loss):
                    break
                if done in checkpoints:
                    scores[done] = trainer.evaluate(scoring)
            trials.append({"k": k, "lr": lr, "train": train, "scores": scores})
    return {
        "task": task,
        "optimizer": optimizer,
        "seed": seed,
        "steps": tasks.total_steps(task),
        "limit": limit,
        "limit_k": top,
        "ramp_steps": len(ramp.lrs),
        "trials": trials,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / ".cache" / "probe_trials.json")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--trial-steps", type=int, default=100)
    ap.add_argument("--checkpoints", type=int, nargs="+", default=[6, 12, 17, 25, 33, 37, 50, 67, 75, 100])
    ap.add_argument("--above", type=int, default=3, help="grid steps above the limit's grid rate")
    ap.add_argument("--below", type=int, default=4, help="grid steps below it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out, started = [], time.perf_counter()
    for task in args.tasks:
        for optimizer in OPTIMIZERS:
            for seed in args.seeds:
                out.append(record(task, optimizer, seed, args))
                print(f"{task}/{optimizer} seed {seed}: limit {out[-1]['limit']:.3g}", file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, allow_nan=True))
    print(f"{len(out)} cases in {time.perf_counter() - started:.0f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
