"""Manifest entries: every number is read back from the file as written, not from the trainer."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generator.training import CHANCE, Plan

OUT = Path(__file__).resolve().parents[1]


def rel(path: Path) -> str:
    """`path` relative to sample_logs/, as the manifest names it."""
    return path.relative_to(OUT).as_posix()


@dataclass(frozen=True)
class Readback:
    steps: list[float]
    loss: list[float]
    lr: list[float]


@dataclass(frozen=True)
class Sample:
    path: str
    format: str
    writer: str
    plan: Plan
    metric: str
    readback: Readback
    lr_recorded: bool
    notes: str = ""
    optimizer: str = ""  # the writer's own name for it, where it differs from the plan's


def describe(rb: Readback, task: str) -> tuple[str, bool]:
    """A one-line account of the curve, and whether it diverged (NaN/Inf, or past 10x its first value)."""
    steps, loss = np.asarray(rb.steps), np.asarray(rb.loss)
    finite = np.isfinite(loss)
    first, last = loss[0], loss[-1]
    head = f"{first:.3g} at step {steps[0]:g} to {last:.3g} at step {steps[-1]:g}"
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        peak = np.nanmax(loss[:bad]) if bad else math.nan
        text = f"NaN/Inf from step {steps[bad]:g} on ({bad} finite points before it, peak {peak:.3g})"
        return f"{head}; {text}", True
    imax, imin = int(loss.argmax()), int(loss.argmin())
    stats = f"min {loss[imin]:.3g} at step {steps[imin]:g}, max {loss[imax]:.3g} at step {steps[imax]:g}"
    chance = CHANCE.get(task)
    note = f"; chance level {chance:.3g}" if chance else ""
    k = max(len(loss) // 10, 1)
    start, recent, before = loss[:k].mean(), loss[-k:].mean(), loss[-2 * k : -k].mean()
    half = loss[len(loss) // 2 :]
    means = f"mean of first/last 10% {start:.3g}/{recent:.3g}, second half spans {half.min():.3g}-{half.max():.3g}"
    if loss[imax] > 10 * first:
        return f"{head}; {means}; explodes ({stats}){note}", True
    if recent > 0.9 * start:
        shape = "no real progress"
    elif chance and loss.min() > 0.9 * chance:
        shape = "never gets below chance level"
    elif before - recent > 0.02 * start:
        shape = "still falling at the end"
    else:
        shape = "falls and levels off"
    head = f"{head}; {means}"
    return f"{head}; {shape} ({stats}){note}", False


def manifest_entry(sample: Sample, *, label: str, model: str) -> dict[str, Any]:
    """The MANIFEST.json entry of one sample; `label` comes from the sweep of its task and rate."""
    plan, rb = sample.plan, sample.readback
    curve, diverged = describe(rb, plan.task)
    lrs = [v for v in rb.lr if math.isfinite(v)]
    entry: dict[str, Any] = {
        "path": sample.path,
        "format": sample.format,
        "writer": sample.writer,
        "task": plan.task,
        "model": model,
        "optimizer": sample.optimizer or {"sgd": "SGD", "adam": "Adam"}[plan.optimizer],
        "schedule": schedule_desc(plan),
        "lr": plan.lr if sample.lr_recorded else None,
        "lr_recorded": sample.lr_recorded,
        "lr_max_logged": max(lrs) if sample.lr_recorded else None,
        "base_lr": plan.lr,
        "metric": sample.metric,
        "loss_points": len(rb.loss),
        "label": label,
        "diverged": diverged,
        "curve": curve,
    }
    if sample.notes:
        entry["notes"] = sample.notes
    return entry


def schedule_desc(plan: Plan) -> str:
    if plan.schedule == "warmup_cosine":
        return f"linear warmup {plan.warmup} steps then cosine to 0 at step {plan.steps}"
    if plan.schedule == "step_decay":
        return f"step decay x{plan.gamma:g} every {plan.decay_every} {plan.decay_unit}"
    if plan.schedule == "one_cycle":
        return f"one-cycle (torch OneCycleLR, pct_start 0.3) over {plan.steps} steps"
    if plan.schedule == "linear" and not plan.warmup:
        return f"linear decay from the base rate to 0 at step {plan.steps} (HF 'linear', no warmup)"
    if plan.schedule == "linear":
        return f"linear warmup {plan.warmup} steps then linear decay to 0 (HF 'linear')"
    return "constant"


def _floats(cells: list[str]) -> list[float]:
    return [float(c) for c in cells]


def read_columns(text: str, sep: str, loss: str, lr: str | None, step: str) -> Readback:
    """Non-empty cells of the loss column (with their step), and of the lr column."""
    rows = list(csv.DictReader(io.StringIO(text), delimiter=sep))
    got = [(r[step], r[loss]) for r in rows if r[loss].strip()]
    lrs = [r[lr] for r in rows if lr and r.get(lr, "").strip()]
    return Readback(_floats([s for s, _ in got]), _floats([v for _, v in got]), _floats(lrs))


def read_tensorboard(run_dir: Path, loss: str, lr: str) -> Readback:
    import pandas as pd
    from tbparse import SummaryReader

    reader = SummaryReader(str(run_dir))
    # new_style=True scalars are stored as tensors.
    frame = pd.concat([f for f in (reader.scalars, reader.tensors) if len(f)], ignore_index=True)
    part = frame[frame["tag"] == loss]
    return Readback(
        part["step"].astype(float).tolist(),
        part["value"].astype(float).tolist(),
        frame[frame["tag"] == lr]["value"].astype(float).tolist(),
    )


def read_regex(text: str, pattern: str, lr_pattern: str | None = None) -> Readback:
    """Lines matching `pattern` (groups: step, loss); `lr_pattern` picks the lr on the same lines."""
    steps, loss, lrs = [], [], []
    for line in text.splitlines():
        m = re.search(pattern, line)
        if m:
            steps.append(float(m.group(1)))
            loss.append(float(m.group(2)))
            if lr_pattern and (lm := re.search(lr_pattern, line)):
                lrs.append(float(lm.group(1)))
    return Readback(steps, loss, lrs)


def read_hf_state(path: Path) -> Readback:
    """The `loss` entries of log_history; 0.0 with a NaN grad_norm is the Trainer's NaN."""
    hist = [e for e in json.loads(path.read_text())["log_history"] if "loss" in e]
    loss = [math.nan if e["loss"] == 0.0 and math.isnan(e.get("grad_norm", 0.0)) else e["loss"] for e in hist]
    return Readback([e["step"] for e in hist], loss, [e["learning_rate"] for e in hist])


def read_mlflow(run_dir: Path, loss: str, lr: str) -> Readback:
    """`<timestamp_ms> <value> <step>` lines of metrics/<loss> and metrics/<lr>."""

    def rows(key: str) -> list[list[str]]:
        return [line.split() for line in (run_dir / "metrics" / key).read_text().splitlines()]

    points = rows(loss)
    return Readback([float(r[2]) for r in points], [float(r[1]) for r in points], [float(r[1]) for r in rows(lr)])


def read_wandb(path: Path, loss: str, lr: str) -> Readback:
    """The history rows of a W&B run file that hold `loss`, decoded with wandb's own classes."""
    from generator.wandb_file import history_rows

    rows = [{k: json.loads(v) for k, v in row.items()} for row in history_rows(path)]
    points = [r for r in rows if loss in r]
    return Readback([r["_step"] for r in points], [float(r[loss]) for r in points], [r[lr] for r in points])


def all_matches(text: str, pattern: str) -> list[float]:
    """The first group of every match of `pattern`, as floats."""
    return [float(m.group(1)) for m in re.finditer(pattern, text)]
