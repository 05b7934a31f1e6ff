"""The probe against user code that misbehaves: named one-line errors, objects left as they were."""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

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

RAISES_AFTER_PRINTING = """
def make():
    print("loading")
    raise ValueError("no data")
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


AT_EXIT = PRINTS.replace(
    "def make():\n",
    'import atexit, threading\ndef make():\n    atexit.register(lambda: print("run finished, cleaning up"))\n',
)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_what_the_factory_prints_at_exit_stays_off_the_result(tmp_path: Path, fmt: str) -> None:
    """A hook the user's code registers at exit (wandb's, mlflow's, a logger's flush) printed after
    the result, once standard output was put back: a script's JSON or `tail -1` broke on it."""
    import subprocess

    path = write(tmp_path, AT_EXIT)
    done = subprocess.run(
        [sys.executable, "-m", "lrdoctor", "probe", f"{path}:make", "--steps", "30", "--format", fmt],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "run finished, cleaning up" in done.stderr and "cleaning up" not in done.stdout
    if fmt == "json":
        assert json.loads(done.stdout)["recommended_lr"] > 0
    else:
        assert done.stdout.splitlines()[-1].startswith("recommended_lr ")


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
    cases = [
        (str(tmp_path / "curve.xyz"), "no picture format 'xyz'"),
        (str(tmp_path / "no/such/dir/c.png"), "no such folder"),
        (str(tmp_path / ("c" * 300 + ".png")), "cannot write the figure"),  # a name too long, even for root
    ]
    if Path("/proc/self").is_dir():  # Linux: a folder where no file can be made
        cases.append(("/proc/lr.png", "cannot write the figure"))
    for target, message in cases:
        result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--plot", target])
        assert result.exit_code == 2 and message in result.stderr
        assert "loaded 64" not in result.stderr  # the factory never ran
        assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_checking_the_plot_target_leaves_it_as_it_was(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write(tmp_path, RAISES_AFTER_PRINTING)
    old, new = tmp_path / "old.png", tmp_path / "new.png"
    old.write_bytes(b"an earlier picture")
    for target in (old, new):
        result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--plot", str(target)])
        assert result.exit_code == 2 and "calling the factory raised" in result.stderr  # checked, then the probe ran
    assert old.read_bytes() == b"an earlier picture" and not new.exists()


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


class Mixed(nn.Module):
    """Augments in forward with numpy's and Python's global generators (mixup-style noise)."""

    draws: ClassVar[list[tuple[float, float]]] = []  # every training forward's draws, copies included

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            noise = (float(np.random.randn()), random.random())
            self.draws.append(noise)
            x = x * (1 + 0.1 * noise[0]) + 0.01 * noise[1]
        return self.fc(x)


def test_every_trial_draws_the_same_numpy_and_python_random_numbers() -> None:
    Mixed.draws.clear()
    np.random.seed(3)
    random.seed(3)
    states = (np.random.get_state()[1].copy(), random.getstate())
    options = ProbeOptions(steps=60, min_lr=1e-4, max_lr=1e-2)  # stable rates: every trial runs its steps
    result = probe_parts({"model": Mixed(), "loss_fn": nn.MSELoss(), "batches": _batches()}, options=options)
    trials = Mixed.draws[len(result.lrs) :]
    steps = {t.steps for t in result.trials}
    assert len(steps) == 1 and len(trials) == len(result.trials) * steps.pop()
    n = result.trials[0].steps
    runs = [trials[i : i + n] for i in range(0, len(trials), n)]
    assert len(runs) > 1 and all(run == runs[0] for run in runs)  # the trials differ only by the rate
    assert np.array_equal(np.random.get_state()[1], states[0]) and random.getstate() == states[1]  # put back


class Doubling(nn.Module):
    """Preprocesses its input in place (as `x.sub_(mean).div_(std)` would), in training and in eval."""

    seen: ClassVar[list[float]] = []  # the mean of every input it was given, before the change

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(round(float(x.abs().mean()), 6))
        return self.fc(x.mul_(2.0))


def test_a_model_that_changes_its_input_in_place_gets_the_same_minibatches_in_every_trial() -> None:
    Doubling.seen.clear()
    train, val = _batches(), _batches()[:2]
    kept = [x.clone() for x, _ in train + val]
    parts = {"model": Doubling(), "loss_fn": nn.MSELoss(), "batches": train, "val_batches": val}
    result = probe_parts(parts, options=FAST)
    assert len(result.trials) > 1
    read = {round(float(x.abs().mean()), 6) for x in kept}
    assert set(Doubling.seen) == read  # every trial, and every score, on the minibatches as read
    assert all(torch.equal(x, k) for (x, _), k in zip(train + val, kept, strict=True))  # the user's data too


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


def _masked(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A finite loss that skips NaN targets, whose gradient is NaN all the same."""
    return torch.where(torch.isnan(y), torch.zeros_like(out), (out - y) ** 2).mean()


@pytest.mark.parametrize(
    ("row", "options", "where"),
    [
        (3, FAST, "step 1 of the range test"),
        (40, FAST, "step 3 of the range test"),
        # Rates far too high for this problem (stable below 1): the range test stops, its smoothed
        # loss past 4 times its minimum, before batch 4; the first trial, at 10, reaches it.
        (50, ProbeOptions(steps=120, min_lr=10.0, max_lr=1e4), "step 4 of a trial"),
    ],
)
def test_nan_gradients_at_the_initial_weights_are_blamed_on_the_data(
    row: int, options: ProbeOptions, where: str
) -> None:
    x, y = _data()
    y[row] = float("nan")
    bad = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
    torch.manual_seed(0)
    parts = {"model": nn.Linear(3, 1), "loss_fn": _masked, "batches": bad, "val_batches": _batches()}
    with pytest.raises(ProbeError, match=f"{where}\\) gives NaN or Inf gradients at the initial weights"):
        probe_parts(parts, options=options)


def test_lazy_modules_not_yet_initialised_are_named() -> None:
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.Linear(4, 1))
    with pytest.raises(ProbeError, match="lazy modules not yet initialised"):
        probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": _batches()}, options=FAST)


class Penalised(nn.Module):
    """A model whose loss is its own method, with an L2 term over its own weights."""

    selves: ClassVar[list[int]] = []  # id() of each module compute_loss ran on

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)

    def compute_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        Penalised.selves.append(id(self))
        return ((out - y) ** 2).mean() + 1e-2 * sum(p.pow(2).sum() for p in self.parameters())


def test_a_loss_that_is_the_models_own_method_runs_on_the_copy() -> None:
    model = Penalised()
    Penalised.selves.clear()
    result = probe_parts({"model": model, "loss_fn": model.compute_loss, "batches": _batches()}, options=FAST)
    assert Penalised.selves and id(model) not in Penalised.selves  # its L2 term was on the trained weights
    assert all(p.grad is None for p in model.parameters())
    assert result.notes == ()


def test_a_loss_closing_over_the_original_model_leaves_its_gradients_and_says_so() -> None:
    model = Penalised()
    x, y = _data()
    ((model(x) - y) ** 2).mean().backward()  # the user's gradients, before the probe
    grads = [p.grad for p in model.parameters()]
    values = [g.clone() for g in grads]  # type: ignore[union-attr]

    def l2(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((out - target) ** 2).mean() + 1e-2 * sum(p.pow(2).sum() for p in model.parameters())

    result = probe_parts({"model": model, "loss_fn": l2, "batches": _batches()}, options=FAST)
    assert all(p.grad is g for p, g in zip(model.parameters(), grads, strict=True))
    assert all(torch.equal(g, v) for g, v in zip(grads, values, strict=True))  # type: ignore[arg-type]
    assert any("loss_fn refers to your original model" in n for n in result.notes)


class ExitsInTraining(nn.Linear):
    def __init__(self) -> None:
        super().__init__(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            sys.exit("bad batch size")
        return super().forward(x)


class Stream:
    """Minibatches whose length is unknown (`__len__` raises), or whose reading ends the process."""

    def __init__(self, error: BaseException | None = None, on_len: BaseException | None = None) -> None:
        self.error, self.on_len = error, on_len

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.error is not None:
            raise self.error
        return iter(_batches())

    def __len__(self) -> int:
        if self.on_len is not None:
            raise self.on_len
        return 4


class LazyParts:
    model = nn.Linear(3, 1)
    loss_fn = nn.MSELoss()

    @property
    def batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        raise RuntimeError("dataset not downloaded")


def test_a_sys_exit_or_a_failing_attribute_in_user_objects_is_a_named_error() -> None:
    base = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss()}
    message = _error({**base, "model": ExitsInTraining(), "batches": _batches()})
    assert message == "f.py:make: a training step raised SystemExit: bad batch size"
    message = _error({**base, "batches": Stream(error=SystemExit(3))})
    assert message == "f.py:make: iterating 'batches' raised SystemExit: 3"
    with pytest.raises(ProbeError) as info:
        probe_parts(LazyParts(), label="f.py:make", options=FAST)
    assert str(info.value) == (
        "f.py:make: reading 'batches' from the factory's LazyParts raised RuntimeError: dataset not downloaded"
    )
    message = _error({**base, "batches": Stream(on_len=RuntimeError("index not built"))})
    assert message == "f.py:make: len('batches') raised RuntimeError: index not built"
    # A length not implemented is a stream's: it is probed as one without a length.
    assert probe_parts({**base, "batches": Stream(on_len=NotImplementedError("streaming"))}, options=FAST).trials


def test_a_plain_model_without_loss_fn_is_told_to_give_one() -> None:
    message = _error({"model": nn.Linear(3, 1), "batches": _batches()})
    assert message.startswith(
        "f.py:make: no 'loss_fn' was given, and the model does not compute its own loss from the batch: "
        "Linear.forward(input) takes no target; return 'loss_fn' from the factory"
    )


SHELL_OUTPUT = """
import os, subprocess, sys
import torch
from torch import nn
os.system("echo at import")
def make():
    os.system("echo downloading dataset")
    subprocess.run([sys.executable, "-c", "print('from a subprocess')"], check=True)
    x = torch.randn(64, 3)
    return {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(),
            "batches": [(x[i:i + 16], x[i:i + 16].sum(1, keepdim=True)) for i in range(0, 64, 16)]}

def fails():
    os.system("echo before the error")
    raise ValueError("no data")
"""


def test_what_the_factory_writes_to_file_descriptor_1_goes_to_standard_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, SHELL_OUTPUT, "shell_output.py")
    result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "40", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps_used"] <= 40
    out, err = capfd.readouterr()  # what bypassed sys.stdout: written to the descriptors themselves
    assert "downloading" not in out and "at import" not in out and "subprocess" not in out
    assert "downloading dataset" in err and "from a subprocess" in err and "at import" in err
    failed = CliRunner().invoke(cli, ["probe", f"{path}:fails", "--steps", "40"])
    assert failed.exit_code == 2
    os.write(1, b"stdout is back\n")  # put back after an error in the factory
    out, err = capfd.readouterr()
    assert out == "stdout is back\n" and "before the error" in err


def test_the_seed_is_checked_against_torchs_range_before_the_factory_runs(tmp_path: Path) -> None:
    path = write(tmp_path, PRINTS)
    for seed in (2**64, -(2**63) - 1):
        result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--seed", str(seed)])
        assert result.exit_code == 2
        expected = f"--seed {seed}: out of range; give an integer from -2**63 to 2**64 - 1"
        assert result.stderr == f"lrdoctor: error: {expected}\n"
    parts = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": _batches()}
    assert probe_parts(parts, options=ProbeOptions(steps=40, seed=2**64 - 1)).trials  # the top of the range


class _Embedded(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.e = nn.Embedding(50, 8, sparse=True)
        self.out = nn.Linear(8, 1)

    def forward(self, i: torch.Tensor) -> torch.Tensor:
        return self.out(self.e(i)).squeeze(-1)


def test_sparse_gradients_pass_the_check_of_the_initial_weights() -> None:
    """An embedding with sparse=True: when a trial diverges, its minibatches' gradients are checked
    at the initial weights, which had raised 'aten::ne.Scalar ... SparseCPU'."""
    from lrdoctor.probe.engine import Trainer
    from lrdoctor.probe.spec import check_parts

    g = torch.Generator().manual_seed(0)
    i = torch.randint(0, 50, (512,), generator=g)
    y = torch.randn(50, generator=g)[i] * 30
    made = {
        "model": _Embedded(),
        "loss_fn": nn.MSELoss(),
        "batches": [(i[k : k + 32], y[k : k + 32]) for k in range(0, 512, 32)],
        "optimizer": lambda p, lr: torch.optim.SGD(p, lr=lr),
    }
    trainer = Trainer(check_parts("f.py:make", made), device="cpu", amp=False, accum=1)
    trainer.restart(0.1)
    assert trainer.finite_gradients(made["batches"][:2])
    poisoned = [(i[:32], torch.full((32,), float("nan")))]
    assert not trainer.finite_gradients(poisoned)
    assert probe_parts(made, label="f.py:make", options=ProbeOptions(steps=120)).recommended_lr > 0


class _Task(nn.Module):
    """A training-task wrapper: the network, the loss as a method, and a lock it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(3, 1)
        self.lock = threading.Lock()

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(out, y)


def test_a_loss_that_is_a_method_of_a_module_outside_the_model_is_used_as_it_is() -> None:
    """Only a method of the model (or one of its modules) is copied with it; a task wrapper that
    holds a lock or a logger is not copied (that had failed as 'copying the model raised')."""
    task = _Task()
    result = probe_parts(
        {"model": task.net, "loss_fn": task.loss, "batches": _batches()}, label="f.py:make", options=FAST
    )
    assert result.recommended_lr > 0


class _Capped(torch.optim.SGD):
    def __init__(self, params: object, lr: float) -> None:
        if not 0 < lr <= 1.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, lr=lr)  # type: ignore[arg-type]


def test_an_optimizer_factory_that_refuses_high_rates_is_not_built_at_them_for_nothing() -> None:
    parts = {"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": _batches(), "optimizer": _Capped}
    assert probe_parts(parts, label="f.py:make", options=FAST).recommended_lr <= 1.0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_the_plot_check_does_not_open_a_fifo(tmp_path: Path) -> None:
    """Opening a FIFO to test it would end the reader waiting on it (or fail with no reader yet):
    only a regular file is tried."""
    from lrdoctor.probe.plot import check_target

    fifo = tmp_path / "curve.svg"
    os.mkfifo(fifo)
    check_target(fifo)  # returns at once: with no reader, an open for writing would fail (ENXIO)


def test_with_standard_error_closed_the_factorys_output_stays_off_standard_output(tmp_path: Path) -> None:
    """`2>&-`: descriptor 1 cannot point at 2, so what the factory writes there is dropped, and
    standard output still holds the JSON alone."""
    import subprocess

    path = write(tmp_path, SHELL_OUTPUT, "shell_output.py")
    done = subprocess.run(
        [sys.executable, "-m", "lrdoctor", "probe", f"{path}:make", "--steps", "40", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        timeout=300,
        text=True,
        preexec_fn=lambda: os.close(2),
    )
    assert done.returncode == 0 and json.loads(done.stdout)["steps_used"] <= 40


class _CallsWithTarget(nn.Module):
    """A forward of the input alone, and a __call__ that returns the loss when given the target."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        out = super().__call__(x)
        return out if y is None else nn.functional.mse_loss(out, y)


def test_a_model_whose_own_call_takes_the_target_needs_no_loss_fn() -> None:
    assert probe_parts({"model": _CallsWithTarget(), "batches": _batches()}, label="f.py:make", options=FAST).trials


def test_a_module_a_loss_closes_over_keeps_its_gradients() -> None:
    """`crit = LearnableLoss(); loss_fn = lambda o, t: crit(o, t)`: crit's gradients are the user's,
    put back after the probe as the model's are."""
    crit = nn.Linear(1, 1)
    crit.weight.grad = torch.full_like(crit.weight, 7.0)

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((crit(out) - target) ** 2).mean()

    parts = {"model": nn.Linear(3, 1), "loss_fn": loss_fn, "batches": _batches()}
    result = probe_parts(parts, label="f.py:make", options=FAST)
    assert crit.bias.grad is None and torch.equal(crit.weight.grad, torch.full_like(crit.weight, 7.0))
    assert not any("original model" in note for note in result.notes)  # it is no model


@pytest.mark.parametrize(
    ("batches", "what"),
    [([(x, y, x[:, :1]) for x, y in _batches()], "a tuple of 3"), ([1, 2, 3, 4], "an int")],
)
def test_a_minibatch_of_the_wrong_shape_is_named_as_such(batches: list, what: str) -> None:
    """Not the model's own TypeError alone ('linear(): argument input must be Tensor, not tuple')."""
    message = _error({"model": nn.Linear(3, 1), "loss_fn": nn.MSELoss(), "batches": batches})
    assert f"a minibatch of 'batches' is {what}" in message and "(input, target) pairs" in message


class _HFLike(nn.Module):
    """forward(input_ids, attention_mask=None, labels=None) -> an object with .loss, as HuggingFace's."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask=None, labels=None):  # type: ignore[no-untyped-def]
        assert attention_mask is None or attention_mask.dim() == 2, "labels landed in the attention mask"
        logits = self.head(self.emb(input_ids).mean(1))
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return SimpleOutput(loss, logits)


class SimpleOutput:
    def __init__(self, loss: torch.Tensor | None, logits: torch.Tensor) -> None:
        self.loss, self.logits = loss, logits


def test_a_tensor_and_labels_pair_goes_to_a_huggingface_style_model_by_keyword() -> None:
    """(input_ids, labels) pairs without a loss_fn: the labels had been passed second, into the
    attention mask ('too many indices for tensor of dimension 1')."""
    torch.manual_seed(0)
    ids = torch.randint(0, 10, (64, 5))
    labels = (ids.sum(1) % 2).long()
    batches = [(ids[i : i + 16], labels[i : i + 16]) for i in range(0, 64, 16)]
    result = probe_parts({"model": _HFLike(), "batches": batches}, options=ProbeOptions(steps=40))
    assert result.recommended_lr > 0


WORKER_ERROR = """
import torch
from torch.utils.data import DataLoader, Dataset

class Images(Dataset):
    def __len__(self):
        return 128

    def __getitem__(self, i):
        if i == 57:
            raise KeyError(f"missing image {i}")
        if i == 100:
            raise FileNotFoundError(f"/data/img_{i}.png is missing\\nhint: run download.sh first")
        return torch.randn(4), torch.randn(1)

def make():
    return {
        "model": torch.nn.Linear(4, 1),
        "loss_fn": torch.nn.MSELoss(),
        "batches": DataLoader(Images(), batch_size=16, num_workers=2),
    }
"""


def test_an_error_in_a_dataloader_worker_is_named_by_its_own_message(tmp_path: Path) -> None:
    """A worker's error comes back with the worker's traceback in its message: the 200 characters
    shown had been 'Caught KeyError in DataLoader worker process 1. Original Traceback (most ...'."""
    path = write(tmp_path, WORKER_ERROR, "workers.py")
    result = CliRunner().invoke(cli, ["probe", f"{path}:make", "--steps", "60"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("raised KeyError: 'missing image 57' (in DataLoader worker process 0)") or line.endswith(
        "raised KeyError: 'missing image 57' (in DataLoader worker process 1)"
    ), line
    # A message of two lines: its type and first line had been lost, the hint on its last line kept.
    (path.parent / "later.py").write_text(WORKER_ERROR.replace("i == 57", "i == -1"))
    result = CliRunner().invoke(cli, ["probe", f"{path.parent / 'later.py'}:make", "--steps", "60"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "raised FileNotFoundError: /data/img_100.png is missing hint: run download.sh first (in DataLoader" in line
