"""Writing a run's curves in the formats lrdoctor reads, the way the usual tools write them.

Each writer takes the run's rows and a directory and returns the path of the file it wrote.
Text formats are gzip-compressed with a fixed header (no name, mtime 0), so reruns give the same
bytes; TensorBoard event files hold wall times, so those differ between reruns.

Rows: per step (every minibatch loss, noisy) or per epoch (the epoch-mean training loss only),
with or without the learning rate.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmarks.corpus.train import RunResult

FORMATS = ("csv", "lightning", "jsonl", "tensorboard", "text")
# Lightning's LearningRateMonitor names the series after the optimizer class: lr-SGD, lr-Adam.
TORCH_NAMES = {
    "sgd": "SGD",
    "adam": "Adam",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adamw": "AdamW",
    "nesterov": "SGD",
}


@dataclass(frozen=True)
class Point:
    """One x position (a step or an epoch) and what was measured there; None where nothing was."""

    x: int
    step: int  # optimizer steps done, whatever x counts
    epoch: int  # 0-based epoch the point belongs to
    loss: float | None
    lr: float | None
    val: float | None


def per_step(res: RunResult, *, with_lr: bool) -> list[Point]:
    """Every minibatch loss at its step, with the validation losses at the steps they were taken."""
    vals = dict(zip(res.val_steps, res.val_loss, strict=False))
    pts = [Point(0, 0, 0, None, None, vals.pop(0))] if 0 in vals else []
    for s, loss, lr in zip(res.train_steps, res.train_loss, res.train_lr, strict=False):
        epoch = (s - 1) // res.steps_per_epoch
        pts.append(Point(s, s, epoch, loss, lr if with_lr else None, vals.pop(s, None)))
    return pts


def per_epoch(res: RunResult, *, with_lr: bool) -> list[Point]:
    """One point per epoch (1-based): the epoch-mean training loss and its end-of-epoch rate."""
    vals = dict(zip(res.val_steps, res.val_loss, strict=False))
    spe = res.steps_per_epoch
    pts = []
    for e in range(math.ceil(len(res.train_loss) / spe)):
        chunk = res.train_loss[e * spe : (e + 1) * spe]
        end = e * spe + len(chunk)
        lr = res.train_lr[end - 1] if with_lr else None
        pts.append(Point(e + 1, end, e, sum(chunk) / len(chunk), lr, vals.get(end) if end > 0 else None))
    return pts


def _gzip(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return path


def _cell(v: float | None) -> object:
    """A CSV cell: empty when nothing was measured, 'nan'/'inf' kept visible when one was."""
    if v is None:
        return None
    return v if math.isfinite(v) else str(v)


def write_csv(pts: list[Point], out: Path, *, x_name: str, optimizer: str) -> Path:
    """pandas ``to_csv`` of columns x,loss[,lr],val_loss."""
    cols = {x_name: [p.x for p in pts], "loss": [_cell(p.loss) for p in pts]}
    if any(p.lr is not None for p in pts):
        cols["lr"] = [_cell(p.lr) for p in pts]
    cols["val_loss"] = [_cell(p.val) for p in pts]
    return _gzip(out / "log.csv.gz", pd.DataFrame(cols).to_csv(index=False))


def write_lightning(pts: list[Point], out: Path, *, x_name: str, optimizer: str) -> Path:
    """Lightning CSVLogger's metrics.csv: sorted columns, one row per log call, sparse cells.

    Per step: a learning-rate-monitor row, then the train_loss_step row; at each epoch end a
    val_loss row and a train_loss_epoch row. Lightning's steps count from 0 and its epochs too.
    """
    lr_key = f"lr-{TORCH_NAMES[optimizer]}"
    rows: list[dict[str, object]] = []
    for p in pts:
        if p.step == 0 and p.loss is None:
            continue  # the sanity-check validation is not logged
        step = p.step - 1
        if p.lr is not None:
            rows.append({lr_key: p.lr, "step": step})
        if x_name == "step" and p.loss is not None:
            rows.append({"epoch": p.epoch, "step": step, "train_loss_step": p.loss})
        if p.val is not None:
            rows.append({"epoch": p.epoch, "step": step, "val_loss": p.val})
        if x_name == "epoch" and p.loss is not None:
            rows.append({"epoch": p.epoch, "step": step, "train_loss_epoch": p.loss})
    keys = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return _gzip(out / "metrics.csv.gz", buf.getvalue())


def write_jsonl(pts: list[Point], out: Path, *, x_name: str, optimizer: str) -> Path:
    """One JSON object per log call: {"step", "loss", "lr"} and {"step", "val_loss"} records."""
    lines = []
    for p in pts:
        if p.loss is not None:
            rec: dict[str, object] = {x_name: p.x, "loss": p.loss}
            if p.lr is not None:
                rec["lr"] = p.lr
            lines.append(json.dumps(rec))
        if p.val is not None:
            lines.append(json.dumps({x_name: p.x, "val_loss": p.val}))
    return _gzip(out / "metrics.jsonl.gz", "".join(line + "\n" for line in lines))


def write_text(pts: list[Point], out: Path, *, x_name: str, optimizer: str) -> Path:
    """Console lines: ``step 10: loss 2.3456 lr 1.0e-03`` and ``step 100: val_loss 2.1000``."""
    lines = []
    for p in pts:
        if p.loss is not None:
            lr = f" lr {p.lr:.1e}" if p.lr is not None else ""
            lines.append(f"{x_name} {p.x}: loss {p.loss:.4f}{lr}")
        if p.val is not None:
            lines.append(f"{x_name} {p.x}: val_loss {p.val:.4f}")
    return _gzip(out / "train.log.gz", "".join(line + "\n" for line in lines))


TB_NAME = "events.out.tfevents.corpus"


def write_tensorboard(pts: list[Point], out: Path, *, x_name: str, optimizer: str) -> Path:
    """torch's SummaryWriter with tags train/loss, val/loss and train/lr; renamed to a fixed name."""
    from torch.utils.tensorboard import SummaryWriter

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("events.out.tfevents.*"):
        old.unlink()
    writer = SummaryWriter(log_dir=str(out))
    for p in pts:
        if p.loss is not None:
            writer.add_scalar("train/loss", p.loss, p.x)
        if p.lr is not None:
            writer.add_scalar("train/lr", p.lr, p.x)
        if p.val is not None:
            writer.add_scalar("val/loss", p.val, p.x)
    writer.close()
    (written,) = out.glob("events.out.tfevents.*")
    return written.rename(out / TB_NAME)


Writer = Callable[..., Path]
WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "lightning": write_lightning,
    "jsonl": write_jsonl,
    "tensorboard": write_tensorboard,
    "text": write_text,
}


def write_run(res: RunResult, out: Path, *, fmt: str, sparse: bool, with_lr: bool) -> Path:
    """Write `res` under directory `out` in format `fmt`; the path of the log file."""
    pts = per_epoch(res, with_lr=with_lr) if sparse else per_step(res, with_lr=with_lr)
    return WRITERS[fmt](pts, out, x_name="epoch" if sparse else "step", optimizer=res.spec.optimizer)
