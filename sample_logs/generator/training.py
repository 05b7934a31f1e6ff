"""Tasks, models, the plain training loop and the learning-rate sweep that labels every sample.

Three tasks on scikit-learn's bundled datasets (no download): `digits` (10-class MLP),
`diabetes` (MLP regression on the standardised target), `breast_cancer` (logistic regression).
Everything is seeded: the same weights, batches and losses on every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

SEED = 0
# Loss of a classifier that predicts the uniform distribution: ln(classes).
CHANCE = {"digits": math.log(10), "breast_cancer": math.log(2)}


@dataclass(frozen=True)
class Task:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    model_desc: str

    def make_model(self) -> nn.Module:
        """A fresh model, initialised from the fixed seed (the same weights every call)."""
        torch.manual_seed(SEED)
        if self.name == "digits":
            return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        if self.name == "diabetes":
            return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1))
        return nn.Linear(30, 1)


def _split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(SEED).permutation(len(x))
    cut = int(0.8 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def _f32(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float32)


def load_task(name: str) -> Task:
    """The named task, split 80/20 by a seeded permutation; features standardised (digits: /16)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

    if name == "digits":
        data = load_digits()
        xt, yt, xv, yv = _split(data.data / 16.0, data.target)
        return Task(
            name,
            _f32(xt),
            torch.tensor(yt),
            _f32(xv),
            torch.tensor(yv),
            nn.functional.cross_entropy,
            "MLP 64-64-10, cross-entropy",
        )
    data = load_diabetes() if name == "diabetes" else load_breast_cancer()
    xt, yt, xv, yv = _split(data.data, data.target.astype(np.float64))
    mean, std = xt.mean(0), xt.std(0)
    xt, xv = (xt - mean) / std, (xv - mean) / std
    if name == "diabetes":
        ym, ys = yt.mean(), yt.std()
        yt, yv = (yt - ym) / ys, (yv - ym) / ys
        return Task(
            name,
            _f32(xt),
            _f32(yt)[:, None],
            _f32(xv),
            _f32(yv)[:, None],
            nn.functional.mse_loss,
            "MLP 10-32-1, MSE on the standardised target",
        )
    return Task(
        name,
        _f32(xt),
        _f32(yt)[:, None],
        _f32(xv),
        _f32(yv)[:, None],
        nn.functional.binary_cross_entropy_with_logits,
        "logistic regression (Linear 30-1), BCE",
    )


@dataclass(frozen=True)
class Plan:
    """One training run: task, optimizer, base (or peak) rate, schedule and length."""

    task: str
    optimizer: str  # "sgd" or "adam" (plain, no momentum, no weight decay)
    lr: float
    steps: int
    schedule: str = "constant"  # constant | warmup_cosine | step_decay | one_cycle | linear
    warmup: int = 0
    decay_every: int = 0
    decay_unit: str = "steps"  # Lightning and Keras step their schedulers once per epoch
    gamma: float = 0.5
    batch: int = 32
    eval_every: int = 50


def make_optimizer(name: str, params: Any, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr) if name == "sgd" else torch.optim.Adam(params, lr=lr)


def make_scheduler(plan: Plan, opt: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    """The schedule, stepped once per optimizer step; every one of them reaches the peak exactly."""
    sched = torch.optim.lr_scheduler
    if plan.schedule == "one_cycle":
        return sched.OneCycleLR(opt, max_lr=plan.lr, total_steps=plan.steps, pct_start=0.3)
    if plan.schedule == "step_decay":
        return sched.StepLR(opt, step_size=plan.decay_every, gamma=plan.gamma)
    if plan.schedule == "warmup_cosine":
        w, n = plan.warmup, plan.steps

        def factor(s: int) -> float:
            return (s + 1) / w if s < w else 0.5 * (1 + math.cos(math.pi * (s - w) / (n - w)))

        return sched.LambdaLR(opt, factor)
    if plan.schedule == "linear":
        # transformers' get_linear_schedule_with_warmup
        w, n = plan.warmup, plan.steps
        return sched.LambdaLR(opt, lambda s: s / max(1, w) if s < w else max(0.0, (n - s) / max(1, n - w)))
    return sched.LambdaLR(opt, lambda s: 1.0)


def batches(n: int, size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches forever: a fresh seeded permutation each epoch, the ragged tail dropped."""
    while True:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n - size + 1, size):
            yield order[start : start + size]


def full_loss(task: Task, model: nn.Module, split: str) -> float:
    x, y = (task.x_val, task.y_val) if split == "val" else (task.x_train, task.y_train)
    with torch.no_grad():
        return float(task.loss_fn(model(x), y))


LogFn = Callable[[str, int, dict[str, float]], None]


def train(task: Task, plan: Plan, log: LogFn) -> None:
    """Train `plan` and report each step ('train': loss, lr) and each evaluation ('val': loss).

    Steps are numbered from 0; `lr` is the rate used for that step's update. Training goes on
    after the loss turns NaN, as most scripts without a guard do.
    """
    model = task.make_model()
    opt = make_optimizer(plan.optimizer, model.parameters(), plan.lr)
    sched = make_scheduler(plan, opt)
    gen = torch.Generator().manual_seed(SEED)
    feed = batches(len(task.x_train), plan.batch, gen)
    for step in range(plan.steps):
        idx = next(feed)
        lr = opt.param_groups[0]["lr"]
        loss = task.loss_fn(model(task.x_train[idx]), task.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        log("train", step, {"loss": loss.item(), "lr": float(lr)})
        if (step + 1) % plan.eval_every == 0 or step + 1 == plan.steps:
            log(
                "val",
                step,
                {"loss": full_loss(task, model, "val"), "train_loss": full_loss(task, model, "train")},
            )


@dataclass
class Trace:
    """What a run reported, for writers that write after training."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_train_loss: list[float] = field(default_factory=list)

    def __call__(self, kind: str, step: int, values: dict[str, float]) -> None:
        if kind == "train":
            self.steps.append(step)
            self.loss.append(values["loss"])
            self.lr.append(values["lr"])
        else:
            self.val_steps.append(step)
            self.val_loss.append(values["loss"])
            self.val_train_loss.append(values["train_loss"])


def run_trace(tasks: dict[str, Task], plan: Plan) -> Trace:
    trace = Trace()
    train(tasks[plan.task], plan, trace)
    return trace


# ---------------------------------------------------------------------------------------------
# The learning-rate sweep that labels every sample run


SWEEP_RATES = {
    "sgd": (1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5, 1.0, 5.0, 20.0, 50.0),
    "adam": (1e-5, 1e-4, 1e-3, 5e-3, 1e-2, 0.1, 1.0),
}
SWEEP_STEPS = 300
# A rate is "ok" when its run closes at least this share of the gap between the loss at
# initialisation and the best final loss of the sweep (final = mean of the last 20 steps).
# Read off this sweep's table: creeping or unstable runs close 0.73 or less, converged ones 0.82 or
# more; one run sits on the line (breast_cancer Adam 1e-3, 0.75, no sample uses it).
OK_PROGRESS = 0.75


@dataclass(frozen=True)
class SweepRow:
    task: str
    optimizer: str
    lr: float
    initial: float
    final: float
    val: float
    progress: float
    label: str


def sweep(tasks: dict[str, Task]) -> list[SweepRow]:
    rows: list[SweepRow] = []
    for name, task in tasks.items():
        initial = full_loss(task, task.make_model(), "train")
        for opt, rates in SWEEP_RATES.items():
            finals, vals = [], []
            for lr in rates:
                trace = run_trace(tasks, Plan(name, opt, lr, SWEEP_STEPS))
                tail = np.asarray(trace.loss[-20:])
                finals.append(float(tail.mean()) if np.isfinite(tail).all() else math.nan)
                vals.append(trace.val_loss[-1])
            best = int(np.nanargmin(finals))
            for i, lr in enumerate(rates):
                progress = (initial - finals[i]) / (initial - finals[best])
                ok = math.isfinite(progress) and progress >= OK_PROGRESS
                label = "ok" if ok else "too_high" if i > best else "too_low"
                rows.append(SweepRow(name, opt, lr, initial, finals[i], vals[i], progress, label))
    return rows


def sweep_markdown(rows: list[SweepRow]) -> str:
    lines = [
        "# Learning-rate sweep behind the sample labels",
        "",
        f"Written by `generate.py`. Every task and optimizer, {SWEEP_STEPS} steps of batch 32 at a constant",
        "rate from the same initial weights. `final` is the mean training loss of the last 20 steps;",
        "`progress` the share of the gap between the loss at initialisation and the best `final` of",
        f"that optimizer that the run closed. A rate is `ok` when progress >= {OK_PROGRESS}, else",
        "`too_low` below the best rate and `too_high` above it (NaN counts as no progress).",
        "",
        "| task | optimizer | lr | initial | final | val loss | progress | label |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r.task} | {r.optimizer} | {r.lr:g} | {r.initial:.4f} | {r.final:.4g} | "
            f"{r.val:.4g} | {r.progress:.2f} | {r.label} |"
        )
    return "\n".join(lines) + "\n"
