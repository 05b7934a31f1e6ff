"""How often a finding fires on the labelled corpus, by label, at every cadence the corpus can be re-logged at.

    python benchmarks/finding_counts.py "jumped to chance" [--corpus benchmarks/.cache/corpus-check]

For every run of the corpus, as logged and re-logged as eight other loggers would have written it
(every 10th or 25th step, every 10th or 25th from the 10th or 25th, means of 10 steps or of each
epoch, an EMA over 10 or 50 steps: the re-logs of `benchmarks/accuracy.py`), each with its
validation loss and without it, counts the cases with a finding whose message holds the given
words, by the run's label. Seconds to a minute once the corpus's cases are cached
(`benchmarks/accuracy.py` caches them).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.accuracy as acc
from lrdoctor.detect import detect_all
from lrdoctor.diagnosis import Config

CADENCES = (
    ("as", 0),
    ("every", 10),
    ("every", 25),
    ("from-k", 10),
    ("from-k", 25),
    ("mean", 10),
    ("mean", acc.EPOCH),
    ("ema", 10),
    ("ema", 50),
)
LABELS = ("too_high", "ok", "too_low")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("words", help="words the finding's message holds")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".cache" / "corpus-check")
    args = ap.parse_args(argv)
    cases = acc.load_cases(args.corpus)
    cfg = Config.default()
    counts: Counter[tuple[str, bool]] = Counter()
    total = 0
    for how, k in CADENCES:
        for case in cases:
            c = case if how == "as" else acc.relogged(case, how, k)
            if how != "as" and c is case:
                continue  # too short to re-log: counted as logged
            for variant in (c, acc.without_val(c)) if c.sig.val is not None else (c,):
                total += 1
                if any(args.words in f.message for f in detect_all(variant.sig, cfg.detect)):
                    counts[(case.label, variant.sig.val is not None)] += 1
    print(f"{len(cases)} runs, {len(CADENCES)} cadences, {total} cases; those with a finding saying {args.words!r}:\n")
    print("| validation loss | too_high | ok | too_low |")
    print("|---|---|---|---|")
    for val in (True, False):
        cells = " | ".join(str(counts[(label, val)]) for label in LABELS)
        print(f"| {'logged' if val else 'left out'} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
