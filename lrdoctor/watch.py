"""Follow a log that is still being written and stop as soon as a pathology is confirmed.

The log is read again whenever it changes (size, modification time, inode; for a directory,
any file in it) and diagnosed from the start, so appended rows, a file that is replaced or
rotated (a new inode) or cut short and rewritten (a smaller size) are all handled the same way:
the diagnosis is always of what the file holds now. A torn last line is left to the readers,
which skip it until it is complete.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lrdoctor.diagnosis import Diagnosis, Finding
from lrdoctor.errors import MissingMetric, NoSeries, NotALog, UnreadableLog
from lrdoctor.sweep import LoadOptions

EventKind = Literal["waiting", "update", "replaced", "confirmed", "timeout"]


@dataclass(frozen=True)
class WatchConfig:
    # Seconds between looks at the file: a training step takes longer than this in the runs
    # worth watching, and reading a log of a few MB every 2 s costs little.
    poll: float = 2.0
    exit_on: tuple[str, ...] = ("divergence",)
    timeout: float | None = None  # stop (without a finding) after this many seconds; None: never


@dataclass(frozen=True)
class Event:
    kind: EventKind
    message: str
    diagnosis: Diagnosis | None = None
    finding: Finding | None = None


Fingerprint = tuple[tuple[str, int, int, int], ...]


def fingerprint(path: Path) -> Fingerprint | None:
    """(name, inode, size, mtime) of the file, or of every file under the directory; None if absent."""
    try:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            return tuple((str(p), *_stat(p)) for p in files)
        return ((str(path), *_stat(path)),)
    except FileNotFoundError:
        return None


def _stat(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def replaced(before: Fingerprint, now: Fingerprint) -> bool:
    """A file got a new inode or shrank: it was replaced, rotated, or truncated and rewritten."""
    old = {name: (ino, size) for name, ino, size, _ in before}
    return any(name in old and (ino != old[name][0] or size < old[name][1]) for name, ino, size, _ in now)


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


def follow(
    path: str | Path,
    *,
    options: LoadOptions,
    config: WatchConfig,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Event]:
    """Events as the log grows; the last is `confirmed` (a finding in exit_on) or `timeout`."""
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose

    path = Path(path)
    began = clock()
    seen: Fingerprint | None = None
    said = ""
    while True:
        now = fingerprint(path)
        if now is None:
            message = f"{path}: does not exist (yet); waiting for it"
        elif now != seen:
            if seen is not None and replaced(seen, now):
                yield Event("replaced", f"{path}: the file was replaced or cut short; reading it again from the start")
            seen = now
            try:
                run = load(path, format=options.reader, metric=options.metric, segment=options.segment, lr=options.lr)
                dx = diagnose(run, config=options.config)
            except MissingMetric as exc:  # not logged yet (a validation loss, an epoch mean), or a wrong name
                if _misspelt(options.metric, exc):
                    raise
                message = f"{exc}; waiting for it to be logged (is the name right?)"
            except NotALog:  # binary data no log becomes by growing: bad input, not a wait
                raise
            except (UnreadableLog, NoSeries) as exc:  # empty, a header only, no loss yet: wait for more
                message = str(exc)
            else:
                message = ""
                yield Event("update", "", dx)
                hit = next((f for f in dx.findings if stops(f, config.exit_on)), None)
                if hit is not None:
                    yield Event("confirmed", f"{path}: {hit.pathology} confirmed: {hit.message}", dx, hit)
                    return
        else:
            message = said
        if message and message != said:
            yield Event("waiting", message)
        said = message
        left = math.inf if config.timeout is None else config.timeout - (clock() - began)
        if left <= 0:
            asked = ", ".join(config.exit_on) or "(no pathology asked for)"
            yield Event("timeout", f"{path}: nothing in {asked} within {config.timeout:g} s")
            return
        sleep(min(config.poll, left))  # the timeout is kept to, whatever the poll
