"""lrdoctor's TensorBoard reader against tensorboard's EventAccumulator and tbparse, side by side.

    python benchmarks/tensorboard_speed.py [--events 100000] [--repeat 3]

Writes one run directory with torch's SummaryWriter (cached under benchmarks/.cache), then reads
it with each reader in turn, alternated, keeping every point; reports the median times, their
ratios, and checks that lrdoctor read the same values as EventAccumulator.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent / ".cache"


def make_run(events: int) -> Path:
    out = CACHE / f"tb_{events}"
    if any(out.glob("events.out.tfevents.*")):
        return out
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    with SummaryWriter(str(out)) as writer:
        for step in range(events):
            writer.add_scalar("train/loss", float(2.3 * np.exp(-step / events) + 0.05 * rng.standard_normal()), step)
    return out


def read_lrdoctor(path: Path) -> np.ndarray:
    from lrdoctor.readers import read_log

    return read_log(path).series["train/loss"].values


def read_accumulator(path: Path) -> np.ndarray:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
    acc.Reload()
    return np.array([e.value for e in acc.Scalars("train/loss")])


def read_tbparse(path: Path) -> np.ndarray:
    from tbparse import SummaryReader

    return SummaryReader(str(path)).scalars["value"].to_numpy()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    path = make_run(args.events)
    readers: dict[str, Callable[[Path], np.ndarray]] = {
        "lrdoctor": read_lrdoctor,
        "EventAccumulator": read_accumulator,
        "tbparse": read_tbparse,
    }
    times: dict[str, list[float]] = {k: [] for k in readers}
    values: dict[str, np.ndarray] = {}
    for _ in range(args.repeat):
        for name, read in readers.items():
            start = time.perf_counter()
            values[name] = read(path)
            times[name].append(time.perf_counter() - start)
    assert np.array_equal(values["lrdoctor"], values["EventAccumulator"].astype(np.float32).astype(np.float64))
    base = statistics.median(times["lrdoctor"])
    print(f"{args.events} scalar events, median of {args.repeat} alternated reads")
    print("| reader | seconds | vs lrdoctor |\n|---|---|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.3f} | {med / base:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
