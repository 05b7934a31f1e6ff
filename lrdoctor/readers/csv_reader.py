"""CSV logs: plain, PyTorch Lightning CSVLogger, Keras CSVLogger, timm summary.csv, W&B exports.

Layouts, and how each is told apart (by the header, then by the file name):

- Lightning `metrics.csv`: `epoch` and `step` columns, sparse rows (train, val and learning-rate
  columns filled on different rows), `*_step`/`*_epoch` pairs, `lr-<Optimizer>[/pg<N>]` from
  LearningRateMonitor; an `hparams.yaml` beside it is read into `Log.hparams`.
- Keras CSVLogger: `epoch` first, then `loss`, `val_loss`, ...; `NA` for a missing cell; with
  `append=True` several runs follow each other under one header (the epoch restarts at 0).
- timm `summary.csv`: `epoch,train_loss,eval_loss,...,lr`.
- W&B history export: `Step`/`_step`, `<run name> - <metric>` with `__MIN`/`__MAX` columns.
- Ultralytics YOLO `results.csv`: `epoch`, the loss in parts (`train/box_loss`,
  `train/cls_loss`, `train/dfl_loss`, ...; `val/*_loss`) and `lr/pg0`-`lr/pg2` (YOLOv5:
  `x/lr0`-`x/lr2`). The parts' sum is added as `train/loss` and `val/loss` (the loss the run
  minimised; no column holds it; a `*total*` part is taken as the total instead), and the rate
  is `lr/pg1` (`x/lr1`), a group of weights in every version's order: the biases' group (the
  first, or in later versions the last) begins its warmup at `warmup_bias_lr` (0.1 by default)
  and falls to the base rate. Rows whose validation losses and metrics are all 0 were not
  validated (`val=False`). An `args.yaml` beside it is read into `Log.hparams`.

Comma, tab, semicolon or pipe separated; quoted fields (within one line); BOM; UTF-16; CRLF;
decimal commas where the separator is not a comma ('0,25', as spreadsheets in many locales
write them). An empty cell (or `NA`) means "not logged on this row"; `nan`/`inf` are values.
A header line written again with other columns (a resumed run that logs more) is read as such:
the rows below it are read under it, and a note says where.

Damage costs only the rows it touches, each named in a warning: a last line without its
newline (the writer had not finished it), a line with more cells than the header or a broken
quote, a line with no number in any cell, a repeated header line, and a row whose step cell
holds NaN or Inf are left out; a text cell in a numeric column is read as missing.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast
from warnings import catch_warnings, filterwarnings, simplefilter

import numpy as np

from lrdoctor.errors import EmptyLog, InputError, LrdoctorError, NoSeries, UnreadableLog
from lrdoctor.readers import _long, _ultralytics
from lrdoctor.readers._common import (
    ABSENT,
    COUNTERS,
    EPOCH_KEYS,
    PHASE_KEYS,
    TENSORBOARD_DOWNLOAD_HEADER,
    TRAIN_STEP_KEYS,
    download_tag,
    phase_cells,
    settings_beside,
    split_phases,
    steps_of_epochs,
    to_float,
    unfinished_note,
    usable_step_keys,
)
from lrdoctor.run import Log, Series, StepKind
from lrdoctor.source import Source, decode_text, head_regular, open_source

DELIMITERS = (",", "\t", ";", "|")
STEP_COLUMNS = (
    *("step", "Step", "_step", "global_step", "trainer/global_step", "iteration", "iter", "it"),
    *TRAIN_STEP_KEYS,
    *("batch", "batch_idx"),  # a counter within the epoch: the epoch column beside it places it
    "training_iteration",  # Ray Tune's progress.csv: its count of reports
)
SNIFF_LINES = 30
# Far above the widest real export (W&B: a few thousand columns); a header this wide is no log,
# and reading it column by column would take minutes.
MAX_COLUMNS = 10_000
# Share of the first lines whose field count must match the header's: to claim a file, and
# (lower) to read one already known to be CSV, where damaged rows may crowd its first lines.
SNIFF_AGREE = 0.9
DAMAGED_AGREE = 0.5
# How many line numbers a warning spells out.
SHOWN_LINES = 5
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def sniff(head: bytes, name: str) -> bool:
    lines = _complete_lines(decode_text(head))
    lines = lines[_leading_comments(lines) :][:SNIFF_LINES]
    if len(lines) < 2:
        return len(lines) == 1 and name.lower().endswith((".csv", ".tsv")) and _delimiter(lines) is not None
    if sum(map(bool, map(_PROGRESS_BAR.search, lines))) * 2 >= len(lines):
        return False  # tqdm's bars drawn in ASCII ('3%|3   | 10/300 [00:00<...]'), split at '|', are no table
    delim = _delimiter(lines)
    if delim is None:  # a later run appended with more columns and no header (Keras' CSVLogger)
        before = _before_wider_rows(lines)
        delim = _delimiter(before) if len(before) >= 3 else None
    # (header lines repeated below it, as appending a table with its header writes, are no rows)
    rows = [line for line in lines[1:] if line.strip() != lines[0].strip()]
    return delim is not None and bool(rows) and _numeric_share(rows, delim) >= 0.5


# A tqdm bar's refresh: its percent, the bar between pipes, then its count and times.
_PROGRESS_BAR = re.compile(r"\d{1,3}%\|[^|]*\|\s*\d+/(?:\d+|\?)\s*\[")


# Excel's first line naming the separator of the rows below ('sep=;').
_EXCEL_SEP = re.compile(r'"?sep=.?"?', re.IGNORECASE)


def _leading_comments(lines: list[str]) -> int:
    """How many '#' lines a script wrote above its table's header ('# experiment 3, seed 0'), or
    Excel's 'sep=;' line; 0 where data follow them (numpy's savetxt writes its header as a
    comment: '# step,loss')."""
    k = 1 if lines and _EXCEL_SEP.fullmatch(lines[0].strip()) else 0
    while k < len(lines) and lines[k].lstrip().startswith("#"):
        k += 1
    if k == 0 or k >= len(lines) - 1:
        return 0
    rest = lines[k : k + SNIFF_LINES]
    delim = _delimiter(rest)
    return k if delim is not None and _all_text(rest[0], delim) else 0


def _before_wider_rows(lines: list[str]) -> list[str]:
    """The lines before a last block of rows that all have one larger number of cells than the
    header, under every separator that splits the header; all the lines otherwise."""
    for delim in DELIMITERS:
        counts = _field_counts(lines, delim)
        if counts[0] < 2:
            continue
        cut = next((i for i, c in enumerate(counts) if c != counts[0]), len(counts))
        wider = cut < len(counts) and len(set(counts[cut:])) == 1 and counts[cut] > counts[0]
        if wider and not any(_all_text(line, delim) for line in lines[cut:]):
            return lines[:cut]
    return lines


# The names a run's folder gives its table (Lightning's CSVLogger, and a common choice).
DIR_NAMES = ("metrics.csv", "summary.csv")


def in_dir(path: Path) -> Path | None:
    for name in DIR_NAMES:
        if (path / name).is_file():
            return path / name
    return claims_dir(path)


def claims_dir(path: Path) -> Path | None:
    """An Ultralytics run folder's results.csv, or a DVCLive folder's metrics (a .tsv file per
    metric): the run's log (lrdoctor.readers.claimed)."""
    return ultralytics_results(path) or dvclive_metrics(path)


def dvclive_metrics(path: Path) -> Path | None:
    """DVCLive's folder of metric files, given it or the DVCLive folder above it (`dvclive/`):
    `plots/metrics/train/loss.tsv` holds `step, loss` (a `timestamp` first where asked for),
    one file per metric, each named after its file; DVCLive before 2.0 wrote them under
    `scalars/`. A folder so named holding other tables is none."""
    for found in (path / "plots" / "metrics", path / "scalars", path):
        named = found.name == "scalars" or (found.name == "metrics" and found.parent.name == "plots")
        if named and _dvclive_files(found):
            return found
    return None


def _dvclive_files(folder: Path, unlisted: list[str] | None = None) -> list[Path]:
    """The folder's metric files where they are DVCLive's; `unlisted` gets the sub-folders that
    could not be listed (no permission)."""
    found: list[Path] = []
    for root, _dirs, names in os.walk(
        folder, onerror=lambda e: unlisted.append(str(e.filename)) if unlisted is not None else None
    ):
        found += (Path(root) / n for n in names if n.endswith(".tsv"))
    files = sorted(p for p in found if p.is_file())
    # (a metric's file is empty until its first value: no header to look at)
    headed = [h for h in (_header_line(p) for p in files[:DVCLIVE_CHECKED]) if h is not None]
    return files if headed and all(_dvclive_header(h, p, folder) for h, p in headed) else []


def _header_line(path: Path) -> tuple[str, Path] | None:
    head = head_regular(path, 256) or b""
    return (head.split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r"), path) if head else None


def _dvclive_header(head: str, path: Path, folder: Path) -> bool:
    """A metric file's header as DVCLive writes it: step (after a timestamp), then the metric,
    under its file's name (or, in some releases, its path under the folder)."""
    cells = head.split("\t")
    if cells[:1] == ["timestamp"]:
        cells = cells[1:]
    names = (path.stem, path.relative_to(folder).with_suffix("").as_posix())
    return len(cells) == 2 and cells[0] == "step" and cells[1] in names


def _read_dvclive(folder: Path, label: str) -> Log:
    """Every metric file's values, named by the file's path under the folder ('train/loss')."""
    series: dict[str, Series] = {}
    warnings: list[str] = []
    unlisted: list[str] = []
    for path in _dvclive_files(folder, unlisted):
        name = path.relative_to(folder).with_suffix("").as_posix()
        try:
            log = read(open_source(path))
        except LrdoctorError as exc:  # (a metric that logged nothing yet, a damaged file)
            warnings.append(f"{label}: {name}: left out: {exc}")
            continue
        column = next((k for k in log.series if k not in ("step", "timestamp")), None)
        if column is None:
            warnings.append(f"{label}: {name}: left out: no value written yet")
            continue
        s = log.series[column]
        series[name] = Series(name, s.steps, s.values, s.seq)
        warnings += log.warnings
    if unlisted:  # (part of the run: judged without it, its loss might be missing or another's)
        raise InputError(f"{label}: {unlisted[0]}: permission denied (a folder of the run's metrics)")
    if not series:
        raise NoSeries(f"{label}: DVCLive's metric files hold no points")
    return Log(label, "dvclive", series, step_kind="step", warnings=warnings)


def ultralytics_results(path: Path) -> Path | None:
    """The `results.csv` of an Ultralytics run folder, which it writes beside its TensorBoard
    events: the run's log to read there (the events hold the loss in parts too, without the rate
    groups' meaning)."""
    found = path / "results.csv"
    try:
        if not found.is_file():  # (a FIFO would block)
            return None
        with found.open("rb") as fh:
            head = fh.readline(1 << 16).decode("utf-8", "replace")
    except PermissionError:  # the run's own log, which reading will say it cannot open
        return found
    except OSError:
        return None
    header = [cell.strip() for cell in head.split(",")]
    return found if _flavour(header, found.name, ",") == ULTRALYTICS else None


def read(source: Source) -> Log:
    label = source.label
    if source.is_dir:
        assert source.path is not None
        return _read_dvclive(source.path, label)
    long = _long_table(source)
    if long is not None:
        return long
    fast = _read_regular(source)
    if fast is not None:
        header, delim, columns, line_numbers, empty = fast
        warnings: list[str] = _named_twice(label, header)
    else:
        header, delim, columns, line_numbers, warnings, empty = _read_careful(source.read_bytes(), label)
    if "Name" in header and len(WANDB_RUNS_TABLE & set(header)) >= 2:
        raise NoSeries(
            f"{label}: a W&B runs table (one row per run: its settings and last values), not a run's history; "
            "export a run's history instead (a chart's '...' menu > Export CSV, or run.history() in the API)"
        )
    first = header[0].lstrip("# ") if header and header[0].startswith("#") else ""
    if first in COUNTERS and first not in columns:
        # numpy's savetxt(header=...) writes the header as a comment: "# step,loss" ("# of samples" stays)
        columns = {first if name == header[0] else name: column for name, column in columns.items()}
        header = [first, *header[1:]]
    fmt = _flavour(header, source.name, delim)
    if fmt == TENSORBOARD_DOWNLOAD:  # the scalar under its tag; the wall time is no metric
        tag = download_tag(source.name)
        columns = {tag if name == "Value" else name: column for name, column in columns.items() if name != "Wall time"}
        header = [tag if name == "Value" else name for name in header if name != "Wall time"]
    steps, kind, bad_steps = _step_axis(columns, len(line_numbers))
    if bad_steps.any():
        warnings.append(
            f"{label}: left out {int(bad_steps.sum())} row(s) whose step is not a finite number "
            f"(line {_shown(line_numbers[bad_steps])})"
        )
    series = {}
    seq = np.arange(len(line_numbers), dtype=np.float64)
    usable = np.isfinite(steps) & ~bad_steps
    for name, (values, present) in columns.items():
        mask = present & usable
        if mask.all():  # no copies: a long log's arrays are shared, not repeated per series
            series[name] = Series(name, steps, values, seq)
        elif mask.any():
            series[name] = Series(name, steps[mask], values[mask], seq[mask])
    hparams = settings_beside(source.path) if fmt == "lightning-csv" else {}
    hints: dict[str, str] = {}
    if fmt == ULTRALYTICS:
        hints = _ultralytics.totals(series, label, warnings, by_row=True)
        hparams = settings_beside(source.path, ("args.yaml", "opt.yaml"))
        epochs = steps[usable]
        warnings += _settings_notes(hparams, epochs.max(initial=-math.inf), epochs.min(initial=math.inf) == 0, label)
    text_columns = tuple(name for name in _unique(header) if name not in columns)
    return Log(
        label,
        fmt,
        series,
        step_kind=kind,
        warnings=warnings,
        hparams=hparams,
        text_columns=text_columns,
        empty_columns=tuple(name for name in empty if name in text_columns),
        hints=hints,
    )


def _long_table(source: Source) -> Log | None:
    """A long table (a row per point: step, tag, value), pivoted to a series per tag
    (lrdoctor.readers._long); None for any other table. Line by line, as the careful reader
    goes: a damaged line costs only itself."""
    lines = _complete_lines(decode_text(source.head()).lstrip("\ufeff"))[:SNIFF_LINES]
    delim = _delimiter(lines) if len(lines) >= 2 else None
    header = _split(lines[0], delim) if delim else None
    layout = _long.long_layout([h.strip() for h in header]) if header else None
    if layout is None or delim is None:
        return None
    label = source.label
    data = source.read_bytes()
    fast = _long_fast(data, delim, layout, label) if len(data) >= REGULAR_MIN_BYTES else None
    if fast is not None:
        return fast
    rows = _LINE_BREAK.split(decode_text(data).lstrip("\ufeff"))
    warnings = []
    if rows[-1]:
        warnings.append(f"{label}:{len(rows)}: the last line has no newline (still being written?); skipped")
    top = next(i for i, line in enumerate(rows) if line.strip())  # (blank lines above the header)
    names = [h.strip() for h in _split(rows[top], delim) or []]
    comma = _decimal_comma(rows[top + 1 : top + SNIFF_LINES], delim)
    bad: list[int] = []

    def cells() -> Iterator[list[str]]:
        for number, line in enumerate(rows[top + 1 : -1], start=top + 2):
            if line.strip():
                found = _split(line, delim)
                if found is not None and len(found) == len(names):
                    yield found
                else:
                    bad.append(number)

    def number(cell: object) -> float | None:
        value = _cell(cell, comma) if isinstance(cell, str) else None
        return math.nan if value is _ABSENT_CELL else value if isinstance(value, float) else None

    series, kind, notes = _long.pivot(cells(), names, layout, label, number)
    if bad:
        warnings.append(f"{label}: skipped {len(bad)} damaged line(s) (line {_shown(bad)})")
    if not series:
        raise NoSeries(f"{label}: a table of {layout.name!r} and {layout.value!r} columns with no numeric values")
    return Log(label, "csv", series, step_kind=cast(StepKind, kind), warnings=warnings + notes)


def _long_fast(data: bytes, delim: str, layout: _long.Layout, label: str) -> Log | None:
    """A large, undamaged long table parsed by pandas and pivoted on whole columns; None for
    anything the line-by-line reading must see (damage, text among the numbers, an unended
    last line, another encoding)."""
    if not data.endswith(b"\n") or data.startswith(codecs.BOM_UTF8) or b'"' in data:
        return None
    # Every line whole: as many separators on each as on the header (pandas pads a short row with
    # NaN and skips a blank line, where the line-by-line reading skips them with a note).
    first = data[: data.index(b"\n")]
    sep = delim.encode()
    empty = re.compile(rb"\n[ \t" + re.escape(sep) + rb"]*\r?\n")  # (blank, or separators alone; the header is checked)
    stray = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")  # (pandas breaks a line at a lone CR)
    if (
        stray
        or not first.strip(b" \t\r" + sep)
        or empty.search(data)
        or data.count(sep) != first.count(sep) * data.count(b"\n")
    ):
        return None
    import pandas as pd

    text = {layout.name: "string", **({layout.run: "string"} if layout.run else {})}
    absent = [*ABSENT, *(a.upper() for a in ABSENT), *(a.title() for a in ABSENT)]  # as _cell reads them
    na = {c: absent for c in (layout.value, *layout.counters)} | {c: [""] for c in text}
    try:
        with catch_warnings():
            # A row wider than the header (pandas would make its first cell an index): no frame.
            filterwarnings("error", category=pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=delim,
                dtype=text,
                skipinitialspace=True,
                engine="c",
                keep_default_na=False,
                na_values=na,
                index_col=False,
            )
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError):
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    if not {layout.name, layout.value, *layout.counters, *([layout.run] if layout.run else [])} <= set(frame.columns):
        return None
    found = _long.pivot_frame(frame, layout, label)
    if found is None or not found[0]:
        return None
    series, kind, notes = found
    return Log(label, "csv", series, step_kind=cast(StepKind, kind), warnings=notes)


ULTRALYTICS = "ultralytics-csv"
TENSORBOARD_DOWNLOAD = "tensorboard-csv"
# DVCLive's metric files whose header is checked before a folder is taken for its run.
DVCLIVE_CHECKED = 8
# The columns W&B's runs table opens with, beside its "Name" (any may be hidden before export): a
# row per run, not a run's history.
WANDB_RUNS_TABLE = {"State", "Notes", "User", "Tags", "Created", "Runtime", "Sweep"}


def _settings_notes(hparams: dict[str, object], last_epoch: float, from_0: bool, label: str) -> list[str]:
    """What an Ultralytics run's args.yaml says of its log: a run that has not reached its
    epochs, an optimizer (and rate) that Ultralytics chose itself. `from_0`: whether the log
    counts its epochs from 0 (YOLOv5 does, later versions from 1)."""
    notes = []
    planned = hparams.get("epochs")
    note = (
        unfinished_note(label, "epoch", last_epoch, planned, "epochs, args.yaml", done=last_epoch + from_0)
        if isinstance(planned, float)
        else None
    )
    notes += [note] if note is not None else []
    if str(hparams.get("optimizer", "")).lower() == "auto":
        notes.append(
            f"{label}: the run's args.yaml has optimizer=auto, with which Ultralytics chooses the optimizer "
            "and its rate itself and ignores lr0: name an optimizer (optimizer=SGD, AdamW, ...) for a rate "
            "to take effect"
        )
    return notes


Columns = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (float values, where a value is present)


def _read_careful(data: bytes, label: str) -> tuple[list[str], str, Columns, np.ndarray, list[str], tuple[str, ...]]:
    """Line by line: every kind of damage costs only its own rows, each named in a warning. The
    last item names the columns whose every cell is empty."""
    text = decode_text(data)
    warnings: list[str] = []
    lines = _LINE_BREAK.split(text)
    if lines[-1]:  # the text does not end with a line break: the writer had not finished the row
        if len(lines) == 1:
            raise UnreadableLog(f"{label}: a single line with no newline: not a complete CSV")
        width = _export_width(lines)
        if width and _whole_row(lines[-1], width):
            lines.append("")  # an export is written whole, and W&B's ends its last row without one
        elif width:
            warnings.append(
                f"{label}:{len(lines)}: the last row has no line break and does not end as an export's rows do "
                "(a download cut short?); skipped"
            )
        elif _written_whole(lines):
            lines.append("")  # a writer that puts the line break before each row (Flair's loss.tsv)
        else:
            warnings.append(f"{label}:{len(lines)}: the last line has no newline (still being written?); skipped")
    numbered = [(n, line) for n, line in enumerate(lines[:-1], start=1) if line.strip()]
    numbered = numbered[_leading_comments([line for _, line in numbered[: 2 * SNIFF_LINES]]) :]
    head = [line for _, line in numbered[:SNIFF_LINES]]
    delim = _delimiter(head) or _delimiter(head, agree=DAMAGED_AGREE)
    if delim is None:
        raise UnreadableLog(f"{label}:1: no consistent separator (tried , tab ; |); is this a CSV?")
    table = _parse(numbered, delim, label)
    warnings.extend(table.warnings(label))
    columns, cells = _numeric_columns(table, _decimal_comma(head[1:], delim))
    if not columns:
        raise UnreadableLog(f"{label}: no numeric column under the header {table.header[:8]}")
    phases = phase_cells(
        {name: [row[i] for row in table.rows] for i, name in enumerate(_unique(table.header)) if name not in columns}
    )
    if phases is not None:  # a row per phase's values ('phase' train / val): the evaluations' as val_*
        columns = split_phases(columns, phases)
    if cells.bad_rows.any():
        warnings.append(
            f"{label}: {cells.bad_cells} cell(s) hold text where numbers are expected "
            f"(line {_shown(table.line_numbers[cells.bad_rows])}); read as missing"
        )
    if cells.junk_rows.any():
        warnings.append(
            f"{label}: skipped {int(cells.junk_rows.sum())} line(s) with no number in any cell "
            f"(line {_shown(table.line_numbers[cells.junk_rows])})"
        )
    return table.header, delim, columns, table.line_numbers, warnings, cells.empty


def _export_width(lines: list[str]) -> int:
    """The number of columns where the header is a W&B export's (a file written once, whole, by the
    exporter, not one a running job appends to), else 0."""
    first = next((line for line in lines if line.strip()), "")
    header = [h.strip() for h in _split(first, ",") or ()]
    return len(header) if _flavour(header, "", ",") == "wandb-csv" else 0


def _written_whole(lines: list[str], rows: int = 20) -> bool:
    """Whether the last line, with no line break after it, is a row as whole as those before it:
    every column, and a last cell as long as theirs where they are all printed to one width (a
    row cut while written lacks cells, or ends in a shorter cell; values written in full vary in
    width, and then the row is not kept)."""
    body = [line for line in lines[:-1] if line.strip()]
    delim = _delimiter(body[:SNIFF_LINES])
    if delim is None or len(body) < 11:  # ten rows of one width at least: no width by chance
        return False
    width = len(_split(body[0], delim) or ())
    before = [_split(line, delim) or [] for line in body[-rows:][1:]]
    last = _split(lines[-1].rstrip("\r"), delim) or []
    if len(last) != width or any(len(cells) != width for cells in before):
        return False
    ends = [cells[-1].strip() for cells in before]
    if to_float(last[-1]) is None or any(to_float(cell) is None for cell in ends):
        return False
    widths = {len(cell) for cell in ends}
    if len(widths) != 1 or len(last[-1].strip()) not in widths:
        return False
    # Only the last cell can be cut while written, and a cut keeps its width only where the value
    # grew a digit: where that column counts up (a step, an epoch) it must not go back ('10000' cut
    # to '1000' is as wide as the '9900' before it; a rate that warmed up and holds may repeat).
    seen = np.array([to_float(cell) for cell in ends], dtype=float)
    now = to_float(last[-1])
    counts = bool((np.diff(seen) > 0).all())
    return not (counts and (now is None or now < seen[-1]))


def _whole_row(line: str, width: int) -> bool:
    """Every cell of the row, each quoted as W&B quotes them (a download cut short ends inside one)."""
    line = line.rstrip()
    return line.endswith('"') and len(_split(line, ",") or ()) == width


def _read_regular(source: Source) -> tuple[list[str], str, Columns, np.ndarray, tuple[str, ...]] | None:
    """The usual, undamaged file read by pandas' C parser in one pass; None for anything the
    careful reader must see line by line.

    Regular means: UTF-8 without a BOM, the header on the first line, no blank line, no quote
    below the header, the last line ended, no row wider than the header, and every cell a number,
    an absent mark or NaN, but in columns of text alone (a timestamp), which are dropped; no column
    naming each row's phase (read line by line, to split the phases). The result equals the
    careful reader's (tests/readers/test_csv_fast.py). A file on disk is streamed, never held whole
    in memory. The last item names the columns whose every cell is empty.
    """
    size = _size(source)
    if size < REGULAR_MIN_BYTES:  # importing pandas would cost more than it saves
        return None
    head = source.head(HEAD_CHECK)
    if head[:1].isspace() or head.startswith(codecs.BOM_UTF8) or b"\x00" in head:
        return None
    lines = _complete_lines(decode_text(head))[:SNIFF_LINES]
    delim = _delimiter(lines)
    if delim is None or len(lines) < 2 or _leading_comments(lines):
        return None
    cells = _split(lines[0], delim)  # the csv module: W&B exports quote their header
    if cells is None or len(cells) > MAX_COLUMNS:
        return None
    header = [h.strip() for h in cells]
    if len(_split(lines[1], delim) or ()) != len(header):  # pandas would take a wider first row's cell as an index
        return None
    if any(h.lower() in PHASE_KEYS for h in header):
        return None
    on_disk = source.path is not None and source.data is None and not source.gzipped
    if on_disk and size > _max_bytes():
        return None  # the careful reader says so
    data = None if on_disk else source.read_bytes()
    rows = _regular_rows(source.path if on_disk else None, data)
    if not rows:
        return None
    target: Path | BinaryIO = source.path if on_disk and source.path is not None else io.BytesIO(data or b"")
    names = _unique(header)
    values = {name: np.empty(rows) for name in names}
    present = {name: np.empty(rows, dtype=bool) for name in names}
    text: set[str] = set()
    if not _fill_regular(target, delim, values, present, text):
        return None
    no_number = np.logical_and.reduce([~p for p in present.values()])
    columns: Columns = {name: (values[name], present[name]) for name in names if present[name].any()}
    if not columns or no_number.any():  # the careful reader names such rows
        return None
    empty = tuple(name for name in names if name not in columns and name not in text)
    return header, delim, columns, np.arange(2, rows + 2, dtype=np.int64), empty


def _size(source: Source) -> int:
    if source.data is not None:
        return len(source.data)
    try:
        return source.path.stat().st_size if source.path is not None else 0
    except OSError:
        return 0


def _max_bytes() -> int:
    from lrdoctor import source as sources  # read at call time: the limit can be changed

    return sources.LIMITS.max_bytes


def _regular_rows(path: Path | None, data: bytes | None) -> int | None:
    """The number of data rows (lines after the header), None when the last line has no line
    break (read in chunks from `path`, else from `data`). Quotes, blank lines and text cells
    need no search here: the parse meets them and hands the file to the careful reader."""
    if data is not None:
        return data.count(b"\n") - 1 if data.endswith(b"\n") else None
    last = b""
    rows = -1
    try:
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            while chunk := fh.read(STREAM_CHUNK):
                rows += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    return rows if last == b"\n" else None


def _fill_regular(
    target: Path | BinaryIO,
    delim: str,
    values: dict[str, np.ndarray],
    present: dict[str, np.ndarray],
    text: set[str],
) -> bool:
    """Parse the rows in chunks into the preallocated arrays, and the names of the columns of text
    alone into `text`; False if pandas objects to any row or a column mixes numbers and text.
    Chunks keep the peak memory near the arrays themselves."""
    import pandas as pd

    rows = len(next(iter(values.values())))
    done = 0
    numbers: set[str] = set()
    try:
        with catch_warnings():
            # A row wider than the header raises; any warning pandas gives is taken as an objection,
            # but for mixed types in a column (a 'nan' among numbers), which _regular_column sorts out.
            simplefilter("error")
            filterwarnings("ignore", category=pd.errors.DtypeWarning)
            chunks = pd.read_csv(
                target,
                sep=delim,
                header=0,  # replaced by `names`
                names=list(values),
                engine="c",
                keep_default_na=False,
                na_values=_ABSENT_CELLS,
                skip_blank_lines=False,
                quoting=csv.QUOTE_NONE,
                chunksize=CHUNK_ROWS,
            )
            with chunks:
                for frame in chunks:
                    end = done + len(frame)
                    if end > rows:
                        return False
                    for name in values:
                        parsed = _regular_column(frame[name])
                        if parsed is None:
                            return False
                        values[name][done:end], present[name][done:end], is_text = parsed
                        if is_text:
                            text.add(name)
                        elif present[name][done:end].any():
                            numbers.add(name)
                    done = end
    except (ValueError, OverflowError, Warning):
        return False
    return done == rows and not text & numbers  # (text in one chunk, numbers in another: mixed)


# The absent marks as they are written (the careful reader compares them case-blind).
_ABSENT_CELLS = sorted({v for a in ABSENT for v in (a, a.upper(), a.title())})
# Where the regular file's checks look for a BOM, UTF-16 and the header.
HEAD_CHECK = 64 * 1024
# Files from this size on are parsed by pandas (below it, importing pandas costs more than the
# line-by-line reader takes: 1 MiB is about 25,000 rows of step, loss, lr).
REGULAR_MIN_BYTES = 1 << 20
# Bytes scanned at a time when checking a file on disk, and rows parsed at a time.
STREAM_CHUNK = 1 << 22
CHUNK_ROWS = 1 << 20


def _regular_column(column: Any) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """A parsed column as (values, present, whether it holds text only); None where numbers and
    text that is not NaN share it (the careful reader names such cells)."""
    import pandas as pd

    absent = column.isna().to_numpy()
    if column.dtype.kind in "iuf":
        return column.to_numpy(dtype=np.float64, na_value=np.nan), ~absent, False
    if column.dtype.kind == "b":
        return None
    # Text among the numbers: acceptable only if it spells NaN ('nan' makes the parser keep text).
    # The column is converted whole; only the few cells that gave no number are looked at.
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    odd = np.flatnonzero(np.isnan(values) & ~absent)
    cells = column.iloc[odd].astype(str).str.strip().str.lower().str.lstrip("+-")
    nan = cells.eq("nan")
    if nan.all():
        return values, ~absent, False
    # A column of text alone (a timestamp, a phase), dropped as the careful reader drops it, where
    # none of its cells is a number by the careful reader's rules ('50%' is 50 there).
    if nan.any() or (~np.isnan(values) & ~absent).any():
        return None
    if any('"' in str(u) or isinstance(_cell(str(u)), float) for u in column.iloc[odd].unique()):
        return None  # (a quoted cell is unquoted by the careful reader's parser: '"0.5"' is a number)
    return values, np.zeros(len(values), dtype=bool), True


def _complete_lines(text: str) -> list[str]:
    """The non-blank lines that end with a line break."""
    lines = _LINE_BREAK.split(text)
    return [ln for ln in lines[:-1] if ln.strip()]


def _split(line: str, delim: str) -> list[str] | None:
    """One line's cells; None for a line the csv module refuses. A quote never spans lines, so
    one torn quoted field cannot swallow the rows after it."""
    if '"' not in line:
        return line.split(delim)
    try:
        return next(csv.reader((line,), delimiter=delim, strict=True), [])
    except csv.Error:
        return None


def _field_counts(lines: list[str], delim: str) -> list[int]:
    return [len(cells) if cells is not None else 0 for cells in (_split(ln, delim) for ln in lines)]


def _delimiter(lines: list[str], *, agree: float = SNIFF_AGREE) -> str | None:
    """The separator giving the most header fields that `agree` of the lines share."""
    best: tuple[int, str] | None = None
    for delim in DELIMITERS:
        counts = _field_counts(lines, delim)
        if not counts or counts[0] < 2:
            continue
        same, width = 0, counts[0]
        for line, count in zip(lines, counts, strict=True):
            if count != width and count >= 2 and _all_text(line, delim):
                width = count  # a header line with other columns: the lines below follow it
            same += count == width
        if same >= max(1, int(agree * len(counts))) and (best is None or counts[0] > best[0]):
            best = (counts[0], delim)
    if best is None and _one_column(lines, agree):
        return DELIMITERS[0]  # no separator in any line: a single named column (pandas' Series.to_csv)
    return None if best is None else best[1]


_COLUMN_NAME = re.compile(r"[A-Za-z_][\w./:-]*")


def _one_column(lines: list[str], agree: float) -> bool:
    """A header that is one metric name, and below it lines of one number each."""
    if len(lines) < 2 or not _COLUMN_NAME.fullmatch(lines[0].strip()):
        return False
    numbers = sum(type(_cell(line.strip())) is float for line in lines[1:])
    return numbers >= max(1, int(agree * (len(lines) - 1)))


def _all_text(line: str, delim: str) -> bool:
    return not any(type(_cell(c)) is float for c in _split(line, delim) or ())


def _numeric_share(rows: list[str], delim: str) -> float:
    cells = [c for row in rows for c in (_split(row, delim) or []) if c.strip()]
    if not cells:
        return 0.0
    comma = _decimal_comma(rows, delim)
    numeric = sum(_cell(c, comma) is not None for c in cells)
    return numeric / len(cells)


_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")


def _decimal_comma(rows: list[str], delim: str) -> bool:
    """Whether the numbers are written with a decimal comma ('0,25', as spreadsheets in many
    locales write them, separated by semicolons): some cell reads so, and none has a decimal point."""
    if delim == ",":
        return False
    cells = [c.strip() for row in rows for c in (_split(row, delim) or [])]
    return any(_COMMA_DECIMAL.fullmatch(c) for c in cells) and not any(_DOT_DECIMAL.fullmatch(c) for c in cells)


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]  # each padded to the header's width (every column met, in order)
    line_numbers: np.ndarray  # of each row
    malformed: list[int] = field(default_factory=list)  # line numbers of rows left out
    # Rows with more cells than the header (left out too), and how many cells the last one had.
    wider: list[int] = field(default_factory=list)
    wider_cells: int = 0
    width: int = 0  # cells of the header the rows were read under
    first_header: list[str] = field(default_factory=list)  # as written, before names were made unique
    headers_again: list[int] = field(default_factory=list)  # line numbers of repeated headers
    # Header lines with other columns, and the columns each added: the rows below one are read
    # under it.
    header_changes: list[tuple[int, list[str]]] = field(default_factory=list)

    def warnings(self, label: str) -> list[str]:
        out = _named_twice(label, self.first_header)
        last_read = int(self.line_numbers[-1]) if len(self.line_numbers) else 0
        if len(self.wider) >= 2 and min(self.wider) > last_read:  # every row from a line on: a run appended
            out.append(
                f"{label}:{self.wider[0]}: from this line on, {len(self.wider)} rows have {self.wider_cells} cells "
                f"under a header of {self.width}: a later run appended without a header of its own (Keras' "
                "CSVLogger(append=True) writes so when the metrics changed); its rows are not read, so the run "
                f"judged is the one before it; put that run's header line above line {self.wider[0]} to read it"
            )
            malformed = self.malformed
        else:
            malformed = sorted(self.malformed + self.wider)
        if malformed:
            out.append(
                f"{label}: skipped {len(malformed)} malformed line(s) with more cells than the header "
                f"or a broken quote (line {_shown(malformed)})"
            )
        if self.headers_again:
            out.append(
                f"{label}: skipped {len(self.headers_again)} repeated header line(s) "
                f"(line {_shown(self.headers_again)}); several CSV files appended into one?"
            )
        for number, added in self.header_changes:
            what = f"adds {', '.join(added[:SHOWN_LINES])}" if added else "the same columns, reordered or fewer"
            out.append(f"{label}:{number}: a new header line ({what}); the rows below it are read under it")
        return out


def _parse(numbered: list[tuple[int, str]], delim: str, label: str) -> _Table:
    if not numbered:
        raise UnreadableLog(f"{label}: the file is empty")
    first, line = numbered[0]
    cells = _split(line, delim)
    if cells is None:
        raise UnreadableLog(f"{label}:{first}: the header line is not valid CSV")
    header = [h.strip() for h in cells]
    width = len(header)
    if width > MAX_COLUMNS:
        raise UnreadableLog(f"{label}:{first}: a header of {width} columns (more than {MAX_COLUMNS}); not a log")
    columns = _unique(header)  # every column met so far, in order
    table = _Table(columns, [], np.zeros(0, dtype=np.int64))
    numbers = []
    current = header
    where: list[int] | None = None  # the column of each cell under a later header (None: the first)
    for number, line in numbered[1:]:
        cells = _split(line, delim)
        if cells is None:
            table.malformed.append(number)
            continue
        stripped = [c.strip() for c in cells]
        if stripped[:width] == current and not any(stripped[width:]):
            table.headers_again.append(number)
        elif not _NUMBER_START.match(line) and _new_header(stripped, columns):
            if len(columns) + len(stripped) > MAX_COLUMNS:
                raise UnreadableLog(f"{label}:{number}: headers of more than {MAX_COLUMNS} columns; not a log")
            names = _unique(stripped)
            added = [n for n in names if n not in columns]
            columns.extend(added)
            where = [columns.index(n) for n in names]
            current, width = stripped, len(stripped)
            table.header_changes.append((number, added))
        elif len(cells) > width and any(stripped[width:]):
            table.wider.append(number)
            table.wider_cells = len(cells)
        elif where is None:
            table.rows.append((cells + [""] * (width - len(cells)))[:width])
            numbers.append(number)
        else:
            row = [""] * len(columns)
            for index, cell in zip(where, cells, strict=False):
                row[index] = cell
            table.rows.append(row)
            numbers.append(number)
    if not table.rows:
        from lrdoctor.naming import find_loss

        error = EmptyLog if find_loss(header) is not None else UnreadableLog
        raise error(f"{label}: only a header ({', '.join(header[:8])}), no data rows yet")
    if table.header_changes:  # rows read under the first header lack the columns added later
        for row in table.rows:
            row.extend([""] * (len(columns) - len(row)))
    table.line_numbers = np.asarray(numbers, dtype=np.int64)
    table.width = width
    table.first_header = header
    return table


_NUMBER_START = re.compile(r"\s*[-+.\d]")  # a row that starts so is data (the cheap test first)


def _new_header(cells: list[str], columns: list[str]) -> bool:
    """A header line written again with other columns (a resumed run that logs more): no cell
    is a number or an absent mark, and one at least names a column already met."""
    for c in cells:  # a data row fails at its first number: this is on every row's path
        if type(_cell(c)) is float:
            return False
    known = set(columns)
    return any(c in known for c in cells if c)


@dataclass(frozen=True)
class _Cells:
    bad_cells: int  # cells of numeric columns that hold text
    bad_rows: np.ndarray  # rows with such a cell
    junk_rows: np.ndarray  # rows where no cell holds a number: no data row at all
    empty: tuple[str, ...] = ()  # columns whose every cell is empty (or NA)


def _numeric_columns(table: _Table, decimal_comma: bool = False) -> tuple[Columns, _Cells]:
    """Each column as (float values, present mask); text-only columns are dropped."""
    parsed = []
    for index, name in enumerate(_unique(table.header)):
        cells = [_cell(row[index], decimal_comma) for row in table.rows]
        absent = np.fromiter((c is _ABSENT_CELL for c in cells), dtype=bool, count=len(cells))
        unparsed = np.fromiter((c is None for c in cells), dtype=bool, count=len(cells))
        values = np.array([c if type(c) is float else math.nan for c in cells], dtype=np.float64)
        parsed.append((name, values, absent, unparsed))
    junk = np.logical_and.reduce([absent | unparsed for _, _, absent, unparsed in parsed])
    columns: Columns = {}
    bad_rows = np.zeros(len(table.rows), dtype=bool)
    bad_cells = 0
    empty = []
    for name, values, absent, unparsed in parsed:
        present = ~absent & ~unparsed & ~junk
        if not present.any():
            if len(absent) and absent[~junk].all():
                empty.append(name)
            continue
        bad = unparsed & ~junk
        bad_cells += int(bad.sum())
        bad_rows |= bad
        columns[name] = (values, present)
    return columns, _Cells(bad_cells, bad_rows, junk, tuple(empty))


_ABSENT_CELL = object()  # a cell that says "not logged on this row"


def _cell(text: str, decimal_comma: bool = False) -> float | object | None:
    """A cell as a float, _ABSENT_CELL (empty, NA, ...), or None for text that is no number.
    A trailing % is dropped; digit separators ('1_000') are text, as in CSV writers' output.
    With `decimal_comma`, '0,25' is 0.25."""
    text = text.strip()
    if text.lower() in ABSENT:
        return _ABSENT_CELL
    text = text.rstrip("%")
    if "_" in text:
        return None
    if decimal_comma and "," in text:
        text = text.replace(",", ".", 1)
    try:
        return float(text)
    except ValueError:
        return None


def _named_twice(label: str, header: list[str]) -> list[str]:
    """A warning naming the columns a header names more than once (read as loss, loss.1, ...)."""
    counts = Counter(header)  # one pass: a header may hold 10,000 names
    twice = [n for n, k in counts.items() if n and k > 1]
    if not twice:
        return []
    shown = ", ".join(f"{n!r} ({counts[n]} times)" for n in twice[:SHOWN_LINES])
    return [f"{label}: columns named more than once: {shown}; read as {twice[0]}, {twice[0]}.1, ... in order"]


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name or f"column_{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out


def _step_axis(columns: Columns, rows: int) -> tuple[np.ndarray, StepKind, np.ndarray]:
    """The step of each row, its kind, and the rows whose step cell holds NaN or Inf.

    A blank step cell takes the step of the row before (W&B exports leave some blank); a step
    that is written but not finite cannot be placed, and its row is left out.
    """
    steps_first = usable_step_keys(columns, STEP_COLUMNS)
    for key, kind in [*((k, "step") for k in steps_first), *((k, "epoch") for k in EPOCH_KEYS)]:
        if key in columns:
            values, present = columns[key]
            finite = present & np.isfinite(values)
            if finite.all():  # the usual case: the column itself, not a copy
                return values, kind, np.zeros(rows, dtype=bool)  # type: ignore[return-value]
            if finite.mean() >= 0.5:
                steps = _ffill(np.where(finite, values, np.nan))
                if kind == "step":
                    _place_by_epoch(steps, finite, ~present, columns)
                return steps, kind, present & ~finite  # type: ignore[return-value]
    return np.arange(rows, dtype=np.float64), "index", np.zeros(rows, dtype=bool)


def _place_by_epoch(steps: np.ndarray, stepped: np.ndarray, blank: np.ndarray, columns: Columns) -> None:
    """Rows with a blank step but an epoch (validation rows), all written after the last step,
    would share that step: they are placed by their epochs instead (the rule of the JSON
    readers, :func:`steps_of_epochs`). Written between the steps, each keeps the step before it."""
    epoch = next((columns[k] for k in EPOCH_KEYS if k in columns), None)
    if epoch is None or not blank.any() or not stepped.any():
        return
    values, present = epoch
    epochs = np.where(present, values, np.nan)
    rows = blank & np.isfinite(epochs)
    if not rows.any() or np.flatnonzero(rows)[0] < np.flatnonzero(stepped)[-1]:
        return
    steps[rows] = steps_of_epochs(steps[stepped], epochs[stepped], epochs[rows])


def _shown(numbers: list[int] | np.ndarray) -> str:
    listed = [int(n) for n in numbers[:SHOWN_LINES]]
    return ", ".join(map(str, listed)) + (", ..." if len(numbers) > SHOWN_LINES else "")


def _ffill(steps: np.ndarray) -> np.ndarray:
    """Rows with no step take the step of the row before (W&B exports leave some blank); rows
    before the first step, that first step."""
    missing = ~np.isfinite(steps)
    if not missing.any():
        return steps
    idx = np.where(~missing, np.arange(len(steps)), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = steps[idx]
    if missing[0] and not missing.all():
        filled[: int(np.argmax(~missing))] = steps[int(np.argmax(~missing))]
    return filled


def _flavour(header: list[str], name: str, delim: str) -> str:
    cols = set(header)
    if header == TENSORBOARD_DOWNLOAD_HEADER:
        return TENSORBOARD_DOWNLOAD
    if any(" - " in h for h in header) and (
        {"Step", "_step"} & cols or any(h.endswith(("__MIN", "__MAX")) for h in header)
    ):
        return "wandb-csv"
    # CSVLogger always writes both `epoch` and `step`; few other writers do.
    if {"epoch", "step"} <= cols:
        return "lightning-csv"
    if header and header[0] == "epoch" and _ultralytics.looks_like(header):
        return ULTRALYTICS
    if header and header[0] == "epoch" and {"train_loss", "eval_loss"} <= cols:
        return "timm-csv"
    if "epoch" in cols and ("loss" in cols or delim == ";") and "step" not in cols:
        return "keras-csv"
    return "csv"
