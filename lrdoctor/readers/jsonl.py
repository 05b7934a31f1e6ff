"""JSON Lines: one JSON object per line (detectron2's metrics.json, W&B history, custom loggers).

A line cut short at the end (the trainer is still writing) or a corrupt line in the middle is
skipped and named in a warning; blank lines are ignored. The step comes from a step key
(`step`, `iteration`, `global_step`, `_step`, ...), else the epoch, else the record number; a
record with only an epoch, written between records with steps (a validation loss at each
epoch's end), takes the step written before it.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from lrdoctor.errors import NoSeries, Placeholder, UnreadableLog
from lrdoctor.readers import _jsonlfast, _long
from lrdoctor.readers._common import (
    FAST_LOADS,
    columns_to_series,
    rows_to_series,
    unfinished_note,
)
from lrdoctor.run import Log, Series, StepKind
from lrdoctor.source import Source, as_utf8, decode_text, head_regular, padded_copy

LFS_MAGIC = b"version https://git-lfs.github.com/spec/"
SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
# Files a training script commonly writes as JSON Lines, in order of preference.
DIR_NAMES = ("metrics.jsonl", "metrics.json", "log.jsonl", "history.jsonl", "train_log.jsonl", "scalars.json")
# mmengine's run folder (<work_dir>/<timestamp>/) keeps its scalars in vis_data/scalars.json, and
# a copy of them in vis_data/<timestamp>.json beside it, with the text log <timestamp>.log.
MMENGINE_SCALARS = Path("vis_data") / "scalars.json"
RAY_RESULT = "result.json"
# Keys Ray Tune writes into every result record.
RAY_KEYS = frozenset({"training_iteration", "trial_id"})
RAY_FIRST_BYTES = 1 << 22
# Nested objects in a record ({"train": {"loss": 1.2}}) become "train/loss"; deeper than this
# is not a metric record.
MAX_NESTING = 8
# Lists of numbers inside a record (one learning rate per parameter group) become "lr/0", "lr/1".
MAX_LIST_ITEMS = 64
# How many bad line numbers a warning spells out.
SHOWN_LINES = 5
# A bad line is searched for a whole record glued after a cut-short one: at most this many
# '{' positions, on lines of at most this many bytes (a record is a few hundred bytes).
MAX_GLUED_TRIES = 16
MAX_GLUED_LINE = 1 << 20


def sniff(head: bytes, name: str) -> bool:
    """The first non-blank line is a whole JSON object and another line starts with '{'."""
    lines = _head_lines(head)
    if not lines:
        return False
    if _is_object(lines[0]):
        return (len(lines) > 1 and lines[1].lstrip().startswith("{")) or has_jsonl_suffix(name)
    # A first line longer than the head, or one that is not a whole object (torn, nested too
    # deep): only the name can tell, and whole objects on the lines after it.
    return (
        lines[0].lstrip().startswith("{")
        and has_jsonl_suffix(name)
        and (len(lines) == 1 or any(line.startswith("{") and _is_object(line) for line in lines[1:]))
    )


def read(source: Source) -> Log:
    if source.data is not None or source.gzipped:  # in memory once: parse tries both ways
        return parse(source.read_bytes(), source.label)
    padded = source.read_padded(_jsonlfast.PAD_BEFORE, _jsonlfast.PAD_AFTER, min_size=_jsonlfast.MIN_BYTES)
    if padded is not None:
        log = _columnar(padded, source.label)
        if log is not None:
            return log
        del padded
    return parse(source.read_bytes(), source.label, columnar=False)


def in_dir(path: Path) -> Path | None:
    """A known JSON Lines file name in `path` (detectron2's metrics.json, mmengine's
    vis_data/scalars.json, a Ray Tune trial's result.json), else its one *.jsonl."""
    for name in (*DIR_NAMES, MMENGINE_SCALARS):
        candidate = path / name
        if candidate.is_file() and _file_sniffs(candidate):
            return candidate
    ray = claims_dir(path)
    if ray is not None:
        return ray
    found = sorted(p for p in path.glob("*") if p.suffix in SUFFIXES and p.is_file())
    return found[0] if len(found) == 1 else None


def claims_dir(path: Path) -> Path | None:
    """A Ray Tune trial folder's result.json (a record per report), beside its params.json: the
    trial's log, of which the progress.csv there is a flattened copy (lrdoctor.readers.claimed)."""
    found = path / RAY_RESULT
    if not (path / "params.json").is_file() or not found.is_file():
        return None
    try:
        with found.open("rb") as fh:
            first = fh.readline(RAY_FIRST_BYTES)  # (a config may be large)
    except PermissionError:  # the trial's own log, which reading will say it cannot open
        return found
    except OSError:
        return None
    try:
        record = json.loads(first)
    except ValueError:
        return None
    return found if isinstance(record, dict) and set(record) >= RAY_KEYS else None


def parse(data: bytes, label: str, *, columnar: bool = True) -> Log:
    """Every JSON object line of `data` as series; bad lines skipped and reported. A large
    file of one numeric layout is read as columns first, when `columnar`."""
    reject_lfs_pointer(data, label)
    data = as_utf8(data)
    if columnar and len(data) >= _jsonlfast.MIN_BYTES:
        log = _columnar(padded_copy(data, _jsonlfast.PAD_BEFORE, _jsonlfast.PAD_AFTER), label)
        if log is not None:
            return log
    lines = _Lines(_last_line_number(data))
    records = _whole_file(data, lines)
    if records is None:
        records = list(lines.records(data.split(b"\n")))
    unplaced: list[int] = []
    layout = _long.records_layout(records)
    if layout is not None:  # a row per point, the metric named in a column
        series, kind, notes = _long.pivot_records(records, layout, label)
        log = _log(label, series, kind, lines, unplaced)
        return dataclasses.replace(log, warnings=[*log.warnings, *notes])
    empty: list[str] = []
    series, kind = rows_to_series(records, unplaced=unplaced, empty=empty)
    return _log(label, series, kind, lines, unplaced, empty)


def _columnar(padded: bytearray, label: str) -> Log | None:
    """The log of a large file whose every line holds the same numeric keys in the same order,
    read without a dict per record (see _jsonlfast); None for any other file."""
    found = _jsonlfast.uniform_columns(padded)
    if found is None:
        return None
    names, values, first = found
    lines = _Lines(0)
    lines.count = values.shape[1]
    lines.numbers = range(first, first + lines.count)
    present = np.ones(lines.count, dtype=bool)
    unplaced: list[int] = []
    columns = {name: (row, present) for name, row in zip(names, values, strict=True)}
    series, kind = columns_to_series(columns, lines.count, unplaced=unplaced)
    return _log(label, series, kind, lines, unplaced)


def _log(
    label: str, series: dict[str, Series], kind: str, lines: _Lines, unplaced: list[int], empty: list[str] | None = None
) -> Log:
    """The log, or the error that says why there is none, with warnings for the lines left out;
    `empty`: keys null on every line that holds them (see json_reader._log)."""
    if not lines.count:
        if lines.bad:
            raise UnreadableLog(
                f"{label}:{lines.bad[0]}: not a JSON object; a JSON Lines log holds one object per line"
            )
        raise NoSeries(f"{label}: no records (the file holds only blank lines)")
    if not series and not empty:
        raise NoSeries(f"{label}: {lines.count} records, none with a numeric value")
    warnings = _bad_line_warnings(label, lines.bad, lines.last)
    if lines.salvaged:
        warnings.append(
            f"{label}: read {len(lines.salvaged)} record(s) written straight after a cut-short one "
            f"on the same line (line {_shown(lines.salvaged)})"
        )
    if unplaced:
        warnings.append(
            f"{label}: left out {len(unplaced)} record(s) whose step is not a finite number "
            f"(line {_shown([lines.numbers[i] for i in unplaced])})"
        )
    planned = series.get("total_steps")  # LLaMA-Factory's trainer_log.jsonl
    if planned is not None and "current_steps" in series and kind == "step" and len(planned):
        last = float(np.nanmax(series["current_steps"].values))
        note = unfinished_note(label, "step", last, float(planned.values[-1]), "total_steps")
        if note is not None:
            warnings.append(note)
    empty_columns = tuple(empty or ())
    return Log(
        source=label,
        format="jsonl",
        series=series,
        step_kind=cast(StepKind, kind),
        warnings=warnings,
        text_columns=empty_columns,
        empty_columns=empty_columns,
    )


def _whole_file(data: bytes, lines: _Lines) -> list[dict[str, Any]] | None:
    """Every line parsed in one call, for the usual file: each non-blank line one flat object,
    no blank lines between them, no NaN tokens. None for anything else, which is read a line at
    a time (bad lines skipped and named, nested objects flattened)."""
    if FAST_LOADS is None:
        return None
    start, end = len(data) - len(data.lstrip()), len(data.rstrip())
    if data[start : start + 1] != b"{" or data.find(b"[", start, end) >= 0:
        return None
    count = data.count(b"\n", start, end) + 1
    if data.count(b"{", start, end) != count:  # a nested object, or a line with two records
        return None
    # One JSON array of the lines: '[' + lines joined by ',' + ']', built with one copy.
    joined = bytearray(end - start + 2)
    joined[0], joined[1:-1], joined[-1] = ord("["), memoryview(data)[start:end], ord("]")
    raw = np.frombuffer(joined, dtype=np.uint8)
    raw[raw == ord("\n")] = ord(",")
    try:
        records = FAST_LOADS(joined)
    except ValueError:  # a bad or blank line, a NaN token: line by line
        return None
    if len(records) != count or set(map(type, records)) != {dict}:
        return None
    first = data[: len(data) - len(data.lstrip())].count(b"\n") + 1
    lines.count = count
    lines.numbers = range(first, first + count)
    return records


def reject_lfs_pointer(data: bytes, label: str) -> None:
    """A Git LFS pointer stands in for a file that was never fetched: say so."""
    if not data.lstrip(codecs.BOM_UTF8).startswith(LFS_MAGIC):
        return
    size = next(
        (
            ln.split()[1].decode(errors="replace")
            for ln in data.splitlines()
            if ln.startswith(b"size ") and len(ln.split()) == 2
        ),
        "?",
    )
    raise Placeholder(
        f"{label}: a Git LFS pointer (to a file of {size} bytes), not the log itself; "
        "run `git lfs pull` in its repository to fetch the real file"
    )


def flatten(record: Mapping[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested objects and short number lists as flat 'outer/inner' and 'name/0' keys."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth < MAX_NESTING:
                flat.update(flatten(value, f"{name}/", depth + 1))
        elif isinstance(value, list):
            if 0 < len(value) <= MAX_LIST_ITEMS:
                flat.update((f"{name}/{i}", item) for i, item in enumerate(value) if not isinstance(item, dict | list))
        else:
            flat[name] = value
    return flat


def has_jsonl_suffix(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


class _Lines:
    """Parses lines into records, counting the good ones and noting the bad line numbers."""

    def __init__(self, last: int) -> None:
        self.last = last  # the last non-blank line: if bad, it is unfinished, not damaged
        self.count = 0
        self.bad: list[int] = []
        self.numbers: Sequence[int] = ()  # the line number of each record yielded
        self.salvaged: list[int] = []  # lines where a whole record followed a cut-short one
        self._keys: set[str] = set()  # keys of the record before, to check a salvaged one

    def records(self, lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        fast = FAST_LOADS
        numbers: list[int] = []
        self.numbers = numbers
        for number, line in enumerate(lines, start=1):
            record: Any = None
            if fast is not None:
                try:
                    record = fast(line)
                except ValueError:
                    record = None
            if record is None:
                if not line.strip():
                    continue
                record = _slow_loads(line)
                if record is not None:
                    fast = None  # NaN tokens: this writer uses them, json alone from here on
            if type(record) is not dict:
                self.bad.append(number)
                record = _glued_record(line, self._keys) if number != self.last else None
                if record is None:
                    continue
                self.salvaged.append(number)
            self._keys = set(record)
            self.count += 1
            numbers.append(number)
            # A byte test first: most records hold no nested object or list.
            nested = b"[" in line or line.count(b"{") > 1
            if nested and any(isinstance(v, dict | list) for v in record.values()):
                record = flatten(record)
            yield record


def _glued_record(line: bytes, keys: set[str]) -> dict[str, Any] | None:
    """A whole record at the end of a bad line, after a record cut short (a writer killed
    mid-line, then restarted in append mode). Most of its keys must be those of the record
    before it, and a line that closing braces would complete (a record cut only at its end)
    is never searched, so that an inner object of a cut record is not taken for a record."""
    if not keys or len(line) > MAX_GLUED_LINE:
        return None
    if any(_slow_loads(line.rstrip() + b"}" * k) is not None for k in range(1, 4)):
        return None
    start = line.find(b"{", 1)
    for _ in range(MAX_GLUED_TRIES):
        if start < 0:
            return None
        record = _slow_loads(line[start:])
        if type(record) is dict and 2 * len(keys & set(record)) > len(record):
            return record
        start = line.find(b"{", start + 1)
    return None


def _shown(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers[:SHOWN_LINES]) + (", ..." if len(numbers) > SHOWN_LINES else "")


def _slow_loads(line: bytes) -> Any:
    try:
        return json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def _bad_line_warnings(label: str, bad: list[int], last: int) -> list[str]:
    if not bad:
        return []
    warnings = []
    if bad[-1] == last:
        bad = bad[:-1]
        warnings.append(f"{label}:{last}: the last line is cut short (still being written?); skipped")
    if bad:
        warnings.append(f"{label}: skipped {len(bad)} line(s) that are not whole JSON objects (line {_shown(bad)})")
    return warnings


def _last_line_number(data: bytes) -> int:
    """The number of the last non-blank line."""
    stripped = data.rstrip()
    return stripped.count(b"\n") + 1 if stripped else 0


def _head_lines(head: bytes, most: int = 2) -> list[str]:
    """The first non-blank lines of the head (the last may be cut short)."""
    lines: list[str] = []
    for line in decode_text(head).lstrip("\ufeff").split("\n"):
        if line.strip():
            lines.append(line)
            if len(lines) == most:
                break
    return lines


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _file_sniffs(path: Path) -> bool:
    try:
        head = head_regular(path)
    except OSError:
        return False
    return head is not None and sniff(head, path.name)
