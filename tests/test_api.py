"""The library's entry points (`lrdoctor.load`, `lrdoctor.diagnose_file`) take a folder as the
command line does: one run found in it is that run; several are an error, never one mixed log."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

import lrdoctor
from lrdoctor.cli import cli
from tests.conftest import SAMPLE_LOGS


@pytest.mark.parametrize("folder", ["tensorboard", "lightning/lightning_logs", "mlflow/mlruns"])
def test_a_folder_of_several_runs_is_an_error_naming_them(folder: str) -> None:
    """A parent of three TensorBoard runs had been read as one log: one run's loss judged against
    another's rate, verdict ok, where the command line judges each (too high, too low, ok)."""
    with pytest.raises(lrdoctor.LrdoctorError, match=r"holds \d runs \(.*\); load each of them") as err:
        lrdoctor.diagnose_file(SAMPLE_LOGS / folder)
    assert "\n" not in str(err.value)
    docs = json.loads(CliRunner().invoke(cli, ["diagnose", str(SAMPLE_LOGS / folder), "--format", "json"]).stdout)
    assert isinstance(docs, list) and len(docs) == int(str(err.value).split(" holds ")[1].split()[0])


@pytest.mark.parametrize(
    "folder", ["wandb/digits_mlp_sgd_too_high", "wandb/digits_mlp_sgd_too_high/wandb", "hf/digits_mlp_adamw_linear_ok"]
)
def test_a_folder_holding_one_run_is_that_run_as_the_command_line_reads_it(folder: str) -> None:
    path = SAMPLE_LOGS / folder
    doc = json.loads(CliRunner().invoke(cli, ["diagnose", str(path), "--format", "json"]).stdout)
    assert lrdoctor.diagnose_file(path) == doc


@pytest.mark.parametrize("lr", [0, -1, math.nan, math.inf, True])
def test_a_rate_that_is_no_learning_rate_is_refused(lr: float) -> None:
    with pytest.raises(lrdoctor.LrdoctorError, match="is not a learning rate"):
        lrdoctor.load(SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv", lr=lr)
    assert lrdoctor.load(SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv", lr=0.02).observed_lr == 0.02


def test_a_stray_file_beside_the_one_run_is_passed_over(tmp_path) -> None:
    """A notes.txt beside one run's folder: the folder is that run, as the command line reads it;
    with a second run beside them, an error naming the two runs (the notes passed over)."""
    import shutil

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv", tmp_path / name / "metrics.csv")
    (tmp_path / "notes.txt").write_text("tried two seeds\n")
    with pytest.raises(lrdoctor.LrdoctorError, match="holds 2 runs"):
        lrdoctor.load(tmp_path)
    shutil.rmtree(tmp_path / "b")
    assert lrdoctor.load(tmp_path).source == str(tmp_path / "a" / "metrics.csv")
