"""Cold start of `lrdoctor diagnose` on a small CSV, against `python -c "import pandas"`.

    python benchmarks/startup.py [--repeat 15]

Both commands run as whole processes, alternated, so that machine load hits both alike; the
median of the per-pair ratios is reported.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "run.csv"
        log.write_text("step,loss,lr\n" + "".join(f"{s},{0.1 + 2.2 * 0.99**s:.5f},0.001\n" for s in range(300)))
        ours = [sys.executable, "-m", "lrdoctor", "diagnose", str(log)]
        base = [sys.executable, "-c", "import pandas"]
        timed(ours), timed(base)  # warm the file cache
        pairs = [(timed(ours), timed(base)) for _ in range(args.repeat)]
    ratios = [a / b for a, b in pairs]
    print(f"lrdoctor diagnose (300-row CSV): median {statistics.median(a for a, _ in pairs):.3f} s")
    print(f"python -c 'import pandas':       median {statistics.median(b for _, b in pairs):.3f} s")
    print(f"ratio (median of {args.repeat} alternated pairs): {statistics.median(ratios):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
