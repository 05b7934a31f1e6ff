"""Where the validation loss ended against its value at step 0 (the untrained model), by label.

    python benchmarks/val_end_ratio.py [--corpus benchmarks/.cache/corpus-check ...]

For every run of each corpus whose validation loss was measured before its first logged training
loss (at step 0), the ratio of the validation loss's end level (the median of its last tenth) to
its first value: how many runs of each label ended at or above given multiples of it, and the
highest ratio among healthy and too-low runs. The bar of
`DivergenceConfig.val_end_above_untrained` rests on it (BENCHMARKS.md, "Worse than untrained on
held-out data"). Seconds once `benchmarks/accuracy.py` has cached the corpus's cases.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.accuracy as acc

LABELS = ("too_high", "ok", "too_low")
BARS = (1.0, 1.1, 1.2, 1.5, 2.0)


def ratios(corpus: Path) -> list[tuple[str, float]]:
    out = []
    for case in acc.load_cases(corpus):
        curve, val = case.sig.curve, case.sig.val
        if curve is None or val is None or not val.start > 0:
            continue
        first = curve.raw_steps[0] if curve.raw_steps is not None else curve.steps[0]
        if val.steps[0] < first:
            out.append((case.label, float(val.end / val.start)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = [Path(__file__).parent / ".cache" / name for name in ("corpus-check", "corpus-outside")]
    ap.add_argument("--corpus", type=Path, nargs="+", default=default)
    args = ap.parse_args(argv)
    rows = [r for corpus in args.corpus for r in ratios(corpus)]
    print(f"{len(rows)} runs evaluated before their first logged training loss\n")
    print("| label | runs | " + " | ".join(f"ended >= {b:g}x" for b in BARS) + " | highest |")
    print("|---|---|" + "---|" * (len(BARS) + 1))
    for label in LABELS:
        r = [x for lab, x in rows if lab == label]
        cells = " | ".join(str(sum(x >= b for x in r)) for b in BARS)
        print(f"| {label} | {len(r)} | {cells} | {max(r, default=float('nan')):.3g} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
