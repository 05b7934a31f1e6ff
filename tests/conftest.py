from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_LOGS = ROOT / "sample_logs"
# Real logs from public repositories live beside the checkout, never inside it.
REALWORLD = Path(os.environ.get("LRDOCTOR_REALWORLD", ROOT.parent / "shared" / "realworld"))


@pytest.fixture(scope="session")
def realworld() -> Path:
    if not (REALWORLD / "MANIFEST.json").is_file():
        pytest.skip(f"real-world logs not found at {REALWORLD} (set LRDOCTOR_REALWORLD)")
    return REALWORLD


def realworld_manifest() -> list[dict]:
    """Manifest entries, for parametrising; empty when the folder is absent."""
    path = REALWORLD / "MANIFEST.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text())["files"]
