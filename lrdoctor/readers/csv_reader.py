"""CSV logs: plain, PyTorch Lightning CSVLogger, Keras CSVLogger, timm summary.csv, W&B exports.

Layouts, and how each is told apart (by the header, then by the file name):

- Lightning `metrics.csv`: `epoch` and `step` columns, sparse rows (train, val and learning-rate
  columns filled on different rows), `*_step`/`*_epoch` pairs, `lr-<Optimizer>[/pg<N>]` from
  LearningRateMonitor; an `hparams.yaml` beside it is read into `Log.hparams`.
- Keras CSVLogger: `epoch` first, then `loss`, `val_loss`, ...; `NA` for a missing cell; with
  `append=True` several runs follow each other under one header (the epoch restarts at 0).
- timm `summary.csv`: `epoch,train_loss,eval_loss,...,lr`.
- W&B history export: `Step`/`_step`, `<run name> - <metric>` with `__MIN`/`__MAX` columns.

Comma, tab, semicolon or pipe separated; quoted fields; BOM; CRLF. An empty cell (or `NA`)
means "not logged on this row"; `nan`/`inf` are values. A last line without its newline is
a row the writer had not finished: it is dropped with a warning.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from lrdoctor.errors import UnreadableLog
from lrdoctor.readers._common import ABSENT, EPOCH_KEYS, to_float
from lrdoctor.run import Log, Series, StepKind
from lrdoctor.source import Source, decode_text

DELIMITERS = (",", "\t", ";", "|")
STEP_COLUMNS = ("step", "Step", "_step", "global_step", "trainer/global_step", "iteration", "iter", "it")
SNIFF_LINES = 30


def sniff(head: bytes, name: str) -> bool:
    lines = _complete_lines(decode_text(head))[:SNIFF_LINES]
    if len(lines) < 2:
        return len(lines) == 1 and name.lower().endswith((".csv", ".tsv")) and _delimiter(lines) is not None
    delim = _delimiter(lines)
    return delim is not None and _numeric_share(lines[1:], delim) >= 0.5


def in_dir(path: Path) -> Path | None:
    for name in ("metrics.csv", "summary.csv"):
        if (path / name).is_file():
            return path / name
    return None


def read(source: Source) -> Log:
    text = decode_text(source.read_bytes())
    warnings: list[str] = []
    if text and not text.endswith(("\n", "\r")):
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut < 0:
            raise UnreadableLog(f"{source.label}: a single line with no newline: not a complete CSV")
        warnings.append(
            f"{source.label}: the last line has no newline (the writer may still be running); skipped"
        )
        text = text[: cut + 1]
    lines = _complete_lines(text[: 256 * 1024])
    delim = _delimiter(lines[:SNIFF_LINES])
    if delim is None:
        raise UnreadableLog(f"{source.label}:1: no consistent separator (tried , tab ; |); is this a CSV?")
    header, table = _parse(text, delim, source.label)
    columns, bad = _numeric_columns(header, table)
    if not columns:
        raise UnreadableLog(f"{source.label}: no numeric column under the header {header[:8]}")
    if bad:
        warnings.append(
            f"{source.label}: {bad} cell(s) hold text where numbers are expected; read as missing"
        )
    steps, kind = _step_axis(columns, len(table))
    series = {}
    seq = np.arange(len(table), dtype=np.float64)
    for name, (values, present) in columns.items():
        mask = present & np.isfinite(steps)
        if mask.any():
            series[name] = Series(name, steps[mask], values[mask], seq[mask])
    fmt = _flavour(header, source.name, delim)
    hparams = _hparams_beside(source.path) if fmt == "lightning-csv" else {}
    return Log(source.label, fmt, series, step_kind=kind, warnings=warnings, hparams=hparams)


def _complete_lines(text: str) -> list[str]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if text and not text.endswith(("\n", "\r")) and lines:
        lines.pop()
    return lines


def _field_counts(lines: list[str], delim: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delim)]
    except csv.Error:
        return []


def _delimiter(lines: list[str]) -> str | None:
    best: tuple[int, str] | None = None
    for delim in DELIMITERS:
        counts = _field_counts(lines, delim)
        if not counts or counts[0] < 2:
            continue
        agree = sum(c == counts[0] for c in counts)
        if agree >= max(1, int(0.9 * len(counts))) and (best is None or counts[0] > best[0]):
            best = (counts[0], delim)
    return None if best is None else best[1]


def _numeric_share(rows: list[str], delim: str) -> float:
    cells = [c for row in csv.reader(rows, delimiter=delim) for c in row if c.strip()]
    if not cells:
        return 0.0
    numeric = sum(to_float(c) is not None or c.strip().lower() in ABSENT for c in cells)
    return numeric / len(cells)


def _parse(text: str, delim: str, label: str) -> tuple[list[str], list[list[str]]]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise UnreadableLog(f"{label}: malformed CSV: {exc}") from None
    if not rows:
        raise UnreadableLog(f"{label}: the file is empty")
    header = [h.strip() for h in rows[0]]
    if len(rows) == 1:
        raise UnreadableLog(f"{label}: only a header ({', '.join(header[:8])}), no data rows yet")
    width = len(header)
    table = [(row + [""] * (width - len(row)))[:width] for row in rows[1:]]
    return header, table


def _numeric_columns(
    header: list[str], table: list[list[str]]
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], int]:
    """Each column as (float values, present mask); text-only columns are dropped."""
    import pandas as pd

    frame = pd.DataFrame(table, columns=_unique(header), dtype=object)
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    bad = 0
    for name in frame.columns:
        raw = frame[name].astype(str).str.strip()
        absent = raw.str.lower().isin(ABSENT).to_numpy()
        values = pd.to_numeric(raw.str.rstrip("%"), errors="coerce").to_numpy(dtype=np.float64)
        unparsed = np.isnan(values) & ~absent & ~raw.str.lower().str.lstrip("+-").isin(["nan"]).to_numpy()
        present = ~absent & ~unparsed
        if not present.any():
            continue
        bad += int(unparsed.sum())
        columns[name] = (values, present)
    return columns, bad


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name or f"column_{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return out


def _step_axis(columns: dict[str, tuple[np.ndarray, np.ndarray]], rows: int) -> tuple[np.ndarray, StepKind]:
    for key, kind in [*((k, "step") for k in STEP_COLUMNS), *((k, "epoch") for k in EPOCH_KEYS)]:
        if key in columns:
            values, present = columns[key]
            if present.mean() >= 0.5:
                steps = values.copy()
                steps[~present] = np.nan
                return _ffill(steps), kind  # type: ignore[return-value]
    return np.arange(rows, dtype=np.float64), "index"


def _ffill(steps: np.ndarray) -> np.ndarray:
    """Rows with no step take the step of the row before (W&B exports leave some blank)."""
    missing = ~np.isfinite(steps)
    if not missing.any():
        return steps
    idx = np.where(~missing, np.arange(len(steps)), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = steps[idx]
    return filled


def _flavour(header: list[str], name: str, delim: str) -> str:
    cols = set(header)
    if any(" - " in h for h in header) and (
        {"Step", "_step"} & cols or any(h.endswith(("__MIN", "__MAX")) for h in header)
    ):
        return "wandb-csv"
    # CSVLogger always writes both `epoch` and `step`; few other writers do.
    if {"epoch", "step"} <= cols:
        return "lightning-csv"
    if header and header[0] == "epoch" and {"train_loss", "eval_loss"} <= cols:
        return "timm-csv"
    if "epoch" in cols and ("loss" in cols or delim == ";") and "step" not in cols:
        return "keras-csv"
    return "csv"


def _hparams_beside(path: Path | None) -> dict[str, object]:
    """Top-level scalar `key: value` pairs of a Lightning hparams.yaml next to the metrics."""
    if path is None:
        return {}
    candidates = [
        path.with_name("hparams.yaml"),
        path.with_name(path.name.replace("metrics.csv", "hparams.yaml")),
    ]
    yaml_path = next((p for p in candidates if p != path and p.is_file()), None)
    try:
        if yaml_path is None or yaml_path.stat().st_size > 1024 * 1024:
            return {}
        text = yaml_path.read_text(errors="replace")
    except OSError:
        return {}
    params: dict[str, object] = {}
    for line in text.splitlines():
        if line[:1].isspace() or ":" not in line or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition(":")
        number = to_float(value)
        params[key.strip()] = number if number is not None else value.strip()
    return params
