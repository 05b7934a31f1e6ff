"""Which way a loss that stayed at its initial level points, by label, on the labelled corpus.

    python benchmarks/stuck_direction.py [--corpus benchmarks/.cache/corpus-check]

For every run of the corpus, as logged and re-logged as seven other loggers would have written it
(every 10th or 25th step, every 10th or 25th from the 10th or 25th, means of 10 steps or of each
epoch, an EMA over 10 steps: the re-logs of `benchmarks/accuracy.py`), the plateau finding "loss
stayed near its initial level" is counted by the side it suggests and the run's label, twice: by
the rule before (the training loss's own Kendall trend: creeping down, too low, else nowhere) and
as lrdoctor reads it now (the validation loss first, where it has six evaluations or more). The
rows count cases, a run once per cadence that leaves it stuck. Seconds once the corpus's cases are
cached (`benchmarks/accuracy.py` caches them).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.accuracy as acc
from lrdoctor.detect import detect_all
from lrdoctor.detect.plateau import PlateauConfig
from lrdoctor.diagnosis import Config

CADENCES = (
    ("as logged", "as", 0),
    ("every 10", "every", 10),
    ("every 25", "every", 25),
    ("every 10 from the 10th", "from-k", 10),
    ("every 25 from the 25th", "from-k", 25),
    ("mean of 10", "mean", 10),
    ("mean of each epoch", "mean", acc.EPOCH),
    ("EMA over 10", "ema", 10),
)
STUCK = "loss stayed near its initial level"
SIDES = ("too_high", "too_low", None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".cache" / "corpus-check")
    args = ap.parse_args(argv)
    cases = acc.load_cases(args.corpus)
    cfg, p_value = Config.default(), PlateauConfig().p_value
    before: Counter[tuple[str | None, str]] = Counter()
    now: Counter[tuple[str | None, str]] = Counter()
    for _name, how, k in CADENCES:
        for case in cases:
            c = case if how == "as" else acc.relogged(case, how, k)
            if how != "as" and c is case:
                continue  # too short to re-log: counted as logged
            for f in detect_all(c.sig, cfg.detect):
                if f.pathology == "plateau" and f.message.startswith(STUCK):
                    creep = f.evidence["kendall_tau"] < 0 and f.evidence["p_value"] < p_value
                    before[("too_low" if creep else None, c.label)] += 1
                    now[(f.suggests, c.label)] += 1
    print(f"{len(cases)} runs, {len(CADENCES)} cadences; cases of a stuck loss by the side its finding suggests\n")
    print("| suggests | rule | too_high | ok | too_low |")
    print("|---|---|---|---|---|")
    for side in SIDES:
        for rule, counts in (("before: the training loss's trend", before), ("now: the validation loss first", now)):
            cells = " | ".join(str(counts[(side, label)]) for label in ("too_high", "ok", "too_low"))
            print(f"| {side or 'nowhere (unknown)'} | {rule} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
