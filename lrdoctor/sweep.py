"""Many runs at once: find every run under a directory or glob, diagnose them in parallel, and
say which learning rate a sweep that varies it points to.

A directory that is itself one run (event files in it, a Lightning version directory, an HF
output directory, an MLflow run) stays one run, as `lrdoctor diagnose DIR` has always read it.
Otherwise its sub-directories and log files are searched, and each run found is one result.
"""

from __future__ import annotations

import glob
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from lrdoctor.detect.curve import LATE_AXES, skipped_nonfinite, starts_late
from lrdoctor.diagnosis import Config, Diagnosis
from lrdoctor.errors import DamagedLog, EmptyLog, InputError, LrdoctorError, MissingMetric, NoSeries, UnreadableLog

# Files worth reading inside a directory of runs (the pre-commit hook's pattern, plus JSON).
LOG_FILE = re.compile(r"\.(csv|tsv|jsonl|ndjson|json|log|txt)(\.gz)?$", re.IGNORECASE)
# JSON files that hold settings, not metrics: never taken for a run.
NOT_A_LOG = re.compile(
    r"^(manifest|config|.*_config|package(-lock)?|tokenizer.*|vocab|special_tokens_map|args|hparams|params|"
    r"settings|index|requirements.*|license.*|notes?|readme.*)\.(json|txt)$",
    re.IGNORECASE,
)
# Tables (not console text or JSON settings, which a run's folder holds beside its log): this many
# beside a file named like a run's log make its folder one of runs (_tables_beside).
TABLE_FILE = re.compile(r"\.(csv|tsv|jsonl|ndjson)(\.gz)?$", re.IGNORECASE)
TABLES_BESIDE = 2
# Sub-directories that split one run by phase (Keras, HF): their parent is the run.
SPLIT_DIRS = frozenset({"train", "training", "val", "valid", "validation", "eval", "evaluation", "test"})
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "wandb-summary"})
GLOB_CHARS = re.compile(r"[*?\[]")
# The W&B client's own logs, linked from its wandb/ folder.
WANDB_DEBUG = frozenset({"debug.log", "debug-internal.log"})


@dataclass(frozen=True)
class Target:
    """One run to diagnose; `named` when the user gave this exact path (its errors count)."""

    path: str
    named: bool
    problem: str | None = None  # why it cannot be read at all (a pattern that matched nothing)


@dataclass(frozen=True)
class Result:
    target: Target
    diagnosis: Diagnosis | None = None
    error: LrdoctorError | None = None

    @property
    def skipped(self) -> bool:
        """A file found by searching that turned out to be no training log: noted, not an error."""
        error = self.error
        return (
            error is not None
            and not self.target.named
            and isinstance(error, UnreadableLog | NoSeries)
            and not isinstance(error, MissingMetric)  # a wrong --metric is the user's error, in every file
            # a run that logged nothing, or whose own log was damaged, is a run, not a stray file
            and not isinstance(error, EmptyLog | DamagedLog)
        )


@dataclass(frozen=True)
class Expansion:
    targets: list[Target]
    several: bool  # a directory or glob stood for several runs: report as a sweep


# --- finding runs --------------------------------------------------------------------------------


def expand(paths: Sequence[str]) -> Expansion:
    """Each PATH as the runs it holds: a file or one-run directory as itself, a directory of runs
    or a glob as every run in it."""
    if list(paths).count("-") > 1:  # standard input is read once
        raise InputError("'-' (standard input) is given more than once")
    targets: list[Target] = []
    several = False
    for raw in paths:
        if raw == "":  # Path("") is the current folder: never sweep it for an unset variable
            targets.append(Target("''", True, "an empty path (an unset variable?)"))
            continue
        if raw != "-" and not os.path.lexists(raw) and GLOB_CHARS.search(raw):
            loop = _link_loop(raw) if "**" in raw else None
            if loop is not None:
                targets.append(Target(raw, True, loop))
                several = True
                continue
            matches = _once_each(sorted(glob.glob(raw, recursive=True)))
            if not matches:  # an error of its own; the other PATHs are still judged
                targets.append(Target(raw, True, "no file or directory matches this pattern"))
                several = True
                continue
            found = _each_run_once([t for m in matches for t in _expand_one(m, named=False)])
            targets += found
            several = True
            continue
        found = _expand_one(raw, named=True)
        several = several or len(found) != 1
        targets += found
    return Expansion(_each_split_run_once(targets), several)


def _each_split_run_once(targets: list[Target]) -> list[Target]:
    """A run folder once: a run split by phase, named through several of its event files (a
    pre-commit hook passes each file committed), is judged once."""
    seen: set[str] = set()
    out = []
    for t in targets:
        key = os.path.realpath(t.path) if t.path != "-" and _is(Path(t.path), stat.S_ISDIR) else None
        if key is None or key not in seen:
            out.append(t)
        if key is not None:
            seen.add(key)
    return out


def _each_run_once(found: list[Target]) -> list[Target]:
    """A run folder matched and its files matched too (`**`), or the same run named again through a
    link back up the tree: each run once, under the first of its names; a file inside a run folder
    found is part of that run."""
    real = [os.path.realpath(t.path) for t in found]
    folders = {r for r, t in zip(real, found, strict=True) if _is(Path(t.path), stat.S_ISDIR)}
    seen: set[str] = set()
    out = []
    for r, t in zip(real, found, strict=True):
        inside = any(parent in folders for parent in _parents(r)) and r not in folders
        if r not in seen and not inside:
            seen.add(r)
            out.append(t)
    return out


def _parents(path: str) -> list[str]:
    out, head = [], os.path.dirname(path)
    while head and head not in out and head != os.path.dirname(head):
        out.append(head)
        head = os.path.dirname(head)
    return out


def _link_loop(pattern: str) -> str | None:
    """Why a `**` pattern cannot be followed, or None: symbolic links under its fixed part that
    point back up the tree (a/up -> .., a/self -> ../a), two or more. `**` follows links: one such
    link names the files again at each depth until the system's limit of 40 links in a path
    (duplicates, each read once); two name them 2**40 times (a glob had run until the CI job's
    timeout)."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if GLOB_CHARS.search(part)), len(parts))
    root = Path(*parts[:fixed]) if fixed else Path(".")
    seen: set[str] = set()
    loops: list[str] = []
    for folder, dirs, _files in os.walk(root, followlinks=True):
        here = os.path.realpath(folder)
        if here in seen:
            dirs[:] = []  # (reached again through a link: walked once already)
            continue
        seen.add(here)
        for name in dirs:
            link = os.path.join(folder, name)
            target = os.path.realpath(link)
            if os.path.islink(link) and (here == target or here.startswith(target.rstrip(os.sep) + os.sep)):
                loops.append(link)
        if len(loops) >= 2:
            break  # (enough to refuse it: the rest of the tree need not be walked)
    if len(loops) < 2:
        return None
    return (
        f"the symbolic links {loops[0]} and {loops[1]} point back up the tree, and '**' would follow them "
        "without end; name the folder itself (lrdoctor follows each run in it once)"
    )


def _once_each(paths: list[str]) -> list[str]:
    """Each file or folder once, under the first of its names: `**` follows symbolic links, and a
    link back up the tree (a/up -> ..) names the same files again at every depth."""
    seen: set[str] = set()
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(path)
    return out


# How deep a DVCLive metric's file may lie under its metrics folder ('a/b/c/loss.tsv').
MAX_METRIC_DEPTH = 12


def _expand_one(path: str, *, named: bool) -> list[Target]:
    p = Path(path)
    if path != "-" and "tfevents" in p.name and p.parent.name.lower() in SPLIT_DIRS and is_one_run(p.parent.parent):
        # One phase's events of a run split by phase (Keras: run/train/, run/validation/): the run.
        # Alone, a validation file would be judged as if it held the training loss.
        return [Target(str(p.parent.parent), named)]
    metrics = _dvclive_folder(p) if path != "-" and p.suffix == ".tsv" else None
    if metrics is not None:  # one metric's file of a DVCLive run (a hook passes each): the run
        return [Target(str(metrics), named)]
    if path == "-" or not _is(p, stat.S_ISDIR):
        return [Target(path, named)]
    runs = find_runs(p)
    if not runs or runs == [p]:
        return [Target(path, True)]  # read as today (or the reader says what it looked for)
    if len(runs) == 1:  # one run deeper down: as today where a reader takes the folder, else that run
        return [Target(path if _readers_take(p) and not _claimed(runs[0]) else str(runs[0]), True)]
    return [Target(str(r), False) for r in runs]


def _dvclive_folder(file: Path) -> Path | None:
    """The DVCLive metrics folder that `file` lies in (`plots/metrics/train/loss.tsv`), if any."""
    from lrdoctor.readers import csv_reader

    for parent in list(file.parents)[:MAX_METRIC_DEPTH]:
        if csv_reader.dvclive_metrics(parent) == parent:
            return parent
    return None


def holds_run(path: str | Path) -> bool:
    """Whether `path` reads as a run: a log, or a run that has logged nothing yet (no stray file
    beside the runs, such as a summary.txt)."""
    from lrdoctor import load

    try:
        load(path)
    except EmptyLog:
        return True
    except LrdoctorError:
        return False
    return True


def _claimed(run: Path) -> bool:
    """A run folder whose own layout names its log (an Ultralytics run's results.csv), not the
    TensorBoard events inside it that a folder above would be read by."""
    from lrdoctor.readers import claimed

    return _is(run, stat.S_ISDIR) and claimed(run) is not None


def _readers_take(folder: Path) -> bool:
    from lrdoctor.readers import READERS

    return any(reader.in_dir(folder) is not None for reader in READERS.values())


def find_runs(root: Path, *, _seen: set[Path] | None = None) -> list[Path]:
    """Every run under `root`: [root] itself when it is one run, else the runs inside it, sorted."""
    seen = set() if _seen is None else _seen
    real = root.resolve()
    if real in seen:
        return []
    seen.add(real)
    if not os.access(root, os.R_OK | os.X_OK) or is_one_run(root):
        return [root]  # a folder that cannot be listed stands as a run of its own: reading it says why
    runs: list[Path] = []
    # Links last: a run is named by its own folder, not by a link to it (W&B's wandb/latest-run).
    for child in sorted(_children(root), key=Path.is_symlink):
        if _is(child, stat.S_ISDIR):
            runs += find_runs(child, _seen=seen)
        elif _is(child, stat.S_ISREG) and LOG_FILE.search(child.name) and not NOT_A_LOG.match(child.name):
            if root.name == "wandb" and child.name in WANDB_DEBUG:
                continue  # links to the latest run's debug logs
            runs.append(child)
    return runs


def _is(path: Path, kind: Callable[[int], bool]) -> bool:
    """`path.is_dir()` (or is_file) that is False, not an error, where the path cannot be looked at
    (Path.is_dir raises PermissionError inside a folder it may not search)."""
    try:
        return kind(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def is_one_run(folder: Path) -> bool:
    """A directory that the readers take as one run."""
    from lrdoctor.readers import csv_reader, json_reader, jsonl

    children = _children(folder)
    if any(("tfevents" in c.name or c.name.endswith(".wandb")) and _is(c, stat.S_ISREG) for c in children):
        return True
    if _is(folder / "metrics", stat.S_ISDIR) or _is(folder / "mlflow.db", stat.S_ISREG):
        return True
    if json_reader.in_dir(folder) is not None or _is(folder / jsonl.MMENGINE_SCALARS, stat.S_ISREG):
        return True
    if csv_reader.claims_dir(folder) is not None:  # an Ultralytics or DVCLive run: its own layout
        return True
    named = [folder / name for name in (*csv_reader.DIR_NAMES, *jsonl.DIR_NAMES) if _is(folder / name, stat.S_ISREG)]
    if named and not _tables_beside(children, named):
        return True
    if jsonl.claims_dir(folder) is not None:  # a Ray Tune trial (a DVCLive folder: csv_reader.in_dir above)
        return True
    with_events = [c for c in children if _is(c, stat.S_ISDIR) and any("tfevents" in g.name for g in _children(c))]
    # (a run folder named like a split, such as Ultralytics' first run 'train', is a run of its own)
    return bool(with_events) and all(c.name.lower() in SPLIT_DIRS and not _claimed(c) for c in with_events)


def _tables_beside(children: list[Path], named: list[Path]) -> bool:
    """Whether a folder that holds a file named like a run's log (metrics.csv, summary.csv,
    history.jsonl...) also holds TABLES_BESIDE or more other tables: a folder of runs (a sweep's
    run_lr0.1.csv, run_lr0.01.csv... beside its summary.csv), each searched, not one run read
    by the name alone. Tables named for a phase (train.csv, val.csv) are the run's own."""
    tables = [
        c
        for c in children
        if c not in named
        and TABLE_FILE.search(c.name)
        and TABLE_FILE.sub("", c.name).lower() not in SPLIT_DIRS  # (a run's own train.csv and val.csv)
        and _is(c, stat.S_ISREG)
    ]
    return len(tables) >= TABLES_BESIDE


def _children(folder: Path) -> list[Path]:
    try:
        return sorted(c for c in folder.iterdir() if not c.name.startswith(".") and c.name not in SKIP_DIRS)
    except OSError:
        return []


# --- diagnosing many -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadOptions:
    reader: str | None = None
    metric: str | None = None
    segment: int | None = None
    lr: float | None = None
    config: Config | None = None


def diagnose_target(target: Target, options: LoadOptions) -> Result:
    """Load and diagnose one run; a failure is returned, not raised (it crosses processes)."""
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose

    if target.problem is not None:
        return Result(target, error=InputError(f"{target.path}: {target.problem}"))
    try:
        run = load(target.path, format=options.reader, metric=options.metric, segment=options.segment, lr=options.lr)
        return Result(target, diagnosis=diagnose(run, config=options.config))
    except LrdoctorError as exc:
        return Result(target, error=exc)
    except Exception as exc:  # an input nobody foresaw: still a result, reported in one line
        return Result(target, error=LrdoctorError(f"{target.path}: unexpected {type(exc).__name__}: {exc}"))


def diagnose_all(
    targets: Sequence[Target],
    options: LoadOptions,
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """Every target diagnosed, `jobs` processes at a time (default: the number of cores), in input order."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    results: list[Result | None] = [None] * len(targets)
    if jobs == 1 or len(targets) <= 1:
        for i, target in enumerate(targets):
            results[i] = diagnose_target(target, options)
            if progress:
                progress(i + 1, len(targets))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # ~30 ms: only when it is used

        # Standard input is this process's: a worker would find it closed.
        here = [i for i, t in enumerate(targets) if t.path == "-"]
        done = 0
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(targets) - len(here)))) as pool:
            futures = {pool.submit(diagnose_target, t, options): i for i, t in enumerate(targets) if i not in here}
            for i in here:
                results[i] = diagnose_target(targets[i], options)
                done += 1
                if progress:
                    progress(done, len(targets))
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if progress:
                    progress(done, len(targets))
    return [r for r in results if r is not None]


class ProgressBar:
    """`[#####.....] 12/40 runs` (or another unit) on one line of a terminal; silent when the stream
    is no terminal."""

    def __init__(self, stream: IO[str] | None = None, width: int = 30, unit: str = "runs") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.unit = unit
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        if not self.live or total <= 1:
            return
        filled = self.width * done // total
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {self.unit}")
        if done == total:
            self.stream.write("\r" + " " * (self.width + 20 + len(self.unit)) + "\r")
        self.stream.flush()


VERDICT_ORDER = {"too_high": 0, "too_low": 1, "unknown": 2, "ok": 3}


def by_verdict(diagnoses: Iterable[Diagnosis]) -> list[Diagnosis]:
    """Problems first: too high, too low, unknown, ok; then the most confident, then by name."""
    return sorted(diagnoses, key=lambda dx: (VERDICT_ORDER.get(dx.verdict, 9), -dx.confidence, dx.run.source))


# --- what a rate sweep says ------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPoint:
    lr: float
    final_loss: float  # median of the last tenth of the ranked loss; inf when the run went NaN/Inf
    source: str


@dataclass(frozen=True)
class SweepAdvice:
    lr: float  # the rate with the lowest final loss
    points: tuple[SweepPoint, ...]
    because: str
    at_edge: bool  # the best rate is the lowest or highest tried: the optimum may lie beyond
    ranked_by: str = ""  # the loss the runs were ranked by: their validation loss where every run has one


@dataclass(frozen=True)
class SweepConfig:
    # A sweep needs at least this many distinct rates to point anywhere (two only say which is lower).
    min_rates: int = 3
    tail: float = 0.1  # the final loss is the median of this share of the last points
    # Runs of one task from comparable initialisations start at nearly the same loss (the
    # sample sweep: within 1%); starts further apart than this share of their median are
    # different tasks or models, whose final losses say nothing about the rate. Logs that begin
    # after the first updates are not compared so: their first points already differ by rate.
    start_spread: float = 0.25
    # Logged rates within this factor of each other are one rate (a sweep's steps are wider).
    same_rate: float = 1.1


def final_loss(dx: Diagnosis, cfg: SweepConfig = SweepConfig()) -> float:
    """The median of the last tenth of the judged loss; inf when it went NaN/Inf."""
    return _final(dx.run.loss.values, cfg)


def _final(values: np.ndarray, cfg: SweepConfig) -> float:
    finite = np.isfinite(values)
    if not finite.all() and len(values) and skipped_nonfinite(values):
        values = values[finite]  # a few skipped updates, not a lost run
    if len(values) == 0 or not np.isfinite(values).all():
        return float("inf")
    tail = values[-max(1, int(len(values) * cfg.tail)) :]
    return float(np.median(tail))


def _ranked_loss(dx: Diagnosis, by_val: bool, cfg: SweepConfig) -> float:
    """What a run is ranked by: its final validation loss where the sweep ranks by it (inf for a
    run whose training loss went NaN/Inf), else its final training loss."""
    train = final_loss(dx, cfg)
    val = dx.run.val_loss
    if not by_val or val is None or not math.isfinite(train):
        return train
    return _final(val.values, cfg)


def sweep_points(diagnoses: Sequence[Diagnosis], cfg: SweepConfig = SweepConfig()) -> list[SweepPoint]:
    by_val = _by_val(diagnoses)
    rated = [(dx, float(lr)) for dx in diagnoses if (lr := dx.run.observed_lr) is not None]
    same = _same_rates([lr for _, lr in rated], cfg.same_rate)
    return [SweepPoint(same[lr], _ranked_loss(dx, by_val, cfg), dx.run.source) for dx, lr in rated]


def _same_rates(rates: list[float], within: float) -> dict[float, float]:
    """Each rate as its group's highest: rates within a factor `within` of the lowest of their
    group are one rate set alike (a float32 copy of 0.01, the peaks of warmups logged at
    different steps), not points of a sweep."""
    out: dict[float, float] = {}
    group: list[float] = []
    for rate in sorted(set(rates)):
        if group and rate > group[0] * within:
            out.update(dict.fromkeys(group, group[-1]))
            group = []
        group.append(rate)
    out.update(dict.fromkeys(group, group[-1] if group else 0.0))
    return out


def _by_val(diagnoses: Sequence[Diagnosis]) -> bool:
    """Rank by the validation loss when every run logs one of the same name: the best rate is the
    one whose run generalises best; a training loss near 0 at every high rate rewards overfitting."""
    names = {dx.run.val_metric for dx in diagnoses}
    return len(names) == 1 and None not in names


def sweep_advice(diagnoses: Sequence[Diagnosis], cfg: SweepConfig = SweepConfig()) -> SweepAdvice | None:
    """The rate with the lowest final loss, when the runs judge one metric at enough distinct rates.

    Runs are ranked by their final validation loss where every run logs one, else by their final
    training loss. Runs at the same rate (seeds) count by their median. It assumes the runs differ
    only in their rate; with different metrics (different tasks) there is no advice.
    """
    found = _advise(diagnoses, cfg)
    return found if isinstance(found, SweepAdvice) else None


def no_advice_because(diagnoses: Sequence[Diagnosis], cfg: SweepConfig = SweepConfig()) -> str | None:
    """Why a folder of runs points to no rate (None when it does)."""
    found = _advise(diagnoses, cfg)
    return found if isinstance(found, str) else None


def _advise(diagnoses: Sequence[Diagnosis], cfg: SweepConfig) -> SweepAdvice | str:
    points = sweep_points(diagnoses, cfg)
    metrics = {dx.run.metric for dx in diagnoses}
    if len(metrics) != 1:
        return f"the runs judge different metrics ({', '.join(sorted(metrics)[:4])}): not one task"
    spread = _start_spread(diagnoses, cfg)
    if spread:
        return spread
    rates = sorted({p.lr for p in points})
    if len(rates) < cfg.min_rates:
        unknown = sum(dx.run.observed_lr is None for dx in diagnoses)
        lr_note = f"; {unknown} run(s) record no rate (log it in each run: --lr gives them all one)" if unknown else ""
        return f"{len(rates)} distinct learning rate(s) among the runs, {cfg.min_rates} needed{lr_note}"
    by_rate = {r: float(np.median([p.final_loss for p in points if p.lr == r])) for r in rates}
    finite = {r: v for r, v in by_rate.items() if np.isfinite(v)}
    if not finite:
        return "every rate ended in NaN/Inf"
    best = min(finite, key=lambda r: (finite[r], r))
    edge = best in (rates[0], rates[-1])
    lost = sum(1 for v in by_rate.values() if not np.isfinite(v))
    ranked = diagnoses[0].run.val_metric if _by_val(diagnoses) else diagnoses[0].run.metric
    because = (
        f"lowest final {ranked} ({finite[best]:.4g}) across {len(points)} runs at "
        f"{len(rates)} rates from {rates[0]:.3g} to {rates[-1]:.3g}"
        + (f"; {lost} rate(s) ended in NaN/Inf" if lost else "")
        + ("; it is at the edge of the sweep, so a better rate may lie beyond it" if edge else "")
    )
    return SweepAdvice(lr=best, points=tuple(points), because=because, at_edge=edge, ranked_by=str(ranked))


def _start_spread(diagnoses: Sequence[Diagnosis], cfg: SweepConfig) -> str:
    """Why the runs look like different tasks ("" when they look like one)."""
    starts = []
    for dx in diagnoses:
        loss = dx.run.loss
        finite = np.isfinite(loss.values)
        late = dx.run.late_start
        if late is None:
            late = dx.run.step_kind in LATE_AXES and starts_late(loss.steps, epochs=dx.run.step_kind == "epoch")
        if late:
            continue  # a first point after the first updates differs by rate already
        if finite.any():
            starts.append(float(loss.values[finite][0]))
    if not starts:
        return ""
    mid = float(np.median(starts))
    if all(abs(s - mid) <= cfg.start_spread * max(abs(mid), 1e-12) for s in starts):
        return ""
    return (
        f"the runs start at losses from {min(starts):.3g} to {max(starts):.3g}, too far apart for one task "
        "from one initialisation"
    )


def describe(advice: SweepAdvice) -> str:
    return f"the sweep points to lr {advice.lr:.3g} ({advice.because})"


def as_dict(advice: SweepAdvice) -> dict[str, Any]:
    return {"lr": advice.lr, "because": advice.because, "at_edge": advice.at_edge, "ranked_by": advice.ranked_by}
