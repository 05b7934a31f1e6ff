"""The probe against user code that misbehaves: named one-line errors, objects left as they were."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.utils.data import DataLoader, Dataset

from lrdoctor.cli import cli
from lrdoctor.errors import ProbeError
from lrdoctor.probe import ProbeOptions, probe_parts
from tests.probe.conftest import write

FAST = ProbeOptions(steps=60)


def _data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    return x, x.sum(1, keepdim=True)


def _batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    x, y = _data()
    return [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]


class Broken(Dataset):
    def __len__(self) -> int:
        return 32

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if i == 3:
            raise KeyError("missing image 3")
        return torch.zeros(3), torch.zeros(1)


class Locked(nn.Linear):
    def __init__(self) -> None:
        super().__init__(3, 1)
        self.lock = threading.Lock()  # cannot be deep-copied


class Wrapper(torch.optim.Optimizer):
    """An optimizer built around another one (as SAM and Lookahead are)."""

    def __init__(self, params: object, base_optimizer: type, **kwargs: object) -> None:
        self.base = base_optimizer(params, **kwargs)
        super().__init__(self.base.param_groups, self.base.defaults)

    def step(self, closure: object = None) -> None:  # type: ignore[override]
        self.base.step()


def _error(parts: dict) -> str:
    with pytest.raises(ProbeError) as info:
        probe_parts(parts, label="f.py:make", options=FAST)
    return str(info.value)


def test_errors_raised_while_reading_the_data_or_copying_name_what_failed() -> None:
    base = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss()}
    loader = DataLoader(Broken(), batch_size=4)
    assert _error({**base, "batches": loader}) == "f.py:make: iterating 'batches' raised KeyError: 'missing image 3'"
    message = _error({**base, "batches": _batches(), "val_batches": loader})
    assert message == "f.py:make: iterating 'val_batches' raised KeyError: 'missing image 3'"
    message = _error({**base, "model": Locked(), "batches": _batches()})
    assert message.startswith("f.py:make: copying the model raised TypeError: cannot pickle")


def test_an_optimizer_that_cannot_be_rebuilt_says_what_to_return_instead() -> None:
    model = nn.Linear(3, 1)
    opt = Wrapper(model.parameters(), torch.optim.SGD, lr=0.1)
    message = _error({"model": model, "loss_fn": nn.MSELoss(), "batches": _batches(), "optimizer": opt})
    assert "'optimizer' is a Wrapper that cannot be rebuilt over a copy of the model" in message
    assert message.endswith("return a callable (params, lr) -> Optimizer instead")


class Tempered(nn.Module):
    """A loss with a learnt temperature."""

    def __init__(self) -> None:
        super().__init__()
        self.t = nn.Parameter(torch.ones(()))

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((out - y) ** 2).mean() * self.t.exp()


def test_a_loss_modules_parameters_are_trained_on_a_copy_and_reset_per_trial() -> None:
    loss_fn = Tempered()
    model = nn.Linear(3, 1)

    def both(params: object, lr: float) -> torch.optim.Optimizer:
        return torch.optim.SGD([*params, *loss_fn.parameters()], lr=lr)  # type: ignore[misc]

    a = probe_parts({"model": model, "loss_fn": loss_fn, "batches": _batches(), "optimizer": both}, options=FAST)
    assert loss_fn.t.item() == 1.0  # the user's temperature untouched
    b = probe_parts({"model": model, "loss_fn": loss_fn, "batches": _batches(), "optimizer": both}, options=FAST)
    assert [t.loss for t in a.trials] == [t.loss for t in b.trials]  # each probe started from the same state
    # A tensor that is neither the model's nor the loss module's cannot be copied: refused.
    stray = nn.Parameter(torch.zeros(1))

    def foreign(params: object, lr: float) -> torch.optim.Optimizer:
        return torch.optim.SGD([*params, stray], lr=lr)  # type: ignore[misc]

    message = _error({"model": model, "loss_fn": nn.MSELoss(), "batches": _batches(), "optimizer": foreign})
    assert "'optimizer' trains 1 tensor(s) that are neither the model's parameters nor loss_fn's" in message
    assert stray.item() == 0.0


def test_an_optimizer_factory_that_ignores_its_lr_is_refused() -> None:
    def fixed(params: object, lr: float) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=1e-3)  # type: ignore[arg-type]

    message = _error({"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": _batches(), "optimizer": fixed})
    assert "the optimizer factory ignores its lr" in message


def test_a_dataloader_leaves_the_global_random_state_as_it_was() -> None:
    x, y = _data()
    loader = DataLoader(list(zip(x, y, strict=True)), batch_size=16, shuffle=True)
    parts = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": loader}
    torch.manual_seed(5)
    state = torch.get_rng_state()
    probe_parts(parts, options=FAST)
    assert torch.equal(torch.get_rng_state(), state)


def test_unread_keys_are_named_in_the_notes_and_in_a_missing_key_error() -> None:
    made = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": _batches(), "val_loader": _batches()}
    notes = probe_parts(made, options=FAST).notes
    assert any("the factory's 'val_loader' not read" in n for n in notes)
    message = _error({"net": nn.Linear(3, 1), "batches": _batches()})
    assert message.startswith("f.py:make: the factory's dict has no 'model' (it has net, batches)")


PRINTS = """
import torch
from torch import nn
def make():
    print("loaded 64 training examples")
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(),
            "batches": [(x[i:i + 16], x[i:i + 16].sum(1, keepdim=True)) for i in range(0, 64, 16)]}
"""

UNSEEDED = """
import torch
from torch import nn
def make():
    x = torch.randn(64, 3)  # a fresh draw each call, unless the probe seeds it
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(),
            "batches": [(x[i:i + 16], x[i:i + 16].sum(1, keepdim=True)) for i in range(0, 64, 16)]}
"""


def test_json_output_stays_clean_when_the_factory_prints(tmp_path: Path) -> None:
    path = write(tmp_path, PRINTS)
    result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps_used"] <= 40
    assert "loaded 64 training examples" in result.stderr


def test_the_seed_makes_an_unseeded_factory_repeatable(tmp_path: Path) -> None:
    path = write(tmp_path, UNSEEDED)
    runs = [
        json.loads(CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--format", "json"]).stdout)
        for _ in range(2)
    ]
    assert runs[0]["curve"] == runs[1]["curve"]
    random.seed(1)
    np.random.seed(1)
    before = (random.random(), np.random.rand())
    random.seed(1)
    np.random.seed(1)
    CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--seed", "7"])
    assert (random.random(), np.random.rand()) == before  # put back after the factory


def test_a_plot_it_could_not_write_fails_before_the_probe(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write(tmp_path, PRINTS)
    for target, message in [("curve.xyz", "no picture format 'xyz'"), ("no/such/dir/c.png", "no such folder")]:
        result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--plot", str(tmp_path / target)])
        assert result.exit_code == 2 and message in result.stderr
        assert "loaded 64" not in result.stderr  # the factory never ran


ARGPARSE_AT_IMPORT = """
import argparse
import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
args = parser.parse_args()  # a training script's own arguments, read at import

def make():
    x = torch.randn(64, 3)
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(),
            "batches": [(x[i:i + 16], x[i:i + 16].sum(1, keepdim=True)) for i in range(0, 64, 16)]}
"""


def test_a_script_that_parses_its_arguments_at_import_sees_none_of_lrdoctors(tmp_path: Path) -> None:
    path = write(tmp_path, ARGPARSE_AT_IMPORT, "train_script.py")
    result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--format", "json"])
    assert result.exit_code == 0, result.output


NUMPY_AUGMENTED = """
import numpy as np
import torch
from torch import nn

class Augmented:
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(64, 3, generator=g)

    def __iter__(self):  # jitter drawn from numpy's global generator, in this process
        for i in range(0, 64, 16):
            x = self.x[i:i + 16] + torch.from_numpy(np.random.normal(0, 0.5, (16, 3)).astype("float32"))
            yield x, self.x[i:i + 16].sum(1, keepdim=True)

def make():
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": Augmented()}
"""


def test_the_seed_repeats_a_pipeline_that_augments_with_numpy(tmp_path: Path) -> None:
    path = write(tmp_path, NUMPY_AUGMENTED, "augmented.py")
    args = ["probe", f"{path}:make", "--steps", "40", "--format", "json"]
    first, second = (json.loads(CliRunner().invoke(cli, args).stdout) for _ in range(2))
    assert first["curve"] == second["curve"] and first["trials"] == second["trials"]


def test_options_are_checked_before_the_factory_runs(tmp_path: Path) -> None:
    path = write(tmp_path, PRINTS)
    for options, message in [(["--steps", "10"], "--steps 10"), (["--accum", "0"], "--accum 0")]:
        result = CliRunner().invoke(cli, ["probe", f"{path}:make", *options])
        assert result.exit_code == 2 and message in result.stderr
        assert "loaded 64" not in result.stderr  # the factory never ran


SPAWNED_WORKERS = """
import argparse
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

args = argparse.ArgumentParser().parse_args()  # at import: in each spawned worker too

class Points(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        x = torch.full((3,), i / 64.0)
        return x, x.sum(0, keepdim=True)

def make():
    loader = DataLoader(Points(), batch_size=16, num_workers=1, multiprocessing_context="spawn")
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": loader}
"""


def test_dataloader_workers_started_by_spawn_can_import_the_factory_file_with_its_own_argv(tmp_path: Path) -> None:
    path = write(tmp_path, SPAWNED_WORKERS, "spawned_points.py")
    result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--format", "json"])
    assert result.exit_code == 0, result.output


def test_nan_in_the_data_is_blamed_on_the_data_not_the_rate() -> None:
    x, y = _data()
    y_bad = y.clone()
    y_bad[40:] = float("nan")  # NaN targets from example 40: batch 3 of 4
    bad_train = [(x[i : i + 16], y_bad[i : i + 16]) for i in range(0, 64, 16)]
    parts = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": bad_train, "val_batches": _batches()}
    with pytest.raises(ProbeError, match="the data holds NaN or Inf"):
        probe_parts(parts, options=FAST)
    bad_val = [(x[:16], y_bad[48:])]
    parts = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": _batches(), "val_batches": bad_val}
    with pytest.raises(ProbeError, match=r"scoring batch 1 .* at the initial weights"):
        probe_parts(parts, options=FAST)


def test_lazy_modules_not_yet_initialised_are_named() -> None:
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.Linear(4, 1))
    with pytest.raises(ProbeError, match="lazy modules not yet initialised"):
        probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": _batches()}, options=FAST)
