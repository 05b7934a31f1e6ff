"""One run in every layout: whether lrdoctor judges a run alike whichever writer wrote it.

    python benchmarks/layouts.py [--runs 24] [--corpus benchmarks/.cache/corpus]

Retrains corpus runs with the generator's own jobs (seconds each), writes each run's points with
every corpus writer (CSV, Lightning's CSVLogger layout, JSON Lines, TensorBoard, console text)
and as a HuggingFace ``trainer_state.json`` (transformers' own ``TrainerState.save_to_json``),
and diagnoses every file. Two cadences: every step with the rate and the validation loss, and
one point per epoch (the epoch means). Against the CSV of the same run and cadence, it counts
per layout the runs whose verdict agrees, and those whose verdict, confidence (within 0.02),
recommended rate (within 2%) and findings (pathology and severity) all agree, and lists the
others.

A difference is not always a fault: a layout may hold less. Lightning logs no evaluation before
the first update, and epoch means placed at their last step begin one epoch in, where the same
means on an epoch axis do not (BENCHMARKS.md, "The same run in two layouts").
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import plan, writers  # noqa: E402
from benchmarks.corpus.train import RunResult, train_run  # noqa: E402
from lrdoctor import load  # noqa: E402
from lrdoctor.diagnosis import Diagnosis, diagnose  # noqa: E402

CADENCES = {"step": writers.per_step, "epoch": writers.per_epoch}
LAYOUTS = (*writers.WRITERS, "hf")


def chosen(labels: list[dict], count: int) -> list[dict]:
    """`count` runs spread over tasks and labels: one of each (task, label) group in turn, each
    group in a fixed scrambled order (by a hash of the run's name)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in sorted(labels, key=lambda r: zlib.crc32(r["run"].encode())):
        groups[(r["task"], r["label"])].append(r)
    picked: list[dict] = []
    for k in range(max(map(len, groups.values()))):
        for key in sorted(groups):
            if k < len(groups[key]) and len(picked) < count:
                picked.append(groups[key][k])
    return picked


def retrain(entry: dict) -> RunResult:
    sweep = plan.Sweep(entry["task"], entry["optimizer"], entry["schedule"])
    return train_run(plan.make_job(sweep, plan.sweep_index(sweep), entry["k"], entry["seed"]).spec)


def write_hf(pts: list[writers.Point], out: Path, *, x_name: str, steps_per_epoch: int) -> Path:
    """The Trainer's state as it saves it: a log entry per logging step, an eval entry per evaluation."""
    from transformers import TrainerState

    history: list[dict[str, float]] = []
    for p in pts:
        epoch = round(p.step / steps_per_epoch, 4)
        if p.loss is not None:
            entry = {"epoch": epoch, "grad_norm": 1.0, "loss": p.loss, "step": p.step}
            if p.lr is not None:
                entry["learning_rate"] = p.lr
            history.append(entry)
        if p.val is not None:
            history.append({"epoch": epoch, "eval_loss": p.val, "eval_runtime": 0.1, "step": p.step})
    last = max(p.step for p in pts)
    state = TrainerState(
        epoch=round(last / steps_per_epoch, 4),
        global_step=last,
        max_steps=last,
        logging_steps=1 if x_name == "step" else steps_per_epoch,
        num_train_epochs=math.ceil(last / steps_per_epoch),
        log_history=history,
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "trainer_state.json"
    state.save_to_json(str(path))
    return path


def summary(dx: Diagnosis) -> dict:
    return {
        "verdict": dx.verdict,
        "confidence": round(dx.confidence, 3),
        "lr": dx.recommended_lr,
        "findings": sorted({(f.pathology, f.severity) for f in dx.findings}),
    }


def agree(a: dict, b: dict) -> bool:
    same_lr = a["lr"] == b["lr"] or (a["lr"] is not None and b["lr"] is not None and abs(a["lr"] / b["lr"] - 1) <= 0.02)
    return (
        a["verdict"] == b["verdict"]
        and abs(a["confidence"] - b["confidence"]) <= 0.02
        and same_lr
        and a["findings"] == b["findings"]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "benchmarks" / ".cache" / "corpus")
    ap.add_argument("--runs", type=int, default=24)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    entries = chosen(json.loads((args.corpus / "labels.json").read_text())["runs"], args.runs)
    started = time.perf_counter()
    results: dict[str, dict[str, dict[str, dict]]] = {}  # cadence -> run -> layout -> summary
    with tempfile.TemporaryDirectory() as tmp:
        for entry in entries:
            res = retrain(entry)
            for cadence, points in CADENCES.items():
                pts = points(res, with_lr=True)
                out = Path(tmp) / entry["run"] / cadence
                paths = {
                    name: write(pts, out / name, x_name=cadence, optimizer=res.spec.optimizer)
                    for name, write in writers.WRITERS.items()
                }
                paths["hf"] = write_hf(pts, out / "hf", x_name=cadence, steps_per_epoch=res.steps_per_epoch)
                results.setdefault(cadence, {})[entry["run"]] = {
                    name: summary(diagnose(load(path))) for name, path in paths.items()
                }
            print(f"{entry['run']} ({entry['label']})", file=sys.stderr, flush=True)
    print(f"{len(entries)} runs, {time.perf_counter() - started:.0f} s\n")
    print("Runs that agree with the CSV of the same run: the verdict / everything (verdict, confidence")
    print("within 0.02, recommended rate within 2%, findings)\n")
    print("| cadence | " + " | ".join(LAYOUTS) + " |")
    print("|---|" + "---|" * len(LAYOUTS))
    differ: list[str] = []
    for cadence, runs in results.items():
        cells = []
        for layout in LAYOUTS:
            verdicts = sum(got["csv"]["verdict"] == got[layout]["verdict"] for got in runs.values())
            same = [run for run, got in runs.items() if agree(got["csv"], got[layout])]
            cells.append(f"{verdicts} / {len(same)} of {len(runs)}")
            differ += [
                f"{cadence} {run}: csv {runs[run]['csv']} / {layout} {runs[run][layout]}"
                for run in runs
                if run not in same
            ]
        print(f"| {cadence} | " + " | ".join(cells) + " |")
    if differ:
        print("\nDiffering from the CSV of the same run:")
        print("\n".join(differ))


if __name__ == "__main__":
    main()
