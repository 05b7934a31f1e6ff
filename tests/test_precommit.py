"""The pre-commit hook, installed and run for real by `pre-commit try-repo` on a repository of logs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_LOGS

HEALTHY = SAMPLE_LOGS / "csv" / "digits_mlp_adam_ok.csv"
DIVERGING = SAMPLE_LOGS / "csv" / "diabetes_mlp_sgd_nan.csv"  # loss Inf from step 6
GIT = ("git", "-c", "user.name=lrdoctor tests", "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false")


def _manifest() -> list[dict]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (pre-commit brings it)")
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_manifest_declares_the_lrdoctor_hook() -> None:
    (hook,) = _manifest()
    assert hook["id"] == "lrdoctor" and hook["entry"] == "lrdoctor check" and hook["language"] == "python"
    assert hook["types"] == ["file"] and "--skip-unreadable" in hook["args"]
    assert hook["args"][-1] == "--"  # the file names pre-commit appends are no options, whatever their names


@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("runs/exp1/metrics.csv", True),
        ("logs/loss.tsv", True),
        ("train.jsonl", True),
        ("out/train.log", True),
        ("console.txt", True),
        ("logs/metrics.csv.gz", True),
        ("out/checkpoint-500/trainer_state.json", True),
        ("runs/Jan01/events.out.tfevents.1700000000.host.1234.0", True),
        ("README.md", False),
        ("train.py", False),
        ("config.json", False),
        ("output/metrics.json", True),  # detectron2
        ("work_dirs/20240101_000000/vis_data/scalars.json", True),  # mmengine
        ("history.json", True),
        ("logs/train_log.json.gz", True),
        ("package.json", False),
        ("tsconfig.json", False),
        ("assets/catalog.json", False),  # 'log' inside a word
        ("constraints.json", False),  # 'train' inside a word
        ("login.json", False),
        ("trainingLog.json", True),
        ("lossHistory.json", True),
        ("histories.json", True),
        ("annotations/instances_train2017.json", False),  # a dataset's, not a log
        ("trainval.json", False),
        ("data/train.json", False),  # a dataset's split
        ("train_logits.json", False),
        ("train_log1.json", True),
        ("train_statistics.json", True),
    ],
)
def test_files_pattern_picks_training_logs(name: str, matched: bool) -> None:
    (hook,) = _manifest()
    assert bool(re.search(hook["files"], name)) is matched


def _pre_commit() -> str:
    beside = Path(sys.executable).parent / "pre-commit"
    found = str(beside) if beside.is_file() else shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed (pip install pre-commit) so the hook cannot be run for real")
    return found


def _git(*args: str, cwd: Path) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


def _snapshot_of_the_working_tree(dest: Path) -> Path:
    """The checkout as it is now (tracked and new files), committed in a repository of its own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True
    )
    if listed.returncode != 0:
        pytest.skip("the package is not in a git checkout, so there is no tree to hand to pre-commit try-repo")
    for rel in filter(None, listed.stdout.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest


@pytest.mark.slow
def test_try_repo_passes_the_healthy_log_and_fails_the_diverging_one(tmp_path: Path) -> None:
    exe = _pre_commit()
    hook_repo = _snapshot_of_the_working_tree(tmp_path / "lrdoctor")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(HEALTHY, project / "healthy.csv")
    shutil.copy(HEALTHY, project / "-lr0.01.csv")  # a name that reads as an option without the hook's --
    shutil.copy(DIVERGING, project / "diverging.csv")
    (project / "requirements.txt").write_text("numpy\n")  # matches the pattern, is no log: passed over
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_CACHE_DIR": str(tmp_path / "pip")}
    done = subprocess.run(
        [exe, "try-repo", str(hook_repo), "lrdoctor", "--all-files", "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout + done.stderr
    if done.returncode == 3 or "An unexpected error has occurred" in out:
        pytest.skip(f"pre-commit could not install the hook here (no package index?): {out.strip()[-400:]}")
    assert done.returncode == 1, out
    lines = out.splitlines()
    assert any(re.search(r"^lrdoctor .*\.+Failed$", line) for line in lines), out
    assert any(line.startswith("diverging.csv: too_high") and "[FAIL: divergence (error)]" in line for line in lines)
    healthy = next(line for line in lines if line.startswith("healthy.csv: "))
    assert "FAIL" not in healthy
    dashed = next(line for line in lines if line.startswith("-lr0.01.csv: "))
    assert "FAIL" not in dashed
    assert any(line.startswith("requirements.txt: skipped, not a training log") for line in lines)
