"""`lrdoctor probe --cmd`: the user's command once per rate, each log read back and scored."""

from __future__ import annotations

import json
import math
import shlex
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.errors import ProbeError
from lrdoctor.probe.cmd import decade_rates

# A stand-in training script: its final loss is lowest at lr 0.01 (a parabola in log10(lr)),
# and at lr >= 1 the loss turns NaN. It writes a plain CSV log into --log-dir, and notes each
# rate it was run with in a file beside itself.
SCRIPT = """
import argparse, math, pathlib
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
pathlib.Path(__file__).with_name("calls.txt").open("a").write(f"{a.lr}\\n")
final = 0.1 + (math.log10(a.lr) + 2) ** 2
rows = ["step,loss"]
for s in range(1, 21):
    loss = float("nan") if a.lr >= 1 and s > 5 else final + 3.0 / s
    rows.append(f"{s},{loss}")
pathlib.Path(a.log_dir, "log.csv").write_text("\\n".join(rows) + "\\n")
"""


@pytest.fixture(autouse=True)
def _temp_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The {out} folders are made (and removed) under tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _script(tmp_path: Path, source: str = SCRIPT) -> Path:
    path = tmp_path / "train.py"
    path.write_text(source)
    return path


def _cmd(script: Path) -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} --lr {{lr}} --log-dir {{out}}"


def test_cmd_mode_picks_the_lowest_measured_loss(tmp_path: Path) -> None:
    script = _script(tmp_path)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recommended_lr"] == 0.01
    tried = sorted(float(v) for v in (tmp_path / "calls.txt").read_text().split())
    # Decades upwards from 1e-5 until two in a row are worse than the best (0.1, 1),
    # then the half decades either side of the best.
    expected = [1e-5, 1e-4, 1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1, 1.0]
    assert tried == [float(f"{v:.6g}") for v in expected]
    losses = {t["lr"]: t["loss"] for t in doc["trials"]}
    assert losses[0.01] == (0.1 + 3.0 / 19 + 0.1 + 3.0 / 20) / 2  # the mean of the last tenth (2 of 20 points)
    assert doc["steps_used"] == 20 * len(expected)


def test_cmd_mode_treats_a_nan_log_as_diverged(tmp_path: Path) -> None:
    script = _script(tmp_path)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--min-lr", "0.1", "--format", "json"])
    doc = json.loads(result.stdout)
    diverged = {t["lr"]: t["diverged"] for t in doc["trials"]}
    assert diverged[1.0] is True
    assert doc["recommended_lr"] < 1.0


def test_cmd_mode_errors(tmp_path: Path) -> None:
    script = _script(tmp_path, "import sys\nsys.exit('CUDA out of memory')\n")
    runner = CliRunner()
    no_out = runner.invoke(cli, ["probe", "--cmd", f"{sys.executable} {script} --lr {{lr}}"])
    assert no_out.exit_code == 2 and "no {out} in the command" in no_out.stderr
    failing = runner.invoke(cli, ["probe", "--cmd", _cmd(script)])
    assert failing.exit_code == 2
    # (the two lowest rates failed alike: no more runs of it, since no rate is to blame)
    assert "failed the same way at lr 1e-05 and 0.0001" in failing.stderr and "CUDA out of memory" in failing.stderr
    assert len(failing.stderr.strip().splitlines()) == 1
    missing = runner.invoke(cli, ["probe", "--cmd", "no-such-program-xyz --lr {lr} --out {out}"])
    assert missing.exit_code == 2 and "cannot run 'no-such-program-xyz'" in missing.stderr


def test_decade_rates() -> None:
    assert decade_rates(1e-5, 10.0) == [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    # From --min-lr itself: the powers of ten inside 0.5 to 5 left both ends of it unrun.
    assert decade_rates(3e-4, 0.05) == pytest.approx([3e-4, 3e-3, 3e-2])
    assert decade_rates(0.5, 5.0) == pytest.approx([0.5, 5.0])
    assert decade_rates(1e-3, 1e-2) == [1e-3, 1e-2]


# Logs 29 finite points at every rate, then fails at lr >= 0.1 (as a script that checks for NaN would).
FAILS_LATE = """
import argparse, math, pathlib, sys
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
rows = ["step,loss"] + [f"{s},{1.0 / (s * a.lr)}" for s in range(1, 30)]
pathlib.Path(a.log_dir, "log.csv").write_text("\\n".join(rows) + "\\n")
if a.lr >= 0.1:
    sys.exit("RuntimeError: loss is nan at step 30")
"""


def test_cmd_mode_counts_a_run_that_failed_as_diverged(tmp_path: Path) -> None:
    script = _script(tmp_path, FAILS_LATE)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recommended_lr"] < 0.1  # the lowest partial loss was at 10, whose run failed
    assert all(t["diverged"] and t["failed"] for t in doc["trials"] if t["lr"] >= 0.1)
    assert not any(t["failed"] for t in doc["trials"] if t["lr"] < 0.1)
    assert any("exit 1: RuntimeError: loss is nan at step 30" in n for n in doc["notes"])
    # In the text, a failed run is said to have failed, not "diverged after 0 steps".
    text = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--min-lr", "0.01"]).stdout
    assert "run failed after 29 steps (see the note)" in text and "diverged after" not in text


def test_cmd_mode_keeps_to_the_rate_range(tmp_path: Path) -> None:
    script = _script(tmp_path)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--min-lr", "5e-4", "--max-lr", "0.1"])
    assert result.exit_code == 0, result.output
    tried = [float(v) for v in (tmp_path / "calls.txt").read_text().split()]
    assert min(tried) >= 5e-4 and max(tried) <= 0.1


def test_cmd_mode_reports_one_repeated_failure_once(tmp_path: Path) -> None:
    script = _script(tmp_path, "import sys, pathlib\npathlib.Path(sys.argv[-1], 'log.csv').write_text('garbage')\n")
    result = CliRunner().invoke(cli, ["probe", "--cmd", f"{shlex.quote(sys.executable)} {script} {{lr}} {{out}}"])
    assert result.exit_code == 2
    assert result.stderr.count("no log read from {out}") == 1 and str(tmp_path) not in result.stderr.split("(", 1)[1]


def test_cmd_mode_refuses_options_it_has_no_use_for(tmp_path: Path) -> None:
    script = _script(tmp_path)
    result = CliRunner().invoke(
        cli, ["probe", "--cmd", _cmd(script), "--steps", "50", "--amp-dtype", "bfloat16", "--seed", "3"]
    )
    assert result.exit_code == 2
    assert "--steps, --seed, --amp-dtype apply to a SPEC probe only" in result.stderr
    assert not (tmp_path / "calls.txt").exists()


@pytest.mark.parametrize(
    "layout",
    [
        # Lightning's CSVLogger(out) with save_hyperparameters: one run folder, two files.
        "d = pathlib.Path(a.log_dir, 'lightning_logs', 'version_0'); d.mkdir(parents=True)\n"
        "(d / 'hparams.yaml').write_text('lr: 0.1\\n'); name = d / 'metrics.csv'",
        # A log beside a checkpoint.
        "pathlib.Path(a.log_dir, 'model.pt').write_bytes(b'\\x80\\x02'); name = pathlib.Path(a.log_dir, 'log.csv')",
    ],
)
def test_cmd_mode_finds_the_one_run_as_diagnose_does(tmp_path: Path, layout: str) -> None:
    source = SCRIPT.replace('pathlib.Path(a.log_dir, "log.csv").write_text', layout + "\nname.write_text")
    script = _script(tmp_path, source)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recommended_lr"] == 0.01


# A descent on w*w that logs each step's loss: ROW is the row written, UPDATE the step taken.
DESCENT = """
import argparse, pathlib
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
w, rows = START, ["step,loss"]
for s in range(STEPS):
    rows.append(ROW)
    w -= UPDATE
pathlib.Path(a.log_dir, "log.csv").write_text("\\n".join(rows) + "\\n")
"""


def _descent(start: str, steps: int, row: str, update: str) -> str:
    return DESCENT.replace("START", start).replace("STEPS", str(steps)).replace("ROW", row).replace("UPDATE", update)


# Trains at its own rate whatever {lr} says: the same log at every rate, or one that differs by
# float rounding only.
IGNORES_LR = _descent("5.0", 20, 'f"{s},{w * w + NOISE * a.lr!r}"', "0.1 * 2 * w")


@pytest.mark.parametrize("noise", ["0.0", "1e-11"])
def test_cmd_mode_refuses_a_command_whose_result_does_not_depend_on_lr(tmp_path: Path, noise: str) -> None:
    script = _script(tmp_path, IGNORES_LR.replace("NOISE", noise))
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script)])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert "the command's result does not depend on {lr}" in result.stderr


# The arguments of the stand-in scripts below: --lr (the rate) and --log-dir ({out}).
ARGS = """
import argparse, pathlib
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
"""


# Unseeded, and trains at its own rate whatever {lr} says, which it logs beside the loss (as a
# scheduler's rate is logged): every run's loss differs by its own noise, the rate does not.
UNSEEDED_OWN_RATE = (
    ARGS
    + """
import random
w, rows = 5.0, ["step,loss,lr"]
for s in range(20):
    rows.append(f"{s},{w * w + random.random()!r},LOGGED")
    w -= 0.01 * 2 * w
pathlib.Path(a.log_dir, "log.csv").write_text("\\n".join(rows) + "\\n")
"""
)


def test_cmd_mode_notes_a_command_that_logs_the_same_rate_whatever_lr_says(tmp_path: Path) -> None:
    """A note, not a refusal: the rate logged may be a parameter group's held at its own rate."""
    script = _script(tmp_path, UNSEEDED_OWN_RATE.replace("LOGGED", "0.01"))
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    (note,) = [n for n in json.loads(result.stdout)["notes"] if "every run logged lr" in n]
    assert "every run logged lr 0.01, given {lr} from 1e-05 to" in note and "the pick is noise" in note
    # The same script logging the rate it was given is a sweep like any other.
    script = _script(tmp_path, UNSEEDED_OWN_RATE.replace("LOGGED", "{a.lr!r}"))
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert not any("every run logged lr" in n for n in json.loads(result.stdout)["notes"])


# Trains at {lr}; its log holds one rate column, the rate it was given, and a settings file beside
# it that keeps the script's default (a saved config that never took --lr).
STALE_SETTING = """
import argparse, math, pathlib
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
d = pathlib.Path(a.log_dir, "lightning_logs", "version_0")
d.mkdir(parents=True)
(d / "hparams.yaml").write_text("lr: 0.001\\n")
rows = ["epoch,step,train_loss"] + [f"0,{s},{1 + 0.3 * abs(math.log10(a.lr / 1e-3)) + 2 * 0.97**s}" for s in range(60)]
(d / "metrics.csv").write_text("\\n".join(rows) + "\\n")
"""


def test_cmd_mode_takes_no_saved_setting_for_the_rate_a_run_logged(tmp_path: Path) -> None:
    script = _script(tmp_path, STALE_SETTING)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--max-lr", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recommended_lr"] == pytest.approx(1e-3)
    assert not any("every run logged lr" in n for n in doc["notes"])


# Trains at {lr} but logs its loss to two digits: close rates end alike ('0.00').
ROUNDED = _descent("1.0", 100, 'f"{s},{w * w:.2f}"', "min(a.lr, 0.9) * 2 * w")


def test_cmd_mode_keeps_a_command_whose_close_rates_end_alike(tmp_path: Path) -> None:
    """Equal scores over less than two decades are rates that end alike, not a command that ignores {lr}."""
    script = _script(tmp_path, ROUNDED)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--min-lr", "0.03", "--max-lr", "0.5"])
    assert result.exit_code == 0, result.output


# The lower the rate, the lower the loss, down to the lowest rate run.
LOWER_IS_BETTER = _descent("1.0", 10, 'f"{s},{a.lr!r}"', "0.0")


def test_cmd_mode_says_when_the_pick_is_the_end_of_the_rates_run(tmp_path: Path) -> None:
    script = _script(tmp_path, LOWER_IS_BETTER)
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(script), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["recommended_lr"] == pytest.approx(1e-5)
    assert any("lowest rate run, still the best" in note and "--min-lr" in note for note in doc["notes"])


HANGS = """
import argparse, os, pathlib, time
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--log-dir")
a = p.parse_args()
pathlib.Path(__file__).with_name("child.pid").write_text(str(os.getpid()))
time.sleep(300)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM")
def test_a_terminated_cmd_probe_stops_its_command_and_removes_its_folder(tmp_path: Path) -> None:
    """SIGTERM (a CI job cancelled) had ended lrdoctor at once: the training command ran on,
    orphaned, and its {out} folder stayed."""
    import os
    import signal
    import subprocess
    import time

    script = _script(tmp_path, HANGS)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrdoctor", "probe", "--cmd", _cmd(script)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid_file.exists(), "the command never started"
    child = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the command was left running")
    assert not list(tmp_path.glob("lrdoctor-probe-*"))


# A loss that grows at every step, faster the higher the rate: finite, but every run blew up.
BLOWS_UP = (
    ARGS
    + """
loss, rows = 5.0, ["step,loss"]
for s in range(50):
    loss *= 1.5
    rows.append(f"{s},{loss * (1 + a.lr)}")
pathlib.Path(a.log_dir, "log.csv").write_text("\\n".join(rows) + "\\n")
"""
)


def test_a_finite_loss_that_blew_up_is_a_divergence(tmp_path: Path) -> None:
    """Every run ended 1e9x its first loss: no pick (it had been 1e-05, the least blown-up run)."""
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(_script(tmp_path, BLOWS_UP))])
    assert result.exit_code == 2, result.output
    assert "no run trained without diverging" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_failures_that_name_their_rate_are_the_same_failure(tmp_path: Path) -> None:
    """A template that doubles {lr} ('1e-051e-05') fails at every rate with a message holding the
    rate: the two lowest rates failed alike, whatever rate each message names."""
    source = "import sys\nraise SystemExit(f'could not convert string to float: {sys.argv[2]!r}')\n"
    script = _script(tmp_path, source)
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} --lr {{lr}}{{lr}} --log-dir {{out}}"
    result = CliRunner().invoke(cli, ["probe", "--cmd", cmd])
    assert result.exit_code == 2, result.output
    assert "failed the same way at lr 1e-05 and 0.0001" in result.stderr
    assert "'1e-051e-05'" in result.stderr  # the first failure's own message


def test_runs_that_trained_and_scored_alike_ignore_the_rate(tmp_path: Path) -> None:
    """Below 0.1 the command fails; from 0.1 up it trains but logs the same losses at every rate:
    judged over the runs that trained, as over every run where all did."""
    source = SCRIPT.replace("final = 0.1 + (math.log10(a.lr) + 2) ** 2", "final = 0.5\nassert a.lr >= 0.1, 'too low'")
    source = source.replace('float("nan") if a.lr >= 1 and s > 5 else final + 3.0 / s', "final + 3.0 / s")
    result = CliRunner().invoke(cli, ["probe", "--cmd", _cmd(_script(tmp_path, source)), "--min-lr", "0.01"])
    assert result.exit_code == 2, result.output
    assert "every run that trained (4 of 6) scored" in result.stderr and "does not depend on {lr}" in result.stderr


def test_a_failure_is_compared_without_the_rate_its_message_names() -> None:
    from lrdoctor.probe.cmd import _without_rate

    assert _without_rate("exit 1: bad value '1e-051e-05'", 1e-5) == "exit 1: bad value '{lr}{lr}'"
    assert _without_rate("exit 1: boom", 1.0) == "exit 1: boom"  # the exit status is no rate


def test_a_run_that_diverged_at_its_rate_shows_the_command_uses_it() -> None:
    """Two runs that trained and scored alike do not make a command that ignores {lr} where a
    third diverged at its own rate (not failed): the rate reached the optimizer."""
    from lrdoctor.probe.cmd import CmdConfig, Measured, _depends_on_lr

    alike = {0.001: Measured(0.5, 20), 0.1: Measured(0.5, 20)}
    with pytest.raises(ProbeError, match="does not depend on"):
        _depends_on_lr("t", alike, CmdConfig())
    _depends_on_lr("t", {**alike, 10.0: Measured(math.inf, 20)}, CmdConfig())  # diverged: no refusal
    with pytest.raises(ProbeError, match="does not depend on"):
        _depends_on_lr("t", {**alike, 10.0: Measured(math.inf, 0, "exit 1: boom")}, CmdConfig())  # failed
