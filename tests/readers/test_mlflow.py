from __future__ import annotations

import hashlib
import math
import os
import sqlite3
from pathlib import Path

import pytest

from lrdoctor.errors import NoSeries, UnreadableLog
from lrdoctor.readers import mlflow, read_log, sniff
from lrdoctor.source import Source, open_source

REAL = (
    "mlflow/10-Academy-Batch-4-Week-4__Swahili-Speech-To-Text__mlruns_1_ed05f9cd599442fe9a0c9222184710b8_metrics_loss"
)
FORM = "'<timestamp_ms> <value> <step>'"
T0 = 1_700_000_000_000  # a timestamp in ms, as MLflow writes them

# MLflow's SQL store schema (the tables lrdoctor reads), as its migrations create them.
SCHEMA = """
CREATE TABLE experiments (experiment_id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(256) NOT NULL UNIQUE,
    artifact_location VARCHAR(256), lifecycle_stage VARCHAR(32), creation_time BIGINT,
    last_update_time BIGINT);
CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(250), source_type VARCHAR(20),
    source_name VARCHAR(500), entry_point_name VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9),
    start_time BIGINT, end_time BIGINT, deleted_time BIGINT, source_version VARCHAR(50),
    lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id INTEGER);
CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, timestamp BIGINT NOT NULL,
    run_uuid VARCHAR(32) NOT NULL, step BIGINT DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL,
    PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan));
CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT NULL, run_uuid VARCHAR(32) NOT NULL,
    PRIMARY KEY (key, run_uuid));
"""


def metric_file(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def make_run(
    exp: Path,
    run_id: str,
    *,
    start: int,
    end: int | None = None,
    name: str = "run",
    stage: str = "active",
    losses: tuple[float, ...] = (2.0, 1.0),
) -> Path:
    run = exp / run_id
    (run / "params").mkdir(parents=True)
    (run / "meta.yaml").write_text(
        f"artifact_uri: file:///x/{run_id}/artifacts\nend_time: {'null' if end is None else end}\n"
        f"experiment_id: '1'\nlifecycle_stage: {stage}\nrun_id: {run_id}\nrun_name: {name}\n"
        f"start_time: {start}\nstatus: 3\ntags: []\n"
    )
    metric_file(run / "metrics" / "loss", [f"{start + 10 * i} {v} {i}" for i, v in enumerate(losses)])
    return run


def make_db(
    path: Path,
    runs: list[tuple[str, str, int, int | None, str]],
    metrics: list[tuple[str, float, int, str, int, int]],
    params: list[tuple[str, str, str]],
) -> Path:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT INTO runs (run_uuid, name, start_time, end_time, lifecycle_stage, experiment_id) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        runs,
    )
    con.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
        metrics,
    )
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
    con.commit()
    con.close()
    return path


# --- one metric file ------------------------------------------------------------------------


def test_real_metric_file(realworld: Path) -> None:
    """The Swahili speech run's loss file: 10 points, steps 0-9, in write order."""
    source = open_source(realworld / REAL)
    assert sniff(source) == "mlflow"
    log = mlflow.read(source)
    (series,) = log.series.values()
    assert log.format == "mlflow" and log.step_kind == "step"
    assert len(series) == 10 and series.steps.tolist() == list(range(10))
    assert series.values[0] == pytest.approx(332.6841735839844)
    assert series.values[-1] == pytest.approx(234.79780579)
    assert series.seq.tolist() == list(range(10))


def test_non_finite_values_and_seq(tmp_path: Path) -> None:
    """nan/inf tokens are values; seq orders by (timestamp, step), the points stay as written."""
    path = metric_file(
        tmp_path / "loss",
        [f"{T0 + 30} nan 3", f"{T0} 2.5 0", f"{T0 + 10} inf 1", f"{T0 + 20} -Infinity 2", f"{T0 + 20} NaN 1"],
    )
    (series,) = mlflow.read(open_source(path)).series.values()
    assert series.name == "loss"
    assert series.steps.tolist() == [3, 0, 1, 2, 1]
    assert math.isnan(series.values[0]) and series.values[1:4].tolist() == [2.5, math.inf, -math.inf]
    assert series.seq.tolist() == [4, 0, 1, 3, 2]


def test_bad_lines(tmp_path: Path) -> None:
    path = metric_file(tmp_path / "loss", [f"{T0} 2.0 0", "garbage here", f"{T0 + 1} 1.0 1", f"{T0 + 2} 1.5"])
    log = mlflow.read(open_source(path))
    # A two-field line is MLflow's format before steps: its index stands in for the step.
    assert log.series["loss"].steps.tolist() == [0, 1, 2]
    assert log.warnings == [f"{path}: skipped 1 line(s) that are not {FORM} (line 2)"]
    with pytest.raises(UnreadableLog, match=f"loss:1: expected {FORM}, found 'step loss'"):
        mlflow.read(open_source(metric_file(tmp_path / "loss", ["step loss", "1 2 x"])))


def test_metric_name_inside_a_run(tmp_path: Path) -> None:
    """A key with '/' is a sub-directory of metrics/; the name is the path under it."""
    path = metric_file(tmp_path / "run" / "metrics" / "train" / "loss", [f"{T0} 1.0 0"])
    assert list(mlflow.read(open_source(path)).series) == ["train/loss"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"1628697792090 332.68 0\n1628697795789 297.6 1\n", True),
        (b"1 nan 0\n2 -inf 1\n3 Infinity 2\n", True),
        (b"SQLite format 3\x00rest", True),
        (b"1 2.0\n", False),
        (b"1 2.0 1" + b"0" * 400 + b"\n", False),
        (b"step loss lr\n1 2.0 0.1\n", False),
        (b"1 2.0 0.5\n", False),
        (b"1,2.0,3\n", False),
        (b'{"step": 1}\n', False),
        (b"", False),
    ],
)
def test_sniff(head: bytes, expected: bool) -> None:
    assert mlflow.sniff(head, "loss") is expected


# --- file store directories -----------------------------------------------------------------


def test_run_directory(tmp_path: Path) -> None:
    run = make_run(tmp_path, "a" * 32, start=T0, losses=(2.0, 1.5, 1.0))
    metric_file(run / "metrics" / "lr-Adam" / "pg1", [f"{T0 + 5} 0.01 0", f"{T0 + 15} 0.005 1"])
    (run / "params" / "lr").write_text("0.01")
    (run / "params" / "epochs").write_text("3")
    (run / "params" / "optimizer").write_text("Adam")
    assert mlflow.in_dir(run) == run
    log = read_log(run)
    assert log.format == "mlflow" and log.warnings == []
    assert log.series["loss"].values.tolist() == [2.0, 1.5, 1.0]
    assert log.series["loss"].seq.tolist() == [0, 2, 4]
    assert log.series["lr-Adam/pg1"].seq.tolist() == [1, 3]
    assert log.hparams == {"lr": 0.01, "epochs": 3, "optimizer": "Adam"}


def test_empty_run(tmp_path: Path) -> None:
    run = tmp_path / "r"
    (run / "metrics").mkdir(parents=True)
    with pytest.raises(NoSeries, match="no metric points"):
        mlflow.read(Source(str(run), path=run))


def test_mlruns_tree_picks_the_latest_run(tmp_path: Path) -> None:
    mlruns = tmp_path / "mlruns"
    old = make_run(mlruns / "1", "b" * 32, start=T0, end=T0 + 100, name="old", losses=(9.0,))
    new = make_run(mlruns / "1", "c" * 32, start=T0 + 200, end=None, name="new", losses=(3.0, 2.0))
    make_run(mlruns / "1", "d" * 32, start=T0 + 900, end=T0 + 999, name="gone", stage="deleted")
    make_run(mlruns / "2", "e" * 32, start=T0 + 50, end=T0 + 150, name="other-exp")
    (mlruns / ".trash").mkdir()
    (mlruns / "models").mkdir()
    for root in (tmp_path, mlruns, mlruns / "1"):
        assert mlflow.in_dir(root) == (mlruns / "1" if root == mlruns / "1" else mlruns)
    log = read_log(tmp_path)
    assert log.series["loss"].values.tolist() == [3.0, 2.0]
    assert log.source == str(new)
    assert len(log.warnings) == 1
    assert f"holds 4 MLflow runs; reading the most recent, {new} (new)" in log.warnings[0]
    assert "name its run directory" in log.warnings[0]
    assert mlflow.read(Source(str(old), path=old)).series["loss"].values.tolist() == [9.0]


def test_run_without_meta_uses_mtime(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    first = make_run(exp, "f" * 32, start=T0, losses=(5.0,))
    second = make_run(exp, "0" * 32, start=T0, losses=(4.0,))
    for run, when in ((first, 2_000_000_000), (second, 1_000_000_000)):
        (run / "meta.yaml").write_text("status: 3\n")
        os.utime(run, (when, when))
    assert read_log(exp).series["loss"].values.tolist() == [5.0]


def test_in_dir_ignores_other_directories(tmp_path: Path) -> None:
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_text("step,loss\n")
    (tmp_path / "1" / "notarun").mkdir(parents=True)
    assert mlflow.in_dir(tmp_path) is None
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "scores.csv").write_text("epoch,acc\n1,0.5\n")
    assert mlflow.in_dir(tmp_path) is None
    metric_file(tmp_path / "bare" / "metrics" / "loss", [f"{T0} 1.0 0"])
    assert mlflow.in_dir(tmp_path / "bare") == tmp_path / "bare"  # no meta.yaml, but a metric file


# --- SQLite store ---------------------------------------------------------------------------


def test_sqlite_store(tmp_path: Path) -> None:
    db = make_db(
        tmp_path / "mlflow.db",
        runs=[
            ("r1", "first", T0, T0 + 100, "active"),
            ("r2", "second", T0 + 200, T0 + 300, "active"),
            ("r3", "deleted", T0 + 900, T0 + 950, "deleted"),
            ("r4", "no-metrics", T0 + 999, None, "active"),
        ],
        metrics=[
            ("loss", 5.0, T0 + 1, "r1", 0, 0),
            ("loss", 3.0, T0 + 220, "r2", 1, 0),
            ("loss", 0.0, T0 + 230, "r2", 2, 1),
            ("loss", 1.7976931348623157e308, T0 + 240, "r2", 3, 0),
            ("loss", 2.5, T0 + 210, "r2", 0, 0),
            ("lr", 0.1, T0 + 215, "r2", 0, 0),
            ("loss", 1.0, T0 + 960, "r3", 0, 0),
        ],
        params=[("lr", "0.1", "r2"), ("batch_size", "32", "r2"), ("lr", "9", "r1")],
    )
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    source = open_source(db)
    assert sniff(source) == "mlflow"
    log = mlflow.read(source)
    loss = log.series["loss"]
    assert loss.steps.tolist() == [0, 1, 2, 3]
    assert loss.values[:2].tolist() == [2.5, 3.0]
    assert math.isnan(loss.values[2]) and loss.values[3] == math.inf
    assert loss.seq.tolist() == [0, 2, 3, 4] and log.series["lr"].seq.tolist() == [1]
    assert log.hparams == {"lr": 0.1, "batch_size": 32}
    assert "holds 3 MLflow runs with metrics; reading the most recent, second (run id r2)" in log.warnings[0]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no journal left behind


def test_sqlite_single_run_in_a_directory_and_from_bytes(tmp_path: Path) -> None:
    make_db(
        tmp_path / "mlflow.db",
        runs=[("r1", "only", T0, None, "active")],
        metrics=[("train_loss", 1.5, T0, "r1", 7, 0)],
        params=[],
    )
    assert mlflow.in_dir(tmp_path) == tmp_path / "mlflow.db"
    log = read_log(tmp_path)
    assert log.warnings == [] and log.series["train_loss"].steps.tolist() == [7]
    piped = mlflow.read(Source("<stdin>", data=(tmp_path / "mlflow.db").read_bytes()))
    assert piped.series["train_loss"].values.tolist() == [1.5]


def test_sqlite_from_bytes_without_deserialize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.10 has no Connection.deserialize: piped bytes go through a temporary copy."""
    make_db(
        tmp_path / "mlflow.db",
        runs=[("r1", "only", T0, None, "active")],
        metrics=[("loss", 0.5, T0, "r1", 3, 0)],
        params=[],
    )
    monkeypatch.setattr(mlflow, "_CAN_DESERIALIZE", False)
    piped = mlflow.read(Source("<stdin>", data=(tmp_path / "mlflow.db").read_bytes()))
    assert piped.series["loss"].steps.tolist() == [3]


def test_sqlite_not_mlflow_or_broken(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE things (a)")
    con.commit()
    con.close()
    with pytest.raises(UnreadableLog, match=r"without MLflow's metrics and runs tables \(found things\)"):
        read_log(other)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    with pytest.raises(UnreadableLog, match=r"broken\.db: cannot"):
        read_log(broken)
    empty = make_db(tmp_path / "empty.db", runs=[("r1", "x", T0, None, "active")], metrics=[], params=[])
    with pytest.raises(NoSeries, match="holds no metric points"):
        read_log(empty)


def test_a_folder_that_cannot_be_looked_into_is_no_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Path.is_dir raises PermissionError (it returns False only for a missing path): a run folder
    without permission, met while searching a folder, had ended the command with an internal error
    instead of the one-line 'permission denied' of the folder itself."""
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("name: run\n")
    assert mlflow._is_run(run)
    real = Path.is_dir

    def is_dir(self: Path) -> bool:
        if self.name == "metrics":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    assert not mlflow._is_run(run)
