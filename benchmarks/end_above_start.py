"""How often "the loss ended above where it started" fires on runs that never moved, and on runs
that blew up at their first update into wide swings, against the rule it replaced.

    python benchmarks/end_above_start.py [--seeds 30] [--steps 600]

Real PyTorch runs (an MLP 10/20-32-1 regression, batch 16, one thread): scikit-learn's diabetes
table and a synthetic regression (make_regression, 2000 rows, noise 60), targets standardised.
Two kinds of run, each logged three ways (no validation loss; validation loss from step 0, every
epoch; the same from the end of the first epoch, as Keras, Lightning and the HuggingFace Trainer
evaluate):

- never moved: Adam at 1e-6 and SGD at 1e-5, 4 to 6 decades too low; the loss stays at its
  initial level plus minibatch noise (a fifth of the level), and the first minibatch is one draw;
- a jump into swings: plain SGD at 3 with gradients clipped to norm 1; the loss jumps at the first
  update and swings, heavy-tailed, around about three times its start to the end.

A run "diverged" when its training loss ended (median of the last tenth) at 1.5x or more the
untrained model's validation loss, or went non-finite. The baseline is the rule before: a rise
of more than 5% of the first value, beyond 2 sigmas of the curve's point-to-point noise or more
than 20%, with nothing to confirm it. About a minute on one core.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lrdoctor.detect import DetectConfig, detect_all, signals  # noqa: E402

CONFIGS = (  # (task, optimizer, rate, kind)
    ("diabetes", "adam", 1e-6, "never moved"),
    ("synthetic", "sgd", 1e-5, "never moved"),
    ("diabetes", "sgd-clip", 3.0, "jump into swings"),
    ("synthetic", "sgd-clip", 3.0, "jump into swings"),
)
LOGGED = ("no validation", "validation from step 0", "validation from epoch 1")
BATCH = 16


def data(task: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from sklearn import datasets

    if task == "diabetes":
        x, y = datasets.load_diabetes(return_X_y=True)
    else:
        x, y = datasets.make_regression(n_samples=2000, n_features=20, noise=60.0, random_state=0)
    x = (x - x.mean(0)) / x.std(0)
    y = (y - y.mean()) / y.std()
    idx = np.random.default_rng(0).permutation(len(x))
    val, train = idx[: len(x) // 5], idx[len(x) // 5 :]
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None]
    return xt[train], yt[train], xt[val], yt[val]


def train(
    task: str, optimizer: str, lr: float, seed: int, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The training loss of every step, the validation steps and losses (step 0 and every epoch)."""
    xtr, ytr, xva, yva = data(task)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(xtr.shape[1], 32), nn.ReLU(), nn.Linear(32, 1))
    opt = (
        torch.optim.Adam(model.parameters(), lr=lr)
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=lr)
    )
    loss_fn = nn.MSELoss()
    per_epoch = len(xtr) // BATCH
    gen = torch.Generator().manual_seed(seed)

    def evaluate() -> float:
        with torch.no_grad():
            return float(loss_fn(model(xva), yva))

    losses, val_steps, val = [], [0], [evaluate()]
    for step in range(steps):
        if step % per_epoch == 0:
            order = torch.randperm(len(xtr), generator=gen)
        batch = order[(step % per_epoch) * BATCH : (step % per_epoch + 1) * BATCH]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xtr[batch]), ytr[batch])
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        loss.backward()
        if optimizer == "sgd-clip":
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % per_epoch == 0:
            val_steps.append(step + 1)
            val.append(evaluate())
    return np.asarray(losses), np.asarray(val_steps, dtype=float), np.asarray(val), per_epoch


def baseline(curve) -> bool:  # type: ignore[no-untyped-def]
    """The rule before: a rise beyond 2 sigmas of the curve's noise, or of more than 20%."""
    rise = (curve.end - curve.start) / max(abs(curve.start), 1e-12)
    return rise > 0.05 and (curve.end - curve.start > 2 * curve.noise or rise > 0.2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--steps", type=int, default=600)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    began = time.perf_counter()
    table: dict[tuple[str, str, float, str, str], Counter] = {}
    for task, optimizer, lr, kind in CONFIGS:
        for seed in range(args.seeds):
            losses, val_steps, val, _ = train(task, optimizer, lr, seed, args.steps)
            steps = np.arange(1.0, len(losses) + 1.0)  # the loss of update k, logged at step k
            finite = losses[np.isfinite(losses)]
            tail = finite[-max(1, len(finite) // 10) :]
            diverged = len(finite) < len(losses) or float(np.median(tail)) >= 1.5 * val[0]
            for logged in LOGGED:
                given = (
                    None
                    if logged == LOGGED[0]
                    else (val_steps, val)
                    if logged == LOGGED[1]
                    else (val_steps[1:], val[1:])
                )
                sig = signals(steps, losses, val=given)
                found = [
                    f for f in detect_all(sig, DetectConfig()) if f.pathology == "divergence" and f.severity == "error"
                ]
                row = table.setdefault((task, optimizer, lr, kind, logged), Counter())
                row["runs"] += 1
                row["diverged"] += diverged
                row["lrdoctor"] += bool(found)
                # (the other divergence rules, explosion and non-finite values, are the same in both)
                other = [f for f in found if "ended above where it started" not in f.message]
                row["baseline"] += bool(other) or (sig.curve is not None and baseline(sig.curve))
    print(f"{args.seeds} seeds, {args.steps} steps each; divergence errors found (the baseline: the rule before)\n")
    print("| run | rate | log | runs | diverged | lrdoctor | baseline |")
    print("|---|---|---|---|---|---|---|")
    for (task, optimizer, lr, kind, logged), row in table.items():
        print(
            f"| {kind}: {task}, {optimizer} | {lr:g} | {logged} | {row['runs']} | {row['diverged']} | "
            f"{row['lrdoctor']} | {row['baseline']} |"
        )
    print(f"\n{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
