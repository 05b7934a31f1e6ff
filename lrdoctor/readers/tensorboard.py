"""TensorBoard event files (``events.out.tfevents.*``) and run directories, read without
tensorflow or tensorboard.

An event file is a sequence of TFRecords: ``uint64 length | masked CRC-32C of the length |
payload | masked CRC-32C of the payload`` (little-endian), each payload an ``Event`` protobuf
(see :mod:`lrdoctor.readers._protobuf`). Both checksums of every record are verified.

Scalars come in two forms, both read:

- ``simple_value`` (torch ``SummaryWriter.add_scalar``, tensorboardX, Lightning, HF, TF1);
- a one-element numeric tensor under the ``scalars`` plugin (torch ``new_style=True``, TF2 and
  Keras ``.v2`` files). TF2 writes the plugin metadata only with a tag's first value, so the
  plugin is remembered per tag; tensors of other plugins (histograms, images, text, hparams,
  graphs, profiles) are skipped. A one-element numeric tensor whose tag never names a plugin
  (its first record lost) is kept as a scalar.

Damage: a last record cut short (the writer was killed) is dropped with a warning; a record
with a bad checksum or payload is skipped with a warning and reading resumes at the next
offset where a whole valid record starts. A file without one valid record is unreadable.

Directories: every event file under the directory (a few levels deep) is read. Tags of files
in sub-directories are prefixed with the sub-directory, relative to the deepest directory
holding all the event files: torch ``add_scalars("loss", {"train": ...})`` writes tag
``loss`` into ``run/loss_train/``, read as ``loss_train/loss``; Keras writes ``train/`` and
``validation/``, read as ``train/epoch_loss`` and ``validation/epoch_loss``; a directory
holding a single run directory gives unprefixed tags. Several files in one directory (a
resumed run) are merged. ``seq`` is the write order across files: the event wall time (made
non-decreasing within each file, non-finite times taking the last finite one), ties broken by
file order (the creation time in the name, then the path) and then record order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lrdoctor.errors import DamagedLog, LrdoctorError, Placeholder, UnreadableLog
from lrdoctor.readers import _ultralytics
from lrdoctor.readers._common import settings_beside
from lrdoctor.readers._protobuf import SIMPLE, DecodeError, decode_event, session_hparams
from lrdoctor.readers._scalar_batch import decode_scalar_batch
from lrdoctor.readers._tfrecord import HEADER_BYTES, Framing, find_record, frame, header_ok
from lrdoctor.readers.jsonl import LFS_MAGIC
from lrdoctor.run import Log, Series
from lrdoctor.source import Source, open_source

SCALAR_PLUGIN = b"scalars"
HPARAMS_PLUGIN = b"hparams"
_CREATED = re.compile(r"tfevents\.(\d+)")


@dataclass(frozen=True)
class Limits:
    # add_scalars writes run/<tag>_<key>/, add_hparams run/<time>/, HF runs/<run>/, so a
    # directory two or three levels above its event files is still a run directory.
    max_depth: int = 3
    # A bound on the directories looked at, so pointing at a large tree does not hang.
    max_dirs: int = 2000
    # Byte offsets named in one warning.
    shown_offsets: int = 5


LIMITS = Limits()


def sniff(head: bytes, name: str) -> bool:
    if len(head) < HEADER_BYTES:
        return "tfevents" in name.lower()
    if header_ok(head):
        return True
    # A damaged first record: the name, together with a whole valid record further on.
    return "tfevents" in name.lower() and find_record(head, 1) is not None


def in_dir(path: Path) -> Path | None:
    return path if _event_files(path, first_only=True) else None


def read(source: Source) -> Log:
    if source.is_dir:
        return _read_dir(source)
    data = source.read_bytes()
    acc = _Accumulator()
    if not acc.add(data, source.label, prefix=""):
        raise UnreadableLog(
            f"{source.label}: no valid TensorBoard record (length, checksums, event) in "
            f"{len(data)} bytes; is this an event file?"
        )
    return _with_settings(acc.log(source.label), source.path)


def _with_settings(log: Log, beside: Path | None) -> Log:
    """The settings of a Lightning TensorBoardLogger's hparams.yaml beside the events (those the
    events carry themselves, add_hparams', prevail)."""
    found = settings_beside(beside)
    return dataclasses.replace(log, hparams={**found, **log.hparams}) if found else log


def _read_dir(source: Source) -> Log:
    assert source.path is not None
    files = sorted(_event_files(source.path, first_only=False), key=_file_order)
    if not files:
        raise UnreadableLog(f"{source.label}: no TensorBoard event file (*tfevents*) in this directory")
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    acc = _Accumulator()
    refused: list[str] = []
    torn = 0  # files with bytes in them and no valid record
    pointers = 0  # Git LFS pointers in place of event files
    for path in files:
        rel = path.parent.relative_to(root).as_posix()
        try:
            file_source = open_source(path)
            data = file_source.read_bytes()
        except LrdoctorError as exc:
            acc.warnings.append(f"{exc}; file skipped")
            refused.append(str(exc))
            continue
        acc.warnings.extend(file_source.notes)
        if data.startswith(LFS_MAGIC):  # (a clone without Git LFS: no damage, nothing written here)
            refused.append(f"{path}: a Git LFS pointer, not the event file; run `git lfs pull`")
            acc.warnings.append(f"{refused[-1]}; file skipped")
            pointers += 1
            continue
        if not acc.add(data, str(path), prefix="" if rel == "." else rel + "/"):
            acc.warnings.append(f"{path}: no valid TensorBoard record; file skipped")
            torn += 1
    if not acc.records:
        why = f" ({refused[0]}{'; and others' if len(refused) > 1 else ''})" if refused else ""
        # Files the writer named and wrote into, none of it readable: the run's log, damaged (as one
        # such file named alone is), not a folder that holds no training log.
        # Pointers alone stand in for a run's log that was never fetched.
        error = DamagedLog if torn else Placeholder if pointers == len(files) else UnreadableLog
        raise error(f"{source.label}: none of the {len(files)} event file(s) holds a valid record{why}")
    return _with_settings(acc.log(source.label), source.path / "events")


def _file_order(path: Path) -> tuple[int, str]:
    found = _CREATED.search(path.name)
    return (int(found.group(1)) if found else 0, str(path))


def event_files(root: Path) -> list[Path]:
    """Every event file under a run directory, as the directory reader finds them."""
    return _event_files(root, first_only=False)


def _event_files(root: Path, *, first_only: bool) -> list[Path]:
    found: list[Path] = []
    pending = [(root, 0)]
    seen = 0
    while pending and seen < LIMITS.max_dirs:
        folder, depth = pending.pop()
        seen += 1
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth < LIMITS.max_depth and not entry.name.startswith("."):
                        pending.append((Path(entry.path), depth + 1))
                elif "tfevents" in entry.name and entry.is_file():
                    found.append(Path(entry.path))
                    if first_only:
                        return found
            except OSError:
                continue
    return found


# --- decoding and merging --------------------------------------------------------------


@dataclass
class _FileData:
    """The points of one file, in write order: record number, tag number, step, value, kind."""

    walls: np.ndarray  # per valid record; NaN for one that gave no wall time
    records: np.ndarray
    tags: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    kinds: np.ndarray
    names: list[str]  # tag number -> series name
    undecodable: list[int] = field(default_factory=list)


def _decode_file(buf: bytes, framing: Framing, prefix: str, acc: _Accumulator) -> _FileData:
    starts, lengths = framing.starts, framing.lengths
    batch = decode_scalar_batch(buf, starts, lengths)
    walls = np.full(len(starts), np.nan)
    fast = np.flatnonzero(batch.ok)
    walls[fast] = batch.walls
    index: dict[bytes, int] = {}
    fast_tags = tag_numbers(buf, batch.tag_starts, batch.tag_lens, index)
    slow = _decode_slow(buf, starts, lengths, np.flatnonzero(~batch.ok).tolist(), walls, index, prefix, acc)
    records = np.concatenate([fast, np.asarray(slow[0], dtype=np.int64)])
    order = np.argsort(records, kind="stable")

    def joined(first: np.ndarray | list[int], rest: list[Any], dtype: type) -> np.ndarray:
        return np.concatenate([np.asarray(first, dtype=dtype), np.asarray(rest, dtype=dtype)])[order]

    return _FileData(
        walls=walls,
        records=records[order],
        tags=joined(fast_tags, slow[1], np.int64),
        steps=joined(batch.steps, slow[2], np.float64),
        values=joined(batch.values, slow[3], np.float64),
        kinds=joined(batch.kinds, slow[4], np.int8),
        names=[prefix + tag.decode("utf-8", "replace") for tag in index],
        undecodable=slow[5],
    )


# Distinct tags numbered with whole-array comparisons; a file with more goes on one record at a time.
TAG_PASSES = 64


def tag_numbers(buf: bytes, starts: np.ndarray, lens: np.ndarray, index: dict[bytes, int]) -> np.ndarray:
    """The number of each record's tag `buf[start:start+len]` in `index`, new tags numbered in
    the order they first appear. One pass per distinct tag compares it with every record still
    unnumbered at once (a log has a few tags over a million records)."""
    data = np.frombuffer(buf, dtype=np.uint8)
    numbers = np.full(len(starts), -1, dtype=np.int64)
    left = np.arange(len(starts))
    for _ in range(TAG_PASSES):
        if not len(left):
            return numbers
        first = int(left[0])
        start, size = int(starts[first]), int(lens[first])
        tag = buf[start : start + size]
        same = left[lens[left] == size]
        equal = (data[starts[same, None] + np.arange(size)] == np.frombuffer(tag, dtype=np.uint8)).all(axis=1)
        numbers[same[equal]] = index.setdefault(tag, len(index))
        left = left[numbers[left] < 0]
    for i in left.tolist():
        numbers[i] = index.setdefault(buf[int(starts[i]) : int(starts[i]) + int(lens[i])], len(index))
    return numbers


def _decode_slow(
    buf: bytes,
    starts: np.ndarray,
    lengths: np.ndarray,
    rows: list[int],
    walls: np.ndarray,
    index: dict[bytes, int],
    prefix: str,
    acc: _Accumulator,
) -> tuple[list[int], list[int], list[float], list[float], list[int], list[int]]:
    """Records of any layout, one at a time; tensors and plugin metadata are noted here."""
    records: list[int] = []
    tags: list[int] = []
    steps: list[float] = []
    values: list[float] = []
    kinds: list[int] = []
    bad: list[int] = []
    for row in rows:
        start = int(starts[row])
        try:
            wall, step, found = decode_event(buf, start, start + int(lengths[row]))
        except (DecodeError, IndexError, struct.error):
            bad.append(start - HEADER_BYTES)
            continue
        walls[row] = wall
        for tag, kind, number, plugin, content in found:
            if plugin is not None:
                acc.note_plugin(prefix + tag.decode("utf-8", "replace"), plugin, content)
            if kind:
                records.append(row)
                tags.append(index.setdefault(tag, len(index)))
                steps.append(float(step))
                values.append(number)
                kinds.append(kind)
    return records, tags, steps, values, kinds, bad


class _Accumulator:
    """Every file read so far; merged into one Log at the end."""

    def __init__(self) -> None:
        self.files: list[_FileData] = []
        self.plugins: dict[str, bytes] = {}  # series name -> the first plugin named for it
        self.hparams: dict[str, float | str | bool] = {}
        self.warnings: list[str] = []
        self.records = 0  # valid, decodable records in all files

    def add(self, buf: bytes, label: str, *, prefix: str) -> int:
        """Read one file's records; the number of valid ones (none: the file is left out)."""
        framing = frame(buf)
        data = _decode_file(buf, framing, prefix, self)
        valid = len(framing.starts) - len(data.undecodable)
        if valid:
            self.files.append(data)
            self.records += valid
            self.warnings.extend(_warnings(label, framing, data.undecodable))
        return valid

    def note_plugin(self, name: str, plugin: bytes, content: bytes) -> None:
        if plugin:
            self.plugins.setdefault(name, plugin)
        if plugin == HPARAMS_PLUGIN and content:
            # Hyperparameters are a courtesy: a damaged set is left out.
            with contextlib.suppress(DecodeError, IndexError, struct.error):
                self.hparams.update(session_hparams(content))

    def log(self, label: str) -> Log:
        seq = _seq([f.walls for f in self.files])
        ids: dict[str, int] = {}
        gid, pseq = [], []
        base = 0
        for data in self.files:
            remap = np.asarray([ids.setdefault(n, len(ids)) for n in data.names], dtype=np.int64)
            gid.append(remap[data.tags] if len(data.tags) else data.tags)
            pseq.append(seq[base + data.records])
            base += len(data.walls)
        series = _series(
            list(ids),
            np.concatenate(gid),
            np.concatenate(pseq),
            *(np.concatenate([getattr(f, k) for f in self.files]) for k in ("steps", "values", "kinds")),
            plugins=self.plugins,
        )
        warnings = list(self.warnings)
        series = _place_stepless(series, label, warnings)
        if not series:
            kinds = ", ".join(sorted({p.decode("utf-8", "replace") for p in self.plugins.values()}))
            warnings.append(f"{label}: no scalar summaries in {self.records} record(s) ({kinds or 'no'} plugin data)")
        if _ultralytics.in_events(series):  # (a point per epoch, at the epoch)
            hints = _ultralytics.totals(series, label, warnings)
            return Log(label, "tensorboard", series, "epoch", warnings, hparams=dict(self.hparams), hints=hints)
        return Log(label, "tensorboard", series, step_kind="step", warnings=warnings, hparams=dict(self.hparams))


def _place_stepless(series: dict[str, Series], label: str, warnings: list[str]) -> dict[str, Series]:
    """Series written without a step (add_scalar(tag, value) writes step 0) beside series with
    steps: each point at the step of the last point of the longest stepped series written before
    it (an evaluation after the training steps it followed), not every one at step 0, where only
    the latest of them would be kept."""
    stepped = [s for s in series.values() if len(s) >= 2 and np.ptp(s.steps) > 0]
    if not stepped:
        return series
    ref = max(stepped, key=len)
    order = np.argsort(ref.seq, kind="stable")
    ref_seq, ref_steps = ref.seq[order], ref.steps[order]
    out = dict(series)
    for name, s in series.items():
        # (sparse ones only, evaluations: a series as dense as the reference has no steps to borrow,
        # and a couple of points at step 0 may be an epoch written again on a resume)
        if len(s) < 3 or len(s) * 4 > len(ref) or not (s.steps == 0).all():
            continue
        at = np.searchsorted(ref_seq, s.seq, side="right") - 1
        out[name] = Series(name, np.where(at >= 0, ref_steps[np.maximum(at, 0)], ref_steps[0]), s.values, s.seq)
        warnings.append(
            f"{label}: {name!r} was written without a step (its {len(s)} points all at step 0); each is "
            f"placed at the step of the {ref.name!r} point written before it"
        )
    return out


def _series(
    names: list[str],
    gid: np.ndarray,
    seq: np.ndarray,
    steps: np.ndarray,
    values: np.ndarray,
    kinds: np.ndarray,
    *,
    plugins: dict[str, bytes],
) -> dict[str, Series]:
    """Points grouped by series, each in write order, the series in the order of their first
    point; tensors kept only for scalar plugins."""
    order = np.lexsort((seq, gid))  # by series, then write order (stable: value order within an event)
    cuts = np.flatnonzero(np.diff(gid[order])) + 1
    found: list[tuple[float, int, Series]] = []
    for part in np.split(order, cuts) if len(order) else []:
        name = names[int(gid[part[0]])]
        if plugins.get(name, SCALAR_PLUGIN) != SCALAR_PLUGIN:
            part = part[kinds[part] == SIMPLE]
        if len(part):
            found.append((float(seq[part[0]]), int(part[0]), Series(name, steps[part], values[part], seq[part])))
    return {item[2].name: item[2] for item in sorted(found, key=lambda item: item[:2])}


def _seq(walls_per_file: list[np.ndarray]) -> np.ndarray:
    """Global write rank of every record (see the module docstring)."""
    walls = []
    for file_walls in walls_per_file:
        clean = np.where(np.isfinite(file_walls), file_walls, -np.inf)
        walls.append(np.maximum.accumulate(clean) if len(clean) else clean)
    files = np.concatenate([np.full(len(w), i, dtype=np.int64) for i, w in enumerate(walls)])
    wall = np.concatenate(walls)
    order = np.lexsort((np.arange(len(wall)), files, wall))
    rank = np.empty(len(wall), dtype=np.float64)
    rank[order] = np.arange(len(wall), dtype=np.float64)
    return rank


def _warnings(label: str, framing: Framing, undecodable: list[int]) -> list[str]:
    out = []
    if framing.damaged:
        out.append(
            f"{label}: skipped {framing.skipped_bytes} damaged byte(s) at {_offsets(framing.damaged)}; "
            "reading resumed at the next valid record"
        )
    if framing.bad_payload:
        out.append(
            f"{label}: skipped {len(framing.bad_payload)} record(s) with a bad checksum "
            f"at {_offsets(framing.bad_payload)}"
        )
    if undecodable:
        out.append(f"{label}: skipped {len(undecodable)} record(s) holding no valid event at {_offsets(undecodable)}")
    if framing.truncated is not None:
        offset, have, need = framing.truncated
        out.append(
            f"{label}: the last record (byte offset {offset}) is cut short, {have} of {need} bytes "
            "(the writer was probably stopped mid-write); dropped"
        )
    return out


def _offsets(offsets: list[int]) -> str:
    """'byte offset 12' or 'byte offsets 12, 80, ... and 3 more'."""
    shown = LIMITS.shown_offsets
    text = ", ".join(str(o) for o in offsets[:shown])
    more = f" and {len(offsets) - shown} more" if len(offsets) > shown else ""
    return f"byte offset{'s' if len(offsets) > 1 else ''} {text}{more}"
