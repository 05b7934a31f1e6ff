"""W&B's own record of a run, ``run-<id>.wandb``, which the wandb client writes into the run's
local folder (``wandb/run-<time>-<id>/``, ``wandb/offline-run-<time>-<id>/``), online or not.

The file is a log of records in 32 KiB blocks, as LevelDB writes its logs: a 7-byte file header
(``:W&B``, 0xBEE1, version 0), then record chunks, each behind a 7-byte header: the CRC-32 of
its type byte and data, the data's length (2 bytes), and its type (the whole record, or its
first, a middle or its last part). A chunk header never straddles a block: a block's last 6
bytes or fewer are padding. Each record is a protobuf ``Record``, of which only this is decoded:

    Record:        history=2 HistoryRecord, config=5 ConfigRecord, metric=12 MetricRecord,
                   run=17 RunRecord, exit=18
    HistoryRecord: item=1 repeated HistoryItem, step=2 HistoryStep {num=1}
    MetricRecord:  name=1, glob_name=2, step_metric=4 (wandb.define_metric)
    HistoryItem:   key=1 string, nested_key=2 repeated string, value_json=16 string
    ConfigRecord:  update=1 repeated ConfigItem {key=1, nested_key=2, value_json=16}
    RunRecord:     config=4 ConfigRecord
    RunExitRecord: exit_code=1 int32

A history row's numbers are its series (a nested key is joined with '.', as W&B shows it; the
size fields of an image or table are no metrics), on the step metric the run declared with
``define_metric`` (Lightning's ``trainer/global_step``), else on W&B's ``_step``; the run's config
is its hyper-parameters. A chunk that fails its checksum costs its record, and a file cut while
written (the run killed or still running) keeps every whole record, each said in a warning.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lrdoctor.errors import DamagedLog, NoSeries
from lrdoctor.readers._common import EPOCH_KEYS, rows_to_series
from lrdoctor.readers._protobuf import DecodeError, fields, skip_value, varint
from lrdoctor.run import Log, StepKind
from lrdoctor.source import Source

MAGIC = b":W&B\xe1\xbe"  # the identifier and the 0xBEE1 magic, little-endian; a version byte follows
FILE_HEADER = 7
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_CHUNK = struct.Struct("<IHB")
# Record fields.
HISTORY, SUMMARY, CONFIG, METRIC, RUN, EXIT = 2, 3, 5, 12, 17, 18
RUN_CONFIG = 4
# How many damaged offsets a warning spells out.
SHOWN = 5
# HistoryItem.value_json's key: field 16, wire type 2, as a two-byte varint.
VALUE_KEY = bytes((0x82, 0x01))
NUMBER_START = frozenset(b"-0123456789NI")
# The key each row's place on a declared step metric is kept under (no series: it opens with '_').
AXIS = "_axis"
# Config values nested deeper than this are left as they are.
MAX_NESTING = 4


def sniff(head: bytes, name: str) -> bool:
    return head.startswith(MAGIC)


def in_dir(path: Path) -> Path | None:
    """A W&B run folder's run-<id>.wandb."""
    try:
        found = sorted(p for p in path.glob("run-*.wandb") if p.is_file())
    except OSError:
        return None
    return found[0] if found else None


def read(source: Source) -> Log:
    data = source.read_bytes()
    label = source.label
    records, damage = _records(data, label)
    rows: list[dict[str, float]] = []
    hparams: dict[str, Any] = {}
    exit_code: int | None = None
    step_metrics: dict[str, str] = {}  # metric name (or glob) -> its declared step metric
    undecodable = 0
    names: dict[bytes, str] = {}
    for record in records:
        try:
            rtype, start = _record_kind(record)
            if rtype == SUMMARY:  # (as many as the history rows, and of no use here)
                continue
            if rtype == HISTORY:
                size, a = record[start], start + 1
                if size >= 0x80:
                    size, a = varint(record, start)
                rows.append(_history_row(record, a, a + size, names))
                continue
            for number, wire, a, b in fields(record, 0, len(record)):
                if wire != 2:
                    continue
                if number == HISTORY:
                    rows.append(_history_row(record, a, b, names))
                elif number == CONFIG:
                    hparams.update(_config(record, a, b))
                elif number == RUN:
                    for n, w, c, d in fields(record, a, b):
                        if n == RUN_CONFIG and w == 2:
                            hparams.update(_config(record, c, d))
                elif number == METRIC:
                    step_metrics.update(_step_metric(record, a, b))
                elif number == EXIT and wire == 2:
                    exit_code = next((v for n, w, v, _ in fields(record, a, b) if n == 1 and w == 0), 0)
        except (DecodeError, IndexError, UnicodeDecodeError):
            undecodable += 1
    warnings = [f"{label}: {message}" for message in damage]
    if undecodable:
        warnings.append(f"{label}: {undecodable} record(s) could not be decoded; skipped")
    if exit_code is None:
        warnings.append(f"{label}: no exit record: the run is still running, or was killed")
    elif exit_code:
        exit_code = exit_code - (1 << 64) if exit_code >= 1 << 63 else exit_code  # a negative int32, sign-extended
        warnings.append(f"{label}: the run exited with code {exit_code} (it failed or was stopped)")
    if not rows:
        raise NoSeries(f"{label}: a W&B run file with no logged metrics (no history rows)")
    axis = _axis(step_metrics, names.values())
    placed = _placed(rows, axis) if axis != "_step" else rows
    series, kind = rows_to_series(placed, step_keys=(AXIS if placed is not rows else axis,))
    series = {k: v for k, v in series.items() if not k.startswith("_")}
    if not series:
        raise NoSeries(f"{label}: a W&B run file whose history rows hold no numbers")
    step_kind: StepKind = "index" if kind == "index" else "epoch" if axis in EPOCH_KEYS else "step"
    return Log(label, "wandb", series, step_kind=step_kind, warnings=warnings, hparams=hparams)


def _record_kind(record: bytes) -> tuple[int, int]:
    """(the record type's field number, where its length starts) of a record that opens, as the
    client writes them, with its number (field 1) and then its type; (0, 0) for any other."""
    if record[:1] != b"\x08":
        return 0, 0
    pos = varint(record, 1)[1]
    key = record[pos] if pos < len(record) else 0
    return (key >> 3, pos + 1) if key & 7 == 2 and key < 0x80 else (0, 0)


def _step_metric(buf: bytes, pos: int, end: int) -> dict[str, str]:
    """{name or glob: step metric} of a MetricRecord that declares one."""
    name = step = ""
    for number, wire, a, b in fields(buf, pos, end):
        if wire == 2 and number in (1, 2) and not name:
            name = buf[a:b].decode()
        elif wire == 2 and number == 4:
            step = buf[a:b].decode()
    return {name: step} if name and step else {}


def _axis(step_metrics: dict[str, str], names: Iterable[str]) -> str:
    """The step the run declared for its training loss (by name, or by a glob such as 'train/*'),
    else for every metric ('*'), else W&B's own _step: a step declared for the validation loss
    alone (the epoch) is no axis for the training loss. `names`: every metric the rows hold."""
    from fnmatch import fnmatchcase

    from lrdoctor.naming import is_eval, names_a_loss

    losses = [k for k in names if names_a_loss(k) and not is_eval(k)]
    for loss in losses:
        if loss in step_metrics:
            return step_metrics[loss]
        for pattern, step in step_metrics.items():
            if pattern != "*" and fnmatchcase(loss, pattern):
                return step
    return step_metrics.get("*", "_step")


def _placed(rows: list[dict[str, float]], axis: str) -> list[dict[str, float]]:
    """Each row with its place on the axis under AXIS: its own value, or for a row without one (a
    validation row of a run on trainer/global_step) the axis's last value before it (its first,
    where none is), not its row number. The axis's own series keeps only what was logged."""
    last = next((row[axis] for row in rows if axis in row), None)
    if last is None:
        return rows
    out = []
    for row in rows:
        if axis in row:
            last = row[axis]
        out.append({**row, AXIS: last})
    return out


def _records(data: bytes, label: str) -> tuple[list[bytes], list[str]]:
    """Every whole record, and what was damaged or missing."""
    if not data.startswith(MAGIC) or len(data) < FILE_HEADER:
        raise DamagedLog(f"{label}: not a W&B run file (its header is missing)")
    records: list[bytes] = []
    bad: list[int] = []
    cut: int | None = None
    parts: list[bytes] | None = None
    pos = FILE_HEADER
    while pos < len(data):
        left = BLOCK - pos % BLOCK
        if left < CHUNK_HEADER:  # the block's padding
            pos += left
            continue
        if pos + CHUNK_HEADER > len(data):
            cut = pos
            break
        crc, size, kind = _CHUNK.unpack_from(data, pos)
        if crc == 0 and size == 0 and kind == 0:  # zeros: the rest of the block unused
            pos += left
            continue
        start = pos + CHUNK_HEADER
        if start + size > len(data) or size > left - CHUNK_HEADER:
            if start + size > len(data):
                cut = pos
                break
            bad.append(pos)  # a length that leaves its block: the header is damaged
            pos += left
            parts = None
            continue
        chunk = data[start : start + size]
        pos = start + size
        if zlib.crc32(chunk, zlib.crc32(bytes((kind,)))) != crc:
            bad.append(start - CHUNK_HEADER)
            parts = None
            continue
        if kind == FULL:
            records.append(chunk)
            parts = None
        elif kind == FIRST:
            parts = [chunk]
        elif kind in (MIDDLE, LAST) and parts is not None:
            parts.append(chunk)
            if kind == LAST:
                records.append(b"".join(parts))
                parts = None
    damage = []
    if bad:
        shown = ", ".join(str(o) for o in bad[:SHOWN]) + (", ..." if len(bad) > SHOWN else "")
        damage.append(f"{len(bad)} damaged record(s) skipped (at byte {shown})")
    if cut is not None or parts is not None:
        damage.append(
            "the file ends inside a record (still being written, or the run was killed); every whole record is read"
        )
    return records, damage


def _history_row(buf: bytes, pos: int, end: int, names: dict[bytes, str]) -> dict[str, float]:
    """A HistoryRecord's numbers by name. Walked inline (a run file holds a row per logged step);
    `names` caches each item's name by its encoded bytes, which repeat on every row."""
    row: dict[str, float] = {}
    media: list[str] = []  # an image's or a table's fields ('img._type', 'img.width'): no metrics
    step: float | None = None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key >= 0x80:
            key, pos = varint(buf, pos - 1)
        wire = key & 7
        if wire != 2:
            pos = skip_value(buf, pos, wire)
            continue
        size = buf[pos]
        pos += 1
        if size >= 0x80:
            size, pos = varint(buf, pos - 1)
        start, pos = pos, pos + size
        if pos > end:
            raise DecodeError("field runs past the end of its message")
        if key == 0x0A:  # item
            name, raw = _named_value(buf, start, pos, names)
            if name.endswith("._type"):
                media.append(name[: -len("_type")])
                continue
            value = _number(raw)
            if name and value is not None:
                row[name] = value
        elif key == 0x12:  # step
            step = float(next((v for n, w, v, _ in fields(buf, start, pos) if n == 1 and w == 0), 0))
    if "_step" not in row and step is not None:
        row["_step"] = step
    if media:
        row = {k: v for k, v in row.items() if not k.startswith(tuple(media))}
    return row


def _named_value(buf: bytes, pos: int, end: int, names: dict[bytes, str]) -> tuple[str, bytes]:
    """(name, value_json) of a HistoryItem whose name fields come before its value, as the
    client writes them; any other order through :func:`_item`."""
    at = buf.find(VALUE_KEY, pos, end)
    if at < 0 or at + 3 > end:
        name, raw = _item(buf, pos, end)
        return name, raw.encode()
    size, start = buf[at + 2], at + 3
    if size >= 0x80:
        size, start = varint(buf, at + 2)
    if start + size != end:  # not the last field: the general walk
        name, raw = _item(buf, pos, end)
        return name, raw.encode()
    head = buf[pos:at]
    cached = names.get(head)
    if cached is None:
        cached = names[head] = _item(buf, pos, at)[0]
    return cached, buf[start:end]


def _item(buf: bytes, pos: int, end: int) -> tuple[str, str]:
    """(name, value_json) of a HistoryItem or ConfigItem."""
    key, nested, raw = "", [], ""
    for number, wire, a, b in fields(buf, pos, end):
        if wire != 2:
            continue
        if number == 1:
            key = buf[a:b].decode()
        elif number == 2:
            nested.append(buf[a:b].decode())
        elif number == 16:
            raw = buf[a:b].decode()
    return key or ".".join(nested), raw


def _number(raw: bytes) -> float | None:
    """A history value's JSON as a number (W&B writes NaN and Infinity bare); None for anything
    else (text, flags, histograms, media)."""
    if not raw or raw[0] not in NUMBER_START:
        return None
    try:
        return float(raw)  # (JSON's numbers, and NaN, Infinity, -Infinity, are all float()'s)
    except ValueError:  # a list, a dict, text
        return None


def _config(buf: bytes, pos: int, end: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, wire, a, b in fields(buf, pos, end):
        if number == 1 and wire == 2:
            name, raw = _item(buf, a, b)
            if name.startswith("_") or not raw:
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            out.update(_flat(name, value, 0))
    return out


def _flat(name: str, value: Any, depth: int) -> Iterator[tuple[str, Any]]:
    """A config value as W&B shows it: a {"value": ..., "desc": ...} wrapper unwrapped, nested
    settings as 'optimizer.lr'."""
    if isinstance(value, dict) and "value" in value and set(value) <= {"value", "desc"}:
        value = value["value"]
    if isinstance(value, dict) and depth < MAX_NESTING:
        for key, inner in value.items():
            yield from _flat(f"{name}.{key}", inner, depth + 1)
    elif isinstance(value, int | float | str | bool) and not (isinstance(value, float) and math.isnan(value)):
        yield name, value
