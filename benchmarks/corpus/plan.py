"""What the corpus holds: the sweeps, the learning-rate grids, and how each run is logged.

Rates sit on a half-decade grid, lr = 10 ** (k / 2) for integer k, so that every sweep shares
the same points (1e-5, 3.16e-5, 1e-4, ...). The grid per optimizer spans both failure ends:
its top rates diverge or stay at the initial loss, its bottom ones barely move in the budget.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.corpus.train import RunSpec
from benchmarks.corpus.writers import FORMATS

# k range (inclusive) per optimizer: lr = 10 ** (k / 2). Measured by the generator itself: each
# sweep records the improvement reached at both ends (see README.md, "Grid ends").
GRIDS: dict[str, tuple[int, int]] = {
    "sgd": (-8, 2),  # 1e-4 .. 10
    "adam": (-10, 0),  # 1e-5 .. 1
    "rmsprop": (-10, 0),  # 1e-5 .. 1
    "adagrad": (-8, 2),  # 1e-4 .. 10: its steps shrink as squared gradients accumulate
    "adamw": (-10, 1),  # 1e-5 .. 3.16
    "nesterov": (-8, 2),  # 1e-4 .. 10
}
# Tasks whose curvature moves a failure end off the shared grid get a wider one.
TASK_GRIDS: dict[tuple[str, str], tuple[int, int]] = {
    # Least squares: SGD at 1e-4 still kept 38% of the best improvement; at 1e-5 it barely moves.
    ("linreg_illcond", "sgd"): (-10, 2),
    # Adam on a linear model is still the best at 1 with a decaying schedule; it fails by 100.
    ("linreg_illcond", "adam"): (-10, 4),
    # RMSprop at 1 kept 39% of the improvement over chance on the digits MLP.
    ("digits_mlp", "rmsprop"): (-10, 2),
    # Adagrad on the linear model was best at 3.16 and still kept 99% of it at 10.
    ("linreg_illcond", "adagrad"): (-8, 4),
    # SGD on the diabetes MLP at 1e-4 still kept 51% of the best improvement.
    ("diabetes_mlp", "sgd"): (-12, 2),
    # Adam on the wine MLP at 1 still kept all of the improvement over chance.
    ("wine_mlp", "adam"): (-10, 2),
    # Adam on the Friedman MLP at 1 still kept 73% of the improvement over chance.
    ("friedman_mlp", "adam"): (-10, 2),
    # Adam on the two moons at 1 still kept 63% of the improvement over chance.
    ("moons_mlp", "adam"): (-10, 2),
    # SGD on the Friedman #3 MLP at 1e-4 still kept 69% of the best improvement.
    ("friedman3_mlp", "sgd"): (-12, 2),
    # Adam on the Friedman #3 MLP at 1 still kept 85% of the improvement over chance.
    ("friedman3_mlp", "adam"): (-10, 2),
    # Adam on the LayerNorm swiss-roll MLP at 1 still kept 99% of the improvement over chance.
    ("swissroll_mlp", "adam"): (-10, 4),
}

OPTIMIZERS = ("sgd", "adam", "rmsprop")
# Sweeps added later go after all others: a run's log format rotates with its sweep's index, so
# appending keeps every earlier run, its format and its label as they were.
LATER_OPTIMIZERS = ("adagrad",)
# Tasks kept out of the default corpus, generated with `generate.py --extra` into another folder.
# The diabetes regression's minibatch noise is as large as its whole progress, and the verdict
# model, fitted on the other tasks or with it, cannot judge it (BENCHMARKS.md, "A noisy task").
# The others check how the fitted models carry to data, models and budgets the corpus lacks, and
# are never fitted on (BENCHMARKS.md, "Tasks never fitted on").
EXTRA_TASKS = (
    "diabetes_mlp",
    "wine_mlp",
    "digits_deep_long",
    "friedman_mlp",
    "digits_cnn_b16",
    "digits_ae_b128",
    "moons_mlp",
    "digits_lstm",
    "blobs_softmax",
    "circles_mlp",
    "digits_tanh",
    "friedman3_mlp",
)
TASKS_ALL = ("digits_mlp", "digits_cnn", "cancer_mlp", "linreg_illcond", "char_gru", "digits_ae")
# Each decaying schedule on three tasks, with SGD and Adam (one-cycle needs momentum or betas).
SCHEDULE_TASKS: dict[str, tuple[str, ...]] = {
    "step": ("digits_mlp", "cancer_mlp", "linreg_illcond"),
    "cosine": ("digits_cnn", "cancer_mlp", "linreg_illcond"),
    "onecycle": ("digits_mlp", "digits_cnn", "digits_ae"),
}
SCHEDULE_OPTIMIZERS = ("sgd", "adam")
# Decaying schedules on the last extra tasks too (SGD and Adam), so that the check of tasks never
# fitted on covers schedules; their sweeps come after every other, keeping earlier formats.
EXTRA_SCHEDULE_TASKS: dict[str, tuple[str, ...]] = {
    "step": ("digits_tanh", "friedman3_mlp"),
    "cosine": ("circles_mlp", "digits_tanh"),
    "onecycle": ("circles_mlp", "friedman3_mlp"),
}
# Tasks unlike the others (a transformer, BatchNorm, dropout, LayerNorm, iris), each swept with the
# optimizer and schedule it is usually trained with, generated with `generate.py --outside` into
# another folder and never fitted on (BENCHMARKS.md, "Came back only part of the way"). Their
# sweeps come after every other, keeping earlier formats.
OUTSIDE_SWEEPS = (
    ("char_transformer", "adamw", "cosine"),
    ("waves_cnn_bn", "sgd", "step"),
    ("noisy_dropout_mlp", "adamw", "constant"),
    ("swissroll_mlp", "adam", "linear"),
    ("iris_tanh", "nesterov", "cosine"),
)
SEEDS = (0, 1)


@dataclass(frozen=True)
class Sweep:
    task: str
    optimizer: str
    schedule: str

    @property
    def name(self) -> str:
        return f"{self.task}/{self.optimizer}_{self.schedule}"

    def grid(self) -> list[int]:
        lo, hi = TASK_GRIDS.get((self.task, self.optimizer), GRIDS[self.optimizer])
        return list(range(lo, hi + 1))


def lr_of(k: int) -> float:
    return float(10 ** (k / 2))


def all_sweeps(*, extra: bool | Sequence[str] = False) -> list[Sweep]:
    """The corpus's sweeps in their fixed order; with `extra`, the constant sweeps of the
    EXTRA_TASKS (True: all of them; else those named) after them, in EXTRA_TASKS' order, then
    the decaying schedules of those among them in EXTRA_SCHEDULE_TASKS."""
    sweeps = [Sweep(t, o, "constant") for t in TASKS_ALL for o in OPTIMIZERS]
    for sched, task_names in SCHEDULE_TASKS.items():
        sweeps += [Sweep(t, o, sched) for t in task_names for o in SCHEDULE_OPTIMIZERS]
    sweeps += [Sweep(t, o, "constant") for o in LATER_OPTIMIZERS for t in TASKS_ALL]
    chosen = EXTRA_TASKS if extra is True else tuple(extra or ())
    unknown = sorted(set(chosen) - set(EXTRA_TASKS))
    if unknown:
        raise ValueError(f"not an extra task: {', '.join(unknown)}; choose among {', '.join(EXTRA_TASKS)}")
    sweeps += [Sweep(t, o, "constant") for t in EXTRA_TASKS if t in chosen for o in (*OPTIMIZERS, *LATER_OPTIMIZERS)]
    for sched, task_names in EXTRA_SCHEDULE_TASKS.items():
        sweeps += [Sweep(t, o, sched) for t in task_names if t in chosen for o in SCHEDULE_OPTIMIZERS]
    return sweeps


def outside_sweeps() -> list[Sweep]:
    """The outside tasks' sweeps (OUTSIDE_SWEEPS)."""
    return [Sweep(*s) for s in OUTSIDE_SWEEPS]


def sweep_index(sweep: Sweep) -> int:
    """The sweep's place among every sweep, extra and outside tasks included: its runs' log formats
    rotate with it, so a run's format does not depend on which tasks a generation includes."""
    return [*all_sweeps(extra=True), *outside_sweeps()].index(sweep)


def smoke_sweeps() -> list[Sweep]:
    return [Sweep("digits_mlp", "adam", "constant")]


SMOKE_GRID = [-6, -4, -2]  # 1e-3, 1e-2, 1e-1


@dataclass(frozen=True)
class Job:
    """One run to train and how to log it."""

    sweep: Sweep
    k: int
    seed: int
    fmt: str
    sparse: bool
    with_lr: bool

    @property
    def spec(self) -> RunSpec:
        return RunSpec(self.sweep.task, self.sweep.optimizer, self.sweep.schedule, lr_of(self.k), self.seed)

    @property
    def run_id(self) -> str:
        return f"{self.sweep.name}/lr{lr_of(self.k):.2e}_s{self.seed}"


def make_job(sweep: Sweep, sweep_index: int, k: int, seed: int) -> Job:
    """The run at rate index k; its format rotates along the grid, its variants follow a hash."""
    fmt = FORMATS[(sweep_index + k + 2 * seed) % len(FORMATS)]
    h = zlib.crc32(f"{sweep.name}/{k}/{seed}".encode())
    sparse = h % 7 == 0  # about one log in seven has one point per epoch
    with_lr = (h >> 8) % 5 != 0  # about one in five lacks the learning rate
    return Job(sweep, k, seed, fmt, sparse, with_lr)
