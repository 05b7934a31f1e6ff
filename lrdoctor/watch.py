"""Follow a log that is still being written and stop as soon as a pathology is confirmed.

The log is read again whenever it changes (size, modification time, inode; for a directory,
any file in it) and diagnosed from the start, so appended rows, a file that is replaced or
rotated (a new inode) or cut short and rewritten (a smaller size) are all handled the same way:
the diagnosis is always of what the file holds now. A torn last line is left to the readers,
which skip it until it is complete. A folder with no run in it yet is watched until one
appears, and that run is followed from then on.
"""

from __future__ import annotations

import codecs
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from lrdoctor.detect.curve import SKIPPED_AFTER, skipped_nonfinite
from lrdoctor.diagnosis import Diagnosis, Finding
from lrdoctor.errors import (
    CutShort,
    DamagedLog,
    EmptyLog,
    InputError,
    LrdoctorError,
    MissingMetric,
    NoSeries,
    NotALog,
    UnreadableLog,
)
from lrdoctor.sweep import LoadOptions

EventKind = Literal["waiting", "update", "replaced", "found", "confirmed", "timeout"]


@dataclass(frozen=True)
class WatchConfig:
    # Seconds between looks at the file: a training step takes longer than this in the runs
    # worth watching, and reading a log of a few MB every 2 s costs little. A look that takes
    # longer (a log of a million rows is read and judged in about 2 s) waits (1 - busy_share) /
    # busy_share times its own length before the next: 26% of a core over two minutes on a growing
    # log of 10^6 rows, where every change looked at after the poll had kept 77% of one busy
    # (benchmarks/watch_cpu.py).
    poll: float = 2.0
    busy_share: float = 0.2
    exit_on: tuple[str, ...] = ("divergence",)
    timeout: float | None = None  # stop after this many seconds (see follow); None: never
    # A NaN at the end that the points after it may show to be a skipped update is confirmed once
    # the log has not grown for this long, or for 3 times the second-longest of its last 20 waits
    # between writes where that is longer (a large model's steps, an evaluation every few epochs:
    # a pause that recurs counts, a single one does not): a trainer that stops at its first NaN
    # (Keras' TerminateOnNaN, a script's own check) writes no point after it.
    settle: float = 120.0


@dataclass(frozen=True)
class Event:
    kind: EventKind
    message: str
    diagnosis: Diagnosis | None = None
    finding: Finding | None = None
    path: Path | None = None  # `found`: the run followed from now on


Fingerprint = tuple[tuple[str, int, int, int], ...]


def fingerprint(path: Path) -> Fingerprint | None:
    """(name, inode, size, mtime) of the file, or of every file under the directory; None if absent.
    A path that cannot be looked at (a loop of symbolic links, a file taken for a folder) is an
    InputError worded as check words it: waiting does not make it readable."""
    try:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            return tuple((str(p), *_stat(p)) for p in files)
        return ((str(path), *_stat(path)),)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None


def _stat(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def replaced(before: Fingerprint, now: Fingerprint) -> bool:
    """A file got a new inode or shrank: it was replaced, rotated, or truncated and rewritten."""
    old = {name: (ino, size) for name, ino, size, _ in before}
    return any(name in old and (ino != old[name][0] or size < old[name][1]) for name, ino, size, _ in now)


def one_run(path: Path) -> Path:
    """The run a watch of `path` follows: itself (a file, a run folder, a path not there yet), or
    the one run in a folder of runs; the folder itself while no run in it reads yet. A folder of
    several runs is refused: a watch follows one run as it grows."""
    from lrdoctor.sweep import expand, holds_run

    if not os.path.lexists(path):
        return path
    targets = [Path(t.path) for t in expand([str(path)]).targets]
    if len(targets) == 1 and (targets == [path] or not path.is_dir()):  # (one phase's events: the run)
        return targets[0]
    # A file beside the runs that holds no log (a summary.txt) is no run; a run whose log has no
    # row yet is one.
    runs = [t for t in targets if holds_run(t)]
    if len(runs) > 1:
        shown = ", ".join(map(str, runs[:4])) + (", ..." if len(runs) > 4 else "")
        raise InputError(f"{path}: holds {len(runs)} runs ({shown}): watch one of them")
    return runs[0] if runs else path


def _runs_in(folder: Path) -> list[Path]:
    """The runs a folder holds now (each that reads as a run, as one_run finds them)."""
    from lrdoctor.sweep import expand, holds_run

    try:
        targets = [Path(t.path) for t in expand([str(folder)]).targets]
    except (LrdoctorError, OSError):
        return []
    return [t for t in targets if t == folder or holds_run(t)]


def _written_last(run: Path) -> float:
    """When a run's log was last written (its newest file's)."""
    try:
        files = [run] if run.is_file() else [p for p in run.rglob("*") if p.is_file()]
        return max((p.stat().st_mtime for p in files), default=0.0)
    except OSError:
        return 0.0


def lasting(path: Path, reader: str | None = None) -> bool:
    """The bytes already written make the log unreadable whatever is appended: a Git LFS pointer
    (its text stays at the start), or gzip data broken part-way (appends come after the break).
    check refuses both at once; a watch would wait for them forever."""
    from lrdoctor.readers import LFS_POINTER, _from_dir  # (the file read_log reads in a folder)
    from lrdoctor.source import open_source

    try:
        source = open_source(path)
        if source.is_dir:
            source = _from_dir(source, reader)[1]
        if source.gzipped:
            source.read_bytes()  # raises DamagedLog where the data is broken
        return source.head(1024).lstrip(codecs.BOM_UTF8).startswith(LFS_POINTER)
    except CutShort:  # a gzip writer's header, its data still to come
        return False
    except DamagedLog:
        return True
    except LrdoctorError:  # empty, no log in the folder yet, cut short: growth may mend it
        return False


def _misspelt(metric: str | None, exc: MissingMetric) -> bool:
    """A name one letter or two off a series the log holds ('los' for 'loss'): a typo to say
    at once, not a series to wait for ('val_loss_epoch' beside 'train_loss_epoch' is waited for)."""
    return metric is not None and any(_edits(metric, name) <= 2 for name in exc.found)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: the letters to insert, delete or change to make `a` into `b`."""
    if abs(len(a) - len(b)) > 2:
        return 3  # more than a typo, whatever the letters
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def stops(finding: Finding, exit_on: tuple[str, ...]) -> bool:
    """A finding confirms a pathology in `exit_on` at severity warning or above; a divergence only
    as an error: its warnings are a blow-up the run recovered from, or NaN/Inf it went on from."""
    if finding.pathology not in exit_on or finding.severity == "info":
        return False
    return finding.pathology != "divergence" or finding.severity == "error"


def undecided(finding: Finding, values: np.ndarray) -> bool:
    """A NaN/Inf error that the points still to come may show was a skipped update (a warning, as
    the finished log will judge it): its last non-finite value follows a finite one, fewer than
    SKIPPED_AFTER points follow it, and were the next ones back at the level before it the
    detector would call the non-finite values skipped. One right after another is confirmed at
    once: a skipped update is one step (loss scaling halves its scale and goes on), and waiting on
    a run of NaNs would leave a diverged run training for up to SKIPPED_SHARE of its length."""
    if finding.pathology != "divergence" or finding.severity != "error" or "nonfinite" not in finding.evidence:
        return False
    bad = ~np.isfinite(values)
    if not bad.any():
        return False
    last = int(np.flatnonzero(bad)[-1])
    if len(values) - 1 - last >= SKIPPED_AFTER or (last > 0 and bad[last - 1]):
        return False
    before = values[:last][~bad[:last]]
    level = float(before[-1]) if len(before) else 0.0
    return skipped_nonfinite(np.concatenate([values, np.full(SKIPPED_AFTER, level)]))


def follow(
    path: str | Path,
    *,
    options: LoadOptions,
    config: WatchConfig,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    folder: str | Path | None = None,
) -> Iterator[Event]:
    """Events as the log grows; the last is `confirmed` (a finding in exit_on) or `timeout`.

    A NaN at the end that the next points may show to be a skipped update is not confirmed until
    they are written (:func:`undecided`); when the timeout comes first, it is confirmed then, as
    check would judge the log as it stands. `folder`: the folder named, where `path` is its one run
    (one_run): a run that appears in it later (a re-run's version_1) is followed instead."""
    path = Path(path)
    named = Path(folder) if folder is not None else path  # where a later run may appear
    runs_before: set[Path] | None = None  # the runs in it once the run followed was known
    began = clock()
    seen: Fingerprint | None = None
    said = ""
    known = False  # the run is known: it was diagnosed, or found in the folder named
    pending: Event | None = None  # a confirmation the points still to come may undo
    took = 0.0  # how long the last look took
    grew = began  # when the log last changed
    gaps: list[float] = []  # the waits between its last writes
    while True:
        if known and named.is_dir():
            runs = _runs_in(named)
            if runs_before is None:
                runs_before = set(runs) | {path}
            new = [r for r in runs if r not in runs_before]
            runs_before |= set(new)
            if new:  # a run started again beside the one followed (a re-run: version_1, runs/<new>)
                newest = max(new, key=_written_last)
                yield Event("found", f"{named}: a new run appeared in it; following {newest}", path=newest)
                path, seen, pending, said = newest, None, None, ""
                continue
        now = fingerprint(path)
        if now is None:
            message = f"{path}: does not exist (yet); waiting for it"
        elif now != seen:
            if seen is not None and replaced(seen, now):
                yield Event("replaced", f"{path}: the file was replaced or cut short; reading it again from the start")
            if seen is not None:
                gaps = [*gaps[-19:], clock() - grew]
            seen, pending, grew = now, None, clock()
            run = path if known else one_run(path)
            if run != path:
                yield Event("found", f"{path}: a run appeared in it; following {run}", path=run)
                path, seen, known = run, None, True
                continue
            looked = clock()
            dx, message = _look(path, options)
            took = clock() - looked
            if dx is not None:
                known = True
                yield Event("update", "", dx)
                confirmed, pending = _judged(path, dx, config.exit_on)
                if confirmed is not None:
                    yield confirmed
                    return
                message = pending.message if pending is not None else ""
        else:
            message = said
        if message and message != said:
            yield Event("waiting", message)
        said = message
        quiet = clock() - grew
        settle = max(config.settle, 3 * sorted(gaps)[-2] if len(gaps) > 1 else 0.0)
        if pending is not None and pending.finding is not None and quiet >= settle:
            yield _confirmed(path, pending, f"nothing was written after it for {settle:.0f} s")
            return
        left = math.inf if config.timeout is None else config.timeout - (clock() - began)
        if left <= 0:
            yield _at_timeout(path, pending, config)
            return
        settling = settle - quiet if pending is not None else math.inf
        wait = max(config.poll, took * (1 - config.busy_share) / config.busy_share)
        sleep(max(0.0, min(wait, left, settling)))  # the timeout is kept to, whatever the poll


def _look(path: Path, options: LoadOptions) -> tuple[Diagnosis | None, str]:
    """The diagnosis of what the log holds now, or why there is none yet (what is waited for).
    Input that no growth makes a log raises."""
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose
    from lrdoctor.sweep import find_runs

    try:
        run = load(path, format=options.reader, metric=options.metric, segment=options.segment, lr=options.lr)
        return diagnose(run, config=options.config), ""
    except MissingMetric as exc:  # not logged yet (a validation loss, an epoch mean), or a wrong name
        if _misspelt(options.metric, exc):
            raise
        return None, f"{exc}; waiting for it to be logged (is the name right?)"
    except NotALog:  # binary data no log becomes by growing: bad input, not a wait
        raise
    except UnreadableLog as exc:  # empty, a header only, no loss yet: wait for more
        if not isinstance(exc, EmptyLog) and lasting(path, options.reader):
            raise
        if path.is_dir() and not find_runs(path):
            return None, f"{path}: no run in this folder yet; waiting for one"
        return None, str(exc)
    except NoSeries as exc:
        return None, str(exc)


def _judged(path: Path, dx: Diagnosis, exit_on: tuple[str, ...]) -> tuple[Event | None, Event | None]:
    """The confirmation to stop on, if any; else one that the points still to come may undo."""
    hits = [f for f in dx.findings if stops(f, exit_on)]
    sure = [f for f in hits if not undecided(f, dx.run.loss.values)]
    if sure:
        return _confirmed(path, Event("waiting", "", dx, sure[0])), None
    if not hits:
        return None, None
    hit = hits[0]
    message = f"{path}: {hit.message}; waiting for the points after it, to tell a skipped update from a divergence"
    return None, Event("waiting", message, dx, hit)


def _confirmed(path: Path, judged: Event, why: str = "") -> Event:
    """The event that stops the watch on the finding of `judged`, and why it is sure now."""
    hit = judged.finding
    assert hit is not None
    said = f"{path}: {hit.pathology} confirmed: {hit.message}" + (f" ({why})" if why else "")
    return Event("confirmed", said, judged.diagnosis, hit)


def _at_timeout(path: Path, pending: Event | None, config: WatchConfig) -> Event:
    """The last event: a NaN still undecided is confirmed (the log as it stands fails check), else
    the timeout passed with nothing in exit_on."""
    if pending is not None and pending.finding is not None:
        return _confirmed(path, pending, f"the points after it did not come within {config.timeout:g} s")
    asked = ", ".join(config.exit_on) or "(no pathology asked for)"
    return Event("timeout", f"{path}: nothing in {asked} within {config.timeout:g} s")
