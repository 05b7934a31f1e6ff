"""One training run of a corpus task: the loop, the learning-rate schedules and what it records.

Step numbering: the minibatch loss logged at step s is the one computed just before the s-th
optimizer update (s = 1..T), with the rate that update used; a validation loss logged at step s
is measured after s updates (step 0 is the initial model). A run stops right after the first
non-finite training or validation loss, which is recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from benchmarks.corpus import tasks

SCHEDULES = ("constant", "step", "cosine", "onecycle", "linear")
# Step decay: x0.1 at half and at three quarters of the budget (the classic ImageNet recipe).
STEP_MILESTONES = (0.5, 0.75)
STEP_GAMMA = 0.1
# Linear warmup over the first 5% of steps, then cosine to zero (as transformers' helper does).
WARMUP_FRAC = 0.05
# "linear": warmup over the first 10%, then linearly to zero (transformers' linear schedule).
LINEAR_WARMUP_FRAC = 0.1


@dataclass(frozen=True)
class RunSpec:
    task: str
    optimizer: str
    schedule: str
    lr: float
    seed: int


@dataclass
class RunResult:
    spec: RunSpec
    steps_per_epoch: int
    budget: int  # optimizer steps planned
    train_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_lr: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    stopped_early: bool = False


def make_scheduler(name: str, opt: torch.optim.Optimizer, *, lr: float, total: int) -> object | None:
    """The torch scheduler for `name`, stepped once per optimizer step; None for constant."""
    sched = torch.optim.lr_scheduler
    if name == "constant":
        return None
    if name == "step":
        return sched.MultiStepLR(opt, milestones=[int(total * f) for f in STEP_MILESTONES], gamma=STEP_GAMMA)
    if name in ("cosine", "linear"):
        warm = max(1, int(total * (WARMUP_FRAC if name == "cosine" else LINEAR_WARMUP_FRAC)))

        def factor(s: int) -> float:
            if s < warm:
                return (s + 1) / warm
            done = min(1.0, (s - warm) / max(1, total - warm))
            return 0.5 * (1.0 + math.cos(math.pi * done)) if name == "cosine" else 1.0 - done

        return sched.LambdaLR(opt, factor)
    if name == "onecycle":
        return sched.OneCycleLR(opt, max_lr=lr, total_steps=total)
    raise KeyError(f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")


@torch.no_grad()
def evaluate(model: torch.nn.Module, loss_fn: torch.nn.Module, batches: object) -> float:
    """Mean loss over the validation set (weighted by batch size)."""
    model.eval()
    total, count = 0.0, 0
    for x, y in batches:  # type: ignore[attr-defined]
        total += float(loss_fn(model(x), y)) * len(x)
        count += len(x)
    model.train()
    return total / count


def train_run(spec: RunSpec) -> RunResult:
    """Train one run to its step budget (or its first non-finite loss) and record its curves."""
    torch.set_num_threads(1)
    parts = tasks.make(spec.task, optimizer=spec.optimizer, seed=spec.seed)
    model, loss_fn = parts["model"], parts["loss_fn"]
    task = tasks.TASKS[spec.task]
    res = RunResult(spec, tasks.steps_per_epoch(spec.task), tasks.total_steps(spec.task))
    opt = parts["optimizer"](model.parameters(), spec.lr)
    sched = make_scheduler(spec.schedule, opt, lr=spec.lr, total=res.budget)
    _record_val(res, 0, evaluate(model, loss_fn, parts["val_batches"]))
    step = 0
    for epoch in range(task.epochs):
        for x, y in parts["batches"]:
            lr_now = float(opt.param_groups[0]["lr"])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            step += 1
            res.train_steps.append(step)
            res.train_loss.append(loss.item())
            res.train_lr.append(lr_now)
            if not math.isfinite(res.train_loss[-1]):
                res.stopped_early = True
                return res
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()  # type: ignore[attr-defined]
        if (epoch + 1) % task.eval_every == 0 and not _record_val(
            res, step, evaluate(model, loss_fn, parts["val_batches"])
        ):
            res.stopped_early = True
            return res
    return res


def _record_val(res: RunResult, step: int, value: float) -> bool:
    res.val_steps.append(step)
    res.val_loss.append(value)
    return math.isfinite(value)
