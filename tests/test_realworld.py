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


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e["loss_points"] > 0], ids=lambda e: e["file"][:60])
def test_read_with_manifest_point_count(realworld: Path, entry: dict) -> None:
    run = load(realworld / entry["local_path"])
    # "Train Loss" is read as train_loss; a lone MLflow metric file is named after the file.
    want = naming.tokens(primary(entry))
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
