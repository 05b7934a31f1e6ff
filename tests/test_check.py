"""`lrdoctor check`: one line per log, exit 1 when a log fails the gate, settings from pyproject.toml."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.config import (
    BadConfig,
    Settings,
    diagnosis_config,
    find_pyproject,
    load_settings,
    override,
    parse_thresholds,
)
from lrdoctor.report.github import command, escape_data, escape_property

HEALTHY = "step,loss,lr\n" + "".join(f"{s},{0.1 + 2.2 * 0.85**s + 0.01 * (-1) ** s:.5f},0.001\n" for s in range(60))
NAN_TAIL = "step,loss\n" + "".join(f"{s},{1.0 / (s + 1):.5f}\n" for s in range(20)) + "20,nan\n21,nan\n"


def _spiky() -> str:
    rng = np.random.default_rng(0)
    steps = np.arange(300)
    loss = 0.1 + 2.2 * 0.98**steps + 0.02 * rng.standard_normal(300)
    loss[150] = 5.0  # one spike that recovers: a loss_spike finding of severity info
    return "step,loss,lr\n" + "".join(f"{s},{v:.5f},0.001\n" for s, v in zip(steps, loss, strict=True))


@pytest.fixture
def logs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("healthy.csv", HEALTHY), ("nan.csv", NAN_TAIL), ("spiky.csv", _spiky())):
        out[name.split(".")[0]] = tmp_path / name
        (tmp_path / name).write_text(text)
    notes = tmp_path / "requirements.txt"
    notes.write_text("numpy>=1.24\nclick>=8.1\n")
    out["notes"] = notes
    return out


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_healthy_log_passes_with_one_line(logs: dict[str, Path]) -> None:
    result = invoke("check", str(logs["healthy"]))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{logs['healthy']}: ok ({_confidence(result.stdout)}), no findings"]


def test_nan_loss_fails_and_names_the_finding(logs: dict[str, Path]) -> None:
    result = invoke("check", str(logs["nan"]))
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{logs['nan']}: too_high (")
    assert "divergence error at steps 20-21: loss is NaN from step 20" in line
    assert line.endswith("[FAIL: divergence (error)]")


def test_one_skipped_nan_is_the_line_s_finding_over_slow_progress(tmp_path: Path) -> None:
    """A NaN at step 100 that the run went on from is a divergence warning, and the line names it
    before a slow_convergence warning of the same severity (it had hidden it)."""
    rows = "".join(f"{i},{'nan' if i == 100 else 2.0 / (1 + i / 20)}\n" for i in range(200))
    path = tmp_path / "onenan.csv"
    path.write_text("step,loss\n" + rows)
    result = invoke("check", str(path))
    assert result.exit_code == 0
    assert "divergence warning at step 100: 1 isolated non-finite value(s)" in result.stdout


def test_one_line_per_file_in_order_and_any_failure_fails(logs: dict[str, Path]) -> None:
    result = invoke("check", str(logs["healthy"]), str(logs["nan"]), str(logs["spiky"]))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(logs[k]) for k in ("healthy", "nan", "spiky")]


def test_fail_on_verdict_and_on_pathology(logs: dict[str, Path]) -> None:
    assert invoke("check", str(logs["healthy"]), "--fail-on", "too_high,too_low").exit_code == 0
    result = invoke("check", str(logs["healthy"]), "--fail-on", "ok")
    assert result.exit_code == 1 and "[FAIL: verdict ok (--fail-on)]" in result.stdout
    # The spike is an info finding: it passes unless its pathology is named.
    assert invoke("check", str(logs["spiky"])).exit_code == 0
    result = invoke("check", str(logs["spiky"]), "--fail-on-pathology", "loss_spike,plateau")
    assert result.exit_code == 1 and "[FAIL: loss_spike (--fail-on-pathology)]" in result.stdout
    # A verdict fails only as sure as --min-confidence asks.
    assert invoke("check", str(logs["healthy"]), "--fail-on", "ok", "--min-confidence", "1").exit_code == 0


def test_repeated_fail_on_options_add_up(logs: dict[str, Path]) -> None:
    """A second --fail-on (a pre-commit `args:` list grown a pair at a time) had silently replaced
    the first: the gate passed a verdict the first named."""
    result = invoke("check", str(logs["healthy"]), "--fail-on", "ok", "--fail-on", "too_high")
    assert result.exit_code == 1 and "[FAIL: verdict ok (--fail-on)]" in result.stdout
    result = invoke("check", str(logs["spiky"]), "--fail-on-pathology", "loss_spike", "--fail-on-pathology", "plateau")
    assert result.exit_code == 1 and "[FAIL: loss_spike (--fail-on-pathology)]" in result.stdout
    assert invoke("check", str(logs["healthy"]), "--fail-on", "").exit_code == 0  # '' still names none


def test_min_confidence_is_met_by_the_confidence_as_printed(logs: dict[str, Path]) -> None:
    """A threshold copied from the line ('ok (0.93)') or the JSON ('0.928') is met by that verdict:
    it had been compared with the unrounded 0.9279..."""
    line = invoke("check", str(logs["healthy"])).stdout
    shown = line.split("ok (")[1][:4]
    doc = json.loads(invoke("diagnose", str(logs["healthy"]), "--format", "json").stdout)
    for copied in (shown, str(doc["confidence"])):
        result = invoke("check", str(logs["healthy"]), "--fail-on", "ok", "--min-confidence", copied)
        assert result.exit_code == 1, (copied, doc["confidence"])


@pytest.mark.parametrize("pair", ["verdict.min_confidence=2", "verdict.unsupported_confidence=1.5"])
def test_a_threshold_that_is_a_probability_stays_within_0_and_1(logs: dict[str, Path], pair: str) -> None:
    result = invoke("check", str(logs["healthy"]), "--threshold", pair)
    assert result.exit_code == 2 and "is a probability, from 0 to 1" in result.stderr


def test_a_git_lfs_pointer_fails_the_gate_even_where_unreadable_files_are_skipped(tmp_path: Path) -> None:
    """A CI checkout without Git LFS holds pointers in place of the logs: skipping them as files
    that are no log passed every log unread."""
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a21\nsize 12345\n"
    (tmp_path / "metrics.csv").write_text(pointer)
    (tmp_path / "run.jsonl").write_text(pointer)
    events = tmp_path / "tb"
    events.mkdir()
    (events / "events.out.tfevents.1700000000.host").write_text(pointer)
    for path in (tmp_path / "metrics.csv", tmp_path / "run.jsonl", events):
        result = invoke("check", "--skip-unreadable", str(path))
        assert result.exit_code == 2 and "skipped" not in result.output and "Git LFS pointer" in result.stderr


def test_unknown_names_are_usage_errors(logs: dict[str, Path]) -> None:
    result = invoke("check", str(logs["healthy"]), "--fail-on", "too_hot")
    assert result.exit_code == 2 and "fail_on: unknown 'too_hot'; choose from too_high" in result.stderr
    result = invoke("check", str(logs["healthy"]), "--threshold", "divergence.nope=3")
    assert result.exit_code == 2 and "no field 'nope'" in result.stderr and "explode_ratio" in result.stderr


def test_threshold_option_changes_the_diagnosis(tmp_path: Path) -> None:
    # A loss that climbs from 1 to 58.8 ends 5780% above its start: a divergence (error) under the
    # default margin (5%), and no longer one when the margin is raised to 100x the start.
    path = tmp_path / "up.csv"
    path.write_text("step,loss\n" + "".join(f"{s},{1.0 + 0.2 * s:.3f}\n" for s in range(300)))
    assert invoke("check", str(path)).exit_code == 1
    assert invoke("check", str(path), "--threshold", "divergence.end_above_start=100").exit_code == 0


def test_bad_file_is_reported_and_the_others_still_checked(logs: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("check", str(tmp_path / "missing.csv"), str(logs["healthy"]))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"lrdoctor: error: {tmp_path / 'missing.csv'}: no such file or directory"
    ]
    assert result.stdout.startswith(f"{logs['healthy']}: ok")


def test_skip_unreadable_passes_over_files_that_are_no_log(logs: dict[str, Path]) -> None:
    assert invoke("check", str(logs["notes"]), str(logs["healthy"])).exit_code == 2
    result = invoke("check", "--skip-unreadable", str(logs["notes"]), str(logs["healthy"]))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"{logs['notes']}: skipped, not a training log (")


def test_github_annotations(logs: dict[str, Path]) -> None:
    result = invoke("check", "--format", "github", str(logs["nan"]), str(logs["spiky"]))
    lines = result.stdout.splitlines()
    nan = str(logs["nan"]).replace(":", "%3A").replace(",", "%2C")
    assert f"::error file={nan},title=lrdoctor divergence::loss is NaN from step 20" in "\n".join(lines)
    spike = next(line for line in lines if "title=lrdoctor loss_spike" in line)
    assert spike.startswith("::notice file=")  # info findings that do not fail are notices
    result = invoke("check", "--format", "github", "--fail-on", "ok", str(logs["healthy"]))
    assert any(
        line.startswith("::error ") and "title=lrdoctor verdict ok::" in line for line in result.stdout.splitlines()
    )


def test_github_annotations_of_a_run_folder_name_it_in_the_title(tmp_path: Path) -> None:
    run = tmp_path / "version_0"
    run.mkdir()
    (run / "metrics.csv").write_text(NAN_TAIL)
    lines = invoke("check", "--format", "github", str(run)).stdout.splitlines()
    annotation = next(line for line in lines if line.startswith("::error "))
    assert "file=" not in annotation and "title=lrdoctor divergence (" in annotation


def test_github_annotations_of_standard_input_name_no_file() -> None:
    result = CliRunner().invoke(cli, ["check", "--format", "github", "-"], input=NAN_TAIL)
    annotation = next(line for line in result.stdout.splitlines() if line.startswith("::error "))
    assert "file=" not in annotation and "(standard input)" in annotation


def test_a_log_named_like_a_workflow_command_is_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner reads a line that begins with '::' or '##[' as a command: a log committed as
    '::stop-commands::tok.csv' would have turned every later annotation off. Only the annotations
    begin so; each plain line names its file from './'."""
    monkeypatch.chdir(tmp_path)
    for name in ("::stop-commands::tok.csv", "##[error]x.csv"):
        (tmp_path / name).write_text(NAN_TAIL)
    (tmp_path / "::notes.txt").write_text("numpy\n")
    result = invoke("check", "--format", "github", "--skip-unreadable", "::stop-commands::tok.csv", "##[error]x.csv")
    result2 = invoke("check", "--format", "github", "--skip-unreadable", "::notes.txt")
    lines = result.stdout.splitlines() + result2.stdout.splitlines()
    plain = [line for line in lines if not line.startswith(("::error ", "::warning ", "::notice "))]
    assert [line[:6] for line in plain] == ["./::st", "./##[e", "./::no"]
    assert all(not line.lstrip().startswith(("::", "##[")) for line in plain)
    assert sum(line.startswith("::error file=%3A%3Astop-commands%3A%3Atok.csv,") for line in lines) == 1


def test_github_escaping_follows_the_runner_rules() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("runs/a:b,c%\n") == "runs/a%3Ab%2Cc%25%0A"
    assert command("warning", "m", file="x,y", title="t") == "::warning file=x%2Cy,title=t::m"


def test_pyproject_settings_are_found_walking_up_and_options_win(
    logs: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    project = tmp_path / "project"
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.lrdoctor]\nfail_on = ["ok"]\nmetric = "loss"\n'
        '[tool.lrdoctor.thresholds]\n"spikes.z" = 9\n'
    )
    monkeypatch.chdir(project / "sub" / "deeper")
    assert find_pyproject(Path.cwd()) == (project / "pyproject.toml").resolve()
    settings = load_settings()
    assert settings.fail_on == ("ok",) and settings.metric == "loss" and settings.thresholds == {"spikes.z": 9.0}
    assert diagnosis_config(settings).detect.spikes.z == 9.0
    assert invoke("check", str(logs["healthy"])).exit_code == 1  # the file's fail_on
    assert invoke("check", str(logs["healthy"]), "--fail-on", "").exit_code == 0  # the option wins
    assert invoke("check", str(logs["healthy"]), "--metric", "nope").exit_code == 2


def test_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    inner = tmp_path / "a"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    assert find_pyproject(inner) is None


def test_another_projects_broken_or_binary_pyproject_is_passed_over(tmp_path: Path, logs: dict[str, Path]) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"\xb2\x00[tool.x\n")  # neither UTF-8 nor TOML
    inner = tmp_path / "a"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[tool.ruff\n")
    assert find_pyproject(inner) is None
    (inner / "pyproject.toml").write_bytes(b"[tool.lrdoctor]\n\xff\xfe")
    with pytest.raises(BadConfig, match=r"pyproject.toml: not valid TOML: not UTF-8 text \(byte 16\)"):
        find_pyproject(inner)


def test_bad_settings_name_the_file(tmp_path: Path, logs: dict[str, Path]) -> None:
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text("[tool.lrdoctor]\nfail-on = ['too_high']\nfail_on_pathologies = ['plateau']\n")
    with pytest.raises(BadConfig, match=r"pyproject.toml \[tool.lrdoctor\]: unknown key 'fail_on_pathologies'"):
        load_settings(cfg)
    result = invoke("check", "--config", str(cfg), str(logs["healthy"]))
    assert result.exit_code == 2 and "unknown key 'fail_on_pathologies'" in result.stderr
    cfg.write_text("[tool.lrdoctor\n")
    result = invoke("check", "--config", str(cfg), str(logs["healthy"]))
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('min_confidence = "0.99"', "min_confidence must be a number, got '0.99'"),
        ('thresholds = {"spikes.z" = "10"}', "thresholds.spikes.z must be a number, got '10'"),
        ("fail_on = 'ok,too_hi'", "fail_on: unknown 'too_hi'"),
    ],
)
def test_settings_are_typed_as_toml_writes_them(tmp_path: Path, line: str, said: str) -> None:
    """A number written as text is refused, as the README says ("a value must be a finite
    number"); a list of names may be one comma-separated string, as on the command line."""
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(f"[tool.lrdoctor]\n{line}\n")
    with pytest.raises(BadConfig, match=re.escape(said)):
        load_settings(cfg)
    cfg.write_text("[tool.lrdoctor]\nfail_on = 'too_high, too_low'\n")
    assert load_settings(cfg).fail_on == ("too_high", "too_low")


@pytest.mark.parametrize(
    "table",
    [
        '[tool.lrdoctor.thresholds]\n"spikes.z" = 9\n"divergence.explode_ratio" = 50\n',
        "[tool.lrdoctor.thresholds]\nspikes.z = 9\ndivergence.explode_ratio = 50\n",  # dotted keys, unquoted
        "[tool.lrdoctor.thresholds.spikes]\nz = 9\n[tool.lrdoctor.thresholds.divergence]\nexplode_ratio = 50\n",
    ],
)
def test_thresholds_are_read_however_toml_spells_the_keys(tmp_path: Path, table: str) -> None:
    """Unquoted dotted keys and sub-tables had been refused ('thresholds.divergence must be a number,
    got {'explode_ratio': 50}'): TOML reads them as tables within tables."""
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text(table)
    settings = load_settings(cfg)
    assert settings.thresholds == {"spikes.z": 9.0, "divergence.explode_ratio": 50.0}
    assert diagnosis_config(settings).detect.spikes.z == 9.0


def test_a_tool_key_that_is_no_table_names_the_file(tmp_path: Path, logs: dict[str, Path], monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 3\n# lrdoctor\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", str(logs["healthy"]))
    assert result.exit_code == 2 and "pyproject.toml: 'tool' must be a table" in result.stderr
    assert "unexpected" not in result.stderr


def test_override_keeps_file_thresholds_and_adds_options() -> None:
    base = Settings(thresholds={"spikes.z": 9.0}, fail_on=("too_high",))
    options = parse_thresholds(["divergence.explode_ratio=50"])  # (numbers already: a settings file's "50" is text)
    assert options == {"divergence.explode_ratio": 50.0}
    merged = override(base, thresholds=options, fail_on=None)
    assert merged.thresholds == {"spikes.z": 9.0, "divergence.explode_ratio": 50.0}
    assert merged.fail_on == ("too_high",)


def test_check_does_not_import_heavy_modules(logs: dict[str, Path]) -> None:
    code = (
        "import sys\nfrom lrdoctor.cli import cli\n"
        f"try:\n    cli(['check', {str(logs['nan'])!r}, {str(logs['healthy'])!r}, '--format', 'github'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('torch', 'matplotlib', 'scipy.stats', 'tensorboard')\n"
        "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "heavy:"


def _confidence(stdout: str) -> str:
    return stdout.split("(", 1)[1].split(")", 1)[0]


def test_overfitting_is_a_warning_that_fails_only_when_named(tmp_path: Path) -> None:
    from tests.detect import curves

    steps, train, vs, val = curves.overfitting()
    at = dict(zip(vs.tolist(), val.tolist(), strict=True))
    rows = "".join(
        f"{s:g},{t:.5f},{at[s]:.5f}\n" if s in at else f"{s:g},{t:.5f},\n" for s, t in zip(steps, train, strict=True)
    )
    path = tmp_path / "metrics.csv"
    path.write_text("step,train_loss,val_loss\n" + rows)
    passed = CliRunner().invoke(cli, ["check", str(path)])
    assert passed.exit_code == 0 and "overfitting warning" in passed.output
    failed = CliRunner().invoke(cli, ["check", str(path), "--fail-on-pathology", "overfitting"])
    assert failed.exit_code == 1 and "[FAIL: overfitting (--fail-on-pathology)]" in failed.output


def test_a_directory_of_runs_is_checked_run_by_run(tmp_path: Path) -> None:
    for name, text in (("a", HEALTHY), ("b", NAN_TAIL)):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "metrics.csv").write_text(text)
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs")])
    lines = result.output.splitlines()
    assert result.exit_code == 1 and len(lines) == 2
    assert lines[0].startswith(str(tmp_path / "runs" / "a")) and "FAIL" in lines[1]
    (tmp_path / "runs" / "c").mkdir()
    (tmp_path / "runs" / "c" / "metrics.csv").write_text("")  # a run that cannot be read fails the gate
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "runs/c" in result.stderr
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs"), "--skip-unreadable"])
    assert result.exit_code == 1 and "skipped, not a training log" in result.output


def test_loose_files_beside_the_runs_are_passed_over_with_a_note(tmp_path: Path) -> None:
    for name, text in (("a", HEALTHY), ("b", NAN_TAIL)):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "metrics.csv").write_text(text)
    (tmp_path / "runs" / "summary.txt").write_text("notes\n")
    (tmp_path / "runs" / "preds.csv").write_text("x,y\n1,2\n")
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs")])
    assert result.exit_code == 1 and len(result.stdout.splitlines()) == 2, result.output
    assert "passed over 2 file(s) that hold no training log" in result.stderr and "error" not in result.stderr
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs" / "*.*")])  # only the loose files
    assert result.exit_code == 2 and "no training log among the files found" in result.stderr
    (tmp_path / "runs" / "crashed.csv").write_text("step,loss,lr\n")  # a run that logged nothing
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "crashed.csv: only a header" in result.stderr


def test_a_pattern_that_matches_nothing_is_its_own_error(logs: dict[str, Path], tmp_path: Path) -> None:
    pattern = str(tmp_path / "nomatch*.csv")
    result = CliRunner().invoke(cli, ["check", str(logs["healthy"]), pattern, str(logs["nan"])])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"lrdoctor: error: {pattern}: no file or directory matches this pattern"
    assert "healthy.csv: ok" in result.stdout and "nan.csv" in result.stdout  # the others still judged


def test_a_wrong_metric_name_is_no_skip(logs: dict[str, Path]) -> None:
    args = ["check", "--skip-unreadable", "--metric", "train_los", str(logs["nan"])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "no series named 'train_los'; found loss, step" in result.stderr
    # A file with no training loss at all is still passed over.
    result = CliRunner().invoke(cli, ["check", "--skip-unreadable", "--metric", "train_loss", str(logs["notes"])])
    assert result.exit_code == 0 and "skipped, not a training log" in result.stdout


def test_an_unknown_verdict_fails_whatever_the_min_confidence(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("step,loss\n0,2.0\n1,1.9\n2,1.8\n")
    result = CliRunner().invoke(cli, ["check", str(short), "--fail-on", "unknown", "--min-confidence", "0.5"])
    assert result.exit_code == 1 and "verdict unknown (--fail-on)" in result.stdout


def test_a_config_file_of_its_own_or_a_pyproject_without_the_table(logs: dict[str, Path], tmp_path: Path) -> None:
    own = tmp_path / "lrdoctor.toml"
    own.write_text('fail_on = ["ok"]\n')
    assert load_settings(own).fail_on == ("ok",)
    result = CliRunner().invoke(cli, ["check", str(logs["healthy"]), "--config", str(own)])
    # (the reason names the file's key, not an option the command line did not give)
    assert result.exit_code == 1 and "[FAIL: verdict ok (fail_on in lrdoctor.toml)]" in result.stdout
    given = CliRunner().invoke(cli, ["check", str(logs["healthy"]), "--config", str(own), "--fail-on", "ok"])
    assert given.exit_code == 1 and "[FAIL: verdict ok (--fail-on)]" in given.stdout
    other = tmp_path / "pyproject.toml"
    other.write_text('[tool.black]\nline-length = 100\nfail_on = ["ok"]\n')
    with pytest.raises(BadConfig, match=r"no \[tool\.lrdoctor\] table"):
        load_settings(other)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("verdict.min_confidence=nan", "must be a finite number"),
        ("divergence.explode_ratio=-1", "must stay above 0 (default 100)"),
    ],
)
def test_a_threshold_is_finite_and_keeps_its_sign(logs: dict[str, Path], pair: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(logs["healthy"]), "--threshold", pair])
    assert result.exit_code == 2 and message in result.stderr and "command line" in result.stderr


def test_a_bad_command_line_threshold_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    project = tmp_path / "pyproject.toml"
    project.write_text('[tool.lrdoctor]\nfail_on = ["too_high"]\n')
    with pytest.raises(BadConfig, match=r"^command line: threshold 'spikes\.nope'"):
        override(load_settings(project), thresholds={"spikes.nope": 1.0})


def test_watch_waits_for_a_metric_the_log_does_not_hold_yet(logs: dict[str, Path]) -> None:
    # A validation loss, or an epoch mean, is first written some time into the run.
    result = CliRunner().invoke(cli, ["watch", str(logs["healthy"]), "--metric", "val_loss", "--timeout", "0.2"])
    assert result.exit_code == 0, result.output
    assert "no series named 'val_loss'" in result.stderr and "waiting for it to be logged" in result.stderr


def test_file_names_cannot_forge_lines(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "evil\nname: ok (1.00), no findings\nx.csv").write_text(NAN_TAIL)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 1 and "evil\\x0aname" in result.stdout


def test_a_reader_that_goes_away_ends_the_check_quietly(tmp_path: Path) -> None:
    import fcntl
    import os

    for k in range(150):
        (tmp_path / f"r{k:03d}.csv").write_text(HEALTHY)
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # a small pipe: the check outruns its reader
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrdoctor", "check", str(tmp_path)], stdout=write_end, stderr=subprocess.PIPE, env=env
    )
    os.close(write_end)
    with os.fdopen(read_end, "rb") as out:
        assert b": ok" in out.readline()  # `| head -1`
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "BrokenPipeError" not in stderr and "error" not in stderr, stderr


@pytest.mark.parametrize("command", ["check", "diagnose"])
def test_a_run_folder_that_logged_nothing_is_an_error_in_check_and_diagnose_alike(tmp_path: Path, command: str) -> None:
    """A Lightning version whose metrics.csv is empty or blank, an HF output whose
    trainer_state.json is, a TensorBoard run whose event file is: runs that crashed before their
    first log, not stray files. An empty summary.csv or mlflow.db in a folder beside them, and a
    notes.log, are passed over."""
    good = tmp_path / "lightning_logs" / "version_0"
    good.mkdir(parents=True)
    (good / "metrics.csv").write_text("step,train_loss\n" + "".join(f"{s},{2.0 * 0.98**s}\n" for s in range(60)))
    empty = {
        tmp_path / "lightning_logs" / "version_1" / "metrics.csv": "",
        tmp_path / "lightning_logs" / "version_2" / "metrics.csv": "\n \n",
        tmp_path / "hf_out" / "trainer_state.json": "  \n",
        tmp_path / "tb" / "run_x" / "events.out.tfevents.1.host": "",
    }
    strays = {
        tmp_path / "reports" / "summary.csv": "",
        tmp_path / "db" / "mlflow.db": "",
        tmp_path / "notes.log": "started\n",
    }
    for path, text in {**empty, **strays}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    result = invoke(command, str(tmp_path))
    assert result.exit_code == 2
    for path in empty:
        said = (
            f"{path.parent}: its 1 event file(s) are empty"
            if path.parent.name == "run_x"
            else f"{path}: the run's log is empty"
        )
        assert f"lrdoctor: error: {said} (nothing written yet)" in result.stderr
    assert "passed over 3 file(s) that hold no training log" in result.stderr


def test_check_judges_every_run_of_a_wandb_export(tmp_path: Path) -> None:
    """A chart exported from W&B with two runs: the gate fails on the one that went NaN, though
    diagnose shows the other."""
    steps = range(100)
    a = [2.3 * 0.97**s for s in steps]
    b = [2.3 * 0.97**s if s < 50 else float("nan") for s in steps]
    rows = [f"{s},{x},{x},{x},{y},{y},{y}" for s, x, y in zip(steps, a, b, strict=True)]
    header = "Step,runA - loss,runA - loss__MIN,runA - loss__MAX,runB - loss,runB - loss__MIN,runB - loss__MAX"
    path = tmp_path / "wandb_export.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    result = invoke("check", str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [f"{path} [runA - loss]", f"{path} [runB - loss]"]
    assert "FAIL: divergence" in lines[1] and "FAIL" not in lines[0]
    annotated = invoke("check", str(path), "--format", "github").stdout
    assert f"::error file={path},title=lrdoctor divergence [runB - loss]::" in annotated
    named = invoke("check", str(path), "--metric", "runA - loss")  # the one named, alone
    assert named.exit_code == 0 and named.stdout.startswith(f"{path}: ") and len(named.stdout.splitlines()) == 1


def test_standard_input_is_named_as_diagnose_names_it(tmp_path: Path) -> None:
    rows = "".join(f"{s},{2.0 * 0.97**s}\n" for s in range(60))
    result = CliRunner().invoke(cli, ["check", "-"], input="step,loss\n" + rows)
    assert result.exit_code == 0 and result.stdout.startswith("<stdin>: ")


@pytest.mark.parametrize("command", ["check", "diagnose"])
def test_folders_beside_the_runs_that_hold_no_log_are_passed_over(tmp_path: Path, command: str) -> None:
    """A folder of plots under metrics/, final scores in eval/metrics.json, a table in
    reports/summary.csv: found by the names runs use, but no run and no error."""
    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    (run / "metrics.csv").write_text("step,train_loss\n" + "".join(f"{s},{2.0 * 0.98**s}\n" for s in range(60)))
    (tmp_path / "plots" / "metrics").mkdir(parents=True)
    (tmp_path / "plots" / "metrics" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "metrics.json").write_text('{"accuracy": 0.97, "f1": 0.95}')
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "summary.csv").write_text("model,accuracy\nmlp,0.97\n")
    result = invoke(command, str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr and "passed over" in result.stderr


def test_check_judges_each_runs_own_loss_and_not_a_table_of_roles(tmp_path: Path) -> None:
    """Run B logs 'train/loss' where run A logs 'loss': B is judged on its own loss. A table whose
    columns read 'train - loss' and 'val - loss' names roles, not two runs."""
    steps = range(100)
    good = [2.1 * 0.97**s for s in steps]
    bad = [2.1 * 0.97**s if s < 60 else float("nan") for s in steps]
    export = tmp_path / "export.csv"
    export.write_text(
        "Step,A - loss,A - lr,B - train/loss,B - lr\n"
        + "".join(f"{s},{a},0.001,{b},0.1\n" for s, a, b in zip(steps, good, bad, strict=True))
    )
    result = invoke("check", str(export))
    assert result.exit_code == 1
    assert [line.split(":", 1)[0] for line in result.stdout.splitlines()] == [
        f"{export} [A - loss]",
        f"{export} [B - train/loss]",
    ]
    roles = tmp_path / "roles.csv"
    roles.write_text(
        "Step,train - loss,val - loss,lr\n"
        + "".join(f"{s},{a},{a * 1.1},0.01\n" for s, a in zip(steps, good, strict=True))
    )
    result = invoke("check", str(roles))
    assert result.exit_code == 0 and result.stdout.startswith(f"{roles}: ") and len(result.stdout.splitlines()) == 1
    assert "holds 2 runs" not in invoke("diagnose", str(roles)).stdout  # nor told it holds runs


def _table(path: Path, columns: dict[str, list[float]] | dict[str, list[float | str]]) -> Path:
    rows = zip(*columns.values(), strict=True)
    path.write_text(
        ",".join(["Step", *columns])
        + "\n"
        + "".join(f"{s}," + ",".join(map(str, r)) + "\n" for s, r in enumerate(rows))
    )
    return path


@pytest.mark.parametrize(
    ("columns", "judged"),
    [
        # W&B's bounds settle it: runs named 'train' and 'val', the second gone NaN
        ({"train - loss": "good", "train - loss__MIN": "good", "train - loss__MAX": "good", "val - loss": "bad"}, 2),
        # a table of roles, with one more dashed column: no runs, 'val - loss' is the validation loss
        ({"train - loss": "good", "val - loss": "bad", "grad - norm": "good"}, 1),
        # run B's own dense per-batch loss, not a 3-point 'loss' of the same name as A's
        ({"A - loss": "good", "B - loss": "sparse", "B - loss_step": "bad"}, 2),
        # a run named 'test' whose metric names itself, beside another run
        ({"test - train/loss": "bad", "b - loss": "good"}, 2),
        # bounds columns with no number in them still say W&B
        ({"train - loss": "good", "train - loss__MIN": "empty", "val - loss": "bad", "val - loss__MIN": "empty"}, 2),
    ],
)
def test_which_columns_are_runs_of_a_wandb_export(tmp_path: Path, columns: dict[str, str], judged: int) -> None:
    curves = {
        "good": [2.1 * 0.97**s for s in range(100)],
        "bad": [2.1 * 0.97**s if s < 60 else float("nan") for s in range(100)],
        "sparse": [2.1 * 0.97**s if s % 40 == 0 else float("nan") for s in range(100)],
        "empty": [""] * 100,
    }
    path = _table(tmp_path / "export.csv", {name: curves[kind] for name, kind in columns.items()})
    result = invoke("check", str(path))
    lines = result.stdout.splitlines()
    assert len(lines) == judged, result.output
    assert result.exit_code == (1 if judged == 2 else 0), result.output


def test_a_run_of_a_wandb_export_with_no_training_loss_is_named_as_not_judged(tmp_path: Path) -> None:
    good = [2.1 * 0.97**s for s in range(100)]
    path = _table(
        tmp_path / "export.csv",
        {"A - loss": good, "B - accuracy": [0.5] * 100, "C - loss": good, "D - loss": [""] * 100},
    )
    result = invoke("check", str(path))
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert f"lrdoctor: note: {path}: not judged, no training loss logged: run(s) B, D" in result.stderr


def test_a_blank_run_log_of_any_size_logged_nothing(tmp_path: Path) -> None:
    for size in (10, 100_000):
        run = tmp_path / f"blank{size}" / "lightning_logs" / "version_0"
        run.mkdir(parents=True)
        (run / "metrics.csv").write_text("\n" * size)
        result = invoke("check", str(run.parent.parent))
        assert result.exit_code == 2 and "the run's log is empty (nothing written yet)" in result.stderr


@pytest.mark.parametrize("command", ["check", "diagnose"])
def test_a_run_whose_own_log_was_cut_off_fails_a_folder_of_runs(tmp_path: Path, command: str) -> None:
    """An HF output folder whose trainer_state.json (and its checkpoints') were cut off while
    written is a damaged run, not a stray folder to pass over: the gate fails, naming it."""
    for name in ("ok", "cut"):
        out = tmp_path / "sweep" / name
        out.mkdir(parents=True)
        history = [{"loss": 2.1 * 0.97**s, "learning_rate": 1e-3, "step": s} for s in range(1, 101)]
        text = json.dumps({"global_step": 100, "log_history": history}, indent=2, sort_keys=True)
        (out / "trainer_state.json").write_text(text if name == "ok" else text[: len(text) // 2])
    result = invoke(command, str(tmp_path / "sweep"))
    assert result.exit_code == 2, result.output
    assert "sweep/cut/trainer_state.json" in result.stderr and "not valid JSON" in result.stderr
    assert "passed over" not in result.stderr


def test_a_log_of_appended_runs_says_which_run_the_gate_judged(tmp_path: Path) -> None:
    """Two trainings in one log (the step restarts): the check line says it judged the last, and
    how to choose another; the earlier one's NaN is found with --segment 1."""
    rows = ["step,loss"]
    rows += [f"{s},{'nan' if s > 50 else 2.1 * 0.99**s}" for s in range(80)]
    rows += [f"{s},{2.1 * 0.97**s}" for s in range(100)]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    result = invoke("check", str(path))
    assert result.exit_code == 0 and "[appended run 2 of 2; choose with --segment N]" in result.stdout
    first = invoke("check", str(path), "--segment", "1")
    assert first.exit_code == 1 and "[appended run 1 of 2;" in first.stdout


def test_a_stray_table_named_metrics_csv_beside_the_runs_is_passed_over(tmp_path: Path) -> None:
    """Only a run's JSON state cut off while written fails a folder as a damaged run: a text-only
    table named metrics.csv in a folder of its own is passed over, as before."""
    run = tmp_path / "sweep" / "run1"
    run.mkdir(parents=True)
    (run / "metrics.csv").write_text("step,loss\n" + "".join(f"{s},{2.1 * 0.97**s}\n" for s in range(100)))
    table = tmp_path / "sweep" / "summary"
    table.mkdir()
    (table / "metrics.csv").write_text("model,dataset,split,notes\nmlp,digits,test,fine\ncnn,digits,test,good\n")
    result = invoke("check", str(tmp_path / "sweep"))
    assert result.exit_code == 0, result.output
    assert "passed over 1 file(s) that hold no training log" in result.stderr


def test_skip_unreadable_passes_over_no_log_but_fails_a_damaged_one(tmp_path: Path) -> None:
    """The pre-commit hook always passes --skip-unreadable: a requirements.txt is passed over, but a
    log whose own data is broken (gzip, a cut trainer_state.json, an event file with no valid
    record) is a run the gate cannot vouch for, and fails it (exit 2) as without the flag."""
    import gzip

    data = bytearray(gzip.compress(HEALTHY.encode() * 40))
    data[len(data) // 2] ^= 0xFF
    data[len(data) // 2 + 1] ^= 0xFF
    (tmp_path / "metrics.csv.gz").write_bytes(bytes(data))
    (tmp_path / "trainer_state.json").write_text('{"log_history": [{"loss": 2.3, "step": 1}, {"loss": ')
    (tmp_path / "events.out.tfevents.1700000000.host").write_bytes(b"\x00\x01garbage, no record" * 10)
    (tmp_path / "requirements.txt").write_text("numpy\ntorch==2.13.0\n")
    for name in ("metrics.csv.gz", "trainer_state.json", "events.out.tfevents.1700000000.host"):
        result = invoke("check", "--skip-unreadable", str(tmp_path / name))
        assert result.exit_code == 2 and "skipped" not in result.output, (name, result.output)
    result = invoke("check", "--skip-unreadable", str(tmp_path / "requirements.txt"))
    assert result.exit_code == 0 and "skipped, not a training log" in result.output
    # The hook's pattern finds 'tfevents' anywhere in a path: a script or notes so named are no
    # damaged event file, and a trainer_state.json that is valid JSON of another kind is no cut one.
    (tmp_path / "tfevents_to_csv.py").write_text("import sys\n# convert tfevents to csv\nprint(1)\n")
    (tmp_path / "other" / "trainer_state.json").parent.mkdir()
    (tmp_path / "other" / "trainer_state.json").write_text('{"epoch": 3, "model": "resnet", "lr": 0.1}\n')
    for path in (tmp_path / "tfevents_to_csv.py", tmp_path / "other" / "trainer_state.json"):
        result = invoke("check", "--skip-unreadable", str(path))
        assert result.exit_code == 0 and "skipped, not a training log" in result.output, result.output


def test_a_run_folder_whose_event_files_hold_no_valid_record_is_damaged_not_passed_over(tmp_path: Path) -> None:
    """The folder of a run whose event file is all damage, beside a healthy run: searched for, named
    alone, or with --skip-unreadable, it fails (exit 2), as the event file named alone does; it had
    been passed over as a folder with no training log, and the gate passed. A folder whose event
    files are empty (nothing written yet) is still no damaged log."""
    good = tmp_path / "runs" / "good"
    good.mkdir(parents=True)
    (good / "metrics.csv").write_text(HEALTHY)
    bad = tmp_path / "runs" / "bad"
    bad.mkdir()
    (bad / "events.out.tfevents.1700000000.host").write_bytes(b"\x00\x01garbage, no record" * 10)
    for args in (["check", str(tmp_path / "runs")], ["check", "--skip-unreadable", str(bad)]):
        result = invoke(*args)
        assert result.exit_code == 2 and "passed over" not in result.output, (args, result.output)
        assert "none of the 1 event file(s) holds a valid record" in result.output
    (bad / "events.out.tfevents.1700000000.host").write_bytes(b"")
    result = invoke("check", "--skip-unreadable", str(bad))
    assert result.exit_code == 0 and "skipped, not a training log" in result.output, result.output


def test_a_phase_file_of_a_split_run_is_judged_as_its_run(tmp_path: Path) -> None:
    """A Keras TensorBoard run (run/train/, run/validation/): a pre-commit hook passes each event
    file; the validation file alone would be judged as if it held the training loss (an
    overfitting validation loss as a divergence error). Each file stands for the run, once."""
    from torch.utils.tensorboard import SummaryWriter

    train, val = SummaryWriter(str(tmp_path / "run" / "train")), SummaryWriter(str(tmp_path / "run" / "validation"))
    for s in range(30):
        train.add_scalar("epoch_loss", 2.3 * np.exp(-s / 5) + 0.01, s)
        val.add_scalar("epoch_loss", 0.9 + 0.004 * (s - 8) ** 2, s)
    train.close()
    val.close()
    files = sorted(str(p) for p in (tmp_path / "run").rglob("*tfevents*"))
    result = invoke("check", "--skip-unreadable", *files)
    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(str(tmp_path / "run") + ":") and "overfitting" in line and "divergence" not in line


def _dvclive_run(root: Path, *, timestamps: bool, folder: str = "plots/metrics") -> Path:
    """A DVCLive run as DVCLive 3 writes it: a .tsv per metric, its header naming the metric by
    the file's name ('loss' in train/loss.tsv and in eval/loss.tsv), an empty file for a metric
    with no value yet."""
    metrics = root / "dvclive" / folder
    curves = {
        "train/loss": lambda s: 2.3 * np.exp(-s / 8) + 0.1,
        "eval/loss": lambda s: 0.9 + 0.004 * (s - 8) ** 2,  # overfitting, not diverging
        "lr": lambda s: 0.01,
    }
    for name, curve in curves.items():
        path = metrics / f"{name}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [("timestamp\t" if timestamps else "") + f"step\t{path.stem}"]
        rows += [(f"{1_700_000_000_000 + s}\t" if timestamps else "") + f"{s}\t{curve(s)}" for s in range(40)]
        path.write_text("\n".join(rows) + "\n")
    (metrics / "eval" / "accuracy.tsv").write_text("")
    (root / "dvclive" / "metrics.json").write_text('{"train": {"loss": 0.1}, "step": 39}')
    return metrics


@pytest.mark.parametrize("timestamps", [False, True])
def test_dvclive_run_is_read_whole_wherever_it_is_named(tmp_path: Path, timestamps: bool) -> None:
    """DVCLive writes each metric to a file of its own: the run is read whole from its folder, the
    folder above it or the project, its evaluation loss as the validation loss; each metric's file
    that a hook passes stands for the run, once (the evaluation loss alone would be judged as a
    training loss)."""
    from lrdoctor import load

    metrics = _dvclive_run(tmp_path, timestamps=timestamps)
    for path in (metrics, tmp_path / "dvclive"):
        run = load(path)
        assert run.format == "dvclive" and run.metric == "train/loss" and len(run.loss) == 40
        assert run.val_loss is not None and run.val_metric == "eval/loss"
        assert run.observed_lr == pytest.approx(0.01)
        assert any("eval/accuracy: left out" in w and "empty" in w for w in run.warnings)
    result = invoke("diagnose", str(tmp_path))
    assert result.exit_code == 0 and "(dvclive)" in result.output and "eval/loss: 40 points" in result.output
    files = sorted(str(p) for p in metrics.rglob("*.tsv"))
    result = invoke("check", *files)
    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(str(metrics) + ":") and "divergence" not in line


def test_tables_in_a_folder_named_like_dvclives_are_each_their_own(tmp_path: Path) -> None:
    """A `scalars/` folder of whole tables (step, loss) is no DVCLive run: each file is judged alone."""
    folder = tmp_path / "scalars"
    folder.mkdir()
    for name, floor in (("run_a", 0.1), ("run_b", 1.5)):
        rows = "".join(f"{s}\t{2.3 * np.exp(-s / 8) + floor}\n" for s in range(40))
        (folder / f"{name}.tsv").write_text("step\tloss\n" + rows)
    result = invoke("check", str(folder / "run_a.tsv"), str(folder / "run_b.tsv"))
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [str(folder / "run_a.tsv"), str(folder / "run_b.tsv")]


def test_dvclive_before_2_wrote_scalars(tmp_path: Path) -> None:
    from lrdoctor import load

    _dvclive_run(tmp_path, timestamps=True, folder="scalars")
    run = load(tmp_path / "dvclive")
    assert run.format == "dvclive" and run.metric == "train/loss" and run.val_metric == "eval/loss"


def test_ray_tune_trial_folder_is_one_run(tmp_path: Path) -> None:
    """A Ray Tune trial folder holds result.json (a record per report) and progress.csv (the same,
    flattened) beside params.json: one run, placed on `training_iteration`; an experiment folder
    is a run per trial."""
    from lrdoctor import load

    for trial in ("train_fn_a_00000", "train_fn_b_00001"):
        folder = tmp_path / "exp" / trial
        folder.mkdir(parents=True)
        (folder / "params.json").write_text('{"lr": 0.01}')
        records = [
            {"loss": 2.3 * np.exp(-i / 10) + 0.1, "timestamp": 1_700_000_000 + i, "training_iteration": i}
            | {"trial_id": "a1b2c_00000", "time_total_s": 0.5 * i, "config": {"lr": 0.01}}
            for i in range(1, 41)
        ]
        (folder / "result.json").write_text("".join(json.dumps(r) + "\n" for r in records))
        header = "loss,timestamp,training_iteration,trial_id,time_total_s,config/lr"
        rows = [",".join(str(v) for v in [*list(r.values())[:-1], 0.01]) for r in records]
        (folder / "progress.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    trial = tmp_path / "exp" / "train_fn_a_00000"
    for path in (trial, trial / "result.json", trial / "progress.csv"):
        run = load(path)
        assert run.loss.steps.tolist() == list(range(1, 41)), path
        assert run.observed_lr == pytest.approx(0.01)
    result = invoke("diagnose", str(tmp_path / "exp"))
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "train_fn_" in ln]
    assert len(lines) == 2 and all("result.json" in ln for ln in lines), result.output
    # A trial that reported once is still the trial, its result.json a single line.
    (trial / "result.json").write_text(json.dumps(records[0]) + "\n")
    assert load(trial).loss.steps.tolist() == [1]
    # A large config in every record (its first line beyond a sniff's few kilobytes) still marks it.
    big = {f"layer_{i}": "x" * 40 for i in range(3000)}
    (trial / "result.json").write_text("".join(json.dumps(r | {"config": {"lr": 0.01, **big}}) + "\n" for r in records))
    assert load(trial).format == "jsonl"
    # A params.json and a result.json that Ray did not write are no trial: the folder's log is read.
    other = tmp_path / "other"
    other.mkdir()
    (other / "params.json").write_text('{"lr": 0.01}')
    (other / "result.json").write_text("".join(json.dumps({"epoch": e, "test_loss": 0.5}) + "\n" for e in range(5)))
    (other / "metrics.csv").write_text("step,train_loss\n" + "".join(f"{s},{2.0 / (1 + s)}\n" for s in range(40)))
    assert load(other).metric == "train_loss"


def test_a_dvclive_folder_that_cannot_be_listed_is_said(tmp_path: Path, monkeypatch) -> None:
    """A metrics sub-folder without permission is part of the run: reading stops, in one line,
    rather than judging the run without it (its training loss, say). (Root reads every folder,
    so the refusal is simulated where the walk reports it.)"""
    import os

    from lrdoctor import load
    from lrdoctor.errors import InputError
    from lrdoctor.readers import csv_reader

    metrics = _dvclive_run(tmp_path, timestamps=False)
    walk = os.walk

    def refusing(top, onerror=None, **kwargs):
        for root, dirs, files in walk(top, onerror=onerror, **kwargs):
            if Path(root).name == "train" and onerror is not None:
                onerror(PermissionError(13, "Permission denied", root))
                dirs[:] = []
                continue
            yield root, dirs, files

    monkeypatch.setattr(csv_reader.os, "walk", refusing)
    with pytest.raises(InputError, match=r"train: permission denied \(a folder of the run's metrics\)"):
        load(metrics)


@pytest.mark.parametrize("name", ["run1_trainer_state.json", "trainer_state_backup.json"])
def test_a_cut_trainer_state_under_another_name_is_damaged(tmp_path: Path, name: str) -> None:
    """An HF state cut off while written fails the gate by what it holds, not only when named
    trainer_state.json; JSON of another kind cut off the same way is still passed over."""
    state = (
        '{\n  "best_metric": null,\n  "epoch": 2.0,\n  "global_step": 20,\n  "log_history": [\n'
        '    {\n      "epoch": 0.1,\n      "loss": 2.3,\n      "step": 1\n    },\n    {\n      "epoch": 0.2,\n      "lo'
    )
    (tmp_path / name).write_text(state)
    result = invoke("check", "--skip-unreadable", str(tmp_path / name))
    assert result.exit_code == 2 and "skipped" not in result.output, result.output
    (tmp_path / "config.json").write_text('{\n  "model": "resnet",\n  "layers": [1, 2')
    result = invoke("check", "--skip-unreadable", str(tmp_path / "config.json"))
    assert result.exit_code == 0 and "skipped, not a training log" in result.output, result.output


def test_github_annotations_of_a_path_that_is_not_there(tmp_path: Path) -> None:
    """A log named that is not there (a step that wrote none) had an error line but no annotation,
    unlike every other input that cannot be read."""
    missing = tmp_path / "train.log"
    result = invoke("check", "--format", "github", str(missing))
    assert result.exit_code == 2
    (annotation,) = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert "cannot read this log" in annotation and "no such file or directory" in annotation
