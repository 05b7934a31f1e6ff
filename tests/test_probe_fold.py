"""`diagnose --probe`: how the probe's measurement is folded into a diagnosis (no torch needed)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from lrdoctor.diagnosis import Diagnosis, diagnose
from lrdoctor.probe import PROBE_CONFIDENCE, ProbeResult, fold_into
from lrdoctor.report import json_report
from lrdoctor.run import Run, Series


def _diagnosis(verdict: str, observed: float | None) -> Diagnosis:
    steps = np.arange(100, dtype=float)
    series = {"loss": Series("loss", steps, 0.1 + 2.0 * np.exp(-steps / 10))}
    dx = diagnose(Run("run.csv", "csv", series, metric="loss", lr_given=observed))
    recommended = observed if verdict == "ok" else None
    return dataclasses.replace(dx, verdict=verdict, recommended_lr=recommended)  # type: ignore[arg-type]


def _probed(lr: float) -> ProbeResult:
    return ProbeResult(recommended_lr=lr, method="range test, then trials", steps_used=300, source="f.py:make")


def test_a_verdict_the_log_settled_stays_and_takes_the_probes_rate() -> None:
    for verdict, measured in (("too_high", 0.01), ("too_low", 1.0), ("unknown", 0.01)):
        dx = fold_into(_diagnosis(verdict, 0.1), _probed(measured))
        assert dx.verdict == verdict and dx.recommended_lr == measured and dx.basis == "probe"
        assert dx.factor == pytest.approx(measured / 0.1)


def test_a_healthy_log_keeps_its_rate_when_the_probe_agrees_within_half_a_decade() -> None:
    for measured in (10**-1.5, 0.1, 10**-0.5):
        dx = fold_into(_diagnosis("ok", 0.1), _probed(measured))
        assert dx.verdict == "ok" and dx.recommended_lr == 0.1 and dx.basis == "probe"
        assert "keep it" in dx.because


def test_a_healthy_log_is_judged_by_the_measurement_when_the_probe_is_far_off() -> None:
    assert fold_into(_diagnosis("ok", 0.1), _probed(0.03)).verdict == "too_high"
    high = fold_into(_diagnosis("ok", 0.1), _probed(0.01))
    assert (high.verdict, high.recommended_lr, high.confidence) == ("too_high", 0.01, PROBE_CONFIDENCE)
    low = fold_into(_diagnosis("ok", 0.001), _probed(0.01))
    assert low.verdict == "too_low" and low.recommended_lr == 0.01 and "10x the rate used" in low.why


@pytest.mark.parametrize("verdict", ["ok", "too_high", "too_low", "unknown"])
def test_a_probe_that_measured_no_gain_changes_nothing_but_the_reasons(verdict: str) -> None:
    # Its pick reads the scoring batches' noise: an ok log is not made too high by it, nor does
    # it replace the log's recommendation.
    dx = _diagnosis(verdict, 0.1)
    folded = fold_into(dx, dataclasses.replace(_probed(1e-5), no_gain=True))
    assert (folded.verdict, folded.recommended_lr, folded.confidence) == (dx.verdict, dx.recommended_lr, dx.confidence)
    assert folded.basis == "log" and folded.probed is not None
    assert folded.because.endswith("the measurement rests on noise, and the log's reading stands")
    assert json.loads(json_report.render([folded]))["probe"]["no_gain"] is True


@pytest.mark.parametrize("measured", [0.0, float("nan"), -1e-3])
def test_a_probe_result_without_a_usable_rate_is_refused(measured: float) -> None:
    from lrdoctor.errors import ProbeError

    with pytest.raises(ProbeError, match="no usable rate"):
        fold_into(_diagnosis("ok", 0.1), _probed(measured))


def test_without_a_known_rate_an_ok_verdict_recommends_none_and_the_json_keeps_the_measurement() -> None:
    dx = fold_into(_diagnosis("ok", None), _probed(0.01))
    doc = json.loads(json_report.render([dx]))
    assert doc["verdict"] == "ok" and doc["lr"] == {"observed": None, "recommended": None, "basis": "probe"}
    assert doc["probe"] == {
        "recommended_lr": 0.01,
        "method": "range test, then trials",
        "steps_used": 300,
        "no_gain": False,
    }
    assert "probe" not in json.loads(json_report.render([_diagnosis("ok", 0.1)]))


@pytest.mark.parametrize(
    ("verdict", "measured"), [("too_high", 0.1), ("too_high", 1.0), ("too_low", 0.1), ("too_low", 0.01)]
)
def test_a_probe_against_the_logs_verdict_leaves_the_logs_recommendation(verdict: str, measured: float) -> None:
    dx = dataclasses.replace(_diagnosis(verdict, 0.1), recommended_lr=0.03 if verdict == "too_high" else 0.3)
    folded = fold_into(dx, _probed(measured))
    assert folded.verdict == verdict and folded.recommended_lr == dx.recommended_lr and folded.probed is not None
    assert folded.basis == "log"
    assert "against what the log shows" in folded.because


def test_probe_with_a_folder_of_runs_is_refused(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text("step,loss\n" + "".join(f"{s},{2.0 / (s + 1):.4f}\n" for s in range(30)))
    factory = tmp_path.parent / f"{tmp_path.name}_factory.py"
    factory.write_text("def make():\n    raise SystemExit('never called')\n")
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path), "--probe", f"{factory}:make"])
    assert result.exit_code == 2 and "--probe measures one model for one run" in result.stderr
    # ... and so are two runs named one by one (one model's rate had been folded into both)
    runs = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    result = CliRunner().invoke(cli, ["diagnose", *runs, "--probe", f"{factory}:make"])
    assert result.exit_code == 2 and "--probe measures one model for one run" in result.stderr


def test_a_probe_spec_that_cannot_work_is_refused_before_the_logs_are_judged(tmp_path: Path) -> None:
    """It had been found out after the diagnosis, whose exit 1 (a NaN run) the exit 2 then hid."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    log = tmp_path / "nan.csv"
    log.write_text("step,loss\n" + "".join(f"{s},{'nan' if s > 20 else 2.0 / (s + 1)}\n" for s in range(30)))
    for spec in ("nowhere.py:make", "no_colon_here.py"):
        result = CliRunner().invoke(cli, ["diagnose", str(log), "--probe", spec, "--format", "json"])
        assert result.exit_code == 2 and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and spec in result.stderr


def test_a_probe_that_fails_prints_no_diagnosis(tmp_path: Path) -> None:
    """The log's diagnosis (basis "log") had been printed before the probe's error and exit 2: a
    script reading standard output would take the log's rate for the probe's."""
    from click.testing import CliRunner

    from lrdoctor.cli import cli

    log = tmp_path / "run.csv"
    log.write_text("step,loss\n" + "".join(f"{s},{2.0 / (s + 1):.4f}\n" for s in range(30)))
    factory = tmp_path / "factory.py"
    factory.write_text("def make():\n    raise RuntimeError('no data here')\n")
    result = CliRunner().invoke(cli, ["diagnose", str(log), "--probe", f"{factory}:make", "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_schedule_advice_names_the_probes_rate() -> None:
    """A run that blew up in its first steps, told to add a warmup 'to 0.781' (the log's own
    recommendation) beside 'try lr 0.0316' measured by the probe: the advice now names the latter."""
    steps = np.arange(300, dtype=float)
    values = np.where(steps < 5, 2.3, np.nan)
    values[5:9] = [30.0, 300.0, 3e3, 3e4]
    run = Run(
        "run.csv",
        "csv",
        {"loss": Series("loss", steps, values), "lr": Series("lr", steps, np.full(300, 20.0))},
        "loss",
        "lr",
    )
    dx = diagnose(run)
    assert dx.verdict == "too_high" and any("warmup" in a for a in dx.advice)
    folded = fold_into(dx, _probed(0.0316))
    (warm,) = [a for a in folded.advice if "warmup" in a]
    assert warm.endswith("to 0.0316") and f"{dx.recommended_lr:.3g}" not in warm
