"""CPU that `lrdoctor watch` spends on a long log that keeps growing, side by side with a baseline.

    python benchmarks/watch_cpu.py [--rows 1000000] [--seconds 30]

A CSV of `--rows` rows (step, loss, lr) is written with pandas, then a child process appends one
row every 0.2 s while the watch follows it for `--seconds` (no pathology: it ends at its timeout).
Both sides run `lrdoctor.watch.follow` in this process, one after the other on a fresh copy, and
report the CPU time this process spent (user + system) over the wall time:

- lrdoctor: the watch as shipped (WatchConfig(): a slow look waits four times its length);
- baseline: the same, with every change looked at after the poll (2 s) whatever a look costs,
  as the watch did before (`busy_share=1.0`).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrdoctor.sweep import LoadOptions
from lrdoctor.watch import WatchConfig, follow


def write_log(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    steps = np.arange(rows)
    rng = np.random.default_rng(0)
    loss = 0.3 + 2.0 * np.exp(-steps / (rows / 8)) + 0.02 * rng.standard_normal(rows)
    pd.DataFrame({"step": steps, "loss": loss, "lr": 1e-3}).to_csv(path, index=False)


def grow(path: str, first: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    step = first
    while time.monotonic() < end:
        with open(path, "a") as fh:
            fh.write(f"{step},0.3,0.001\n")
        step += 1
        time.sleep(0.2)


def measure(log: Path, rows: int, seconds: float, config: WatchConfig) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of a watch of `log` while it grows."""
    child = mp.Process(target=grow, args=(str(log), rows, seconds + 2))
    child.start()
    cpu, wall = time.process_time(), time.monotonic()
    for _ in follow(log, options=LoadOptions(), config=config):
        pass
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    child.join()
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.csv"
        write_log(source, args.rows)
        print(f"{args.rows:,} rows, watched {args.seconds:g} s while a row is appended every 0.2 s\n")
        print("| side | CPU s | wall s | share of a core |")
        print("|---|---|---|---|")
        shares = {}
        for name, config in (
            ("lrdoctor", WatchConfig(timeout=args.seconds)),
            ("baseline (a look every poll)", WatchConfig(timeout=args.seconds, busy_share=1.0)),
        ):
            log = Path(tmp) / "train.csv"
            shutil.copyfile(source, log)
            cpu, wall = measure(log, args.rows, args.seconds, config)
            shares[name] = cpu / wall
            print(f"| {name} | {cpu:.1f} | {wall:.1f} | {cpu / wall:.0%} |")
        ratio = shares["lrdoctor"] / shares["baseline (a look every poll)"]
        print(f"\nCPU share, lrdoctor over baseline: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
