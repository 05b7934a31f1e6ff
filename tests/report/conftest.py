from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lrdoctor import load
from lrdoctor.diagnosis import Diagnosis, diagnose

pytest.importorskip("matplotlib", reason="the report needs matplotlib: pip install 'lrdoctor[report]'")

HEALTHY = "step,loss,val_loss,lr\n" + "".join(
    f"{s},{0.1 + 2.2 * 0.97**s + 0.01 * (-1) ** s:.5f},{'' if s % 10 else f'{0.15 + 2.2 * 0.97**s:.5f}'},0.001\n"
    for s in range(200)
)
NAN_TAIL = "step,loss,lr\n" + "".join(f"{s},{1.0 / (s + 1):.5f},0.5\n" for s in range(20)) + "20,nan,0.5\n21,nan,0.5\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def healthy_log(tmp_path: Path) -> Path:
    return write(tmp_path / "healthy.csv", HEALTHY)


@pytest.fixture
def nan_log(tmp_path: Path) -> Path:
    return write(tmp_path / "nan.csv", NAN_TAIL)


def diagnosis_of(path: Path, **kwargs) -> Diagnosis:
    return diagnose(load(path, **kwargs))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def noisy_decay(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = np.arange(n, dtype=float)
    return steps, 0.5 + 2.0 * np.exp(-steps / (n / 10)) + 0.05 * rng.standard_normal(n)
