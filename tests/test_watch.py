"""`lrdoctor watch`: follows a log as it is written and stops on a confirmed pathology."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lrdoctor import watch
from lrdoctor.cli import cli
from lrdoctor.detect.divergence import detect_nonfinite
from lrdoctor.errors import InputError
from lrdoctor.sweep import LoadOptions
from lrdoctor.watch import Event, WatchConfig, fingerprint, follow, replaced, undecided

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
    events = _follow_with(log, lambda: log.write_text(HEADER + healthy_rows(0, 10) + nan_rows(10, 12)))
    assert [e.kind for e in events] == ["update", "replaced", "update", "confirmed"]


def test_a_file_that_appears_later_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "later.csv"
    events = _follow_with(log, lambda: log.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 22)))
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
            log.write_text(HEADER + healthy_rows(0, 20) + nan_rows(20, 22))

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


@pytest.mark.parametrize(
    ("command", "option"),
    [("watch", "--poll"), ("watch", "--timeout"), ("check", "--min-confidence")],
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_number_that_is_not_finite_is_refused(tmp_path: Path, command: str, option: str, value: str) -> None:
    """NaN passes a range check (no comparison holds): a watch polling every NaN seconds never
    woke, one polling every inf seconds overflowed. Refused up front, in one line."""
    log = tmp_path / "run.csv"
    log.write_text(HEADER + healthy_rows(0, 30))
    result = CliRunner().invoke(cli, [command, str(log), option, value])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"Invalid value for '{option}'" in result.stderr


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


def _watch(path: Path, *changes, timeout: float | None = 10.0, settle: float = 120.0) -> list[Event]:
    """Events of a watch that polls each second of a clock it keeps itself, making the next of
    `changes` at each pause (no real sleeping, no timing: the order is fixed)."""
    now = [0.0]
    todo = list(changes)

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if todo:
            todo.pop(0)()

    config = WatchConfig(poll=1.0, timeout=timeout, settle=settle)
    return list(follow(path, options=LoadOptions(), config=config, sleep=sleep, clock=lambda: now[0]))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def text_rows(first: int, last: int, *, nan_from: int) -> str:
    """The rows of healthy_rows, then NaN, as a text log prints them."""

    def loss(step: int) -> str:
        return "nan" if step >= nan_from else f"{0.1 + 2.2 * 0.9**step:.5f}"

    return "".join(f"step {s}: loss {loss(s)}\n" for s in range(first, last))


@pytest.mark.parametrize(
    ("made", "log", "text"),
    [
        (True, "version_0/metrics.csv", HEADER + healthy_rows(0, 30) + nan_rows(30, 32)),  # Lightning, mkdir'd first
        (False, "train.log", text_rows(0, 32, nan_from=30)),  # a folder not there yet
    ],
)
def test_a_folder_with_no_run_yet_is_watched_until_one_appears_then_that_run(
    tmp_path: Path, made: bool, log: str, text: str
) -> None:
    folder = tmp_path / "lightning_logs"
    if made:
        folder.mkdir()
    events = _watch(folder, lambda: _write(folder / log, text))
    assert [e.kind for e in events] == ["waiting", "found", "update", "confirmed"]
    assert events[0].message == (
        f"{folder}: no run in this folder yet; waiting for one"
        if made
        else f"{folder}: does not exist (yet); waiting for it"
    )
    run = folder / log if log == "train.log" else folder / "version_0"
    assert events[1].message == f"{folder}: a run appeared in it; following {run}" and events[1].path == run
    assert events[-1].message == f"{run}: divergence confirmed: loss is NaN from step 30 (and every value after it)"


def test_a_folder_where_several_runs_appear_is_refused(tmp_path: Path) -> None:
    def two_runs() -> None:
        for name in ("version_0", "version_1"):
            _write(tmp_path / "logs" / name / "metrics.csv", HEADER + healthy_rows(0, 20))

    (tmp_path / "logs").mkdir()
    with pytest.raises(InputError, match=r"logs: holds 2 runs \(.*version_0, .*version_1\): watch one of them"):
        _watch(tmp_path / "logs", two_runs)


def test_the_cli_follows_and_names_the_run_that_appears_in_the_folder(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "logs"
    (folder / "version_0").mkdir(parents=True)  # a run not begun: its hparams.yaml only
    (folder / "version_0" / "hparams.yaml").write_text("lr: 0.001\n")
    metrics = folder / "version_0" / "metrics.csv"
    real = watch.follow

    def follow_with_a_run_written(path, **kwargs):  # (no sleeping: the run is written at the first pause)
        return real(path, **kwargs, sleep=lambda s: metrics.write_text(HEADER + healthy_rows(0, 30) + nan_rows(30, 32)))

    monkeypatch.setattr(watch, "follow", follow_with_a_run_written)
    result = invoke("watch", str(folder), "--timeout", LIMIT)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"lrdoctor: {folder}: no run in this folder yet; waiting for one",
        f"lrdoctor: {folder}: a run appeared in it; following {metrics.parent}",
    ]
    assert all(line.startswith(f"{metrics.parent}: ") for line in result.stdout.splitlines()[:-1])
    assert result.stdout.splitlines()[-1].startswith(f"lrdoctor: {metrics.parent}: divergence confirmed: ")


def _loss(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(p, dtype=float) for p in parts])


HEALTHY = 0.1 + 2.2 * 0.9 ** np.arange(30)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (_loss(HEALTHY, [np.nan]), True),  # the last point: the next ones decide
        (_loss(HEALTHY, [np.nan], HEALTHY[-1:]), True),  # one point after it: not yet enough
        (_loss(HEALTHY, [np.nan], [50.0, 60.0]), False),  # the points after it already rose far
        (_loss(HEALTHY, [np.nan, np.nan]), False),  # NaN after NaN: a divergence, stopped at once
        (_loss(HEALTHY[:10], [np.nan], HEALTHY[10:20], [np.nan], HEALTHY[20:], [np.nan]), False),  # too many, ever
    ],
)
def test_a_nan_is_undecided_while_the_points_that_judge_it_may_still_come(values: np.ndarray, expected: bool) -> None:
    [finding] = detect_nonfinite(np.arange(len(values), dtype=float), values)
    assert finding.severity == "error" and undecided(finding, values) is expected


def test_a_nan_the_run_goes_on_from_does_not_stop_the_watch_while_it_grows(tmp_path: Path) -> None:
    log = tmp_path / "skipped.csv"
    log.write_text(HEADER + healthy_rows(0, 30) + nan_rows(30, 31))
    grow = [
        lambda first=first: log.write_text(log.read_text() + healthy_rows(first, first + 1)) for first in range(31, 40)
    ]
    events = _watch(log, *grow, timeout=20)
    assert [e.kind for e in events if e.kind != "update"] == ["waiting", "timeout"]
    assert events[1].message == (
        f"{log}: loss is NaN from step 30 (1 non-finite value(s) in all); waiting for the points after it, "
        "to tell a skipped update from a divergence"
    )
    last = events[-2].diagnosis
    assert last is not None and [f.severity for f in last.findings if f.pathology == "divergence"] == ["warning"]


def test_a_nan_followed_by_nan_stops_the_watch_at_the_second(tmp_path: Path) -> None:
    log = tmp_path / "diverged.csv"
    log.write_text(HEADER + healthy_rows(0, 30) + nan_rows(30, 31))
    events = _watch(log, lambda: log.write_text(log.read_text() + nan_rows(31, 32)))
    assert [e.kind for e in events] == ["update", "waiting", "update", "confirmed"]
    assert events[-1].message == f"{log}: divergence confirmed: loss is NaN from step 30 (and every value after it)"


def test_a_nan_still_undecided_at_the_timeout_is_confirmed(tmp_path: Path) -> None:
    log = tmp_path / "last.csv"
    log.write_text(HEADER + healthy_rows(0, 30) + nan_rows(30, 31))  # check fails this log as it stands
    events = _watch(log, timeout=3)
    assert [e.kind for e in events] == ["update", "waiting", "confirmed"]
    assert events[-1].message == (
        f"{log}: divergence confirmed: loss is NaN from step 30 (1 non-finite value(s) in all) "
        "(the points after it did not come within 3 s)"
    )
    result = invoke("watch", str(log), "--timeout", "0")
    assert result.exit_code == 1 and result.stdout.endswith("within 0 s); stopping\n")


def test_a_nan_at_the_end_of_a_log_that_stopped_growing_is_confirmed_without_a_timeout(tmp_path: Path) -> None:
    """A trainer that stops at its first NaN (Keras' TerminateOnNaN) writes nothing after it: with
    no timeout, the watch confirms it once the log has been quiet for `settle` seconds."""
    log = tmp_path / "last.csv"
    log.write_text(HEADER + healthy_rows(0, 30) + nan_rows(30, 31))
    events = _watch(log, timeout=None, settle=5)
    assert [e.kind for e in events] == ["update", "waiting", "confirmed"]
    assert events[-1].message.endswith("(nothing was written after it for 5 s)")
    # ... while a log that goes on growing within that time is judged by what comes next: the NaN
    # was a skipped update, and the watch runs on to its timeout.
    grown = HEADER + healthy_rows(0, 30) + nan_rows(30, 31) + healthy_rows(31, 35)
    events = _watch(log, lambda: _write(log, grown), timeout=20, settle=5)
    assert events[-1].kind == "timeout" and not any(e.kind == "confirmed" for e in events)


def test_the_wait_for_a_nan_stretches_with_a_slow_logs_writes(tmp_path: Path) -> None:
    """A log written every 100 s (a large model's steps): a NaN at its end is confirmed only after
    3 times that with nothing written, not after the 5 s that suit a fast one."""
    log = tmp_path / "slow.csv"
    now = [0.0]
    writes = {100.0: healthy_rows(0, 10), 200.0: healthy_rows(0, 20), 300.0: healthy_rows(0, 20) + nan_rows(20, 21)}

    def sleep(seconds: float) -> None:
        now[0] += seconds
        for at, rows in writes.items():
            if now[0] - seconds < at <= now[0]:
                _write(log, HEADER + rows)

    config = WatchConfig(poll=10.0, timeout=None, settle=5)
    events = list(follow(log, options=LoadOptions(), config=config, sleep=sleep, clock=lambda: now[0]))
    assert events[-1].kind == "confirmed" and events[-1].message.endswith("(nothing was written after it for 300 s)")
    assert now[0] >= 600
    # One long pause among quick writes does not stretch the wait: its usual pace sets it.
    now[0] = 0.0
    log.unlink()
    rows = [HEADER + healthy_rows(0, k) for k in range(2, 12)]
    writes = {float(k + 1): text for k, text in enumerate(rows)}
    writes[7200.0] = rows[-1] + healthy_rows(11, 14)
    writes[7201.0] = rows[-1] + healthy_rows(11, 14) + nan_rows(14, 15)
    config = WatchConfig(poll=1.0, timeout=None, settle=5)
    events = list(follow(log, options=LoadOptions(), config=config, sleep=sleep, clock=lambda: now[0]))
    assert events[-1].kind == "confirmed" and now[0] < 7201 + 60
    # A long pause that recurs (an evaluation every fifth point) is waited for: a NaN written just
    # before one is followed, after it, by points back at their level, and nothing is confirmed.
    now[0] = 0.0
    log.unlink()

    def upto(k: int) -> str:  # the log with its first k points, the 29th a NaN (just before an evaluation)
        return HEADER + healthy_rows(0, min(k, 28)) + (nan_rows(28, 29) + healthy_rows(29, k) if k > 28 else "")

    writes, t = {}, 0.0
    for k in range(2, 35):
        t += 600.0 if k % 5 == 0 else 60.0
        writes[t] = upto(k)
    config = WatchConfig(poll=10.0, timeout=t + 100.0, settle=120)
    events = list(follow(log, options=LoadOptions(), config=config, sleep=sleep, clock=lambda: now[0]))
    assert events[-1].kind == "timeout" and not any(e.kind == "confirmed" for e in events)


LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 2048\n"


def _broken_gzip(path: Path) -> None:
    data = bytearray(gzip.compress((HEADER + healthy_rows(0, 400)).encode(), mtime=0))
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8  # inside the DEFLATE data, not its end
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("lfs.csv", lambda p: p.write_text(LFS), "a Git LFS pointer (to a file of 2048 bytes), not the log itself"),
        (
            "run/metrics.csv",
            lambda p: p.write_text(LFS),
            "a Git LFS pointer (to a file of 2048 bytes), not the log itself",
        ),
        ("broken.csv.gz", _broken_gzip, "broken gzip data"),
    ],
)
def test_input_no_growth_mends_is_refused_at_once_as_check_refuses_it(
    tmp_path: Path, name: str, make, said: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    make(path)
    named = str(path.parent if name.startswith("run/") else path)  # a run folder whose log is a pointer
    result = invoke("watch", named, "--poll", "0.05", "--timeout", LIMIT)  # it ends at once, not at the limit
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith(f"lrdoctor: error: {path}: ") and said in result.stderr
    assert invoke("check", named).stderr == result.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "does not exist (yet); waiting for it"),
        ("", "the file is empty"),
        (HEADER, "only a header (step, loss, lr), no data rows yet"),
    ],
)
def test_a_file_growth_may_mend_is_still_waited_for(tmp_path: Path, content: str | None, said: str) -> None:
    path = tmp_path / "train.csv"
    if content is not None:
        path.write_text(content)
    result = invoke("watch", str(path), "--timeout", "0")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"lrdoctor: {path}: {said}"


def test_a_symbolic_link_loop_is_refused_as_check_refuses_it(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    result = invoke("watch", str(tmp_path / "a"), "--timeout", LIMIT)
    assert result.exit_code == 2
    assert result.stderr == f"lrdoctor: error: {tmp_path / 'a'}: cannot open: Too many levels of symbolic links\n"
    assert invoke("check", str(tmp_path / "a")).stderr == result.stderr


def test_gzip_cut_before_any_content_fails_check_and_is_waited_for_by_watch(tmp_path: Path) -> None:
    """A gzip writer puts its header out before any data: check (which the pre-commit hook runs
    with --skip-unreadable) fails on it as on other broken gzip data (it passed it over as no
    training log), and watch waits for the data to come."""
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress((HEADER + healthy_rows(0, 400)).encode(), mtime=0)[:15])
    checked = invoke("check", "--skip-unreadable", str(path))
    assert checked.exit_code == 2 and "cut short before any content" in checked.stderr
    watched = invoke("watch", str(path), "--timeout", "0")
    assert watched.exit_code == 0 and "cut short before any content" in watched.stderr


@pytest.mark.parametrize("layout", ["lightning", "tensorboard"])
def test_a_run_that_appears_beside_the_one_followed_is_followed_instead(tmp_path: Path, layout: str) -> None:
    """A re-run's version_1 (or runs/<new>) beside the finished run being watched: the watch had
    kept to the old run (or read the folder's two runs as one) and passed a new run that diverged."""
    folder = tmp_path / ("lightning_logs" if layout == "lightning" else "runs")

    def write_run(name: str, text: str) -> None:
        if layout == "lightning":
            _write(folder / name / "metrics.csv", text)
        else:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(folder / name))
            for row in text.strip().splitlines()[1:]:
                step, loss, _lr = row.split(",")
                writer.add_scalar("train/loss", float(loss), int(step))
            writer.close()

    write_run("version_0" if layout == "lightning" else "old", HEADER + healthy_rows(0, 30))
    new = "version_1" if layout == "lightning" else "new"
    events = _watch(folder, lambda: None, lambda: write_run(new, HEADER + healthy_rows(0, 30) + nan_rows(30, 32)))
    found = [e for e in events if e.kind == "found"]
    assert found and found[-1].path == folder / new and "a new run appeared in it" in found[-1].message
    assert events[-1].kind == "confirmed" and "NaN from step 30" in events[-1].message


def test_a_slow_look_spaces_the_next_one_out(tmp_path: Path, monkeypatch) -> None:
    """Each change of a growing log of 10^6 rows had been read and judged again after the poll
    (2 s), about as long as the look itself: 70% of a core. A look of 5 s now waits 20 s."""
    log = tmp_path / "train.csv"
    log.write_text(HEADER + healthy_rows(0, 30))
    now, waits = [0.0], []

    def slow_look(path: Path, options: LoadOptions) -> tuple[None, str]:
        now[0] += 5.0
        return None, "still reading"

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds
        with log.open("a") as fh:  # the log grows between looks
            fh.write(healthy_rows(len(waits) + 29, len(waits) + 30))

    monkeypatch.setattr(watch, "_look", slow_look)
    list(
        follow(
            log, options=LoadOptions(), config=WatchConfig(poll=2.0, timeout=100.0), sleep=sleep, clock=lambda: now[0]
        )
    )
    assert waits and all(w == pytest.approx(20.0) for w in waits[:-1])


def test_exit_on_a_judgement_of_a_runs_end_is_noted(tmp_path: Path) -> None:
    log = tmp_path / "train.csv"
    log.write_text(HEADER + healthy_rows(0, 30))
    result = invoke("watch", str(log), "--exit-on", "divergence,slow_convergence", "--timeout", "0")
    assert "note: slow_convergence judges a run's end" in result.stderr
    result = invoke("watch", str(log), "--timeout", "0")
    assert "judge a run's end" not in result.stderr
