"""`lrdoctor watch`: follows a log as it is written and stops on a confirmed pathology."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.sweep import LoadOptions
from lrdoctor.watch import WatchConfig, fingerprint, follow, replaced

HEADER = "step,loss,lr\n"
LIMIT = "30"  # seconds: a generous bound on every watch below, which ends far sooner


def healthy_rows(first: int, last: int) -> str:
    return "".join(f"{s},{0.1 + 2.2 * 0.9**s:.5f},0.001\n" for s in range(first, last))


def nan_rows(first: int, last: int) -> str:
    return "".join(f"{s},nan,0.001\n" for s in range(first, last))


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def _later(action, delay: float = 0.3) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_appended_nan_rows_stop_the_watch_with_exit_1(tmp_path: Path) -> None:
    log = tmp_path / "train.csv"
    log.write_text(HEADER + healthy_rows(0, 30))

    def append() -> None:
        for first in range(30, 60, 10):  # healthy rows arrive in bursts, then the loss turns NaN
            with open(log, "a") as fh:
                fh.write(healthy_rows(first, first + 10))
            time.sleep(0.1)
        with open(log, "a") as fh:
            fh.write(nan_rows(60, 63))

    writer = _later(append)
    result = invoke("watch", str(log), "--poll", "0.05", "--timeout", LIMIT)
    writer.join()
    assert result.exit_code == 1, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"{log}: ")  # the first diagnosis, of the healthy start
    assert (
        lines[-1]
        == f"lrdoctor: {log}: divergence confirmed: loss is NaN from step 60 (and every value after it); stopping"
    )


def _follow_with(log: Path, change) -> list:
    """Events of a watch whose first pause runs `change` (no real sleeping: the order is fixed)."""
    calls: list[float] = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 1:
            change()
        assert len(calls) < 50, "the watch did not stop"

    return list(follow(log, options=LoadOptions(), config=WatchConfig(poll=0.01), sleep=sleep))


def test_a_replaced_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "train.csv"
    log.write_text(HEADER + healthy_rows(0, 40))

    def rotate() -> None:  # a new, shorter file renamed over the old one: a new inode
        fresh = tmp_path / "fresh.csv"
        fresh.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 22))
        os.replace(fresh, log)

    events = _follow_with(log, rotate)
    assert [e.kind for e in events] == ["update", "replaced", "update", "confirmed"]
    assert events[1].message == f"{log}: the file was replaced or cut short; reading it again from the start"
    assert events[-1].message == f"{log}: divergence confirmed: loss is NaN from step 20 (and every value after it)"


def test_a_truncated_and_rewritten_file_is_read_again(tmp_path: Path) -> None:
    log = tmp_path / "train.csv"
    log.write_text(HEADER + healthy_rows(0, 60))
    events = _follow_with(log, lambda: log.write_text(HEADER + healthy_rows(0, 10) + nan_rows(10, 11)))
    assert [e.kind for e in events] == ["update", "replaced", "update", "confirmed"]


def test_a_file_that_appears_later_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "later.csv"
    events = _follow_with(log, lambda: log.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 21)))
    assert [e.kind for e in events] == ["waiting", "update", "confirmed"]
    assert events[0].message == f"{log}: does not exist (yet); waiting for it"


def test_timeout_without_a_finding_exits_0(tmp_path: Path) -> None:
    log = tmp_path / "ok.csv"
    log.write_text(HEADER + healthy_rows(0, 60))
    result = invoke("watch", str(log), "--poll", "0.05", "--timeout", "0.3")
    assert result.exit_code == 0, result.output
    assert f"lrdoctor: {log}: nothing in divergence within 0.3 s" in result.stderr
    assert len(result.stdout.strip().splitlines()) == 1  # one line: the diagnosis did not change


def test_binary_data_that_no_log_becomes_is_bad_input_not_a_wait(tmp_path: Path) -> None:
    """A watch of a picture or a checkpoint had waited forever (or until --timeout, exit 0)."""
    data = tmp_path / "model.bin"
    data.write_bytes(bytes(range(256)) * 8)
    result = invoke("watch", str(data), "--poll", "0.05", "--timeout", "5")  # it ends at once, not at 5 s
    assert result.exit_code == 2 and "binary data of no known log format" in result.stderr
    empty = tmp_path / "later.csv"
    empty.write_text("")  # an empty file is still waited for
    assert invoke("watch", str(empty), "--poll", "0.05", "--timeout", "0.2").exit_code == 0


def test_exit_on_names_the_pathologies_that_stop_it(tmp_path: Path) -> None:
    log = tmp_path / "nan.csv"
    log.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 22))
    result = invoke("watch", str(log), "--poll", "0.05", "--timeout", "0.3", "--exit-on", "plateau")
    assert result.exit_code == 0, result.output  # divergence is not asked for
    result = invoke("watch", str(log), "--exit-on", "plateu")
    assert result.exit_code == 2 and "exit_on: unknown 'plateu'" in result.stderr


def test_follow_yields_events_without_sleeping(tmp_path: Path) -> None:
    log = tmp_path / "t.csv"
    log.write_text(HEADER)  # a header only: no points yet
    polls: list[float] = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            log.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 21))

    events = list(follow(log, options=LoadOptions(), config=WatchConfig(poll=7.0), sleep=sleep))
    assert [e.kind for e in events] == ["waiting", "update", "confirmed"]  # rewritten larger: not "replaced"
    assert polls == [7.0, 7.0]
    assert events[-1].finding is not None and events[-1].finding.pathology == "divergence"


def test_replaced_compares_inode_and_size() -> None:
    before = (("a", 1, 100, 5),)
    assert not replaced(before, (("a", 1, 150, 6),))  # grew
    assert replaced(before, (("a", 2, 150, 6),))  # new inode
    assert replaced(before, (("a", 1, 50, 6),))  # shrank
    assert not replaced(before, (("b", 9, 1, 1),))  # a new file beside it


def test_fingerprint_of_a_directory_covers_every_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "events.out.tfevents.1").write_bytes(b"x")
    (tmp_path / "events.out.tfevents.2").write_bytes(b"yy")
    names = [entry[0] for entry in fingerprint(tmp_path) or ()]
    assert names == [str(tmp_path / "events.out.tfevents.2"), str(tmp_path / "sub" / "events.out.tfevents.1")]
    assert fingerprint(tmp_path / "missing") is None


def test_ctrl_c_stops_cleanly_with_exit_130(tmp_path: Path) -> None:
    log = tmp_path / "ok.csv"
    log.write_text(HEADER + healthy_rows(0, 60))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrdoctor", "watch", str(log), "--poll", "0.1", "--timeout", LIMIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job ignores SIGINT, and its children inherit that: as a terminal
        # would, deliver it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""  # the first diagnosis: it is watching
        assert first.startswith(f"{log}: ")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=int(LIMIT))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.strip() == "lrdoctor: stopped watching (Ctrl-C)"
    assert "Traceback" not in err + out


def test_standard_input_is_refused_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["watch", "-", "--timeout", "1"], input="step,loss\n0,nan\n")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "not standard input" in result.stderr


def test_a_divergence_warning_does_not_stop_the_watch(tmp_path: Path) -> None:
    # One NaN the run went on from (and trained well after): a warning, not a divergence to stop on.
    rows = healthy_rows(0, 30) + nan_rows(30, 31) + healthy_rows(31, 60)
    log = tmp_path / "skipped.csv"
    log.write_text(HEADER + rows)
    events = list(follow(log, options=LoadOptions(), config=WatchConfig(timeout=0.0), sleep=lambda s: None))
    warned = [f for f in events[0].diagnosis.findings if f.pathology == "divergence"]
    assert [f.severity for f in warned] == ["warning"]
    assert [e.kind for e in events] == ["update", "timeout"]


def test_a_folder_of_several_runs_or_a_pattern_is_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "metrics.csv").write_text(HEADER + healthy_rows(0, 20))
    result = invoke("watch", str(tmp_path / "runs"), "--timeout", LIMIT)
    assert result.exit_code == 2 and "holds 2 runs" in result.stderr and "watch one of them" in result.stderr
    result = invoke("watch", str(tmp_path / "runs" / "*" / "metrics.csv"), "--timeout", LIMIT)
    assert result.exit_code == 2 and "not a pattern" in result.stderr
    (tmp_path / "runs" / "b" / "metrics.csv").unlink()  # one run in the folder: that one is watched
    result = invoke("watch", str(tmp_path / "runs"), "--timeout", "0")
    assert result.exit_code == 0 and str(tmp_path / "runs" / "a") in result.stdout


def test_the_timeout_is_kept_to_whatever_the_poll(tmp_path: Path) -> None:
    log = tmp_path / "ok.csv"
    log.write_text(HEADER + healthy_rows(0, 60))
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    events = list(
        follow(log, options=LoadOptions(), config=WatchConfig(poll=300, timeout=60), sleep=sleep, clock=lambda: now[0])
    )
    assert events[-1].kind == "timeout" and slept == [60] and now[0] == 60


def test_a_misspelt_metric_is_said_at_once_and_a_file_beside_the_run_is_no_second_run(tmp_path: Path) -> None:
    log = tmp_path / "run" / "train.csv"
    log.parent.mkdir()
    log.write_text("step,loss,lr\n" + healthy_rows(0, 20))
    result = invoke("watch", str(log), "--metric", "los", "--timeout", LIMIT)
    assert result.exit_code == 2 and "no series named 'los'" in result.stderr
    (tmp_path / "run" / "summary.txt").write_text("best model at step 12\n")
    result = invoke("watch", str(tmp_path / "run"), "--timeout", "0")
    assert result.exit_code == 0 and str(log) in result.stdout


def test_a_metric_named_like_another_roles_series_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "metrics.csv"
    log.write_text("step,train_loss_epoch\n" + "".join(f"{s},{2.0 / (s + 1):.4f}\n" for s in range(20)))
    result = invoke("watch", str(log), "--metric", "val_loss_epoch", "--timeout", "0.2")
    assert result.exit_code == 0 and "waiting for it to be logged" in result.stderr
