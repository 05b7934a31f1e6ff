"""Every real log in ../shared/realworld is read with the manifest's loss-point count, or refused clearly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lrdoctor import load, naming
from lrdoctor.errors import LrdoctorError
from tests.conftest import realworld_manifest

ENTRIES = [e for e in realworld_manifest() if not e.get("companion_of")]


def primary(entry: dict) -> str:
    """The series name the manifest gives first in `primary_series`."""
    return re.split(r"\s+\(|\s+column", entry["primary_series"])[0].strip()


# Where the manifest's primary column is a trap its notes describe: Keras' CSVLogger(append=True)
# kept its first header, and the last run's 'loss' column holds an accuracy, its loss filed under
# 'mean_squared_error' (the column 'loss' equals in the earlier runs).
JUDGED = {
    "Wardat-ISU__DeepLocalize__Benchmark_GitHub_Buggy_Model_FacialKeypointsDetection_results_logs_"
    "single_hidden_layer.csv": "mean_squared_error",
}


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["loss_points"] > 0], ids=lambda e: e["file"][:60])
def test_read_with_manifest_point_count(realworld: Path, entry: dict) -> None:
    run = load(realworld / entry["local_path"])
    # "Train Loss" is read as train_loss; a lone MLflow metric file is named after the file.
    want = naming.tokens(JUDGED.get(entry["file"], primary(entry)))
    assert naming.tokens(run.metric)[-len(want) :] == want
    assert sum(seg.points for seg in run.segments) == entry["loss_points"]


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["loss_points"] == 0], ids=lambda e: e["file"][:60])
def test_refused_with_a_reason(realworld: Path, entry: dict) -> None:
    with pytest.raises(LrdoctorError) as info:
        load(realworld / entry["local_path"])
    message = str(info.value)
    assert entry["file"] in message and "\n" not in message


def test_manifest_is_covered(realworld: Path) -> None:
    assert len(ENTRIES) >= 25


# Real logs that begin after the first updates, and the step their loss is first logged at
# (Lightning every 50 steps from 49, the HF Trainer every 500 from 500, detectron2 every 20 from 19).
LATE_STARTS = {
    "0Xero7__slm_training__lightning_logs_version_7_metrics.csv": 49,
    "Goreg12345__nlp2-probing-lms__lightning_logs_version_0_metrics.csv": 49,
    "DrAliya__NLP-SPAM-FRAUD-MULTITEXT-TWEETS__trainer_state.json": 500,
    "Kevindic0214__detectron2_training__output_metrics.json": 19,
}


def test_logs_that_start_after_the_first_updates_say_so(realworld: Path) -> None:
    noted: dict[str, float] = {}
    for entry in (e for e in ENTRIES if e["loss_points"] > 0):
        run = load(realworld / entry["local_path"])
        if any("is first logged at step" in w for w in run.warnings):
            noted[Path(entry["local_path"]).name] = float(run.loss.steps[0])
    for name, step in LATE_STARTS.items():
        assert noted.get(name) == step, name
    # 16 of the readable logs begin at step 10 to 500; every other one begins at its first update,
    # or logs epoch means: a classifier whose Trainer logged each of its epochs of 401 steps.
    assert len(noted) == 16 and all(10 <= step <= 500 for step in noted.values())
    epochs = load(realworld / "hf-trainer-state" / "aigoncharov__trainer_state_viz__trainer_state.json")
    assert epochs.epoch_means and epochs.loss.steps[:2].tolist() == [401, 802]


# Real fine-tunes whose evaluation loss climbs while the training loss keeps falling, and the step
# of the lowest evaluation: Whisper evaluated every 1000 steps (0.321 at step 1000, then up to
# 0.420), and a classifier evaluated every 401 steps on six held-out groups (1.114 at step 401).
OVERFITTING = {
    "P4P4N1CK__whisper-large-v2-japanese-5k-steps__trainer_state.json": 1000,
    "aigoncharov__trainer_state_viz__trainer_state.json": 401,
}


def test_overfitting_on_real_fine_tunes_and_nowhere_else(realworld: Path) -> None:
    from lrdoctor.diagnosis import diagnose

    found: dict[str, float] = {}
    for entry in (e for e in ENTRIES if e["loss_points"] > 0):
        dx = diagnose(load(realworld / entry["local_path"]))
        for f in dx.findings:
            if f.pathology == "overfitting":
                found[Path(entry["local_path"]).name] = f.evidence["val_best_step"]
                assert any(f"at step {f.start_step:g}:" in a for a in dx.advice)
    assert found == OVERFITTING


# Logs too long for the detectors' bin medians (over 2000 points), read at their own resolution by
# the spike detector: their spikes. modded-nanogpt's AdamW record (9536 steps) has hard batches
# 8.7 robust sigmas above the trend, within its own heavy upper tail: not spikes.
LONG_LOG_SPIKES = {
    "KellerJordan__modded-nanogpt__records_track_1_short_2024-06-06_AdamW_f66d43d7-e449-4029-8adf-e8537bab49ea.log": 0,
}


def test_spikes_on_long_real_logs(realworld: Path) -> None:
    from lrdoctor.diagnosis import diagnose

    for name, count in LONG_LOG_SPIKES.items():
        (entry,) = [e for e in ENTRIES if Path(e["local_path"]).name == name]
        run = load(realworld / entry["local_path"])
        assert len(run.loss.values) > 2000
        spikes = [f for f in diagnose(run).findings if f.pathology == "loss_spike"]
        assert sum(f.evidence["count"] for f in spikes) == count, name


def test_a_keras_network_that_jumped_to_chance_and_flat_lined_is_a_divergence(realworld: Path) -> None:
    # An MNIST network logged by a Keras callback: its first epoch's mean 2.40, then 99 epochs at
    # 2.3019 to a thousandth of a percent, beside a validation loss as flat at ln 10. It was
    # "unknown" (its loss came down 0.7 sigmas of its noise).
    from lrdoctor.diagnosis import diagnose

    (entry,) = [e for e in ENTRIES if e["file"] == "dd_mnist_normal_chance_plateau.csv"]
    dx = diagnose(load(realworld / entry["local_path"]))
    (div,) = [f for f in dx.findings if f.pathology == "divergence"]
    assert div.severity == "error" and div.evidence["classes"] == 10
    assert "jumped to chance and flat-lined" in div.message
    assert dx.verdict == "too_high"
    # None of the other real logs stands still at chance.
    for other in ENTRIES:
        if other is entry or other["loss_points"] == 0 or other.get("refused"):
            continue
        try:
            run = load(realworld / other["local_path"])
        except LrdoctorError:
            continue
        assert not any("jumped to chance" in f.message for f in diagnose(run).findings), other["file"]
