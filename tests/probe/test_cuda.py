"""The probe on a CUDA device (`--device cuda`, `--amp`): skipped where torch sees none."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from lrdoctor.cli import cli
from lrdoctor.probe import ProbeOptions, probe_parts
from lrdoctor.probe.engine import Trainer
from lrdoctor.probe.spec import check_parts
from tests.probe.test_probe import TinyLM, _linear_parts

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")

FAST = ProbeOptions(steps=120, device="cuda")
HALF_DECADE = 10**0.5 * (1 + 1e-9)


def test_the_pick_on_cuda_is_the_cpu_pick_within_a_grid_step(linear: Path) -> None:
    on_gpu = probe_parts(_linear_parts(linear), options=FAST)
    on_cpu = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120))
    assert 0.1 <= on_gpu.recommended_lr <= 1.0  # SGD on this problem: stable to about 1, slow below 0.1
    ratio = on_gpu.recommended_lr / on_cpu.recommended_lr
    assert 1 / HALF_DECADE <= ratio <= HALF_DECADE
    assert on_gpu.lrs[:20] == pytest.approx(on_cpu.lrs[:20])  # the same ramp
    assert on_gpu.losses[0] == pytest.approx(on_cpu.losses[0], rel=1e-4)  # the same first minibatch and weights


def _bn_model() -> tuple[nn.Module, torch.optim.Optimizer, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.randn(64, 3, device="cuda"), torch.randn(64, 1, device="cuda")
    nn.functional.mse_loss(model(x), y).backward()
    opt.step()  # momentum buffers exist now, and gradients
    return model, opt, [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]


def test_a_users_model_on_cuda_is_left_byte_identical_on_its_device() -> None:
    model, opt, batches = _bn_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = [p.grad.clone() for p in model.parameters()]
    buffers = {k: v["momentum_buffer"].clone() for k, v in opt.state_dict()["state"].items()}
    cpu_rng, cuda_rng = torch.get_rng_state(), torch.cuda.get_rng_state()

    result = probe_parts({"model": model, "loss_fn": nn.MSELoss(), "batches": batches, "optimizer": opt}, options=FAST)

    assert result.recommended_lr > 0
    after = model.state_dict()
    for k, v in before.items():
        assert after[k].device == v.device and after[k].dtype == v.dtype and torch.equal(after[k], v), k
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads, strict=True))
    state = opt.state_dict()["state"]
    assert all(torch.equal(state[k]["momentum_buffer"], b) for k, b in buffers.items())
    assert torch.equal(torch.get_rng_state(), cpu_rng) and torch.equal(torch.cuda.get_rng_state(), cuda_rng)


def test_a_model_on_the_cpu_probed_on_cuda_stays_on_the_cpu(linear: Path) -> None:
    parts = _linear_parts(linear)
    before = {k: v.clone() for k, v in parts["model"].state_dict().items()}
    probe_parts(parts, options=FAST)
    for k, v in parts["model"].state_dict().items():
        assert v.device.type == "cpu" and torch.equal(v, before[k]), k
    assert all(x.device.type == "cpu" for x, _ in parts["batches"])  # the user's batches too


def test_amp_on_cuda_is_float16_with_loss_scaling_and_picks_as_float32_does(linear: Path) -> None:
    parts = _linear_parts(linear)
    trainer = Trainer(check_parts("linear_probe.py:make", parts), device="cuda", amp=True, accum=1)
    assert trainer.amp_dtype is torch.float16 and trainer.scaler.is_enabled()
    amp = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120, device="cuda", amp=True))
    full = probe_parts(_linear_parts(linear), options=FAST)
    assert all(math.isfinite(v) for v in amp.losses[:10])
    ratio = amp.recommended_lr / full.recommended_lr
    assert 1 / HALF_DECADE <= ratio <= HALF_DECADE


def test_amp_dtype_bfloat16_on_cuda_needs_no_loss_scaling_and_picks_as_float32_does(linear: Path) -> None:
    parts = _linear_parts(linear)
    trainer = Trainer(
        check_parts("linear_probe.py:make", parts), device="cuda", amp=True, accum=1, amp_dtype="bfloat16"
    )
    assert trainer.amp_dtype is torch.bfloat16 and not trainer.scaler.is_enabled()
    half = probe_parts(_linear_parts(linear), options=ProbeOptions(steps=120, device="cuda", amp_dtype="bfloat16"))
    full = probe_parts(_linear_parts(linear), options=FAST)
    assert all(math.isfinite(v) for v in half.losses[:10])
    ratio = half.recommended_lr / full.recommended_lr
    assert 1 / HALF_DECADE <= ratio <= HALF_DECADE


def _dropout_parts() -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 10, generator=g)
    y = (x[:, :3].sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 2))
    return {
        "model": model,
        "loss_fn": nn.CrossEntropyLoss(),
        "batches": [(x[i : i + 32], y[i : i + 32]) for i in range(0, 256, 32)],
        "optimizer": lambda params, lr: torch.optim.Adam(params, lr=lr),
    }


def test_the_same_seed_gives_the_same_probe_on_cuda_dropout_included() -> None:
    first = probe_parts(_dropout_parts(), options=ProbeOptions(steps=120, device="cuda", seed=5))
    second = probe_parts(_dropout_parts(), options=ProbeOptions(steps=120, device="cuda", seed=5))
    assert first.recommended_lr == second.recommended_lr
    assert [t.lr for t in first.trials] == [t.lr for t in second.trials]
    assert [t.loss for t in first.trials] == pytest.approx([t.loss for t in second.trials], rel=1e-5)
    assert first.losses == pytest.approx(second.losses, rel=1e-5, nan_ok=True)


def test_dict_batches_and_a_model_returning_its_loss_under_amp_on_cuda() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 10, (128, 6), generator=g)
    batches = [{"input_ids": ids[i : i + 16], "labels": (ids[i : i + 16] + 1) % 10} for i in range(0, 128, 16)]
    torch.manual_seed(0)
    options = ProbeOptions(steps=120, device="cuda", amp=True)
    result = probe_parts({"model": TinyLM(), "batches": batches}, options=options)
    best = min(t.loss for t in result.trials)
    assert math.isfinite(best) and best < math.log(10)  # learned something below chance


@pytest.mark.parametrize("amp", [["--amp"], ["--amp-dtype", "bfloat16"]])
def test_the_command_line_probes_on_cuda(linear: Path, amp: list[str]) -> None:
    args = ["probe", f"{linear}:make", "--steps", "90", "--device", "cuda", *amp, "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 0.1 <= doc["recommended_lr"] <= 1.0 and doc["steps_used"] <= 90
