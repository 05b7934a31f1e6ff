"""One JSON document: HuggingFace's trainer_state.json, a list of records, or a dict of lists.

- ``{"log_history": [...], "global_step": ...}`` (HF Trainer, TRL): training entries
  ``{loss, learning_rate, grad_norm, epoch, step}``, evaluation entries ``{eval_loss, ...}``;
  the closing summary ``{train_runtime, train_loss, ...}`` goes to the hyper-parameters, never
  into the ``loss`` series;
- ``[{"step": 1, "loss": 2.3}, ...]``, also under a key such as ``history`` or ``records``;
- ``{"step": [...], "loss": [...]}`` (Keras' ``history.history`` and similar);
- ``{"training.loss": {"steps": [...], "values": [...]}, ...}`` (Sacred's ``metrics.json``);
- pandas' ``DataFrame.to_json()``, by column (``{"loss": {"0": 2.3, ...}}``, the default) or split
  (``{"columns": [...], "index": [...], "data": [...]}``); its other layouts are lists of records;
- ``{"lm loss": {"start_step": 1, "values": {"1": 10.4, ...}}}`` (Megatron-LM's golden values);
- ``[[wall time, step, value], ...]``: a scalar downloaded from TensorBoard's page, named by the tag
  in its file name (``run-<run>-tag-<tag>.json``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from lrdoctor.errors import DamagedLog, NoSeries, UnreadableLog
from lrdoctor.readers import _long, jsonl
from lrdoctor.readers._common import (
    BATCH_KEYS,
    EPOCH_KEYS,
    STEP_KEYS,
    download_tag,
    rows_to_series,
    to_float,
    unfinished_note,
)
from lrdoctor.run import Log, Series, StepKind, fmt_step
from lrdoctor.source import Source, decode_text

TRAINER_STATE = "trainer_state.json"
# The entry HF Trainer appends when training ends (averages over the run, not a log point);
# total_flos alone marks it in transformers releases before train_runtime was logged.
SUMMARY_MARKERS = ("train_runtime", "total_flos")
# Top-level trainer_state fields that are flags or bookkeeping, not hyper-parameters.
STATE_SKIP = ("log_history", "stateful_callbacks", "trial_name", "is_")
# Keys that hyper-parameters sit under beside a list of records.
HPARAM_KEYS = ("hparams", "hyperparameters", "config", "args", "params")
# What a head cut inside a JSON token can end with: part of a number, literal or NaN token.
_TOKEN_START = re.compile(r"-?[\d.eE+-]*|t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?|N(aN?)?|-?I(n(f(i(n(i(ty?)?)?)?)?)?)?")
# How many record numbers a warning spells out.
SHOWN_RECORDS = 5
# Dicts wrapping dicts ({"history": {"loss": [...]}}) are unwrapped this many times at most.
MAX_UNWRAP = 3
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


def sniff(head: bytes, name: str) -> bool:
    """The head is JSON, or the start of JSON, and not JSON Lines."""
    if head.lstrip(b"\xef\xbb\xbf").startswith(jsonl.LFS_MAGIC):
        return name.lower().endswith(".json")  # read() explains the pointer
    if jsonl.sniff(head, name):
        return False
    text = decode_text(head).lstrip("\ufeff \t\r\n")
    return text[:1] in ("{", "[") and _json_prefix(text)


def read(source: Source) -> Log:
    data = source.read_bytes()
    jsonl.reject_lfs_pointer(data, source.label)
    try:
        doc = json.loads(decode_text(data).lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and jsonl.sniff(data[: 1 << 20], ".jsonl"):
            return jsonl.parse(data, source.label)
        # An HF state cut off while written is a damaged run, not a stray file: named so, or
        # opening as one does (a copy named run1_trainer_state.json, a backup).
        damaged = DamagedLog if source.name == TRAINER_STATE or _state_head(data) else UnreadableLog
        raise damaged(
            f"{source.label}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            "if the file is still being written, read it again once it is complete"
        ) from None
    except RecursionError:
        raise UnreadableLog(f"{source.label}: JSON nested too deeply to be a training log") from None
    except ValueError:  # an integer of thousands of digits
        raise UnreadableLog(f"{source.label}: holds a number too long to read; not a training log") from None
    return from_document(doc, source.label, name=source.name)


# The HF Trainer writes its state with sorted keys: "log_history" follows a few scalars, near the top.
_STATE_KEYS = re.compile(rb'^\s*\{\s*(?:"[a-z_]+"\s*:\s*[^{}\[\]]*,\s*)*"log_history"\s*:\s*\[')


def _state_head(data: bytes) -> bool:
    """Whether the data opens as a trainer_state.json does: top-level scalars, then log_history."""
    return _STATE_KEYS.match(data[:4096].lstrip(b"\xef\xbb\xbf")) is not None


def claims_dir(path: Path) -> Path | None:
    """A HuggingFace Trainer's output folder: its trainer_state.json (or its latest checkpoint's,
    as :func:`in_dir` picks it) is the run's log, not the TensorBoard events the Trainer also
    writes under runs/ with `report_to="tensorboard"` (the default where tensorboard is
    installed): those hold one folder per session, so a resumed training had read as two
    sessions merged, its rate taken from the other one (lrdoctor.readers.claimed)."""
    found = in_dir(path)
    return found if found is not None and found.name == TRAINER_STATE else None


def in_dir(path: Path) -> Path | None:
    """trainer_state.json in `path`, unless it was cut off while written or its latest
    checkpoint-N directory holds one of the same training that went further (resumed in the same
    output folder without ``save_state()``); else the latest checkpoint's. Without either, a
    Sacred run's metrics.json."""
    direct = path / TRAINER_STATE
    latest = _latest_checkpoint(path)
    if not direct.is_file():
        if latest is None and (path / "run.json").is_file() and (path / "metrics.json").is_file():
            return path / "metrics.json"  # a Sacred run folder (FileStorageObserver)
        return latest
    if latest is None:
        return direct
    if not _complete(direct):
        return latest
    return latest if _continues(latest, direct) else direct


def _continues(checkpoint: Path, top: Path) -> bool:
    """Whether a checkpoint's state went further than the top-level one in the same training: its
    history begins as the top one's does (a resumed training keeps the history it resumed from;
    another training, left by an earlier run in the same folder, begins otherwise) and it is not
    the older file (a shorter rerun of the same settings begins alike, and is written later). A
    copy that did not keep file times can make it look older: the note then names it."""
    return _same_start(checkpoint, top) and _mtime(checkpoint) >= _mtime(top) - 2.0


def _same_start(checkpoint: Path, top: Path) -> bool:
    if global_step(checkpoint) <= global_step(top):
        return False
    head, other = _history_head(checkpoint), _history_head(top)
    if not other:  # the top one logged nothing to compare: the checkpoint at least has a history
        return bool(head)
    shared = min(len(head), len(other))
    return shared > 0 and head[:shared] == other[:shared]


def _begins_otherwise(state: Path, other: Path) -> bool:
    """Whether two states' histories both hold entries and begin differently: two trainings."""
    head, theirs = _history_head(state), _history_head(other)
    shared = min(len(head), len(theirs))
    return shared > 0 and head[:shared] != theirs[:shared]


# How much of a log_history's start tells one training from another: its first entries, with
# their losses to the last digit.
HISTORY_ENTRIES = 5
_ENTRY = re.compile(rb"\{[^{}]*\}")


def _history_head(path: Path) -> list[bytes]:
    """The first entries of a trainer_state.json's log_history, as written ([] if none is found
    in the file's first MiB): read from the file's start, not parsed whole."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(1 << 20)
    except OSError:
        return []
    at = start.find(b'"log_history"')
    if at < 0:
        return []
    end = start.find(b"]", at)  # the history's end, where it is short
    window = start[at : end if end >= 0 else len(start)]
    return [re.sub(rb"\s+", b"", e) for e in _ENTRY.findall(window)[:HISTORY_ENTRIES]]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def state_note(path: Path, found: Path) -> str | None:
    """Why `found` was read: a checkpoint's trainer_state.json instead of the one in `path` or the
    latest checkpoint's, or the one in `path` though a checkpoint of another training went further."""
    direct = path / TRAINER_STATE
    latest = _latest_checkpoint(path)
    if found == direct:
        if latest is not None and global_step(latest) > global_step(direct):
            other = (
                "it begins as the top one's but is the older file (an earlier training of the same settings, or "
                "a copy that did not keep file times)"
                if _same_start(latest, direct)
                else "it is another training's (its log begins otherwise)"
            )
            return (
                f"{latest.parent.name} goes further (step {global_step(latest)}) than {direct} (step "
                f"{global_step(direct)}); {other}: {direct} is read; name the checkpoint to judge it"
            )
        # A later run in the same output folder that saved a checkpoint and no state of its own
        # (it crashed): its checkpoint is the newer file, of a training the top state does not hold.
        newer = [c for c in _checkpoints(path) if _mtime(c) > _mtime(direct) and _begins_otherwise(c, direct)]
        if newer:
            return (
                f"{newer[0]} was written after {direct} and holds another training (its log begins otherwise): "
                f"a later run in this folder, perhaps one that stopped before saving its state; {direct} is read; "
                "name the checkpoint to judge it"
            )
        return None
    why = []
    if direct.is_file():
        if not _complete(direct):
            why.append(f"{direct} is cut off")
        else:
            reached = f"{found.parent.name} reached step {global_step(found)}"
            why.append(f"{direct} stops at step {global_step(direct)}, where {reached}")
    later = [p for p in _checkpoints(path) if _number(p) > _number(found)]
    if later:
        why.append(f"{', '.join(str(p) for p in later)} {'is' if len(later) == 1 else 'are'} empty or cut off")
    return f"{'; '.join(why)}; read {found} instead" if why else None


def _checkpoints(path: Path) -> list[Path]:
    """The checkpoints' trainer_state.json files, the latest first."""
    numbered = [(n, p) for p in path.glob(f"checkpoint-*/{TRAINER_STATE}") if (n := _number(p)) >= 0]
    return [p for _, p in sorted(numbered, reverse=True)]


def _number(state: Path) -> int:
    m = _CHECKPOINT.fullmatch(state.parent.name)
    return int(m.group(1)) if m else -1


def _latest_checkpoint(path: Path) -> Path | None:
    """The latest checkpoint's trainer_state.json that is complete (a checkpoint being written
    when the run was killed holds an empty or cut one), else the latest's."""
    states = _checkpoints(path)
    return next((p for p in states if _complete(p)), states[0] if states else None)


# HF writes trainer_state.json with sorted keys: "global_step" comes before "log_history".
_GLOBAL_STEP = re.compile(rb'"global_step"\s*:\s*(\d+)')


def global_step(path: Path) -> int:
    """The global_step a trainer_state.json records; -1 where it cannot be read."""
    try:
        with open(path, "rb") as fh:
            m = _GLOBAL_STEP.search(fh.read(1 << 16))
            if m is None:  # keys not sorted: anywhere in the file
                fh.seek(0)
                m = _GLOBAL_STEP.search(fh.read())
    except OSError:
        return -1
    return int(m.group(1)) if m else -1


def _complete(path: Path) -> bool:
    """Whether a JSON file ends as a document does (one cut off while written does not)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - 64))
            return fh.read().rstrip().endswith((b"}", b"]"))
    except OSError:
        return True  # reading it says what is wrong with it


def from_document(doc: Any, label: str, *, name: str = "") -> Log:
    """A parsed JSON document as a Log (`name`: its file's, for layouts named by it)."""
    if isinstance(doc, dict) and "log_history" in doc:
        return _trainer_state(doc, label)
    if isinstance(doc, list):
        if _tensorboard_download(doc):
            tag = download_tag(name)
            log = _from_rows(({"step": step, tag: value} for _wall, step, value in doc), label)
            return dataclasses.replace(log, format="tensorboard-json")
        return _from_rows(_record_list(doc, label, where="the top-level list"), label)
    if isinstance(doc, dict):
        return _from_dict(doc, label, depth=0)
    raise UnreadableLog(
        f"{label}: the JSON document is {_kind(doc)}, not records; expected records such as "
        '[{"step": 1, "loss": 2.3}, ...] or a trainer_state.json'
    )


def _trainer_state(doc: dict[str, Any], label: str) -> Log:
    history = doc["log_history"]
    if not isinstance(history, list):
        raise UnreadableLog(f"{label}: log_history is {_kind(history)}, expected a list of log entries")
    hparams = _scalars(doc, skip=STATE_SKIP)
    if isinstance(doc.get("trial_params"), dict):
        hparams.update(_scalars(doc["trial_params"]))
    rows = []
    for entry in history:
        if isinstance(entry, dict) and any(k in entry for k in SUMMARY_MARKERS):
            hparams.update(_scalars(entry, skip=("step", "epoch")))
        elif isinstance(entry, dict):
            rows.append(entry)
    unplaced: list[int] = []
    series, kind = rows_to_series(rows, unplaced=unplaced)
    if not series:
        raise NoSeries(
            _empty_history_message(doc, label)
            if not rows
            else f"{label}: the log_history entries hold no numeric values"
        )
    skipped = sum(not isinstance(e, dict) for e in history)
    warnings = [f"{label}: skipped {skipped} log_history entries that are not objects"] if skipped else []
    warnings += _unplaced_warning(label, unplaced)
    unfinished = _unfinished(doc, label)
    if unfinished is not None:
        warnings.append(unfinished)
    hints = {
        role: name for role, name in (("loss", "loss"), ("lr", "learning_rate"), ("val", "eval_loss")) if name in series
    }
    return Log(
        source=label,
        format="hf-trainer-state",
        series=series,
        step_kind=cast(StepKind, kind),
        warnings=warnings,
        hparams=hparams,
        hints=hints,
    )


def _unfinished(doc: Mapping[str, Any], label: str) -> str | None:
    """A note where the state ends well before the steps the run was set for (max_steps)."""
    step, planned = doc.get("global_step"), doc.get("max_steps")
    if not (isinstance(step, int) and isinstance(planned, int)) or isinstance(step, bool) or isinstance(planned, bool):
        return None
    control = doc.get("stateful_callbacks")
    control = control.get("TrainerControl") if isinstance(control, dict) else None
    args = control.get("args") if isinstance(control, dict) else None
    stopped = isinstance(args, dict) and args.get("should_training_stop") is True
    why = (
        "a callback (early stopping, most often) ended it there"
        if stopped
        else "a checkpoint of a run still training, or one stopped early"
    )
    return unfinished_note(label, "step", step, planned, "max_steps", why)


def _empty_history_message(doc: Mapping[str, Any], label: str) -> str:
    step, every = doc.get("global_step"), doc.get("logging_steps")
    if not (isinstance(step, int | float) and isinstance(every, int | float)):
        why = "training ended before its first log (global_step < logging_steps)"
    elif step < every:
        why = f"global_step {fmt_step(step)} < logging_steps {fmt_step(every)}: training ended before its first log"
    else:
        return (
            f"{label}: log_history holds no points although global_step {fmt_step(step)} >= logging_steps "
            f"{fmt_step(every)}; the history was removed from this file; read the run's TensorBoard directory"
        )
    return (
        f"{label}: log_history holds no points; {why}; lower logging_steps "
        "(or read the run's TensorBoard directory) to get a curve"
    )


def _from_dict(doc: dict[str, Any], label: str, *, depth: int) -> Log:
    if not doc:
        raise NoSeries(f"{label}: an empty JSON object; no points to read")
    hparams = _hparams_beside(doc)
    split = _split_rows(doc)
    if split is not None:
        return _from_rows(split, label)
    lists = {k: v for k, v in doc.items() if isinstance(v, list)}
    record_lists = {k: v for k, v in lists.items() if any(isinstance(x, dict) for x in v)}
    if len(record_lists) == 1:
        key, rows = next(iter(record_lists.items()))
        return _from_rows(_record_list(rows, label, where=f"{key!r}"), label, hparams=hparams)
    if record_lists:
        return _from_rows(_prefixed(record_lists), label, hparams=hparams)
    columns = {k: v for k, v in lists.items() if any(to_float(x) is not None for x in v)}
    if columns:  # (a list of nulls beside them too: pandas writes a loss NaN from the first step so)
        columns = {k: v for k, v in lists.items() if k in columns or _nulls(v)}
    if columns:
        return _from_columns(columns, label, hparams=_scalars(doc))
    blocks = {k: v for k, v in doc.items() if isinstance(v, dict)}
    beside = {k: v for k, v in doc.items() if k not in blocks and isinstance(v, int | float | str | bool)}
    if blocks and len(blocks) == len(doc) and all(to_float(k) is not None or _ISO_TIME.match(k) for k in doc):
        return _from_rows(_step_keyed(doc, timed=_timed(list(doc))), label)  # (rows under steps, or times)
    if blocks and len(blocks) + len(beside) == len(doc):  # (Megatron's timing sits beside its metrics)
        found = _from_blocks(blocks, label)
        if found is not None:
            return dataclasses.replace(found, hparams={**beside, **found.hparams})
        nested = _nested_columns(blocks) if len(blocks) > 1 else {}  # (one block is unwrapped below)
        if nested and not any(_axis_of(b) for b in blocks.values()):
            return _from_columns(nested, label, hparams=dict(beside))
        if nested and all(_axis_of(b) for b in blocks.values()):  # each phase on its own steps
            log = _from_rows(_nested_rows(blocks), label)
            return dataclasses.replace(log, hparams={**beside, **log.hparams})
    if len(blocks) == len(doc) == 1 and depth < MAX_UNWRAP:
        return _from_dict(next(iter(doc.values())), label, depth=depth + 1)
    if lists and not any(lists.values()):
        raise NoSeries(f"{label}: the lists under {', '.join(map(repr, lists))} are empty; no points to read")
    raise UnreadableLog(
        f"{label}: a JSON object with keys {_listing(doc)}, none a list of records or of numbers; "
        'expected a trainer_state.json, [{"step": 1, "loss": 2.3}, ...] or {"loss": [...]}'
    )


def _nulls(items: list[Any]) -> bool:
    """A list of nulls and nothing else, more than one."""
    return len(items) > 1 and all(x is None for x in items)


def _record_list(items: list[Any], label: str, *, where: str) -> list[dict[str, Any]]:
    rows = [x for x in items if isinstance(x, dict)]
    if not items:
        raise NoSeries(f"{label}: {where} is empty; no points to read")
    if not rows:
        raise UnreadableLog(
            f"{label}: {where} holds no records (its first item is {_kind(items[0])}); a record "
            'names its values, e.g. [{"step": 1, "loss": 2.3}, ...]'
        )
    return rows


def _from_rows(
    rows: list[dict[str, Any]] | Iterator[dict[str, Any]],
    label: str,
    *,
    hparams: dict[str, Any] | None = None,
) -> Log:
    flat = [jsonl.flatten(r) if any(isinstance(v, dict | list) for v in r.values()) else r for r in rows]
    layout = _long.records_layout(flat)
    if layout is not None:  # a row per point, the metric named in a column
        series, kind, notes = _long.pivot_records(flat, layout, label)
        return _log(series, kind, label, hparams or {}, notes)
    unplaced: list[int] = []
    empty: list[str] = []
    series, kind = rows_to_series(flat, unplaced=unplaced, empty=empty)
    return _log(series, kind, label, hparams or {}, _unplaced_warning(label, unplaced), empty)


def _from_columns(columns: dict[str, list[Any]], label: str, *, hparams: dict[str, Any]) -> Log:
    lengths = {len(v) for v in columns.values()}
    warnings = []
    if len(lengths) > 1:
        warnings.append(
            f"{label}: the lists have different lengths ({min(lengths)} to {max(lengths)}); "
            "each value is taken at its position in its own list"
        )
    rows = ({k: v[i] for k, v in columns.items() if i < len(v)} for i in range(max(lengths)))
    unplaced: list[int] = []
    empty: list[str] = []
    series, kind = rows_to_series(rows, unplaced=unplaced, empty=empty)
    log = _log(series, kind, label, hparams, warnings + _unplaced_warning(label, unplaced), empty)
    return dataclasses.replace(log, ragged=True) if len(lengths) > 1 else log


def _unplaced_warning(label: str, unplaced: list[int]) -> list[str]:
    if not unplaced:
        return []
    shown = ", ".join(str(i + 1) for i in unplaced[:SHOWN_RECORDS]) + (", ..." if len(unplaced) > SHOWN_RECORDS else "")
    return [f"{label}: left out {len(unplaced)} record(s) whose step is not a finite number (record {shown})"]


def _log(
    series: dict[str, Series],
    kind: str,
    label: str,
    hparams: dict[str, Any],
    warnings: list[str],
    empty: list[str] | tuple[str, ...] = (),
) -> Log:
    """The log; `empty`: keys null wherever written (normalize tells a loss among them: a run's
    loss NaN from its first record, as pandas writes it, is no file without a training log)."""
    if not series and not empty:
        raise NoSeries(f"{label}: the records hold no numeric values (numbers or numeric strings)")
    return Log(
        source=label,
        format="json",
        series=series,
        step_kind=cast(StepKind, kind),
        warnings=warnings,
        hparams=hparams,
        text_columns=tuple(empty),
        empty_columns=tuple(empty),
    )


def _prefixed(record_lists: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Several record lists ({"train": [...], "val": [...]}): names become 'train/loss'."""
    axis = set(STEP_KEYS) | set(EPOCH_KEYS)
    for key, items in record_lists.items():
        for row in items:
            if isinstance(row, dict):
                yield {(k if k in axis else f"{key}/{k}"): v for k, v in row.items()}


def _from_blocks(blocks: dict[str, dict[str, Any]], label: str) -> Log | None:
    """A dict of a dict per metric: pandas' columns ({"loss": {"0": 2.3, ...}}), or blocks holding
    "values" (Sacred's metrics.json, Megatron's golden values); None for other dicts."""
    if all(_indexed(v) for v in blocks.values()):
        return _from_rows(_indexed_columns(blocks), label)
    if not all("values" in v for v in blocks.values()):
        return None
    kept = {k: v for k, v in blocks.items() if v["values"]}  # (a metric with no value yet)
    if kept and all(_indexed(v["values"]) for v in kept.values()):
        return _from_rows(_indexed_columns({k: v["values"] for k, v in kept.items()}), label)
    if not kept or not all(isinstance(v["values"], list) for v in kept.values()):
        return None
    log = _from_rows(_metric_blocks(kept), label)
    uneven = [
        k
        for k, v in kept.items()
        if isinstance(v.get("steps"), list) and v["steps"] and len(v["steps"]) != len(v["values"])
    ]
    notes = []
    if uneven:
        notes.append(
            f"{label}: {', '.join(map(repr, uneven[:4]))}: not as many steps as values; each value is "
            "placed at its step, those past the shorter list left out"
        )
    unstepped = [k for k, v in kept.items() if _block_steps(v) is None]
    if unstepped and any(_block_steps(v) is not None for v in kept.values()):
        notes.append(
            f"{label}: no steps listed for {', '.join(map(repr, unstepped[:4]))}, unlike the other metrics: "
            "placed at positions 0, 1, 2, ..., which need not be the others' steps"
        )
    return dataclasses.replace(log, warnings=[*log.warnings, *notes]) if notes else log


def _nested_columns(blocks: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """A history by phase, {"train": {"loss": [...], "lr": [...]}, "val": {"loss": [...]}}: its
    lists of numbers as columns named 'train/loss', 'val/loss'; empty unless every block holds one."""
    columns = {}
    for name, block in blocks.items():
        lists = {k: v for k, v in block.items() if isinstance(v, list) and any(to_float(x) is not None for x in v)}
        if not lists:
            return {}
        columns.update((f"{name}/{k}", v) for k, v in lists.items())
    return columns


def _axis_of(block: dict[str, Any]) -> str | None:
    """The key of a block's list of steps (or epochs), if it has one."""
    return next((k for k in (*STEP_KEYS, *EPOCH_KEYS) if isinstance(block.get(k), list)), None)


def _nested_rows(blocks: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """{"train": {"step": [...], "loss": [...]}, "val": {"step": [...], "loss": [...]}}: a record
    per position of each phase, at its own step, its values named 'train/loss', 'val/loss'."""
    for name, block in blocks.items():
        axis = _axis_of(block)
        assert axis is not None
        lists = {k: v for k, v in block.items() if k != axis and isinstance(v, list)}
        for i, step in enumerate(block[axis]):
            yield {axis: step, **{f"{name}/{k}": v[i] for k, v in lists.items() if i < len(v)}}


def _metric_blocks(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """{"training.loss": {"steps": [...], "values": [...], "timestamps": [...]}, ...} (Sacred's
    metrics.json; Megatron's golden values give a start_step and a step_interval instead): a
    record per point, at its step (its position where no steps are listed)."""
    for name, block in doc.items():
        steps, values = _block_steps(block), block["values"]
        if steps is not None:  # (of lists of two lengths, the pairs they share)
            yield from ({"step": step, name: value} for step, value in zip(steps, values, strict=False))
        else:
            yield from ({"step": i, name: value} for i, value in enumerate(values))


def _block_steps(block: dict[str, Any]) -> list[Any] | range | None:
    steps = block.get("steps")
    if isinstance(steps, list) and steps:
        return steps
    start, every = block.get("start_step"), block.get("step_interval")
    if isinstance(start, int) and isinstance(every, int) and not isinstance(start | every, bool) and every > 0:
        return range(start, start + every * len(block["values"]), every)
    return None


def _tensorboard_download(doc: list[Any]) -> bool:
    """[[wall time, step, value], ...]: a scalar downloaded from TensorBoard's page as JSON."""
    return bool(doc) and all(
        isinstance(row, list)
        and len(row) == 3
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in row[:2])
        and row[0] > 1e8  # seconds since 1970: after 1973
        and abs(row[1]) < 2**63
        and float(row[1]).is_integer()
        for row in doc
    )


def _split_rows(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]] | None:
    """pandas' ``to_json(orient="split")``: {"columns": [...], "index": [...], "data": [[...], ...]};
    the index is the step where no column is one."""
    columns, data, index = doc.get("columns"), doc.get("data"), doc.get("index")
    if not (
        set(doc) <= {"columns", "index", "data"}
        and isinstance(columns, list)
        and all(isinstance(c, str) for c in columns)
        and isinstance(data, list)
        and all(isinstance(row, list) and len(row) == len(columns) for row in data)
    ):
        return None
    rows = (dict(zip(columns, row, strict=True)) for row in data)
    if isinstance(index, list) and len(index) == len(data) and _no_axis(columns) and not _timed(index):
        return ({**row, "step": step} for row, step in zip(rows, index, strict=False))
    return rows


def _indexed(block: Any) -> bool:
    """A column as pandas' ``to_json()`` writes it: {"0": 2.3, "1": 2.1, ...}, scalars under
    numeric keys (or, for a time index, ISO dates)."""
    return (
        isinstance(block, dict)
        and bool(block)
        and all(
            (to_float(k) is not None or _ISO_TIME.match(k)) and not isinstance(v, dict | list) for k, v in block.items()
        )
    )


# pandas writes a DatetimeIndex as epoch seconds, milliseconds or finer (after 2001, all above
# 1e9: no count of steps), or as ISO dates.
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
EPOCH = 1e9


def _indexed_columns(columns: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """{"loss": {"0": 2.3, ...}, "lr": {"0": 0.1, ...}} (pandas' default ``to_json()``; Megatron's
    golden values, under "values"): a record per index key, the key as the step where no column
    is one and the index is no time (a time index leaves the rows in their order)."""
    keys = list(dict.fromkeys(k for block in columns.values() for k in block))
    stepped = _no_axis(list(columns)) and not _timed(keys)
    for key in keys:
        row = {name: block[key] for name, block in columns.items() if key in block}
        yield {**row, "step": key} if stepped else row


def _timed(index: list[Any]) -> bool:
    """An index of times (epoch milliseconds, ISO dates), which orders rows but is no step."""
    numbers = [to_float(k) for k in index]
    return any(n is None or n >= EPOCH for n in numbers)


def _no_axis(names: list[str]) -> bool:
    return not any(k in names for k in (*STEP_KEYS, *EPOCH_KEYS) if k not in BATCH_KEYS)


def _step_keyed(doc: dict[str, Any], *, timed: bool = False) -> Iterator[dict[str, Any]]:
    """{"100": {"loss": 2.3}, "200": {...}}: the key is the step (where it is no time: pandas'
    orient="index" of a time index)."""
    for key, row in doc.items():
        yield row if timed or any(k in row for k in STEP_KEYS if k not in BATCH_KEYS) else {**row, "step": key}


def _hparams_beside(doc: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in HPARAM_KEYS:
        if isinstance(doc.get(key), dict):
            found.update(_scalars(doc[key]))
    return found


def _scalars(doc: Mapping[str, Any], *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if isinstance(v, int | float | str | bool) and not k.startswith(skip)}


def _json_prefix(text: str) -> bool:
    """Is `text` JSON, or JSON cut short at the end (a head of a larger file)?"""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("Unterminated string"):
            return True
        return exc.msg != "Extra data" and _TOKEN_START.fullmatch(text[exc.pos :].strip()) is not None
    except RecursionError:
        return True  # read() explains
    except ValueError:
        return True
    return True


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), type(value).__name__)


def _listing(doc: Mapping[str, Any], most: int = 8) -> str:
    keys = [repr(k) for k in list(doc)[:most]]
    return ", ".join(keys) + (f" and {len(doc) - most} more" if len(doc) > most else "")
