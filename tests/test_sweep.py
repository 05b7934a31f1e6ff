"""Directories of runs: every run found, diagnosed in parallel, one table; the rate a sweep points to."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor import load
from lrdoctor.cli import cli
from lrdoctor.diagnosis import diagnose
from lrdoctor.readers import read_log
from lrdoctor.report.markdown import md
from lrdoctor.report.summary import CSV_COLUMNS, shared_folder
from lrdoctor.sweep import (
    VERDICT_ORDER,
    LoadOptions,
    ProgressBar,
    Target,
    diagnose_all,
    expand,
    find_runs,
    no_advice_because,
    sweep_advice,
)
from tests.conftest import ROOT, SAMPLE_LOGS, without_root_powers

# Final loss level of a run at each rate: best at 0.01; the rate 1 ends in NaN.
SWEEP = {1e-4: 2.0, 1e-3: 1.0, 1e-2: 0.2, 1e-1: 0.5, 1.0: math.nan}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _rate_run(path: Path, lr: float, end: float, start: float = 2.3) -> Path:
    """100 steps falling from `start` to `end`; an `end` of NaN: down towards 0.3, then NaN from step 30."""
    diverges = math.isnan(end)
    level = 0.3 if diverges else end
    rows = []
    for s in range(100):
        value = math.nan if diverges and s >= 30 else level + (start - level) * math.exp(-s / 15)
        rows.append(f"{s},{value:.5f},{lr}\n")
    return _touch(path, "step,loss,lr\n" + "".join(rows))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    _touch(root / "tb_a" / "events.out.tfevents.1.host")
    _touch(root / "tb_b" / "train" / "events.out.tfevents.1.host")  # Keras: train/ and validation/ are one run
    _touch(root / "tb_b" / "validation" / "events.out.tfevents.1.host")
    _touch(root / "lightning_logs" / "version_0" / "metrics.csv")
    _touch(root / "lightning_logs" / "version_0" / "hparams.yaml")
    _touch(root / "lightning_logs" / "version_1" / "metrics.csv")
    _touch(root / "hf_out" / "checkpoint-10" / "trainer_state.json")
    _touch(root / "mlruns" / "0" / "meta.yaml")
    _touch(root / "mlruns" / "0" / "aaa" / "metrics" / "loss")
    _touch(root / "mlruns" / "0" / "bbb" / "metrics" / "loss")
    _touch(root / "plain" / "a.csv")
    _touch(root / "plain" / "b.log.gz")
    for other in ("notes.md", "config.json", "requirements.txt", "train.py"):
        _touch(root / "plain" / other)
    _touch(root / ".hidden" / "x.csv")
    _touch(root / "__pycache__" / "y.csv")
    return root


def test_find_runs_finds_each_run_once(tree: Path) -> None:
    found = [p.relative_to(tree).as_posix() for p in find_runs(tree)]
    assert found == [
        "hf_out",
        "lightning_logs/version_0",
        "lightning_logs/version_1",
        "mlruns/0/aaa",
        "mlruns/0/bbb",
        "plain/a.csv",
        "plain/b.log.gz",
        "tb_a",
        "tb_b",
    ]


def test_a_directory_that_is_one_run_stays_one(tree: Path) -> None:
    for one in ("tb_a", "tb_b", "lightning_logs/version_0", "hf_out", "mlruns/0/aaa"):
        found = expand([str(tree / one)])
        assert found.targets == [Target(str(tree / one), named=True)] and not found.several


def test_an_mmengine_work_dir_holds_one_run_per_timestamp_folder(tmp_path: Path) -> None:
    """mmengine writes each run's scalars twice (vis_data/scalars.json and vis_data/<ts>.json) and a
    text log beside them: each timestamp folder is one run, read from scalars.json (it was three)."""
    for stamp in ("20240101_120000", "20240102_090000"):
        rows = "".join(
            json.dumps({"lr": 0.1, "loss": 2 * 0.99**k, "step": 10 * k, "epoch": 1 + k // 10}) + "\n"
            for k in range(1, 61)
        )
        _touch(tmp_path / "work_dir" / stamp / "vis_data" / "scalars.json", rows)
        _touch(tmp_path / "work_dir" / stamp / "vis_data" / f"{stamp}.json", rows)
        _touch(
            tmp_path / "work_dir" / stamp / f"{stamp}.log",
            "2024/01/01 12:00:00 - mmengine - INFO - Epoch(train) [1][10/100]  lr: 1.0000e-01  loss: 2.0\n",
        )
    found = [p.relative_to(tmp_path).as_posix() for p in find_runs(tmp_path / "work_dir")]
    assert found == ["work_dir/20240101_120000", "work_dir/20240102_090000"]
    log = read_log(tmp_path / "work_dir" / "20240101_120000")
    assert log.source.endswith("vis_data/scalars.json") and len(log.series["loss"]) == 60


def test_a_directory_holding_one_run_deeper_down_diagnoses_that_run(tmp_path: Path) -> None:
    # `lrdoctor diagnose lightning_logs/` after one training run; a folder with one CSV in it.
    version = SAMPLE_LOGS / "lightning" / "lightning_logs" / "version_0" / "metrics.csv"
    one = tmp_path / "lightning_logs" / "version_0"
    one.mkdir(parents=True)
    (one / "metrics.csv").write_bytes(version.read_bytes())
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "run.csv").write_bytes((SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv").read_bytes())
    for path, inner in ((tmp_path / "lightning_logs", one / "metrics.csv"), (folder, folder / "run.csv")):
        result = invoke("diagnose", str(path), "--format", "json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["source"] == str(inner)


def test_globs_and_directories_of_runs_are_sweeps(tree: Path) -> None:
    found = expand([str(tree / "plain" / "*.csv")])
    assert found.targets == [Target(str(tree / "plain" / "a.csv"), named=False)] and found.several
    assert expand([str(tree / "lightning_logs")]).several
    pattern = str(tree / "nothing-*.csv")  # an error of its own, the other paths still judged
    assert expand([pattern]).targets == [Target(pattern, True, "no file or directory matches this pattern")]


def test_every_sample_log_is_found_and_diagnosed_in_parallel() -> None:
    manifest = json.loads((SAMPLE_LOGS / "MANIFEST.json").read_text())["files"]
    result = invoke("diagnose", str(SAMPLE_LOGS), "--format", "json", "--jobs", "2")
    assert result.exit_code == 1  # several sample runs diverge
    docs = json.loads(result.stdout)
    assert isinstance(docs, list)
    expected = {(SAMPLE_LOGS / m["path"]).as_posix() for m in manifest}
    # A directory run is reported by its directory or by the file the reader picked inside it.
    assert {next(e for e in expected if d["source"].startswith(e)) for d in docs} == expected
    assert len(docs) == len(manifest)


def test_table_is_sorted_by_verdict_and_csv_has_one_row_per_run() -> None:
    text = invoke("diagnose", str(SAMPLE_LOGS / "csv"), "--jobs", "1").stdout
    folder, head, *rows = text.strip().split("\n\n")[0].splitlines()
    assert folder == f"runs in {SAMPLE_LOGS / 'csv'}{os.sep}"
    assert head.split()[:3] == ["run", "verdict", "conf"]
    order = [VERDICT_ORDER[row.split()[1]] for row in rows]
    assert order == sorted(order) and len(rows) == 5
    assert {row.split()[0] for row in rows} == {p.name for p in (SAMPLE_LOGS / "csv").iterdir()}
    page = invoke("diagnose", str(SAMPLE_LOGS / "csv"), "--format", "markdown").stdout.splitlines()
    assert page[0] == f"Runs in {md(str(SAMPLE_LOGS / 'csv') + os.sep)}" and page[2].startswith("| run |")
    assert {line.split(" | ")[0][2:] for line in page[4:9]} == {md(p.name) for p in (SAMPLE_LOGS / "csv").iterdir()}
    sheet = list(csv.reader(io.StringIO(invoke("diagnose", str(SAMPLE_LOGS / "csv"), "--format", "csv").stdout)))
    assert tuple(sheet[0]) == CSV_COLUMNS and len(sheet) == 6
    nan_row = next(r for r in sheet if r[0].endswith("diabetes_mlp_sgd_nan.csv"))
    assert dict(zip(CSV_COLUMNS, nan_row, strict=True))["final_loss"] == "inf"


def test_sweep_points_to_the_rate_with_the_lowest_final_loss(tmp_path: Path) -> None:
    for lr, end in SWEEP.items():
        _rate_run(tmp_path / "sweep" / f"lr_{lr:g}.csv", lr, end)
    result = invoke("diagnose", str(tmp_path / "sweep"))
    assert result.exit_code == 1  # the run at rate 1 went NaN
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("the sweep points to lr 0.01 (lowest final loss (0.2")
    assert "across 5 runs at 5 rates from 0.0001 to 1; 1 rate(s) ended in NaN/Inf)" in last


def _overfit_run(path: Path, lr: float, train_end: float, val_end: float, first_step: int = 0) -> Path:
    """Training loss falling to `train_end`, validation loss (every 10 steps) to `val_end`."""
    rows = []
    for s in range(first_step, 100):
        val = f"{val_end + (2.3 - val_end) * math.exp(-s / 20):.5f}" if s % 10 == 9 else ""
        rows.append(f"{s},{train_end + (2.3 - train_end) * math.exp(-s / 15):.5f},{val},{lr}\n")
    return _touch(path, "step,loss,val_loss,lr\n" + "".join(rows))


def test_a_sweep_with_validation_losses_is_ranked_by_them(tmp_path: Path) -> None:
    """The high rates drive the training loss to 0 and overfit: the best rate is the one whose
    validation loss ends lowest (it had pointed to the highest rate, with 'a better one beyond')."""
    ends = {1e-3: (0.6, 0.7), 1e-2: (0.2, 0.3), 1e-1: (0.01, 0.9), 1.0: (0.001, 1.5)}
    for lr, (train, val) in ends.items():
        _overfit_run(tmp_path / "sweep" / f"lr_{lr:g}.csv", lr, train, val)
    result = invoke("diagnose", str(tmp_path / "sweep"))
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("the sweep points to lr 0.01 (lowest final val_loss (0.3"), last
    assert "edge" not in last


def test_a_sweep_that_points_nowhere_says_why(tmp_path: Path) -> None:
    for lr, start in ((1e-3, 2.3), (1e-2, 0.7), (1e-1, 1.0)):
        _rate_run(tmp_path / "mixed" / f"lr_{lr:g}.csv", lr, 0.2, start=start)
    last = invoke("diagnose", str(tmp_path / "mixed")).stdout.strip().splitlines()[-1]
    assert last == (
        "no rate from the sweep: the runs start at losses from 0.7 to 2.3, too far apart for one task "
        "from one initialisation"
    )


def test_logs_that_begin_late_are_not_told_apart_by_their_first_loss(tmp_path: Path) -> None:
    """Lightning's log_every_n_steps=50: each run's first point comes after 50 updates, where the
    rates have already parted (0.5 to 2.3 here); they are still one sweep."""
    dxs = [
        diagnose(load(_overfit_run(tmp_path / f"{lr}.csv", lr, end, end + 0.1, first_step=50)))
        for lr, end in ((1e-3, 1.5), (1e-2, 0.4), (1e-1, 0.05))
    ]
    advice = sweep_advice(dxs)
    assert advice is not None and advice.lr == 0.1


def test_best_rate_at_the_edge_says_the_optimum_may_lie_beyond(tmp_path: Path) -> None:
    dxs = [
        diagnose(load(_rate_run(tmp_path / f"{lr}.csv", lr, end)))
        for lr, end in ((1e-3, 1.0), (1e-2, 0.5), (1e-1, 0.2))
    ]
    advice = sweep_advice(dxs)
    assert advice is not None and advice.lr == 0.1 and advice.at_edge
    assert "edge of the sweep" in advice.because


def test_rates_that_differ_by_a_few_percent_are_one_rate(tmp_path: Path) -> None:
    """A float32 copy of 0.01 (TensorBoard's 0.0099999998) and warmup peaks logged a step apart
    (0.000478, 0.0005) are one rate, not points of a sweep: two rates give no advice."""
    dxs = [
        diagnose(load(_rate_run(tmp_path / f"{k}.csv", lr, end)))
        for k, (lr, end) in enumerate(((0.0099999998, 0.5), (0.01, 0.4), (0.000478, 1.0), (0.0005, 0.9)))
    ]
    assert sweep_advice(dxs) is None
    assert no_advice_because(dxs) == "2 distinct learning rate(s) among the runs, 3 needed"
    dxs.append(diagnose(load(_rate_run(tmp_path / "high.csv", 0.1, 0.2))))
    advice = sweep_advice(dxs)
    assert advice is not None and advice.lr == 0.1 and "across 5 runs at 3 rates from 0.0005 to 0.1" in advice.because


def test_runs_of_different_tasks_give_no_sweep_advice(tmp_path: Path) -> None:
    dxs = [
        diagnose(load(_rate_run(tmp_path / f"{lr}.csv", lr, end, start=start)))
        for lr, end, start in ((1e-3, 0.5, 2.3), (1e-2, 0.3, 0.7), (1e-1, 0.2, 1.0))
    ]
    assert sweep_advice(dxs) is None
    assert sweep_advice(dxs[:2]) is None  # two rates are no sweep either


def test_found_files_that_are_no_log_are_noted_but_named_ones_are_errors(tmp_path: Path) -> None:
    good = _rate_run(tmp_path / "d" / "run.csv", 1e-2, 0.2)
    _touch(tmp_path / "d" / "scratch.txt", "nothing to see here\n")
    _rate_run(tmp_path / "d" / "other.csv", 1e-3, 0.5)
    result = invoke("diagnose", str(tmp_path / "d"))
    assert result.exit_code == 0, result.output
    assert "note: passed over 1 file(s) that hold no training log: " in result.stderr
    result = invoke("diagnose", str(tmp_path / "d" / "scratch.txt"), str(good))
    assert result.exit_code == 2


def test_a_folder_holding_no_training_log_is_an_error_as_check_says(tmp_path: Path) -> None:
    """Nothing judged is no pass: diagnose had printed an empty table (or `[]`) with exit 0."""
    _touch(tmp_path / "notes" / "a.txt", "nothing to see here\n")
    _touch(tmp_path / "notes" / "b.txt", "nor here\n")
    for args in ((), ("--format", "json")):
        result = invoke("diagnose", str(tmp_path / "notes"), *args)
        assert result.exit_code == 2
        found_in = f"lrdoctor: error: no training log among the files found in {tmp_path / 'notes'}"
        assert result.stderr.splitlines()[-1] == found_in
    assert invoke("check", str(tmp_path / "notes")).exit_code == 2


@pytest.mark.parametrize("command", ["diagnose", "check", "inspect", "watch"])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lrdoctor check "$LOG"` with LOG unset: the current folder had been judged in its place."""
    _rate_run(tmp_path / "run.csv", 1e-2, 0.2)
    monkeypatch.chdir(tmp_path)
    result = invoke(command, "")
    assert result.exit_code == 2
    assert result.stderr.strip() == "lrdoctor: error: '': an empty path (an unset variable?)"


def test_diagnose_all_keeps_input_order_across_processes(tmp_path: Path) -> None:
    targets = [Target(str(_rate_run(tmp_path / f"r{k}.csv", 10.0**-k, 0.2 * k + 0.1)), True) for k in range(1, 5)]
    results = diagnose_all(targets, LoadOptions(), jobs=2)
    assert [r.target for r in results] == targets
    assert all(r.diagnosis is not None and r.error is None for r in results)


def test_progress_bar_draws_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(stream, width=10)
        for done in (1, 2, 3):
            bar(done, 3)
    assert "\r[###.......] 1/3 runs" in tty.getvalue() and "3/3 runs" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_a_folder_that_cannot_be_opened_is_one_line_and_the_others_are_judged(tmp_path: Path) -> None:
    prefix = without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    _rate_run(tmp_path / "runs" / "a.csv", 1e-2, 0.2)
    _rate_run(tmp_path / "runs" / "shut" / "metrics.csv", 1e-3, 0.5)
    (tmp_path / "runs" / "shut").chmod(0)
    try:
        for command in ("diagnose", "check"):
            done = subprocess.run(
                [*prefix, sys.executable, "-m", "lrdoctor", command, "runs"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 2
            assert done.stderr.strip().splitlines() == ["lrdoctor: error: runs/shut: permission denied"]
            assert "runs/a.csv" in done.stdout
    finally:
        (tmp_path / "runs" / "shut").chmod(0o755)


def test_a_recursive_glob_through_a_link_back_up_reads_each_log_once(tmp_path: Path) -> None:
    """`**` follows symbolic links: a/up -> .. named the same two logs at every depth (245 objects)."""
    _rate_run(tmp_path / "sl" / "a" / "x.csv", 1e-2, 0.2)
    _rate_run(tmp_path / "sl" / "y.csv", 1e-3, 0.5)
    (tmp_path / "sl" / "a" / "up").symlink_to("..")
    result = invoke("diagnose", str(tmp_path / "sl" / "**"), "--format", "json")
    sources = [d["source"] for d in json.loads(result.stdout)]
    assert sorted(sources) == [str(tmp_path / "sl" / "a" / "x.csv"), str(tmp_path / "sl" / "y.csv")]


def test_a_recursive_glob_through_two_links_back_up_is_refused_at_once(tmp_path: Path) -> None:
    """Two links back up (a/up -> .., a/self -> ../a): `**` named the files 2**40 times over and the
    command ran until it was killed. It is refused in one line; the folder named itself is read."""
    _rate_run(tmp_path / "sl" / "a" / "x.csv", 1e-2, 0.2)
    (tmp_path / "sl" / "a" / "up").symlink_to("..")
    (tmp_path / "sl" / "a" / "self").symlink_to("../a")
    done = subprocess.run(
        [sys.executable, "-m", "lrdoctor", "check", str(tmp_path / "sl" / "**" / "*.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "point back up the tree, and '**' would follow them without end" in done.stderr
    assert invoke("check", str(tmp_path / "sl")).exit_code == 0


def test_a_recursive_glob_over_run_folders_judges_each_run_once(tmp_path: Path) -> None:
    """`runs/**` matches each version folder and the metrics.csv inside it: 6 rows had been judged
    for 3 runs (and counted as 6 runs of the sweep)."""
    for v, lr in enumerate((1e-3, 1e-2, 1e-1)):
        _rate_run(tmp_path / "runs" / f"version_{v}" / "metrics.csv", lr, 0.5 - v / 10)
    result = invoke("diagnose", str(tmp_path / "runs" / "**"), "--format", "json")
    sources = sorted(d["source"] for d in json.loads(result.stdout))
    assert sources == [str(tmp_path / "runs" / f"version_{v}" / "metrics.csv") for v in range(3)]


def test_a_run_folder_with_a_file_beside_its_log_is_one_run(tmp_path: Path) -> None:
    """A results.json dropped beside the log is passed over, and the folder is reported as the one
    run it holds: one JSON object (as one PATH gives), the run's own report, not a table of one."""
    _touch(
        tmp_path / "exp" / "train.log",
        "".join(f"step {i}: loss {2 * math.exp(-i / 20) + 0.1:.4f}\n" for i in range(100)),
    )
    _touch(tmp_path / "exp" / "results.json", '{"eval_loss": 0.52, "eval_accuracy": 0.9}\n')
    result = invoke("diagnose", str(tmp_path / "exp"), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["source"].endswith("train.log")
    assert "passed over 1 file(s)" in result.stderr
    text = invoke("diagnose", str(tmp_path / "exp")).stdout
    assert text.startswith(f"{tmp_path / 'exp' / 'train.log'}  (text-nanogpt)") and "verdict" in text
    listed = invoke("inspect", str(tmp_path / "exp"), "--format", "json")
    assert listed.exit_code == 0 and isinstance(json.loads(listed.stdout), dict) and "passed over 1" in listed.stderr
    # Two logs in it stay a folder of runs: an array.
    _touch(tmp_path / "exp" / "other.log", "".join(f"step {i}: loss {1 / (i + 1):.4f}\n" for i in range(100)))
    assert isinstance(json.loads(invoke("diagnose", str(tmp_path / "exp"), "--format", "json").stdout), list)


@pytest.mark.parametrize(
    "named, text",
    [
        ("summary.csv", "lr,final_loss\n0.001,0.31\n0.01,0.22\n0.1,0.45\n"),
        ("history.jsonl", '{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.9}\n'),
        ("metrics.json", '{"best_accuracy": 0.91}\n'),
    ],
)
def test_a_sweep_folder_with_a_summary_beside_its_runs_is_searched_not_one_run(
    tmp_path: Path, named: str, text: str
) -> None:
    """A file named like a run's log (summary.csv, history.jsonl, metrics.json) beside the sweep's
    own tables does not make the folder one run: each table is judged, and the gate fails on the
    run that diverged (it judged the summary alone and passed)."""
    for lr, end in ((1e-3, 1.0), (1e-2, 0.2), (1.0, math.nan)):
        _rate_run(tmp_path / "sweep" / f"run_lr{lr}.csv", lr, end)
    _touch(tmp_path / "sweep" / named, text)
    assert len(find_runs(tmp_path / "sweep")) >= 3
    result = invoke("check", str(tmp_path / "sweep"))
    assert result.exit_code == 1 and "run_lr1.0.csv: too_high" in result.stdout
    # One table beside it (a run's own log and its summary) leaves the folder one run, as before,
    # and so do tables named for the run's phases.
    lone = tmp_path / "one"
    _rate_run(lone / "metrics.csv", 1e-2, 0.2)
    _touch(lone / "extra.csv", "a,b\n1,2\n")
    assert find_runs(lone) == [lone]
    phases = tmp_path / "phases"
    _rate_run(phases / "metrics.csv", 1e-2, 0.2)
    _touch(phases / "train.csv", "a,b\n1,2\n")
    _touch(phases / "val.csv.gz", "a,b\n1,2\n")
    assert find_runs(phases) == [phases]


def test_a_sweep_whose_logs_record_no_rate_takes_the_rates_its_folders_name(tmp_path: Path) -> None:
    """Runs in 'lr0.001_s0'-style folders, their logs holding no rate: the sweep still points to
    the rate of the lowest final loss (it had said it could place no run on a rate)."""
    for lr, end in ((1e-3, 1.0), (1e-2, 0.2), (1e-1, 0.5)):
        run = tmp_path / f"lr{lr:g}_s0"
        run.mkdir()
        rows = "".join(f"{s},{end + (2.3 - end) * 0.9**s:.5f}\n" for s in range(100))
        (run / "log.csv").write_text("step,loss\n" + rows)
    result = invoke("diagnose", str(tmp_path))
    assert "the sweep points to lr 0.01 (lowest final loss (0.2001) across 3 runs" in result.output


@pytest.mark.parametrize(
    ("sources", "folder", "names"),
    [
        (["runs/a/lr0.1/metrics.csv", "runs/a/lr1/metrics.csv"], "runs/a/", ["lr0.1/metrics.csv", "lr1/metrics.csv"]),
        # run folders are named from the folder above them, as files are
        (["runs/lr0.1/", "runs/lr1/"], "runs/", ["lr0.1/", "lr1/"]),
        (["runs/lr0.1", "runs/b/lr1.csv"], "runs/", ["lr0.1", "b/lr1.csv"]),
        # nothing shared, or only the root, or not all paths: named as given
        (["a.csv", "b/c.csv"], "", ["a.csv", "b/c.csv"]),
        (["/a/x.csv", "/b/y.csv"], "", ["/a/x.csv", "/b/y.csv"]),
        (["/a/x.csv", "a/y.csv"], "", ["/a/x.csv", "a/y.csv"]),
        (["<stdin>", "runs/x.csv"], "", ["<stdin>", "runs/x.csv"]),
        (["runs/x.csv"], "", ["runs/x.csv"]),
        # a prefix of the name is no folder: "runs/ab" and "runs/abc" share "runs/", not "runs/ab"
        (["runs/ab/x.csv", "runs/abc/y.csv"], "runs/", ["ab/x.csv", "abc/y.csv"]),
        # compared by their parts: a doubled slash or a leading ./ is the same folder
        (["runs//a/m.csv", "runs//b/m.csv", "runs//x.csv"], "runs/", ["a/m.csv", "b/m.csv", "x.csv"]),
        (["./runs/a/m.csv", "./runs/b/m.csv"], "runs/", ["a/m.csv", "b/m.csv"]),
        (["../t/runs/a.csv", "../t/runs/b.csv"], "../t/runs/", ["a.csv", "b.csv"]),
        (["/data/runs/a.csv", "/data/runs/b/c.csv"], "/data/runs/", ["a.csv", "b/c.csv"]),
        # a UNC share (or POSIX's implementation-defined //): its leading // is part of its name
        (
            ["//srv/share/runs/a.csv", "//srv/share/runs/b.csv"],
            "",
            ["//srv/share/runs/a.csv", "//srv/share/runs/b.csv"],
        ),
        # a '..' past a name is not resolved (through a link it leads elsewhere): as given
        (["runs/a/m.csv", "runs/a/../b/m.csv"], "", ["runs/a/m.csv", "runs/a/../b/m.csv"]),
    ],
)
def test_runs_in_one_folder_are_named_from_it(sources: list[str], folder: str, names: list[str]) -> None:
    if os.sep != "/":
        pytest.skip("POSIX paths")
    assert shared_folder(sources) == (folder, names)


def test_standard_input_among_runs_diagnosed_in_parallel_is_read_here(tmp_path: Path) -> None:
    """Worker processes do not share standard input: '-' among other runs had failed with
    'standard input is a device' unless --jobs 1."""
    for name in ("a.csv", "b.csv"):
        shutil.copy(SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv", tmp_path / name)
    done = subprocess.run(
        [sys.executable, "-m", "lrdoctor", "diagnose", "-", "a.csv", "b.csv", "--jobs", "2", "--format", "json"],
        input=(SAMPLE_LOGS / "csv" / "digits_mlp_sgd_too_high.csv").read_text(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (done.returncode, done.stderr) == (1, ""), done.stderr
    docs = json.loads(done.stdout)
    assert [d["source"] for d in docs] == ["<stdin>", "a.csv", "b.csv"]
    assert [d["verdict"] for d in docs] == ["too_high", "ok", "ok"]
