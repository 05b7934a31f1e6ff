from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli

HEALTHY = "step,loss,lr\n" + "".join(f"{s},{0.1 + 2.2 * 0.85**s + 0.01 * (-1) ** s:.5f},0.001\n" for s in range(60))
NAN_TAIL = "step,loss\n" + "".join(f"{s},{1.0 / (s + 1):.5f}\n" for s in range(20)) + "20,nan\n21,nan\n"


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    path = tmp_path / "healthy.csv"
    path.write_text(HEALTHY)
    return path


@pytest.fixture
def diverged(tmp_path: Path) -> Path:
    path = tmp_path / "diverged.csv"
    path.write_text(NAN_TAIL)
    return path


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and "lrdoctor" in result.output


def test_every_command_has_help_with_an_example() -> None:
    for name in cli.commands:
        result = invoke(name, "--help")
        assert result.exit_code == 0, name
        assert "Example:" in result.output, f"{name} --help has no Example block"


def test_diagnose_json_matches_the_contract(healthy: Path) -> None:
    result = invoke("diagnose", str(healthy), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == str(healthy)
    assert doc["format"] == "csv" and doc["metric"] == "loss" and doc["points"] == 60
    assert doc["steps"] == {"first": 0, "last": 59}
    assert doc["verdict"] in {"too_high", "too_low", "ok", "unknown"}
    assert 0.0 <= doc["confidence"] <= 1.0
    assert doc["findings"] == [] and doc["verdict"] == "ok"
    assert doc["lr"]["recommended"] == 0.001  # ok: keep the rate
    assert doc["lr"] == {"observed": 0.001, "recommended": doc["lr"]["recommended"], "basis": "log"}


def test_nan_loss_is_an_error_finding_and_exit_1(diverged: Path) -> None:
    result = invoke("diagnose", str(diverged), "--format", "json")
    assert result.exit_code == 1
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["pathology"] == "divergence" and finding["severity"] == "error"
    assert finding["start_step"] == 20 and finding["end_step"] == 21
    assert set(finding) == {"pathology", "severity", "start_step", "end_step", "message", "evidence"}


def test_a_log_without_its_rate_still_gives_the_factor_to_move_it_by(healthy: Path, diverged: Path) -> None:
    """No rate in the log: the JSON had the factor only inside the prose of recommendation_basis,
    and the terminal dropped what it rests on."""
    doc = json.loads(invoke("diagnose", str(diverged), "--format", "json").stdout)
    assert doc["lr"]["observed"] is None and doc["lr"]["recommended"] is None
    assert 0 < doc["lr_factor"] < 1
    said = f"{1 / doc['lr_factor']:.3g}x lower"
    assert doc["recommendation_basis"].startswith(said + ": ")
    rest = doc["recommendation_basis"].removeprefix(said + ": ")
    text = invoke("diagnose", str(diverged)).stdout
    assert f"try lr    {said} than the rate you used ({rest}; pass --lr VALUE to get the rate itself)" in text
    assert json.loads(invoke("diagnose", str(healthy), "--format", "json").stdout)["lr_factor"] is None


def test_several_paths_give_an_array_in_order(healthy: Path, diverged: Path) -> None:
    result = invoke("diagnose", str(diverged), str(healthy), "--format", "json")
    assert result.exit_code == 1
    assert [d["source"] for d in json.loads(result.stdout)] == [str(diverged), str(healthy)]


def test_several_paths_give_an_array_even_when_some_cannot_be_read(healthy: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.csv")
    result = invoke("diagnose", missing, str(healthy), "--format", "json")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "missing.csv" in result.stderr
    assert [d["source"] for d in json.loads(result.stdout)] == [str(healthy)]
    result = invoke("diagnose", missing, missing, "--format", "json")
    assert result.exit_code == 2 and json.loads(result.stdout) == []


def test_lr_option_and_metric_option(healthy: Path) -> None:
    doc = json.loads(invoke("diagnose", str(healthy), "--format", "json", "--lr", "0.5").stdout)
    assert doc["lr"]["observed"] == 0.5
    result = invoke("diagnose", str(healthy), "--metric", "nope")
    assert result.exit_code == 2 and "no series named 'nope'" in result.stderr


def test_stdin(healthy: Path) -> None:
    result = invoke("diagnose", "-", "--format", "json", input=healthy.read_text())
    assert result.exit_code == 0 and json.loads(result.stdout)["source"] == "<stdin>"


def test_text_and_markdown_output(diverged: Path) -> None:
    text = invoke("diagnose", str(diverged)).stdout
    assert "divergence" in text and "loss is NaN from step 20" in text
    md = invoke("diagnose", str(diverged), "--format", "markdown").stdout
    assert md.startswith("## ") and "| error | divergence |" in md
    # the terminal's "because" line and what the rate rests on, as in the report
    assert "**Why:** the run diverged, which settles it: loss is NaN from step 20" in md
    assert "| because | " in md and "lower" in md.split("| because | ", 1)[1].split("\n", 1)[0]


def test_inspect_lists_every_series(healthy: Path) -> None:
    result = invoke("inspect", str(healthy))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["loss", "loss", "60"] for line in lines)
    assert any(line.split()[:2] == ["lr", "lr"] for line in lines)
    doc = json.loads(invoke("inspect", str(healthy), "--format", "json").stdout)
    assert {s["name"]: s["points"] for s in doc["series"]} == {"step": 60, "loss": 60, "lr": 60}


@pytest.mark.parametrize("command", ["diagnose", "check"])
def test_standard_input_twice_is_refused(command: str) -> None:
    result = invoke(command, "-", "-", input="step,loss\n0,1.0\n")
    assert result.exit_code == 2
    assert result.stderr.strip() == "lrdoctor: error: '-' (standard input) is given more than once"


def test_inspect_of_a_pattern_holding_no_log_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing to see here\n")
    (tmp_path / "b.txt").write_text("nor here\n")
    for args in ((), ("--format", "json")):
        result = invoke("inspect", str(tmp_path / "*.txt"), *args)
        assert result.exit_code == 2
        found_in = f"lrdoctor: error: no training log among the files found in {tmp_path / '*.txt'}"
        assert result.stderr.strip().splitlines()[-1] == found_in
        assert "passed over 2 file(s)" in result.stderr


def test_inspect_marks_the_loss_that_diagnose_judges(tmp_path: Path) -> None:
    """Lightning with log_every_n_steps=50 over 44-step epochs: 17 per-step points, 20 epoch means.
    diagnose judges the denser epoch series; inspect had marked the per-step one."""
    rows = ["epoch,step,train_loss_step,train_loss_epoch,val_loss"]
    for step in range(49, 880, 50):
        rows.append(f"{step // 44},{step},{1.5 / (1 + step / 100):.4f},,")
    for epoch in range(20):
        step = 43 + 44 * epoch
        rows.append(f"{epoch},{step},,{2.0 / (1 + epoch):.4f},")
        rows.append(f"{epoch},{step},,,{2.1 / (1 + epoch):.4f}")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    judged = json.loads(invoke("diagnose", str(path), "--format", "json").stdout)["metric"]
    listed = json.loads(invoke("inspect", str(path), "--format", "json").stdout)["series"]
    roles = {s["name"]: s["role"] for s in listed}
    assert judged == "train_loss_epoch" and roles[judged] == "loss" and roles["train_loss_step"] == ""
    assert roles["val_loss"] == "val_loss"


def test_inspect_says_which_run_of_a_wandb_export_diagnose_judges(tmp_path: Path) -> None:
    """inspect is where --metric is chosen: for a W&B export of several runs it names the runs,
    the one judged and another's --metric."""
    rows = ['"Step","run-3 - loss","run-1 - loss"'] + [f'"{s}","{2 / (s + 1)}","{1 / (s + 1)}"' for s in range(20)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n")
    warnings = json.loads(invoke("inspect", str(path), "--format", "json").stdout)["warnings"]
    assert any(
        "this export holds 2 runs (run-3, run-1); judged: run-3; choose another with --metric 'run-1 - loss'" in w
        for w in warnings
    )
    assert "note: " in invoke("inspect", str(path)).stdout


def test_inspect_says_what_diagnose_says_of_reading_the_log(tmp_path: Path) -> None:
    """A resumed run wrote steps 30-50 again: inspect counts every point written (the file's
    content) and says, as diagnose does, that the latest write of each step is the one judged."""
    rows = (
        ["step,loss"]
        + [f"{s},{5 - s / 20}" for s in range(0, 60, 10)]
        + [f"{s},{1 - s / 200}" for s in range(30, 100, 10)]
    )
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    doc = json.loads(invoke("inspect", str(path), "--format", "json").stdout)
    assert next(s for s in doc["series"] if s["name"] == "loss")["points"] == 13
    note = "3 point(s) of 'loss' were written again later (resumed at step 30); keeping the latest write of each step"
    assert note in doc["warnings"]
    assert json.loads(invoke("diagnose", str(path), "--format", "json").stdout)["points"] == 10


def test_inspect_lists_a_folder_of_runs_run_by_run(healthy: Path, tmp_path: Path) -> None:
    """Two runs, one in a folder named test_run: each has its own training loss (read as one log,
    the second run's loss had been called the validation loss). A loose note beside them is
    passed over, as diagnose passes over it."""
    runs = tmp_path / "runs"
    for name in ("base_run", "test_run"):
        (runs / name).mkdir(parents=True)
        (runs / name / "metrics.csv").write_bytes(healthy.read_bytes())
    (runs / "notes.txt").write_text("tried two seeds\n")
    result = invoke("inspect", str(runs))
    assert result.exit_code == 0, result.stderr
    blocks = result.stdout.split("\n\n")
    sources = [str(runs / n / "metrics.csv") for n in ("base_run", "test_run")]
    assert [b.splitlines()[0].split()[0] for b in blocks] == sources
    for block in blocks:
        assert any(line.split()[:2] == ["loss", "loss"] for line in block.splitlines())
        assert "val_loss" not in block
    docs = json.loads(invoke("inspect", str(runs), "--format", "json").stdout)
    assert [d["source"] for d in docs] == sources


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.csv", "no such file"),
        (lambda d: d, "no training log found"),
        (lambda d: _write(d / "empty.csv", b""), "empty"),
        (lambda d: _write(d / "junk.bin", bytes(range(256)) * 64), "binary data"),
        (lambda d: _write(d / "header.csv", b"step,loss\n"), "only a header"),
        (lambda d: _loop(d), "cannot open"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, make, needle: str) -> None:
    path = make(tmp_path)
    result = invoke("diagnose", str(path))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lrdoctor: error: ") and needle in lines[0]
    assert "Traceback" not in result.output


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = invoke("diagnose", str(fifo))
    assert result.exit_code == 2 and "FIFO" in result.stderr


def test_unknown_reader_and_output_format(healthy: Path) -> None:
    result = invoke("diagnose", str(healthy), "--reader", "parquet")
    assert result.exit_code == 2 and "unknown reader 'parquet'" in result.stderr
    assert invoke("diagnose", str(healthy), "--format", "yaml").exit_code == 2


def test_input_files_are_not_modified(healthy: Path) -> None:
    before = (healthy.read_bytes(), healthy.stat().st_mtime_ns)
    invoke("diagnose", str(healthy))
    invoke("inspect", str(healthy))
    assert (healthy.read_bytes(), healthy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in healthy.parent.iterdir()) == ["healthy.csv"]


def test_diagnose_does_not_import_heavy_modules(healthy: Path) -> None:
    """A small CSV (the pre-commit case) needs neither torch nor matplotlib, nor even pandas."""
    code = (
        "import sys\nfrom lrdoctor.cli import cli\n"
        f"try:\n    cli(['diagnose', {str(healthy)!r}])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'matplotlib', 'scipy.stats', 'tensorboard', 'pandas')\n"
        "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "heavy:"


def test_importing_the_command_line_costs_no_numpy() -> None:
    """Until a command runs, only click is loaded: start-up is short, and Ctrl-C during it does not
    land inside numpy's import (a traceback), but in the command, where it is an interruption."""
    code = "import sys\nimport lrdoctor.cli\nprint('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_ctrl_c_is_one_line_and_exit_130(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("lrdoctor.readers.read_log", interrupted)
    result = invoke("diagnose", str(healthy))
    assert result.exit_code == 130
    assert result.stderr.strip() == "lrdoctor: interrupted"
    assert "Traceback" not in result.output


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _loop(d: Path) -> Path:
    (d / "a").symlink_to(d / "b")
    (d / "b").symlink_to(d / "a")
    return d / "a"


@pytest.mark.parametrize(
    "args",
    [("diagnose", "--format", "yaml", "x.csv"), ("diagnose",), ("diagnose", "--bogus"), ("nosuchcommand",)],
)
def test_usage_errors_are_one_line_with_exit_2(args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("lrdoctor: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "--help'" in result.stderr


def test_no_command_shows_the_help() -> None:
    result = invoke()
    assert result.exit_code == 0 and "Commands:" in result.stdout and "diagnose" in result.stdout


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "1e400", "abc"])
def test_a_rate_must_be_a_finite_number_above_zero(healthy: Path, value: str) -> None:
    result = invoke("diagnose", str(healthy), "--lr", value)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "--lr" in result.stderr


def test_inspect_json_leaves_nan_in_names_alone(tmp_path: Path) -> None:
    path = tmp_path / "NaN_run.csv"
    path.write_text(
        "step,loss,isNaN_count\n" + "".join(f"{s},{'nan' if s == 3 else 1 / (s + 1)},0\n" for s in range(10))
    )
    doc = json.loads(invoke("inspect", str(path), "--format", "json").stdout)
    assert doc["source"] == str(path)
    assert {"loss", "isNaN_count"} <= {s["name"] for s in doc["series"]}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["diagnose", "--format", "json"], ["inspect"], ["check"]])
def test_output_that_cannot_be_written_is_one_line_and_exit_2(args: list[str]) -> None:
    """`> /dev/full` (a full disk): one line saying the output could not be written, exit 2; not a
    traceback with exit 1 (a failed log's code), nor an error blamed on the log."""
    log = str(Path(__file__).parents[1] / "sample_logs" / "csv" / "digits_mlp_adam_ok.csv")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "lrdoctor", *args, log], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    assert done.returncode == 2
    assert done.stderr.strip() == "lrdoctor: error: cannot write the output: No space left on device"


@pytest.mark.parametrize("command", ["diagnose", "check"])
def test_standard_input_closed_is_a_one_line_error(command: str) -> None:
    """`lrdoctor diagnose - <&-`: Python starts with sys.stdin None; that was an 'unexpected AttributeError'."""
    closed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, runpy, sys; os.close(0); sys.stdin = None; sys.argv = ['lrdoctor', "
            f"'{command}', '-']; runpy.run_module('lrdoctor', run_name='__main__')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert closed.returncode == 2, closed.stderr
    assert (
        closed.stderr.strip()
        == "lrdoctor: error: <stdin>: standard input is closed; pipe or redirect a log file into it"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_and_errors_both_unwritable_still_exit_2() -> None:
    """`> out 2>&1` on a full disk: nothing can be said, and the exit code is still bad input's
    (2), never a failed log's (1)."""
    log = str(Path(__file__).parents[1] / "sample_logs" / "csv" / "digits_mlp_adam_ok.csv")
    for args in (["diagnose", log], ["check", log], ["inspect", "no-such-file.log"]):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "lrdoctor", *args], stdout=full, stderr=full, timeout=60)
        assert done.returncode == 2, args


def test_inspect_of_a_pattern_keeps_the_array_whatever_reads(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("".join(f"step {i}: loss {1 / (i + 1):.4f}\n" for i in range(50)))
    (tmp_path / "b.log").write_text("some notes\n")
    result = invoke("inspect", str(tmp_path / "*.log"), "--format", "json")
    assert result.exit_code == 0 and isinstance(json.loads(result.stdout), list)


def test_standard_output_closed_is_no_traceback() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, runpy, sys; os.close(1); sys.stdout = None; sys.argv = ['lrdoctor', "
            "'--version']; runpy.run_module('lrdoctor', run_name='__main__')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr and done.returncode in (0, 2), done.stderr


def test_a_rate_named_in_the_run_path_stands_in_for_an_unlogged_one(tmp_path: Path) -> None:
    """A sweep's run folders named by their rate ('lr1e-02_s0'): the recommendation is a rate, not
    only a factor; where it comes from is said; --lr and a logged rate come before it."""
    run = tmp_path / "lr1e-02_s0"
    run.mkdir()
    rows = "".join(f"{s},{2.3 - 0.001 * s:.4f}\n" for s in range(200))  # barely moving: too low
    (run / "log.csv").write_text("step,loss\n" + rows)
    doc = json.loads(invoke("diagnose", str(run / "log.csv"), "--format", "json").output)
    assert doc["lr"]["observed"] == 0.01 and doc["lr_observed_from"] == "name"
    assert doc["verdict"] == "too_low" and doc["lr"]["recommended"] == pytest.approx(0.01 * doc["lr_factor"], rel=0.01)
    text = invoke("diagnose", str(run / "log.csv")).output
    assert "lr        0.01 (named in the run's path, 'lr1e-02_s0'; not logged;" in text
    page = invoke("diagnose", str(run / "log.csv"), "--format", "markdown").output
    assert "| learning rate | 0.01 \\(named in the run's path, 'lr1e-02\\_s0'\\) |" in page
    doc = json.loads(invoke("diagnose", str(run / "log.csv"), "--format", "json", "--lr", "0.5").output)
    assert doc["lr"]["observed"] == 0.5 and doc["lr_observed_from"] == "given"
    (run / "log.csv").write_text("step,loss,lr\n" + rows.replace("\n", ",0.0000\n"))  # too few decimals
    text = invoke("diagnose", str(run / "log.csv")).output
    assert "0.01 (named in the run's path, 'lr1e-02_s0'; series lr holds no positive value;" in text
    (run / "log.csv").write_text("step,loss,lr\n" + rows.replace("\n", ",0.003\n"))
    doc = json.loads(invoke("diagnose", str(run / "log.csv"), "--format", "json").output)
    assert doc["lr"]["observed"] == 0.003 and doc["lr_observed_from"] == "logged"
