"""MLflow tracking stores: a metric file, a run directory, an mlruns tree, or mlflow.db.

- file store: ``mlruns/<experiment>/<run>/metrics/<key>`` holds lines
  ``<timestamp_ms> <value> <step>`` (a key with '/' is a sub-directory); ``params/<key>``
  holds one hyper-parameter; ``meta.yaml`` the run's name and times;
- SQLite store: tables ``runs``, ``metrics(key, value, timestamp, run_uuid, step, is_nan)``
  and ``params``; opened read-only, never written.

Where a store holds several runs the most recent is read, with a warning naming it.
``seq`` orders the points of a run by (timestamp, step).
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lrdoctor.errors import NoSeries, UnreadableLog
from lrdoctor.run import Log, Series
from lrdoctor.source import HEAD_BYTES, LIMITS, Source, as_utf8, decode_text, head_regular, read_regular

SQLITE_MAGIC = b"SQLite format 3\x00"
LINE_FORM = "<timestamp_ms> <value> <step>"
DB_NAME = "mlflow.db"
# The SQL store cannot hold infinities and writes the largest float in their place.
SQL_INF = sys.float_info.max
_CAN_DESERIALIZE = hasattr(sqlite3.Connection, "deserialize")  # Python 3.11+
# Lines of a metric file's head that must all parse for sniff to claim it.
SNIFF_LINES = 8
# Run directories looked at under an mlruns root; bounds the work of in_dir on a big tree.
MAX_ENTRIES = 10_000
SHOWN_LINES = 5
# Characters of a database error quoted in a message.
MAX_REASON = 160


@dataclass(frozen=True)
class _RunDir:
    path: Path
    name: str
    when: float  # latest of start/end time (ms), else the directory's mtime
    deleted: bool
    has_metrics: bool


def sniff(head: bytes, name: str) -> bool:
    """An SQLite database, or lines that all read '<int> <float> <int>'."""
    if head.startswith(SQLITE_MAGIC):
        return True
    cut = len(head) >= HEAD_BYTES
    lines = as_utf8(head).split(b"\n")
    if cut and len(lines) > 1:
        lines = lines[:-1]  # cut by the head
    lines = [ln for ln in lines[: SNIFF_LINES + 1] if ln.strip()][:SNIFF_LINES]
    return bool(lines) and all(len(ln.split()) == 3 and _parse_line(ln, 0) is not None for ln in lines)


def read(source: Source) -> Log:
    if source.is_dir:
        assert source.path is not None
        return _read_dir(source.path, source.label)
    if source.head(len(SQLITE_MAGIC)) == SQLITE_MAGIC:
        return _read_sqlite(source)
    name = _metric_name(source.path) if source.path is not None else source.name or "metric"
    ts, values, steps, bad = _parse_metric(as_utf8(source.read_bytes()))
    if not len(values):
        raise UnreadableLog(_no_points_message(source.label, bad))
    seq = _seq(ts, steps)
    return Log(
        source=source.label,
        format="mlflow",
        series={name: Series(name, steps, values, seq)},
        step_kind="step",
        warnings=_bad_line_warnings(source.label, bad),
    )


def in_dir(path: Path) -> Path | None:
    """A run directory (metrics/), mlflow.db, or a directory of runs (an experiment, mlruns)."""
    if _is_run(path):
        return path
    if (path / DB_NAME).is_file():
        return path / DB_NAME
    for root in (path, path / "mlruns"):
        if root.is_dir() and _find_runs(root):
            return root
    return None


# --- file store -----------------------------------------------------------------------------


def _read_dir(path: Path, label: str) -> Log:
    if (path / "metrics").is_dir():
        return _read_run(path, label, warnings=[])
    if (path / DB_NAME).is_file():
        return _read_sqlite(Source(str(path / DB_NAME), path=path / DB_NAME))
    runs = _find_runs(path) or _find_runs(path / "mlruns")
    if not runs:
        raise UnreadableLog(f"{label}: no MLflow run here (no metrics/ directory, mlflow.db or mlruns tree)")
    run = _latest(runs)
    warnings = []
    if len(runs) > 1:
        other = next(r for r in runs if r is not run)
        warnings.append(
            f"{label}: holds {len(runs)} MLflow runs; reading the most recent, {run.path} ({run.name}); "
            f"to read another, name its run directory (e.g. {other.path})"
        )
    return _read_run(run.path, str(run.path), warnings=warnings)


def _read_run(run: Path, label: str, *, warnings: list[str]) -> Log:
    metrics = run / "metrics"
    files = sorted(p for p in metrics.rglob("*") if p.is_file() and not p.name.startswith("."))
    parsed = []
    for path in files:
        try:
            data = read_regular(path, limit=LIMITS.max_bytes)
        except OSError as exc:
            warnings.append(f"{path}: cannot read: {exc.strerror or exc}; skipped")
            continue
        if data is None:
            warnings.append(f"{path}: not a regular file or too large; skipped")
            continue
        ts, values, steps, bad = _parse_metric(as_utf8(data))
        warnings.extend(_bad_line_warnings(str(path), bad))
        if len(values):
            parsed.append((path.relative_to(metrics).as_posix(), ts, values, steps))
    if not parsed:
        raise NoSeries(f"{label}: the MLflow run has no metric points (metrics/ is empty)")
    seqs = _seq(np.concatenate([p[1] for p in parsed]), np.concatenate([p[3] for p in parsed]))
    series, start = {}, 0
    for name, _, values, steps in parsed:
        series[name] = Series(name, steps, values, seqs[start : start + len(values)])
        start += len(values)
    return Log(
        source=label,
        format="mlflow",
        series=series,
        step_kind="step",
        warnings=warnings,
        hparams=_read_params(run / "params"),
    )


def _parse_metric(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, bytes]]]:
    """Timestamps, values, steps of a metric file, and its unreadable lines (number, text)."""
    rows: list[tuple[float, float, float]] = []
    bad: list[tuple[int, bytes]] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        row = _parse_line(line, len(rows))
        if row is None:
            bad.append((number, line))
        else:
            rows.append(row)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), bad


def _parse_line(line: bytes, index: int) -> tuple[float, float, float] | None:
    """'<timestamp_ms> <value> <step>' (MLflow before 1.0 wrote no step: the line index stands in)."""
    parts = line.split()
    if not 2 <= len(parts) <= 3:
        return None
    try:
        ts = float(int(parts[0]))
        value = float(parts[1])
        step = float(int(parts[2])) if len(parts) == 3 else float(index)
    except (ValueError, OverflowError):  # not numbers, or integers past the float range
        return None
    return ts, value, step


def _seq(ts: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Write order of points by (timestamp, step), ties kept in file order."""
    order = np.lexsort((np.arange(len(ts)), steps, ts))
    seq = np.empty(len(ts), dtype=np.float64)
    seq[order] = np.arange(len(ts), dtype=np.float64)
    return seq


def _metric_name(path: Path) -> str:
    """The key: the path under the run's metrics/ directory, else the file name."""
    parts = path.absolute().parts
    if "metrics" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("metrics")
        return "/".join(parts[at + 1 :])
    return path.name


def _read_params(params: Path) -> dict[str, Any]:
    if not params.is_dir():
        return {}
    found: dict[str, Any] = {}
    for path in sorted(p for p in params.rglob("*") if p.is_file()):
        try:
            data = read_regular(path)
        except OSError:
            continue
        if data is None:
            continue
        text = decode_text(data).strip()
        found[path.relative_to(params).as_posix()] = _param_value(text)
    return found


def _param_value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _find_runs(root: Path) -> list[_RunDir]:
    """Runs in an experiment directory (<run>/metrics) or an mlruns root (<exp>/<run>/metrics)."""
    runs: list[_RunDir] = []
    for child in _subdirs(root):
        if _is_run(child):
            runs.append(_describe_run(child))
        elif child.name.isdigit():
            runs.extend(_describe_run(g) for g in _subdirs(child) if _is_run(g))
    return runs


def _is_run(path: Path) -> bool:
    """A file-store run: metrics/ beside meta.yaml (MLflow writes both), or holding a metric file.
    A folder that cannot be looked into (no permission) is none."""
    metrics = path / "metrics"
    try:
        if not metrics.is_dir():
            return False
        if (path / "meta.yaml").is_file():
            return True
        first = next((p for p in metrics.rglob("*") if p.is_file()), None)
        if first is None:
            return False
        head = head_regular(first)
    except OSError:  # (Path.is_dir raises PermissionError, where it returns False for a missing path)
        return False
    return head is not None and sniff(head, first.name)


def _subdirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as it:
            entries = [e for _, e in zip(range(MAX_ENTRIES), it, strict=False)]
            return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


def _describe_run(path: Path) -> _RunDir:
    meta = _read_meta(path / "meta.yaml")
    times = [t for t in (_to_int(meta.get("start_time")), _to_int(meta.get("end_time"))) if t is not None]
    try:
        when = float(max(times)) if times else path.stat().st_mtime * 1000.0
        has_metrics = any(p.is_file() for p in (path / "metrics").rglob("*"))
    except OSError:
        when, has_metrics = 0.0, False
    name = meta.get("run_name") or meta.get("name") or path.name
    return _RunDir(path, str(name), when, meta.get("lifecycle_stage") == "deleted", has_metrics)


def _latest(runs: list[_RunDir]) -> _RunDir:
    """The most recent run, preferring live runs that logged something."""
    return max(runs, key=lambda r: (r.has_metrics, not r.deleted, r.when))


def _read_meta(path: Path) -> dict[str, str]:
    """Top-level 'key: value' lines of meta.yaml (all lrdoctor needs; no YAML library)."""
    try:
        data = read_regular(path)
    except OSError:
        return {}
    if data is None:
        return {}
    text = decode_text(data)
    meta = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key and not key[0].isspace():
            value = value.strip().strip("'\"")
            if value and value != "null":
                meta[key.strip()] = value
    return meta


def _to_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _bad_line_warnings(label: str, bad: list[tuple[int, bytes]]) -> list[str]:
    if not bad:
        return []
    shown = ", ".join(str(n) for n, _ in bad[:SHOWN_LINES]) + (", ..." if len(bad) > SHOWN_LINES else "")
    return [f"{label}: skipped {len(bad)} line(s) that are not '{LINE_FORM}' (line {shown})"]


def _no_points_message(label: str, bad: list[tuple[int, bytes]]) -> str:
    if not bad:
        return f"{label}: the metric file holds no points"
    number, line = bad[0]
    text = decode_text(line[:60]).strip()
    return f"{label}:{number}: expected '{LINE_FORM}', found {text!r}; not an MLflow metric file"


# --- SQLite store ---------------------------------------------------------------------------


def _read_sqlite(source: Source) -> Log:
    try:
        with _database(source) as con:
            return _read_store(con, source.label)
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # the latter: a message quoting broken bytes
        why = " ".join(str(exc).split())[:MAX_REASON]  # SQLite may quote a schema over several lines
        raise UnreadableLog(f"{source.label}: cannot read the SQLite database: {why}") from None


@contextmanager
def _database(source: Source) -> Iterator[sqlite3.Connection]:
    """A connection that writes nothing beside the user's database.

    A file with no pending journal or WAL is opened immutable (no -wal, -shm or -journal is
    created next to it); one with a pending journal or WAL is copied, with them, into a private
    temporary directory and read there. Bytes (gzip, stdin) are loaded into memory.
    """
    if source.path is not None and not source.gzipped and source.data is None:
        pending = _pending_sidecars(source.path)
        if not pending:
            uri = f"{source.path.absolute().as_uri()}?mode=ro&immutable=1"
            with closing(sqlite3.connect(uri, uri=True)) as con:
                yield con
            return
        with _private_copy(source.path, pending) as private, closing(sqlite3.connect(private)) as con:
            yield con
        return
    data = _rollback_header(source.read_bytes())
    if _CAN_DESERIALIZE:
        with closing(sqlite3.connect(":memory:")) as con:
            con.deserialize(data)
            yield con
        return
    # Python 3.10 has no deserialize: a private temporary copy, removed afterwards.
    with tempfile.TemporaryDirectory(prefix="lrdoctor-") as tmp:
        copy = Path(tmp) / DB_NAME
        copy.write_bytes(data)
        with closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as con:
            yield con


def _pending_sidecars(path: Path) -> list[Path]:
    """A non-empty -wal or -journal beside the database: changes not yet in the main file."""
    found = []
    for suffix in ("-wal", "-journal"):
        side = path.with_name(path.name + suffix)
        try:
            st = side.stat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:
            found.append(side)
    return found


@contextmanager
def _private_copy(path: Path, sidecars: list[Path]) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lrdoctor-") as tmp:
        for original in (path, *sidecars):
            shutil.copyfile(original, Path(tmp) / original.name)
        yield str(Path(tmp) / path.name)


# Bytes 18 and 19 of an SQLite header: file format versions, 2 for WAL mode. A WAL-mode image
# cannot be opened from memory; marked as rollback mode it reads the same.
_FORMAT_VERSIONS = slice(18, 20)


def _rollback_header(data: bytes) -> bytes:
    if data.startswith(SQLITE_MAGIC) and data[_FORMAT_VERSIONS] == b"\x02\x02":
        return data[:18] + b"\x01\x01" + data[20:]
    return data


def _read_store(con: sqlite3.Connection, label: str) -> Log:
    con.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    tables = _tables(con)
    if not {"metrics", "runs"} <= tables:
        raise UnreadableLog(
            f"{label}: an SQLite database without MLflow's metrics and runs tables "
            f"(found {', '.join(sorted(tables)) or 'no tables'}); not an MLflow store"
        )
    runs = _sql_runs(con)
    if not runs:
        raise NoSeries(f"{label}: the MLflow database holds no metric points")
    run = max(runs, key=lambda r: (not r["deleted"], r["when"]))
    warnings = []
    if len(runs) > 1:
        warnings.append(
            f"{label}: holds {len(runs)} MLflow runs with metrics; reading the most recent, "
            f"{run['name'] or run['id']} (run id {run['id']}); reading another run from mlflow.db is "
            "not supported yet: export it, or log to a file store (mlruns/) and name its run directory"
        )
    rows = con.execute(
        "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY timestamp, step, key",
        (run["id"],),
    ).fetchall()
    params = (
        con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run["id"],)).fetchall()
        if "params" in tables
        else []
    )
    return Log(
        source=label,
        format="mlflow",
        series=_sql_series(rows),
        step_kind="step",
        warnings=warnings,
        hparams={str(k): _param_value(str(v)) for k, v in params},
    )


def _tables(con: sqlite3.Connection) -> set[str]:
    return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _sql_runs(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Runs that logged metrics, with their name, latest time and whether they were deleted."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    wanted = ("name", "start_time", "end_time", "lifecycle_stage")
    pick = [f"r.{c}" if c in columns else "NULL" for c in wanted]
    query = (
        f"SELECT r.run_uuid, {', '.join(pick)} FROM runs r "
        "WHERE EXISTS (SELECT 1 FROM metrics m WHERE m.run_uuid = r.run_uuid)"
    )
    runs = []
    for run_id, name, start, end, stage in con.execute(query):
        times = [t for t in (start, end) if isinstance(t, int | float)]
        runs.append({"id": run_id, "name": name, "when": max(times, default=0), "deleted": stage == "deleted"})
    return runs


def _sql_series(rows: list[tuple[Any, ...]]) -> dict[str, Series]:
    points: dict[str, tuple[list[float], list[float], list[float]]] = {}
    for seq, (key, value, _ts, step, is_nan) in enumerate(rows):
        number = _sql_value(value, is_nan)
        at = _sql_value(step or 0, False)
        if number is None or at is None or not math.isfinite(at):
            continue
        steps, values, seqs = points.setdefault(str(key), ([], [], []))
        steps.append(at)
        values.append(number)
        seqs.append(float(seq))
    return {k: Series(k, np.array(s), np.array(v), np.array(q)) for k, (s, v, q) in points.items()}


def _sql_value(value: Any, is_nan: Any) -> float | None:
    """The logged value: NaN where is_nan is set, the largest float read back as infinity."""
    if is_nan:
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return math.copysign(math.inf, number) if abs(number) == SQL_INF else number
