"""Hostile, broken and huge inputs: lrdoctor answers (exit 0/1 with a valid report) or refuses in
one line naming the input (exit 2); it never crashes, hangs, writes beside the input or runs
anything the log holds.

A few checks run the whole process (`python -m lrdoctor`) under a timeout, where only a real
process shows the truth (devices, standard input, a gzip bomb); the rest use Click's CliRunner.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from lrdoctor.cli import cli
from lrdoctor.readers import READERS
from tests.conftest import ROOT, SAMPLE_LOGS, without_root_powers

# Generous for a loaded two-core machine; no test asserts a duration.
TIMEOUT = 60
FORCED = [None, *READERS]


def diagnose(*args: str, input: bytes | str | None = None) -> Result:
    return CliRunner().invoke(cli, ["diagnose", *args, "--format", "json"], input=input)


def python_m(*args: str, stdin: Any = subprocess.DEVNULL, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lrdoctor", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def assert_clean(code: int, stdout: str, stderr: str, *, names: str) -> Any:
    """Exit 0/1 with one JSON report and nothing on standard error, or exit 2 with nothing on
    standard output and one line on standard error that names the input (no traceback, no
    'unexpected' error: a bug would say so). Returns the report, if any."""
    assert "Traceback" not in stdout + stderr
    if code in (0, 1):
        assert stderr == ""
        return json.loads(stdout)
    assert code == 2, (code, stdout, stderr)
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("lrdoctor: error: ") and names in lines[0], lines[0]
    assert "unexpected" not in lines[0], lines[0]
    return None


def clean(result: Result, *, names: str) -> Any:
    return assert_clean(result.exit_code, result.stdout, result.stderr, names=names)


def refused(result: Result, *, names: str, says: str) -> None:
    assert clean(result, names=names) is None and result.exit_code == 2
    assert says in result.stderr, result.stderr


# --- whole process: devices, standard input, a gzip bomb, --debug -----------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_device_as_path_is_refused_at_once(device: str) -> None:
    done = python_m("diagnose", device)
    assert_clean(done.returncode, done.stdout, done.stderr, names=device)
    assert "is a device or socket, not a regular file" in done.stderr


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_device_as_standard_input_is_refused_at_once(device: str) -> None:
    with open(device, "rb") as stdin:
        done = python_m("diagnose", "-", stdin=stdin)
    assert_clean(done.returncode, done.stdout, done.stderr, names="<stdin>")
    assert "standard input is a device" in done.stderr


def test_fifo_without_a_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    done = python_m("diagnose", str(tmp_path / "pipe.csv"))
    assert_clean(done.returncode, done.stdout, done.stderr, names="pipe.csv")
    assert "is a FIFO" in done.stderr


def test_gzip_bomb_of_more_than_2_gib_ends_with_a_clear_message(tmp_path: Path) -> None:
    """34 gzip members of a 64 MiB CSV (one row repeated): 3.3 MB on disk, 2.1 GiB inflated, a
    valid log on its face. Inflating stops once the output passes 64 MiB at more than 200 times
    the compressed bytes read, long before 2 GiB is held."""
    member = gzip.compress(b"step,loss\n" + b"1,2.5\n" * ((64 << 20) // 6), compresslevel=9)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(member * 34)
    assert len(member) * 34 < 4 << 20
    for forced in ([], ["--reader", "csv"]):
        done = python_m("diagnose", str(bomb), *forced)
        assert_clean(done.returncode, done.stdout, done.stderr, names="bomb.csv.gz")
        assert "expands more than 200 times" in done.stderr and "gzip bomb" in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = python_m("diagnose", str(tmp_path / "missing.csv"), "--debug")
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "InputError" in done.stderr and "missing.csv" in done.stderr
    plain = python_m("diagnose", str(tmp_path / "missing.csv"))
    assert_clean(plain.returncode, plain.stdout, plain.stderr, names="missing.csv")


# --- huge, deep and odd inputs, for every reader ---------------------------------------------------


@pytest.fixture(scope="module")
def long_line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 20 MB line: a JSON record with a 20 MB string."""
    path = tmp_path_factory.mktemp("long") / "long.log"
    path.write_bytes(b'{"step": 1, "loss": 2.5, "note": "' + b"x" * (20 << 20) + b'"}\n')
    return path


@pytest.mark.parametrize("reader", FORCED)
def test_20_mb_single_line(long_line: Path, reader: str | None) -> None:
    result = diagnose(str(long_line), *(["--reader", reader] if reader else []))
    report = clean(result, names="long.log")
    if reader in ("jsonl", "text"):  # one record, read as such
        assert report is not None and report["points"] == 1


DEEP = 200_000


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("deep.json", "[" * DEEP + "]" * DEEP),
        ("deep_object.json", '{"a":' * DEEP + "1" + "}" * DEEP),
        ("deep.jsonl", '{"a":' * DEEP + "1" + "}" * DEEP + '\n{"loss": 1.0}\n{"loss": 0.5}\n'),
        ("deep.log", "loss=" + "(" * DEEP + "\nloss=" + "{'a':" * DEEP + "\n"),
    ],
)
@pytest.mark.parametrize("reader", [None, "json", "jsonl", "text"])
def test_200000_deep_nesting(tmp_path: Path, name: str, data: str, reader: str | None) -> None:
    path = tmp_path / name
    path.write_text(data)
    report = clean(diagnose(str(path), *(["--reader", reader] if reader else [])), names=name)
    if name == "deep.jsonl" and reader in (None, "jsonl"):  # the two good lines after the deep one
        assert report is not None and report["points"] == 2
        assert any("skipped 1 line(s) that are not whole JSON objects (line 1)" in w for w in report["warnings"])


def test_directory_of_10000_empty_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    events = tmp_path / "events"
    plain.mkdir()
    events.mkdir()
    for i in range(10_000):
        (plain / f"f{i}").touch()
        (events / f"events.out.tfevents.{i}.host").touch()
    refused(diagnose(str(plain)), names="plain", says="no training log found in this directory")
    refused(diagnose(str(events)), names="events", says="its 10000 event file(s) are empty (nothing written yet)")


@pytest.mark.parametrize("reader", FORCED)
def test_empty_gzip_and_zero_byte_gz(tmp_path: Path, reader: str | None) -> None:
    forced = ["--reader", reader] if reader else []
    (tmp_path / "zero.csv.gz").write_bytes(b"")
    refused(diagnose(str(tmp_path / "zero.csv.gz"), *forced), names="zero.csv.gz", says="empty")
    (tmp_path / "nothing.csv.gz").write_bytes(gzip.compress(b""))
    clean(diagnose(str(tmp_path / "nothing.csv.gz"), *forced), names="nothing.csv.gz")


@pytest.mark.parametrize("reader", FORCED)
def test_binary_junk_named_csv(tmp_path: Path, reader: str | None) -> None:
    path = tmp_path / "metrics.csv"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    result = diagnose(str(path), *(["--reader", reader] if reader else []))
    clean(result, names="metrics.csv")
    if reader is None:
        refused(result, names="metrics.csv", says="binary data of no known log format")


@pytest.mark.parametrize("where", ["tail", "middle"])
def test_a_text_log_with_a_block_of_nul_bytes_left_by_a_crash_is_read(tmp_path: Path, where: str) -> None:
    """A crash can leave the space a file system had allocated for the next writes as NUL bytes,
    at the end or, once the run was restarted and appended to, in the middle: the log is still
    text, and every complete line is read."""
    lines = [f"2024-05-01 10:00:00,000 INFO train: step={10 * k} loss={3 * 0.99**k:.4f} lr=0.001\n" for k in range(150)]
    # A byte of another encoding (a cp1252 degree sign) and a character cut by the crash: still text.
    data = "".join(lines[:100]).encode().replace(b"INFO", b"INFO \xb0C", 1) + "█".encode()[:2] + b"\x00" * 4096
    data += "".join(lines[100:]).encode() if where == "middle" else b""
    path = tmp_path / "train.log"
    path.write_bytes(data)
    report = clean(diagnose(str(path)), names="train.log")
    assert report is not None and report["points"] == (150 if where == "middle" else 100)


def test_a_progress_bar_redrawn_with_backspaces_is_text(tmp_path: Path) -> None:
    """Keras writes each refresh of its bar to a terminal after backspaces over the last one: a
    captured terminal session is a text log, not binary data."""
    out = []
    for epoch in range(1, 11):
        out.append(f"Epoch {epoch}/10\n")
        for seen in (8, 16, 32):
            bar = f"{seen}/32 [{'=' * (seen - 1)}>{'.' * (32 - seen)}] - ETA: 0s - loss: {2.5 / epoch:.4f}"
            out.append(bar + "\b" * len(bar))
        out.append(f"\r32/32 [{'=' * 32}] - 1s 20ms/step - loss: {2.4 / epoch:.4f} - val_loss: {2.6 / epoch:.4f}\n")
    path = tmp_path / "keras.log"
    path.write_text("".join(out))
    report = clean(diagnose(str(path)), names="keras.log")
    assert report is not None and report["points"] == 10


def test_binary_data_with_blocks_of_nul_bytes_is_still_refused(tmp_path: Path) -> None:
    """The NUL blocks forgiven in a text log (above) come after its first lines; a binary file's
    zeros (a saved array, a pickle) do not make it text."""
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros(10_000))
    refused(diagnose(str(path)), names="weights.npy", says="binary data")
    junk = tmp_path / "zeros.log"
    junk.write_bytes(b"\x00" * 10_000)
    refused(diagnose(str(junk)), names="zeros.log", says="binary data")
    # An array whose first bytes are newlines (0x0a) after its header: still no text before the zeros.
    lines = tmp_path / "newlines.npy"
    np.save(lines, np.array([10, 10] + [0] * 5000, dtype=np.int8))
    refused(diagnose(str(lines)), names="newlines.npy", says="binary data")


def test_symlink_loops_inside_run_directories(tmp_path: Path) -> None:
    (tmp_path / "metrics.csv").write_text("step,loss\n0,2.5\n1,2.25\n")
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "self").symlink_to(tmp_path / "self")
    report = clean(diagnose(str(tmp_path)), names=str(tmp_path))
    assert report is not None and report["points"] == 2
    refused(diagnose(str(tmp_path / "self")), names="self", says="cannot open")


@pytest.mark.parametrize(
    "command", [["diagnose", "--format", "json"], ["inspect"], ["check"], ["report", "-o", "out.html"], ["watch"]]
)
def test_an_unreadable_file_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    """Run as a user that file permissions bind (as root: without the capabilities that pass them)."""
    prefix = without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    (tmp_path / "secret.csv").write_text("step,loss\n0,1\n1,0.5\n")
    (tmp_path / "secret.csv").chmod(0)
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "lrdoctor", *command, "secret.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip().splitlines() == ["lrdoctor: error: secret.csv: permission denied"]
    assert not (tmp_path / "out.html").exists()


def test_standard_input_gzip_utf16_and_junk() -> None:
    report = clean(diagnose("-", input=gzip.compress(b"step,loss\n0,2.5\n1,2.25\n")), names="<stdin>")
    assert report is not None and report["points"] == 2
    report = clean(diagnose("-", input="step,loss\n0,2.5\n1,2.25\n".encode("utf-16")), names="<stdin>")
    assert report is not None and report["points"] == 2
    refused(diagnose("-", input=bytes(range(256)) * 100), names="<stdin>", says="binary data")
    rows = b"step,loss\n" + b"".join(b"%d,%r\n" % (s, 2.5 - s / 4096) for s in range(5000))
    cut = gzip.compress(rows)[:-2000]
    unz = zlib.decompressobj(wbits=31)
    held = unz.decompress(cut)
    report = clean(diagnose("-", input=cut), names="<stdin>")
    assert report is not None and report["points"] == held.count(b"\n") - 1  # every complete row
    assert report["warnings"][0].startswith("<stdin>: the gzip data is cut short")


# --- NaN, Inf and degenerate series are findings, never crashes ------------------------------------


def csv_text(steps: list[Any], losses: list[Any]) -> str:
    return "step,loss\n" + "".join(f"{s},{v}\n" for s, v in zip(steps, losses, strict=True))


DEGENERATE = {
    "all_nan": (csv_text(list(range(10)), ["nan"] * 10), 1),
    "all_inf": (csv_text(list(range(10)), ["inf"] * 10), 1),
    # One NaN the run went on from, lower: a skipped update (a warning), not a divergence error.
    "nan_in_the_middle": (csv_text(list(range(10)), [1, 0.9, 0.8, 0.7, "nan", 0.6, 0.5, 0.4, 0.3, 0.2]), 0),
    "nan_then_higher": (csv_text(list(range(10)), [1, 0.9, 0.8, 0.7, "nan", 3.0, 3.1, 3.2, 3.3, 3.4]), 1),
    "constant": (csv_text(list(range(50)), [1.0] * 50), None),
    "single_point": (csv_text([0], [1.0]), 0),
    "single_nan": (csv_text([0], ["nan"]), 1),
    "two_points": (csv_text([0, 1], [1.0, 0.5]), 0),
    "inf_in_the_step_column": (csv_text([0, 1, 2, "inf", 4, 5], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]), None),
    "negative_steps": (csv_text(list(range(-10, 10)), [2.0 - i / 20 for i in range(20)]), None),
    "steps_near_2_to_the_62": (
        csv_text([2**62 + i * 2**11 for i in range(10)], [1.0 / (i + 1) for i in range(10)]),
        None,
    ),
    "steps_2_to_the_62_plus_one": (csv_text([2**62 + i for i in range(10)], [1.0 / (i + 1) for i in range(10)]), None),
    "every_value_near_the_float_limit": (csv_text(list(range(100)), ["1e308"] * 50 + ["1.5e308"] * 50), None),
    # One spike to the float limit that the run recovers from: a warning (exit 0), not a divergence
    # error, as a spike to 1e300 is (the running mean of the trend must not overflow to inf).
    "one_spike_to_the_float_limit": (
        csv_text(list(range(300)), [1e308 if i == 150 else 0.2 + 2.0 * 0.98**i + 0.01 * (-1) ** i for i in range(300)]),
        0,
    ),
}


@pytest.mark.parametrize("case", DEGENERATE)
def test_degenerate_series_get_a_report(tmp_path: Path, case: str) -> None:
    text, exit_code = DEGENERATE[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    result = diagnose(str(path))
    report = clean(result, names=path.name)
    assert report is not None, result.stderr
    if exit_code is not None:
        assert result.exit_code == exit_code
    if exit_code == 1:
        assert any(f["pathology"] == "divergence" and f["severity"] == "error" for f in report["findings"])
    if case == "nan_in_the_middle":
        (div,) = [f for f in report["findings"] if f["pathology"] == "divergence"]
        assert div["severity"] == "warning" and div["evidence"]["skipped"]
    if case == "inf_in_the_step_column":
        assert report["points"] == 5
        assert report["warnings"] == [f"{path}: left out 1 row(s) whose step is not a finite number (line 5)"]
    if case == "negative_steps":
        assert report["steps"] == {"first": -10, "last": 9}
    if case == "one_spike_to_the_float_limit":
        (spike,) = [f for f in report["findings"] if f["pathology"] == "loss_spike"]
        assert "up to over 1e308 noise sigmas" in spike["message"]
        assert all(len(f["message"]) < 300 for f in report["findings"])  # no 300-digit numbers


def test_values_near_the_float_limit_give_the_report_alone(tmp_path: Path) -> None:
    """A whole process: Python prints numpy's RuntimeWarnings on standard error (under pytest
    they are captured, so CliRunner cannot see them)."""
    path = tmp_path / "extreme.csv"
    path.write_text(csv_text(list(range(60)), [[1e308, -1e308, 5e-324, 0, -0.0, 1e-300][i % 6] for i in range(60)]))
    done = python_m("diagnose", str(path), "--format", "json")
    assert_clean(done.returncode, done.stdout, done.stderr, names="extreme.csv")


def test_loss_column_of_empty_cells_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty_loss.csv"
    path.write_text("step,loss,acc\n" + "".join(f"{s},,0.5\n" for s in range(10)))
    refused(diagnose(str(path)), names="empty_loss.csv", says="the column 'loss' holds no number")


# --- nothing the user owns is touched --------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file and directory under `root`: content hash (files) and modification time."""
    out = {}
    for path in sorted(root.rglob("*")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(root))] = (digest, path.stat().st_mtime_ns)
    return out


MANIFEST = json.loads((SAMPLE_LOGS / "MANIFEST.json").read_text())["files"]


@pytest.mark.parametrize("command", ["diagnose", "inspect"])
def test_inputs_are_left_as_they_were(tmp_path: Path, command: str) -> None:
    """Every sample format, plus an MLflow database in WAL mode: same bytes, same times, no new file."""
    import sqlite3

    samples = tmp_path / "samples"
    shutil.copytree(SAMPLE_LOGS, samples, ignore=shutil.ignore_patterns("generator", "*.py", "*.md"))
    con = sqlite3.connect(samples / "mlflow" / "mlflow.db")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE runs (run_uuid, name, start_time, end_time, lifecycle_stage)")
    con.execute("CREATE TABLE metrics (key, value, timestamp, run_uuid, step, is_nan)")
    con.execute("INSERT INTO runs VALUES ('r1', 'x', 1, 2, 'active')")
    con.executemany("INSERT INTO metrics VALUES ('loss', ?, ?, 'r1', ?, 0)", [(1.0 / (s + 1), s, s) for s in range(5)])
    con.commit()
    con.close()
    targets = [samples / e["path"] for e in MANIFEST] + [samples / "mlflow" / "mlflow.db"]
    assert {e["format"] for e in MANIFEST} == set(READERS)
    before = snapshot(samples)
    for target in targets:
        result = CliRunner().invoke(cli, [command, str(target), "--format", "json"])
        assert result.exit_code in (0, 1), (target, result.stderr)
    assert snapshot(samples) == before


# --- nothing in a log is ever run --------------------------------------------------------------------


class _Payload:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("touch PWNED",))


PAYLOADS = {
    "state.pkl": pickle.dumps({"loss": [1.0, 0.5], "hook": _Payload()}),
    "trainer_state.json": json.dumps(
        {
            "log_history": [{"step": 1, "loss": 1.0}],
            "__reduce__": ["os.system", ["touch PWNED"]],
            "py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["touch PWNED"]}],
        }
    ).encode(),
    "train.log": (
        b"{'loss': __import__('os').system('touch PWNED'), 'epoch': 1}\n"
        b"{'loss': 0.5, 'learning_rate': eval(\"__import__('os').system('touch PWNED')\")}\n"
        b"step 1: loss=exec('import os; os.system(\"touch PWNED\")')\n"
        b"step 2: loss 0.25\nstep 3: loss 0.125\n"
    ),
    "history.jsonl": b'{"loss": 1.0, "__class__": "os.system", "args": "touch PWNED"}\n{"loss": 0.5}\n',
}


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("reader", FORCED)
def test_a_log_is_never_executed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, reader: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(PAYLOADS[name])
    clean(diagnose(name, *(["--reader", reader] if reader else [])), names=name)
    CliRunner().invoke(cli, ["inspect", name, *(["--reader", reader] if reader else [])])
    assert not (tmp_path / "PWNED").exists()


def test_yaml_side_files_are_never_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hparams.yaml beside a Lightning metrics.csv and meta.yaml of an MLflow run hold Python tags."""
    monkeypatch.chdir(tmp_path)
    tag = '!!python/object/apply:os.system ["touch PWNED"]'
    lightning = tmp_path / "version_0"
    lightning.mkdir()
    (lightning / "metrics.csv").write_text("epoch,step,train_loss_step\n0,0,2.5\n0,1,2.25\n")
    (lightning / "hparams.yaml").write_text(f"lr: {tag}\nbatch_size: 32\n")
    run = tmp_path / "mlruns" / "1" / ("a" * 32)
    (run / "metrics").mkdir(parents=True)
    (run / "metrics" / "loss").write_text("1700000000000 2.5 0\n1700000000001 2.25 1\n")
    (run / "meta.yaml").write_text(f"run_name: {tag}\nstart_time: 1\n")
    for target in (lightning, tmp_path / "mlruns"):
        report = clean(diagnose(str(target)), names=str(target))
        reports = report if isinstance(report, list) else [report]  # a directory of runs: an array
        assert [r["points"] for r in reports] == [2]
    assert not (tmp_path / "PWNED").exists()


def test_steps_of_a_million_or_more_print_exactly(tmp_path: Path) -> None:
    steps = list(range(1_234_567, 1_235_067))
    values = [2.0 * 0.995**i + 0.3 for i in range(500)]
    values[300] = float("nan")
    path = tmp_path / "long.csv"
    path.write_text(csv_text(steps, values))
    out = CliRunner().invoke(cli, ["diagnose", str(path)]).output
    assert "steps 1234567 to 1235066" in out and "(step 1234867)" in out and "e+06" not in out


@pytest.mark.parametrize(
    ("encoding", "name", "column"),
    [("cp1252", "训练.csv", "训练损失 loss"), ("utf-8", "b\udce9.csv", "loss")],
)
def test_names_the_output_encoding_cannot_hold_are_escaped(
    tmp_path: Path, encoding: str, name: str, column: str
) -> None:
    """A CJK name on a cp1252 console, or a file named in bytes that are not UTF-8 (a Latin-1 'é'),
    had raised UnicodeEncodeError: a traceback and exit 1, the whole table lost."""
    path = tmp_path / os.fsdecode(os.fsencode(name))
    path.write_text(f"step,{column},lr\n" + "".join(f"{s},{2.0 / (1 + s / 10):.4f},0.01\n" for s in range(100)))
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    for command in (["diagnose", str(tmp_path)], ["diagnose", str(path)], ["check", str(path)], ["inspect", str(path)]):
        done = subprocess.run([sys.executable, "-m", "lrdoctor", *command], capture_output=True, env=env, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        assert b"Traceback" not in done.stderr and b"\\u" in done.stdout + done.stderr


def test_a_closed_standard_output_is_an_error_not_a_silent_pass(tmp_path: Path) -> None:
    """`lrdoctor check run.csv >&-` had printed nothing and exited 0 or 1 as if judged and said; a
    report, written to its file, needs no standard output."""
    log = tmp_path / "run.csv"
    log.write_text("step,loss\n" + "".join(f"{s},{2.0 / (1 + s / 10):.4f}\n" for s in range(60)))
    for command in (["diagnose", str(log), "--format", "json"], ["check", str(log)]):
        done = subprocess.run(
            [sys.executable, "-m", "lrdoctor", *command],
            stdout=subprocess.DEVNULL,
            capture_output=False,
            stderr=subprocess.PIPE,
            timeout=120,
            pass_fds=(),
            close_fds=True,
            preexec_fn=lambda: os.close(1),
        )
        assert done.returncode == 2 and b"standard output is closed" in done.stderr, command
