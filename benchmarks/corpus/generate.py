"""Generate the labelled corpus of real PyTorch runs.

Example:
    nice -n 10 python benchmarks/corpus/generate.py --out benchmarks/.cache/corpus --jobs 2
    python benchmarks/corpus/generate.py --smoke --out /tmp/corpus-smoke

Writes OUT/runs/<task>/<optimizer>_<schedule>/lr<rate>_s<seed>/<log file> for every run and
OUT/labels.json (the labels, per-sweep summaries and the settings they came from).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.corpus import labels, plan, tasks, train  # noqa: E402
from benchmarks.corpus.build import STATE_DIR, label_sweep, missing_seed_jobs, run_jobs  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / ".cache" / "corpus"
MAX_ROUNDS = 3


def first_jobs(sweeps: list[plan.Sweep], *, smoke: bool) -> tuple[list[int], list[plan.Job]]:
    """Each sweep's index (its runs' log formats rotate with it: its place among every sweep,
    extra tasks included, so that the formats do not depend on which extra tasks are generated)
    and the first-seed run of each of its rates."""
    indices = list(range(len(sweeps))) if smoke else [plan.sweep_index(s) for s in sweeps]
    jobs = [
        plan.make_job(s, i, k, 0)
        for i, s in zip(indices, sweeps, strict=True)
        for k in (plan.SMOKE_GRID if smoke else s.grid())
    ]
    return indices, jobs


def generate(
    out: Path,
    *,
    workers: int,
    smoke: bool,
    fresh: bool = False,
    extra: bool | Sequence[str] = False,
    outside: bool = False,
) -> dict[str, Any]:
    """Train every planned run, label them, write OUT/labels.json; return its content.

    Runs kept from an earlier generation into the same folder are reused unless `fresh`.
    """
    if fresh:
        for sub in ("runs", STATE_DIR):
            shutil.rmtree(out / sub, ignore_errors=True)
    sweeps = plan.smoke_sweeps() if smoke else plan.outside_sweeps() if outside else plan.all_sweeps(extra=extra)
    indices, jobs = first_jobs(sweeps, smoke=smoke)
    done = run_jobs(jobs, out, workers=workers)
    for _ in range(MAX_ROUNDS):
        seconds = missing_seed_jobs(sweeps, done, indices)
        if not seconds:
            break
        print(f"second seeds: {len(seconds)} runs", file=sys.stderr, flush=True)
        done += run_jobs(seconds, out, workers=workers)
    summaries, entries = [], []
    for s in sweeps:
        summary, runs = label_sweep(s, [r for r in done if r["run"].startswith(s.name + "/")])
        summaries.append(summary)
        entries += runs
    _prune(out, {e["run"] for e in entries})
    doc = {"settings": _settings(smoke, used={s.task for s in sweeps}), "sweeps": summaries, "runs": entries}
    out.mkdir(parents=True, exist_ok=True)
    (out / "labels.json").write_text(dump_labels(doc))
    return doc


def dump_labels(doc: dict[str, Any]) -> str:
    """JSON with one sweep or run per line (small, diff-friendly); non-finite numbers as null."""
    doc = _finite(doc)
    parts = ['{"settings": ' + json.dumps(doc["settings"], indent=1, sort_keys=True)]
    for key in ("sweeps", "runs"):
        items = ",\n".join("  " + json.dumps(item, sort_keys=True) for item in doc[key])
        parts.append(f'"{key}": [\n{items}\n]')
    return ",\n".join(parts) + "}\n"


def _prune(out: Path, keep: set[str]) -> None:
    """Remove run folders and kept summaries that are not part of this corpus."""
    for state in sorted((out / STATE_DIR).rglob("*.json")):
        run = state.relative_to(out / STATE_DIR).as_posix()[: -len(".json")]
        if run not in keep:
            state.unlink()
            shutil.rmtree(out / "runs" / run, ignore_errors=True)


def _settings(smoke: bool, *, used: set[str]) -> dict[str, Any]:
    import sklearn
    import torch

    cfg = labels.CONFIG
    return {
        "smoke": smoke,
        "tau": cfg.tau,
        "last_evals": cfg.last_evals,
        "diverge_factor": cfg.diverge_factor,
        "grids": {o: [plan.lr_of(k) for k in (lo, hi)] for o, (lo, hi) in plan.GRIDS.items()},
        "task_grids": {f"{t}/{o}": [plan.lr_of(k) for k in r] for (t, o), r in plan.TASK_GRIDS.items() if t in used},
        "tasks": {
            n: {
                "description": t.description,
                "batch_size": t.batch_size,
                "epochs": t.epochs,
                "eval_every_epochs": t.eval_every,
                "steps": tasks.total_steps(n),
                "chance_val": tasks.chance_loss(n),
            }
            for n, t in tasks.TASKS.items()
            if n in used
        },
        "schedules": {
            "step": {"milestones": train.STEP_MILESTONES, "gamma": train.STEP_GAMMA},
            "cosine": {"warmup_frac": train.WARMUP_FRAC},
            "linear": {"warmup_frac": train.LINEAR_WARMUP_FRAC},
            "onecycle": "OneCycleLR defaults",
        },
        "text_sha256": tasks.text_sha256(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
    }


def _finite(obj: Any) -> Any:
    """JSON without Infinity/NaN tokens: non-finite numbers become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def counts_table(entries: list[dict[str, Any]]) -> str:
    """Markdown table of labels per task: too_high / ok / too_low / diverged / runs."""
    rows = ["| task | too_high | ok | too_low | diverged | runs |", "| --- | --- | --- | --- | --- | --- |"]
    by_task: dict[str, Counter[str]] = {}
    for e in entries:
        c = by_task.setdefault(e["task"], Counter())
        c[e["label"]] += 1
        c["diverged"] += e["diverged"]
        c["runs"] += 1
    total: Counter[str] = sum(by_task.values(), Counter())
    for name, c in [*sorted(by_task.items()), ("**all**", total)]:
        rows.append(f"| {name} | {c['too_high']} | {c['ok']} | {c['too_low']} | {c['diverged']} | {c['runs']} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--smoke", action="store_true", help="1 task x 1 optimizer x 3 rates, seconds")
    parser.add_argument("--fresh", action="store_true", help="retrain every run instead of reusing kept ones")
    parser.add_argument(
        "--extra",
        nargs="*",
        metavar="TASK",
        choices=plan.EXTRA_TASKS,
        help=f"also the tasks kept out of the corpus, all of them or those named ({', '.join(plan.EXTRA_TASKS)}); "
        "use another --out",
    )
    parser.add_argument(
        "--outside",
        action="store_true",
        help="only the outside tasks (a transformer, BatchNorm, dropout, LayerNorm, iris), each with its own "
        "optimizer and schedule; use another --out",
    )
    args = parser.parse_args(argv)
    if sum([args.smoke, args.extra is not None, args.outside]) > 1:
        parser.error("--smoke, --extra and --outside choose different corpora: give one")
    start = time.monotonic()
    extra = False if args.extra is None else (args.extra or True)
    doc = generate(args.out, workers=args.jobs, smoke=args.smoke, fresh=args.fresh, extra=extra, outside=args.outside)
    print(counts_table(doc["runs"]))
    for s in [] if args.smoke else doc["sweeps"]:
        if not (s["bottom_reached"] and s["top_reached"]):
            print(
                f"grid end not reached: {s['sweep']} gain at bottom {s['gain_at_bottom']:.2f}, "
                f"over chance at top {s['gain_over_chance_at_top']}"
            )
    print(f"{len(doc['runs'])} runs in {time.monotonic() - start:.0f}s -> {args.out / 'labels.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
