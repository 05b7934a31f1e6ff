"""How close to the best rate single-run statistics can put a non-ok run, given its side.

    python benchmarks/rate_bound.py [--corpus benchmarks/.cache/corpus]

The "within 3x" measure of `benchmarks/accuracy.py` counts every non-ok run: one called ok or
unknown is a miss, so it is capped by the verdict's recall. This script takes the verdict out:
every non-ok run is given its true side, and the distance to the best rate, in decades, is
predicted from the rate models' features (:func:`lrdoctor.recommend.rate_features`) by

- a constant (the median distance of the runs fitted on);
- the ridge regression of `benchmarks/accuracy.py` (penalty 5), leave-one-task-out;
- the same fitted on every run and scored on them (in-sample: the most the features tell);
- in-sample again, with a term per (task, optimizer): what knowing the task and optimizer, which
  a log does not say, would add;
- that term alone, the median distance of the run's (task, optimizer) runs.

Each prediction is held within the corrections lrdoctor gives (0.5 to 3.5 decades). Seconds
once the corpus's cases are cached (`benchmarks/accuracy.py` caches them).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.accuracy as acc
from lrdoctor.detect import detect_all
from lrdoctor.diagnosis import Config
from lrdoctor.recommend import RecommendConfig, rate_features

WITHIN = math.log10(3)


def ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> Callable[[np.ndarray], np.ndarray]:
    """The ridge fit of acc.fit_rate (standardised features, unpenalised intercept), as a predictor."""
    mean, scale = acc.standardisation(x)
    z = np.c_[np.ones(len(x)), (x - mean) / scale]
    p = penalty * np.eye(z.shape[1])
    p[0, 0] = 0.0
    w = np.linalg.solve(z.T @ z + p, z.T @ y)
    return lambda x2: np.c_[np.ones(len(x2)), (x2 - mean) / scale] @ w


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".cache" / "corpus")
    args = ap.parse_args(argv)
    cfg, limits = Config.default(), RecommendConfig()
    cases = [c for c in acc.load_cases(args.corpus) if c.label != "ok"]
    print(f"{len(cases)} non-ok runs; share put within 3x of the best rate, given the side\n")
    heads = ("constant", "ridge, leave-one-task-out", "ridge, in-sample", "in-sample, with (task, optimizer)")
    print(f"| side | runs | {' | '.join(heads)} | (task, optimizer) median alone |")
    print("|---|---|---|---|---|---|---|")
    for side in ("too_high", "too_low"):
        mine = [c for c in cases if c.label == side]
        x = np.array([rate_features(c.sig, detect_all(c.sig, cfg.detect)) for c in mine])
        y = np.array([abs(math.log10(c.best_lr / c.lr)) for c in mine])
        tasks = np.array([c.task for c in mine])
        groups = np.array([f"{c.task}/{c.optimizer}" for c in mine])
        held = np.empty(len(y))
        for task in np.unique(tasks):
            out = tasks == task
            held[out] = ridge(x[~out], y[~out], 5.0)(x[out])
        onehot = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
        medians = {g: float(np.median(y[groups == g])) for g in np.unique(groups)}
        predictions = (
            np.full(len(y), float(np.median(y))),
            held,
            ridge(x, y, 5.0)(x),
            ridge(np.c_[x, onehot], y, 0.5)(np.c_[x, onehot]),
            np.array([medians[g] for g in groups]),
        )
        cells = " | ".join(
            f"{np.mean(np.abs(np.clip(p, limits.min_decades, limits.max_decades) - y) <= WITHIN):.0%}"
            for p in predictions
        )
        print(f"| {side} | {len(y)} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
