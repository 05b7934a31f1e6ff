"""`lrdoctor.diagnose_file` in a warm process: what one run costs a worker that calls the library.

    python benchmarks/speed.py --only csv jsonl text --repeat 1   # writes the 1,000,000-point logs
    taskset -c 0 python benchmarks/in_process.py [--repeat 3]

Each log of benchmarks/.cache/speed is diagnosed once untimed (imports, caches), then timed
`--repeat` times; the median is printed. No baseline: the ratios against named baselines are
speed.py's; this is the figure a batch job (README, "Many runs at once") plans with.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from lrdoctor import diagnose_file

LOGS = {"CSV": "big.csv", "JSON Lines": "metrics.jsonl", "key=value text": "train.log"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--folder", type=Path, default=Path(__file__).parent / ".cache" / "speed")
    args = ap.parse_args(argv)
    missing = [name for name in LOGS.values() if not (args.folder / name).is_file()]
    if missing:
        ap.error(f"{', '.join(missing)} not in {args.folder}: run benchmarks/speed.py --only csv jsonl text first")
    print("| log | lines | diagnose_file, median (s) |\n|---|---|---|")
    for kind, name in LOGS.items():
        path = args.folder / name
        diagnose_file(path)  # untimed: imports and first-use caches
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            diagnose_file(path)
            times.append(time.perf_counter() - start)
        with path.open("rb") as fh:
            lines = sum(1 for _ in fh)
        print(f"| {kind} ({name}) | {lines:,} | {statistics.median(times):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
