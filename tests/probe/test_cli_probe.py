"""`lrdoctor probe` and `diagnose --probe` through the command line: output shapes, plots, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from tests.probe.conftest import write


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_json_has_the_contract_keys(linear: Path) -> None:
    result = invoke("probe", f"{linear}:make", "--steps", "90", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"recommended_lr", "method", "steps_used", "curve"} <= doc.keys()
    assert 0.1 <= doc["recommended_lr"] <= 1.0
    assert doc["steps_used"] <= 90
    assert doc["curve"][0]["lr"] == pytest.approx(1e-6) and isinstance(doc["curve"][0]["loss"], float)
    assert "range test" in doc["method"] and "trials" in doc["method"]
    assert doc["source"] == f"{linear}:make"


def test_json_says_whether_the_pick_rests_on_a_measured_gain(linear: Path) -> None:
    trained = json.loads(invoke("probe", f"{linear}:make_trained", "--steps", "90", "--format", "json").stdout)
    fresh = json.loads(invoke("probe", f"{linear}:make", "--steps", "90", "--format", "json").stdout)
    assert trained["no_gain"] is True and any(n.startswith("no rate tried scored") for n in trained["notes"])
    assert fresh["no_gain"] is False


def test_text_ends_with_the_rate_for_scripts(linear: Path) -> None:
    result = invoke("probe", f"{linear}:make", "--steps", "90", "--min-lr", "1e-4", "--max-lr", "100")
    assert result.exit_code == 0, result.output
    key, value = result.stdout.strip().splitlines()[-1].split()
    assert key == "recommended_lr" and 0.1 <= float(value) <= 1.0


def test_plot_writes_a_png(linear: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "curve.png"
    result = invoke("probe", f"{linear}:make", "--steps", "60", "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bare = tmp_path / "curve"  # no suffix: a PNG under the very name asked for
    assert invoke("probe", f"{linear}:make", "--steps", "60", "--plot", str(bare)).exit_code == 0
    assert bare.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not (tmp_path / "curve.png.png").exists()


def test_diagnose_with_probe_takes_the_probes_rate(linear: Path, tmp_path: Path) -> None:
    log = tmp_path / "run.csv"
    log.write_text("step,loss,lr\n" + "".join(f"{s},{2.0 * 0.97**s:.5f},0.0001\n" for s in range(80)))
    probed = json.loads(invoke("probe", f"{linear}:make", "--format", "json").stdout)
    result = invoke("diagnose", str(log), "--probe", f"{linear}:make", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["lr"]["basis"] == "probe"
    assert doc["lr"]["recommended"] == probed["recommended_lr"]  # same default options and seed
    assert doc["lr"]["observed"] == 0.0001
    one = invoke("diagnose", str(tmp_path / "r*.csv"), "--probe", f"{linear}:make", "--format", "json")
    assert one.exit_code == 0, one.output  # a pattern that matches one run is that run
    assert json.loads(one.stdout)["lr"] == doc["lr"]
    (tmp_path / "summary.txt").write_text("best at step 40\n")  # a folder: one run beside a stray file
    folder = invoke("diagnose", str(tmp_path), "--probe", f"{linear}:make", "--format", "json")
    assert folder.exit_code == 0, folder.output
    assert json.loads(folder.stdout)["lr"] == doc["lr"]
    missing = str(tmp_path / "nothing*.csv")  # a pattern that matches nothing stays its own error
    both = invoke("diagnose", str(tmp_path / "r*.csv"), missing, "--probe", f"{linear}:make", "--format", "json")
    assert (
        both.exit_code == 2
        and both.stderr.strip() == f"lrdoctor: error: {missing}: no file or directory matches this pattern"
    )
    assert len(json.loads(both.stdout)) == 1


BROKEN_IMPORT = "import torch\nraise RuntimeError('no GPU quota')\n"
RAISES = "def make():\n    raise ValueError('dataset path not set')\n"
EMPTY = """
import torch
from torch import nn
def make():
    return {"model": nn.Linear(2, 1), "loss_fn": nn.MSELoss(), "batches": []}
"""
NOT_SCALAR = """
import torch
from torch import nn
def make():
    x = torch.randn(32, 2)
    return {"model": nn.Linear(2, 1), "loss_fn": nn.MSELoss(reduction="none"), "batches": [(x, x[:, :1])] * 4}
"""
ALWAYS_NAN = """
import torch
from torch import nn
def make():
    x = torch.randn(32, 2)
    loss = lambda out, y: (out - y).pow(2).mean() * float("nan")
    return {"model": nn.Linear(2, 1), "loss_fn": loss, "batches": [(x, x[:, :1])] * 4}
"""
# Finite at the initial weights, and overflowing after the first step at any rate tried.
ALWAYS_DIVERGES = """
import torch
from torch import nn
def make():
    x = torch.randn(32, 2)
    loss = lambda out, y: (out - y).pow(2).mean() * 1e20
    sgd = lambda params, lr: torch.optim.SGD(params, lr)
    return {"model": nn.Linear(2, 1), "loss_fn": loss, "batches": [(x, x[:, :1] + 1)] * 4, "optimizer": sgd}
"""

# Finite, but its gradients NaN: a target of NaN masked out by torch.where (batch 3 of 4).
NAN_GRADIENTS = """
import torch
from torch import nn
def masked(out, y):
    return torch.where(torch.isnan(y), torch.zeros_like(out), (out - y) ** 2).mean()
def make():
    x = torch.randn(128, 2)
    y = x[:, :1].clone()
    y[70] = float("nan")
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 128, 32)]
    return {"model": nn.Linear(2, 1), "loss_fn": masked, "batches": batches}
"""


@pytest.mark.parametrize(
    ("source", "func", "expected"),
    [
        (None, "make", "no such file"),
        (BROKEN_IMPORT, "make", "importing factory.py raised RuntimeError: no GPU quota"),
        ("import torch\n", "make", "factory.py defines no 'make'"),
        (RAISES, "make", "calling the factory raised ValueError: dataset path not set"),
        (EMPTY, "make", "'batches' is empty"),
        (NOT_SCALAR, "make", "loss of shape (32, 1), not a scalar"),
        (ALWAYS_NAN, "make", "the loss is nan at the initial weights, before any update"),
        (ALWAYS_DIVERGES, "make", "every rate tried diverged, down to 1e-06"),
        (
            NAN_GRADIENTS,
            "make",
            "gives NaN or Inf gradients at the initial weights, before any update, whatever the rate",
        ),
        ("def make(:\n", "make", "importing factory.py raised SyntaxError"),
    ],
)
def test_errors_in_user_code_are_one_line_naming_the_factory(
    tmp_path: Path, source: str | None, func: str, expected: str
) -> None:
    path = tmp_path / "factory.py" if source is None else write(tmp_path, source)
    result = invoke("probe", f"{path}:{func}", "--steps", "40")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"lrdoctor: error: {path}:{func}: ")
    assert expected in lines[0]
    assert result.stdout == ""


def test_missing_torch_names_the_extra(linear: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # importing it now raises ImportError
    result = invoke("probe", f"{linear}:make")
    assert result.exit_code == 2
    assert "pip install 'lrdoctor[probe]'" in result.stderr


def test_bad_options_are_usage_errors(linear: Path) -> None:
    assert "need 0 < min-lr < max-lr" in invoke("probe", f"{linear}:make", "--min-lr", "1", "--max-lr", "0.1").stderr
    assert "at least a decade" in invoke("probe", f"{linear}:make", "--min-lr", "0.002", "--max-lr", "0.003").stderr
    assert "--val needs 'val_batches'" in invoke("probe", f"{linear}:make_no_val", "--val").stderr
    assert "not both or neither" in invoke("probe").stderr
    wrong = invoke("probe", f"{linear}:make", "--amp-dtype", "float8")
    assert wrong.exit_code == 2 and "'float8' is not one of 'float16', 'bfloat16'" in wrong.stderr


def test_amp_dtype_runs_the_probe_in_that_type(linear: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lrdoctor.probe import engine

    seen = []
    real = engine.Trainer.__init__

    def spy(self, *args, **kwargs) -> None:
        real(self, *args, **kwargs)
        seen.append(self.amp_dtype)

    monkeypatch.setattr(engine.Trainer, "__init__", spy)
    result = invoke("probe", f"{linear}:make", "--steps", "90", "--amp-dtype", "float16", "--format", "json")
    assert result.exit_code == 0, result.output
    assert 0.1 <= json.loads(result.stdout)["recommended_lr"] <= 1.0
    assert [str(t) for t in seen] == ["torch.float16"]  # without --amp: the type implies it


def test_the_probe_package_does_not_import_torch_until_a_probe_runs() -> None:
    code = (
        "import sys\nimport lrdoctor.probe, lrdoctor.probe.cmd, lrdoctor.probe.render, lrdoctor.probe.curve\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_factory_may_import_its_neighbours_lazily(linear: Path) -> None:
    write(linear.parent, "from linear_probe import make\n", "helper.py")
    factory = write(linear.parent, "def make():\n    from helper import make as inner\n    return inner()\n", "lazy.py")
    result = invoke("probe", f"{factory}:make", "--steps", "40", "--max-lr", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps_used"] <= 40
    assert str(linear.parent) not in sys.path  # the folder is on sys.path only while the factory runs
