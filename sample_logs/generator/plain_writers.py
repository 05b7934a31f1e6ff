"""Writers that need no training framework: TensorBoard, pandas CSV/TSV/gzip, JSON, JSONL, the
W&B export layout, and text console logs (nanoGPT, Python logging, HF 4.x prints)."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generator.readback import (
    OUT,
    Readback,
    Sample,
    all_matches,
    read_columns,
    read_regex,
    read_tensorboard,
    rel,
)
from generator.training import Plan, Task, full_loss, run_trace, train

# A fixed clock for text logs, so that regenerating gives the same bytes (2023-11-14 22:13:20 UTC).
T0 = 1_700_000_000.0
WANDB_RUN = "quiet-meadow-7"


def py_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def _target(folder: str, name: str) -> Path:
    path = OUT / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_tensorboard(
    tasks: dict[str, Task], plan: Plan, name: str, *, tbx: bool = False, new_style: bool = False
) -> Sample:
    run_dir = OUT / "tensorboard" / name
    if tbx:
        from tensorboardX import SummaryWriter as TbxWriter

        writer: Any = TbxWriter(logdir=str(run_dir))
        lib = f"tensorboardX {version('tensorboardX')} SummaryWriter"
    else:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(run_dir))
        lib = f"torch {torch.__version__} torch.utils.tensorboard.SummaryWriter"
        lib += " (add_scalar new_style=True)" if new_style else ""
    extra = {"new_style": True} if new_style else {}

    def log(kind: str, step: int, values: dict[str, float]) -> None:
        if kind == "train":
            writer.add_scalar("train/loss", values["loss"], step, **extra)
            writer.add_scalar("train/lr", values["lr"], step, **extra)
        else:
            writer.add_scalar("val/loss", values["loss"], step, **extra)

    train(tasks[plan.task], plan, log)
    writer.close()
    rb = read_tensorboard(run_dir, "train/loss", "train/lr")
    return Sample(
        rel(run_dir),
        "tensorboard",
        lib,
        plan,
        "train/loss",
        rb,
        True,
        f"tags train/loss and train/lr every step, val/loss every {plan.eval_every} steps",
    )


def write_csv(tasks: dict[str, Task], plan: Plan, name: str, *, sep: str = ",", gz: bool = False) -> Sample:
    import pandas as pd

    path = _target("csv", name)
    trace = run_trace(tasks, plan)
    frame = pd.DataFrame({"step": trace.steps, "loss": trace.loss, "lr": trace.lr})
    compression: Any = {"method": "gzip", "mtime": 0} if gz else None
    frame.to_csv(path, sep=sep, index=False, na_rep="nan", compression=compression)
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    rb = read_columns(raw.decode(), sep, "loss", "lr", "step")
    kind = "gzip-compressed CSV" if gz else "tab-separated" if sep == "\t" else "CSV"
    return Sample(rel(path), "csv", f"pandas {pd.__version__} DataFrame.to_csv ({kind})", plan, "loss", rb, True)


def write_jsonl(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    path = _target("jsonl", name)
    trace = run_trace(tasks, plan)
    with path.open("w") as f:
        for s, loss, lr in zip(trace.steps, trace.loss, trace.lr, strict=True):
            f.write(json.dumps({"step": s, "loss": loss, "lr": lr}) + "\n")
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    rb = Readback([r["step"] for r in recs], [r["loss"] for r in recs], [r["lr"] for r in recs])
    return Sample(rel(path), "jsonl", f"Python {py_version()} json.dumps, one object per line", plan, "loss", rb, True)


def write_json(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    path = _target("json", name)
    trace = run_trace(tasks, plan)
    history = {"step": trace.steps, "loss": trace.loss, "lr": trace.lr}
    path.write_text(json.dumps(history) + "\n")
    data = json.loads(path.read_text())
    rb = Readback(data["step"], data["loss"], data["lr"])
    return Sample(
        rel(path),
        "json",
        f"Python {py_version()} json.dumps of a dict of lists",
        plan,
        "loss",
        rb,
        True,
        "keys step, loss, lr: one list each, one value per step",
    )


def write_wandb(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    import pandas as pd

    path = _target("wandb", name)
    trace = run_trace(tasks, plan)
    col = f"{WANDB_RUN} - loss"
    frame = pd.DataFrame({"Step": trace.steps, col: trace.loss, f"{col}__MIN": trace.loss, f"{col}__MAX": trace.loss})
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    rb = read_columns(path.read_text(), ",", col, None, "Step")
    writer = f"layout reproduced from the W&B web UI's chart CSV export, written with pandas {pd.__version__}"
    return Sample(
        rel(path),
        "csv",
        writer,
        plan,
        col,
        rb,
        False,
        "an export comes from W&B's server, so its layout is reproduced: every field quoted, "
        "one row per logged step, __MIN/__MAX equal to the value (no down-sampling); no lr column",
    )


# ---------------------------------------------------------------------------------------------
# Text console logs


def write_nanogpt(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    """nanoGPT's train.py console: eval lines every `eval_every` iters, iter lines every 5."""
    path = _target("text", name)
    trace = run_trace(tasks, plan)
    task = tasks[plan.task]
    init = task.make_model()
    first_train, first_val = full_loss(task, init, "train"), full_loss(task, init, "val")
    lines = [f"step 0: train loss {first_train:.4f}, val loss {first_val:.4f}"]
    evals = dict(zip(trace.val_steps, zip(trace.val_train_loss, trace.val_loss, strict=True), strict=True))
    for s, loss in zip(trace.steps, trace.loss, strict=True):
        if s % 5 == 0:
            mfu = "-100.00" if s < 5 else "0.01"  # nanoGPT prints -100% until it has 5 timings
            lines.append(f"iter {s}: loss {loss:.4f}, time 1.00ms, mfu {mfu}%")
        if s in evals:
            tr, va = evals[s]
            lines.append(f"step {s + 1}: train loss {tr:.4f}, val loss {va:.4f}")
            lines.append("saving checkpoint to out-digits")
    path.write_text("\n".join(lines) + "\n")
    rb = read_regex(path.read_text(), r"^iter (\d+): loss ([^,]+),")
    return Sample(
        rel(path),
        "text",
        "layout reproduced from nanoGPT train.py's print statements",
        plan,
        "loss",
        rb,
        False,
        "iter lines every 5 iterations; eval lines `step N: train loss X, val loss Y` every "
        f"{plan.eval_every}; the learning rate is not printed; time and mfu are fixed placeholders",
    )


def write_logging(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    """Python logging with a FileHandler and key=value messages; the clock is fixed."""
    path = _target("text", name)
    logger = logging.getLogger("train")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = logging.FileHandler(path, mode="w")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    clock = {"t": T0}

    def fixed_clock(record: logging.LogRecord) -> bool:
        record.created = clock["t"]
        record.msecs = (clock["t"] % 1) * 1000
        return True

    handler.addFilter(fixed_clock)
    logger.addHandler(handler)
    task = tasks[plan.task]
    logger.info("start task=%s optimizer=%s base_lr=%g max_steps=%d", plan.task, plan.optimizer, plan.lr, plan.steps)

    def log(kind: str, step: int, values: dict[str, float]) -> None:
        clock["t"] = T0 + 0.25 * (step + 1)
        if kind == "train" and step % 2 == 0:
            logger.info("step=%d loss=%.6f lr=%.6g", step, values["loss"], values["lr"])
        elif kind == "val":
            logger.info("step=%d val_loss=%.6f", step, values["loss"])

    train(task, plan, log)
    logger.info("done")
    logger.removeHandler(handler)
    handler.close()
    rb = read_regex(path.read_text(), r"step=(\d+) loss=(\S+)", r"lr=(\S+)")
    return Sample(
        rel(path),
        "text",
        f"Python {py_version()} logging (FileHandler, key=value messages)",
        plan,
        "loss",
        rb,
        True,
        "train lines every 2 steps, val_loss lines every "
        f"{plan.eval_every}; the first line holds base_lr=; timestamps from a fixed clock (0.25 s per step)",
    )


def write_hf_print(tasks: dict[str, Task], plan: Plan, name: str) -> Sample:
    """The dicts transformers 4.x Trainer prints (loss rounded to 4 places, epoch to 2)."""
    path = _target("text", name)
    trace = run_trace(tasks, plan)
    per_epoch = len(tasks[plan.task].x_train) // plan.batch
    lines, window = [], []
    for s, loss in zip(trace.steps, trace.loss, strict=True):
        window.append(loss)
        if (s + 1) % 10 == 0:
            # Trainer logs the mean loss of the window and the rate for the next step.
            nxt = trace.lr[s + 1] if s + 1 < len(trace.lr) else 0.0
            entry = {
                "loss": round(float(np.mean(window)), 4),
                "learning_rate": nxt,
                "epoch": round((s + 1) / per_epoch, 2),
            }
            lines.append(str(entry))
            window = []
        if s in trace.val_steps:
            val = trace.val_loss[trace.val_steps.index(s)]
            lines.append(str({"eval_loss": round(val, 4), "epoch": round((s + 1) / per_epoch, 2)}))
    lines.append(str({"train_loss": round(float(np.mean(trace.loss)), 4), "epoch": round(plan.steps / per_epoch, 2)}))
    path.write_text("\n".join(lines) + "\n")
    rb = read_regex(path.read_text(), r"'loss': ([^,]+), 'learning_rate': [^,]+, 'epoch': ([^}]+)\}")
    # The pattern's groups are (loss, epoch): swap them into (step axis, loss).
    rb = Readback(rb.loss, rb.steps, all_matches(path.read_text(), r"'learning_rate': ([^,]+),"))
    return Sample(
        rel(path),
        "text",
        "layout reproduced from transformers 4.x Trainer console output (str(logs) of each log call)",
        plan,
        "loss",
        rb,
        True,
        "no step key: the axis is the epoch (2 decimals); loss is the mean of each 10-step window, "
        "learning_rate the rate after the window; eval_loss lines every "
        f"{plan.eval_every} steps and a final train_loss summary",
    )
