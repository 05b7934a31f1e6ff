"""Time per optimizer step of `lrdoctor probe` against torch-lr-finder's range test, on a model
large enough that the device, not the Python around it, sets the pace.

    python benchmarks/probe_step_time.py [--device cuda] [--amp] [--amp-dtype bfloat16] [--width 64] [--batch 128]
        [--repeat 3]

The model is a small residual CNN (four stages of two residual blocks, BatchNorm, `--width`
channels at the first stage, doubling), trained on random 3x64x64 images of 100 classes with SGD
and momentum, cross-entropy; a fixed set of 40 minibatches, already on the device, handed out by
one DataLoader to both. Each repeat
runs, in turn, lrdoctor's probe (its default 300-step budget: a range test, then trials) and
torch-lr-finder's range test (100 iterations to end_lr 10, as it is used), each once untimed
first. The time per step is the wall time of the whole call over the optimizer steps it took,
waiting for the device at both ends; the table gives the median over the repeats and the median
of the per-repeat ratios. `--amp`: both in float16 under autocast with loss scaling (lrdoctor's
`--amp`; torch-lr-finder's `amp_backend="torch"` with a GradScaler); `--amp-dtype bfloat16`: both
in bfloat16 under autocast, without loss scaling.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrdoctor.probe import ProbeOptions, probe_parts

CLASSES, SIZE, BATCHES = 100, 64, 40


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def model(width: int) -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
    cin = width
    for stage in range(4):
        cout = width * 2**stage
        layers += [Block(cin, cout, 1 if stage == 0 else 2), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, CLASSES)]
    return nn.Sequential(*layers)


def parts(args: argparse.Namespace) -> dict:
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    batches = [
        (
            torch.randn(args.batch, 3, SIZE, SIZE, generator=g).to(args.device),
            torch.randint(0, CLASSES, (args.batch,), generator=g).to(args.device),
        )
        for _ in range(BATCHES)
    ]
    return {
        "model": model(args.width).to(args.device),
        "loss_fn": nn.CrossEntropyLoss(),
        # A loader that hands out the minibatches as they are (no collation): torch-lr-finder
        # takes a DataLoader only.
        "batches": torch.utils.data.DataLoader(batches, batch_size=None),
        "optimizer": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    }


def clock(device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def run_lrdoctor(args: argparse.Namespace, made: dict) -> tuple[float, int]:
    options = ProbeOptions(device=args.device, amp=args.amp, amp_dtype=args.amp_dtype)
    start = clock(args.device)
    result = probe_parts(made, label="resnet", options=options)
    return clock(args.device) - start, result.steps_used


def run_finder(args: argparse.Namespace, made: dict) -> tuple[float, int]:
    from torch_lr_finder import LRFinder

    net = made["model"]
    opt = made["optimizer"](net.parameters(), 1e-7)
    amp = {}
    if args.amp or args.amp_dtype:
        dtype = getattr(torch, args.amp_dtype or "float16")
        amp = {
            "amp_backend": "torch",
            "amp_config": {"device_type": args.device, "dtype": dtype},
            "grad_scaler": torch.amp.GradScaler(args.device, enabled=dtype is torch.float16),
        }
    start = clock(args.device)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder = LRFinder(net, opt, made["loss_fn"], device=args.device, **amp)
        finder.range_test(made["batches"], end_lr=10, num_iter=100, step_mode="exp")
        finder.reset()
    return clock(args.device) - start, len(finder.history["lr"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--amp", action="store_true")
    ap.add_argument("--amp-dtype", choices=("float16", "bfloat16"), help="autocast in this type (implies --amp)")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    made = parts(args)
    run_lrdoctor(args, made), run_finder(args, made)  # untimed: first-call costs, cuDNN's choices
    ours, theirs = [], []
    for _ in range(args.repeat):
        seconds, steps = run_lrdoctor(args, made)
        ours.append(1000 * seconds / steps)
        seconds, steps = run_finder(args, made)
        theirs.append(1000 * seconds / steps)
        print(f"lrdoctor {ours[-1]:.2f} ms/step, lr-finder {theirs[-1]:.2f} ms/step", file=sys.stderr, flush=True)
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    print(
        f"Command: `python benchmarks/probe_step_time.py --device {args.device}{' --amp' * args.amp}"
        f"{f' --amp-dtype {args.amp_dtype}' if args.amp_dtype else ''} "
        f"--width {args.width} --batch {args.batch} --repeat {args.repeat}`\n"
    )
    print("| method | ms per step (median) |\n|---|---|")
    print(f"| lrdoctor probe | {statistics.median(ours):.2f} |")
    print(f"| torch-lr-finder range test | {statistics.median(theirs):.2f} |")
    print(f"\nratio (median of the repeats' ratios): {ratio:.2f}x")


if __name__ == "__main__":
    main()
