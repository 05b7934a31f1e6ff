"""The HTML report as a person sees it: loaded by headless Chromium, pictures decoded and drawn.

Skips, saying why, where no Chromium is installed (apt-get install chromium) or it cannot start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.report.plots import TREND

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
WIDTH, HEIGHT = 1200, 2000


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium to render the report with (apt-get install -y chromium)")


def _run(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Chromium could not run here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"Chromium could not run here (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    return done


@pytest.fixture
def report(tmp_path: Path, healthy_log: Path, nan_log: Path) -> Path:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", str(healthy_log), str(nan_log), "-o", str(out), "--jobs", "1"])
    assert result.exit_code == 1, result.output  # the NaN run is an error finding
    return out


def test_page_loads_with_every_picture_inline(tmp_path: Path, report: Path) -> None:
    exe = _chromium()
    done = _run(exe, tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri())
    dom = done.stdout
    assert "<h1>lrdoctor report</h1>" in dom
    assert len(re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', dom)) == 3  # overlay + 2 runs
    assert "<script" not in dom
    # Nothing failed to load and nothing complained in the page's console.
    assert not re.search(r"net::ERR_|CONSOLE\(|Uncaught", done.stderr), done.stderr[-2000:]


def test_screenshot_shows_the_plots(tmp_path: Path, report: Path) -> None:
    exe = _chromium()
    shot = tmp_path / "shot.png"
    _run(exe, tmp_path / "profile", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", report.as_uri())
    if not shot.is_file():
        pytest.skip("Chromium ran but wrote no screenshot")
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    trend = np.array([int(TREND[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    near_trend = np.abs(pixels - trend).max(axis=2) < 0.06
    assert near_trend.sum() > 500  # the dark-blue trend lines of the overlay and the first run are drawn
    verdict_red = np.abs(pixels - np.array([0xD6, 0x27, 0x28]) / 255).max(axis=2) < 0.06
    assert verdict_red.sum() > 100  # the too-high verdict's red bar, the divergence shading's edge
