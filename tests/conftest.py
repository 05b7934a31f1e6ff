from __future__ import annotations

import json
import os
import shutil
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


def without_root_powers() -> list[str] | None:
    """A command prefix under which file permissions hold (root reads anything); None: none found."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    caps = "-dac_override,-dac_read_search"
    return None if setpriv is None else [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
