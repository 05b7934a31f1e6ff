"""One reader per log format, behind an explicit registry; chosen by content, then by name.

Every reader is a module with three functions:

- ``sniff(head: bytes, name: str) -> bool``: does this (decompressed) start of a file look
  like my format? Content decides; the name only breaks ties.
- ``read(source: Source) -> Log``: every series as written.
- ``in_dir(path: Path) -> Path | None``: inside a directory, the file or directory I would
  read (a TensorBoard run directory, a Lightning version directory, ...), or None.

A reader may also define ``claims_dir(path: Path) -> Path | None``: the log that a directory's
own layout names as its run's (an Ultralytics run folder's results.csv, beside TensorBoard events
that hold the same run less well). A claim outranks the registry's order there, and marks the
directory as one run however its subfolders are named (:func:`claimed`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

import numpy as np

from lrdoctor.errors import (
    DamagedLog,
    EmptyLog,
    InputError,
    LrdoctorError,
    NotALog,
    Placeholder,
    UnknownFormat,
    UnreadableLog,
)
from lrdoctor.readers import csv_reader, json_reader, jsonl, mlflow, tensorboard, text, wandb
from lrdoctor.run import Log
from lrdoctor.source import Source, looks_binary, open_source


class Reader(Protocol):
    def sniff(self, head: bytes, name: str) -> bool: ...

    def read(self, source: Source) -> Log: ...

    def in_dir(self, path: Path) -> Path | None: ...


# Sniffing order: the most specific formats first, plain text last (it accepts anything).
READERS: dict[str, Reader] = {
    "tensorboard": tensorboard,
    "mlflow": mlflow,
    "wandb": wandb,
    "json": json_reader,
    "jsonl": jsonl,
    "csv": csv_reader,
    "text": text,
}


def read_log(path: str | Path, *, format: str | None = None) -> Log:
    """Read a log file, a run directory or '-' (standard input) into a :class:`Log`."""
    source = open_source(path)
    own_log = False
    chosen = None  # the reader a folder's own layout names for the file it found there
    if source.is_dir:
        name, source, owner = _from_dir(source, format)
        chosen = name if name == owner else None
        # A JSON state cut off while written is a damaged run; a metrics.csv that reads as no
        # log may be a stray table of that name (a torn CSV row is skipped, not an error).
        own_log = source.path is not None and source.path.name == json_reader.TRAINER_STATE
    elif source.path is not None:  # an event file, named as TensorBoard's writers name them
        own_log = source.path.name.startswith("events.out.tfevents.")
    if not source.is_dir:
        _refuse_placeholders(source)
    try:
        if not source.is_dir:  # an event file with no record, a cut state: sniffed as nothing
            name = _reader_name(format) if format is not None else chosen or sniff(source)
        log = _read_named(source, name, sniffed=format is None and chosen is None)
    except UnreadableLog as exc:
        if own_log and not isinstance(exc, EmptyLog):  # the run's own log, damaged: no stray file
            raise DamagedLog(str(exc)) from None
        raise
    except LrdoctorError:
        raise
    except RecursionError:
        raise UnreadableLog(f"{source.label}: nested too deeply to be a training log") from None
    except MemoryError:
        raise UnreadableLog(f"{source.label}: too large to read into memory") from None
    log.warnings[:0] = [n for n in source.notes if n not in log.warnings]
    log.warnings.extend(_precision_warnings(log))
    return log


# Names that say a file is a table, whatever its content reads as.
TABLE_NAME = re.compile(r"\.(csv|tsv)(\.gz)?$", re.IGNORECASE)


def _read_named(source: Source, name: str, *, sniffed: bool) -> Log:
    """The log `name`'s reader reads from `source`. A file named as a table that the sniffer sent to
    the text reader, and that holds no text log either, fails with the CSV reader's reason (rows of
    differing widths, no consistent separator), which says what is wrong with the table, rather
    than the text reader's, which asks for lines like 'step 10: loss 2.31'."""
    try:
        return READERS[name].read(source)
    except LrdoctorError:
        if not (sniffed and name == "text" and source.path is not None and TABLE_NAME.search(source.path.name)):
            raise
    return READERS["csv"].read(source)  # its error, where it fails too; its log, where it does not


# Integers above 2**53 are not all exactly representable as float64 steps.
EXACT_STEPS = 2.0**53


def _precision_warnings(log: Log) -> list[str]:
    """Steps so large that neighbouring integers share one float: they may look repeated."""
    for s in log.series.values():
        if len(s) and float(np.abs(s.steps).max()) > EXACT_STEPS:
            return [
                f"{log.source}: steps reach {float(np.abs(s.steps).max()):.4g}, beyond 2**53, where "
                "neighbouring integers cannot all be told apart; steps that merge may look like restarts"
            ]
    return []


LFS_POINTER = jsonl.LFS_MAGIC  # (one spelling: the JSON Lines and TensorBoard readers check it too)


def _refuse_placeholders(source: Source) -> None:
    """A Git LFS pointer committed in place of the log: say so, whatever the file is named."""
    head = source.head(1024)
    if head.startswith(LFS_POINTER):
        size = re.search(rb"^size (\d+)", head, re.MULTILINE)
        of = f" (to a file of {int(size.group(1))} bytes)" if size else ""
        raise Placeholder(f"{source.label}: a Git LFS pointer{of}, not the log itself; run `git lfs pull` to fetch it")


# How far the look at a file's start may grow to hold two complete lines: a header of 10,000
# columns (the most a CSV may have) at 60 characters each, and its first row.
SNIFF_MAX_BYTES = 4 * 1024 * 1024
_LINE_END = re.compile(rb"\r\n|\r|\n")


def _two_lines(head: bytes) -> bool:
    """At least two line ends before the last byte (a '\r\n' cut in two is not one): found by
    looking no further than the second, on every log longer than the first look."""
    ends = _LINE_END.finditer(head, 0, len(head) - 1)
    return next(ends, None) is not None and next(ends, None) is not None


ZIP_MAGIC = b"PK\x03\x04"
LIGHTNING_SETTINGS = "hparams.yaml"  # what a Lightning logger writes beside its metrics


def sniff(source: Source) -> str:
    """The registry name of the reader whose format `source` holds."""
    head = source.head()
    if not head.strip():
        raise UnreadableLog(f"{source.label}: the file is empty")
    size = len(head)
    # A header line longer than the head (a CSV of a thousand columns and more) is read whole:
    # a reader is told by its first complete lines.
    while size < SNIFF_MAX_BYTES and len(head) == size and not _two_lines(head):
        size *= 4
        head = source.head(size)
    if head.startswith(ZIP_MAGIC):  # (stored uncompressed, its members' text would pass for a CSV's)
        raise NotALog(f"{source.label}: a zip archive; extract the log from it and pass that file")
    if source.name.endswith(LIGHTNING_SETTINGS):  # (its settings read as one-point series, 'lr' among them)
        raise NotALog(
            f"{source.label}: a Lightning hparams.yaml, the run's settings, not its log; diagnose the "
            "metrics.csv beside it, or the version folder (which reads its lr from this file)"
        )
    for name, reader in READERS.items():
        if name != "text" and reader.sniff(head, source.name):
            return name
    if looks_binary(head):
        raise NotALog(
            f"{source.label}: binary data of no known log format "
            f"(readers: {', '.join(READERS)}); pass --reader NAME if it is one of them"
        )
    return "text"


def _reader_name(format: str) -> str:
    key = format.lower().replace("_", "-")
    aliases = {
        "tb": "tensorboard",
        "tfevents": "tensorboard",
        "hf": "json",
        "hf-trainer-state": "json",
        "trainer-state": "json",
        "lightning-csv": "csv",
        "keras-csv": "csv",
        "wandb-csv": "csv",
        "txt": "text",
        "log": "text",
        "ndjson": "jsonl",
        "json-lines": "jsonl",
    }
    key = aliases.get(key, key)
    if key not in READERS:
        raise UnknownFormat(f"unknown reader {format!r}; choose one of: {', '.join(READERS)}")
    return key


# The files a run writes as its own log, named so by their writers: one with nothing in it (not
# even a header) is a run that logged nothing yet. Other names a folder reader takes (a
# summary.csv, an mlflow.db) may be strays beside the runs.
RUN_LOGS = ("metrics.csv", "trainer_state.json")


def _logged_nothing(name: str, found: Path) -> str:
    """What says a run logged nothing: a Lightning version whose metrics.csv, an HF output whose
    trainer_state.json, is empty or blank; a TensorBoard run whose event files all are."""
    if found.is_dir():
        files = tensorboard.event_files(found) if name == "tensorboard" else []
        return f"its {len(files)} event file(s) are empty" if files and all(_blank(p) for p in files) else ""
    return "the run's log is empty" if found.name in RUN_LOGS and _blank(found) else ""


def _blank(path: Path, most: int = 1 << 20) -> bool:
    """Nothing but white space (read up to `most` bytes: a longer file is taken for not blank)."""
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(65536), b""):
                if chunk.strip() or fh.tell() > most:
                    return False
        return True
    except OSError:
        return False  # reading it says what is wrong with it


def claimed(path: Path) -> str | None:
    """The reader whose format the directory's own layout names as its run's log, or None."""
    for name, reader in READERS.items():
        claims = getattr(reader, "claims_dir", None)
        try:
            if claims is not None and claims(path) is not None:
                return name
        except OSError:  # a folder that cannot be looked into: reading it says so
            return None
    return None


def _from_dir(source: Source, format: str | None) -> tuple[str, Source, str | None]:
    """(the reader, the log it reads in the folder, the reader the folder's own layout names)."""
    assert source.path is not None
    if not os.access(source.path, os.R_OK | os.X_OK):  # its files cannot even be looked at
        raise InputError(f"{source.label}: permission denied")
    names = [_reader_name(format)] if format else list(READERS)
    owner = None if format else claimed(source.path)
    if owner is not None:
        names = [owner, *(n for n in names if n != owner)]
    for name in names:
        found = READERS[name].in_dir(source.path)
        if found is not None:
            label = source.label if found == source.path else str(found)
            nothing = _logged_nothing(name, found)
            if nothing:  # a run that logged nothing yet, not a stray folder
                raise EmptyLog(f"{label}: {nothing} (nothing written yet)")
            if found.is_dir():
                return name, Source(label, path=found), owner
            opened = open_source(found)
            note = json_reader.state_note(source.path, found) if name == "json" else None
            if note is not None:
                opened.notes.append(note)
            return name, opened, owner
    raise UnreadableLog(
        f"{source.label}: no training log found in this directory (looked for TensorBoard event "
        "files, metrics.csv, trainer_state.json, MLflow metrics/ and mlflow.db, a W&B run-*.wandb); "
        "name the file instead"
    )
