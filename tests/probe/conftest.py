"""Tiny factories for the probe, written as files into tmp_path (the probe imports a file)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")

# Least squares on 4 standardised, nearly independent features with plain SGD: the loss
# Hessian's eigenvalues lie near 2 (MSE's factor 2 times unit variance), so SGD is stable up to
# about 2/2 = 1 and fastest near there; below 0.1 it is slow. The probe must pick 0.1 < lr <= 1.
LINEAR = """
import torch
from torch import nn

def data(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    w = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    y = x @ w + 0.05 * torch.randn(n, 1, generator=g)
    return x, y

def batches(x, y, size=32):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]

def make():
    torch.manual_seed(0)
    x, y = data()
    xv, yv = data(128, seed=1)
    return {
        "model": nn.Linear(4, 1),
        "loss_fn": nn.MSELoss(),
        "batches": batches(x, y),
        "val_batches": batches(xv, yv, 128),
        "optimizer": lambda params, lr: torch.optim.SGD(params, lr=lr),
    }

def make_no_val():
    parts = make()
    del parts["val_batches"]
    return parts

def make_trained():
    # The model at the weights the data were drawn with: no rate can lower its loss, only
    # move it about within the noise (a model already trained, probed as if it were fresh).
    parts = make()
    with torch.no_grad():
        parts["model"].weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 3.0]]))
        parts["model"].bias.zero_()
    xv, yv = data(128, seed=1)
    parts["val_batches"] = batches(xv, yv, 16)
    return parts
"""


def write(tmp_path: Path, source: str, name: str = "factory.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.fixture
def linear(tmp_path: Path) -> Path:
    return write(tmp_path, LINEAR, "linear_probe.py")
