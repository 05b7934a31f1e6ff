"""Every shipped sample log reads back as the run that wrote it (sample_logs/MANIFEST.json).

The manifest's numbers were read back from each file by sample_logs/generate.py, independently
of lrdoctor: the training-loss series name as written, how many points it has, and the largest
learning rate written (a schedule's peak; for HF Trainer the rate one step after the logged step).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lrdoctor
import lrdoctor.readers
from tests.conftest import SAMPLE_LOGS

MANIFEST = SAMPLE_LOGS / "MANIFEST.json"
ENTRIES: list[dict[str, Any]] = json.loads(MANIFEST.read_text())["files"] if MANIFEST.is_file() else []
READERS = set(lrdoctor.readers.READERS)
# The whole sample set stays small enough to ship in the repository.
MAX_TOTAL_BYTES = 2 * 1024 * 1024


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["path"] for e in entries]


def _path(entry: dict[str, Any]) -> Path:
    return SAMPLE_LOGS / entry["path"]


RECORDED = [e for e in ENTRIES if e["lr_recorded"]]
UNRECORDED = [e for e in ENTRIES if not e["lr_recorded"]]


def test_manifest_covers_every_regime_and_reader() -> None:
    assert ENTRIES, f"{MANIFEST} is missing or empty; run sample_logs/generate.py"
    assert {e["label"] for e in ENTRIES} == {"ok", "too_high", "too_low"}
    assert {e["format"] for e in ENTRIES} == READERS
    assert any(e["diverged"] for e in ENTRIES)
    assert UNRECORDED


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_manifest_entry_points_at_a_sample(entry: dict[str, Any]) -> None:
    assert _path(entry).exists()
    assert entry["format"] in READERS
    assert entry["label"] in {"ok", "too_high", "too_low"}
    assert entry["loss_points"] > 0
    if entry["lr_recorded"]:
        assert entry["lr"] == entry["base_lr"]
        assert 0 < entry["lr_max_logged"] <= entry["lr"] * (1 + 1e-6)
    else:
        assert entry["lr"] is None and entry["lr_max_logged"] is None


def test_sample_logs_stay_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_LOGS.rglob("*") if p.is_file())
    assert total < MAX_TOTAL_BYTES


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_load_finds_the_training_loss(entry: dict[str, Any]) -> None:
    run = lrdoctor.load(_path(entry))
    assert run.metric == entry["metric"]
    assert len(run.loss) == entry["loss_points"]


@pytest.mark.parametrize("entry", RECORDED, ids=_ids(RECORDED))
def test_observed_lr_is_the_logged_peak(entry: dict[str, Any]) -> None:
    run = lrdoctor.load(_path(entry))
    assert run.observed_lr == pytest.approx(entry["lr_max_logged"], rel=1e-6)


@pytest.mark.parametrize("entry", UNRECORDED, ids=_ids(UNRECORDED))
def test_no_observed_lr_where_none_was_written(entry: dict[str, Any]) -> None:
    assert lrdoctor.load(_path(entry)).observed_lr is None


# The samples lrdoctor does not give their label, as sample_logs/README.md lists them.
DIFFERS = {
    "lightning/lightning_logs/version_1": "ok",
    "wandb/diabetes_mlp_adam_too_low.csv": "unknown",
    "csv/breast_cancer_logreg_sgd_too_low.csv.gz": "unknown",
    "text/diabetes_mlp_adam_logging_ok.log": "unknown",
    "text/breast_cancer_logreg_trainer_stdout_too_high.log": "ok",
}


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_each_sample_gets_the_verdict_its_readme_says(entry: dict[str, Any]) -> None:
    verdict = lrdoctor.diagnose_file(_path(entry))["verdict"]
    assert verdict == DIFFERS.get(entry["path"], entry["label"])


def test_the_readme_lists_each_sample_that_differs() -> None:
    readme = (SAMPLE_LOGS / "README.md").read_text()
    section = readme.split("## What lrdoctor says about them", 1)[1].split("\n## ", 1)[0]
    listed = {
        line.split("`")[1]: line.split("|")[3].strip().split()[0]
        for line in section.splitlines()
        if line.startswith("| `")
    }
    assert listed == DIFFERS
    agree = len(ENTRIES) - len(DIFFERS)
    assert f"gives {agree} of the {len(ENTRIES)} samples their label" in " ".join(section.split())
