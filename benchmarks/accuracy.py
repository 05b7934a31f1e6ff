"""Score lrdoctor's diagnosis on the labelled corpus, leave-one-task-out.

    python benchmarks/accuracy.py [--corpus benchmarks/.cache/corpus] [--markdown]

For each task T, the tunable thresholds (verdict strengths, a few detector thresholds) and the
recommendation factors are fitted on the other tasks only, then T is scored with them; the
figures pool the held-out predictions of every fold, so they predict accuracy on unseen runs.
The corpus comes from `python benchmarks/corpus/generate.py` (see benchmarks/corpus/README.md).
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lrdoctor import load
from lrdoctor.detect import Signals, detect_all, signals
from lrdoctor.diagnosis import Config
from lrdoctor.recommend import recommend
from lrdoctor.verdict import decide

CLASSES = ("too_high", "ok", "too_low")
# Coordinate search: each parameter in turn over its grid, twice round.
GRID: dict[str, tuple[float, ...]] = {
    "verdict.high": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "verdict.low": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "plateau.above_best": (0.01, 0.02, 0.03, 0.05, 0.08, 0.12),
    "plateau.above_best_full": (0.1, 0.2, 0.3, 0.5),
    "slow.t90_lo": (0.3, 0.4, 0.5, 0.6),
    "slow.t90_hi": (0.6, 0.75, 0.85, 1.0),
    "slow.tail_lo": (0.0, 0.05, 0.1, 0.2),
    "slow.tail_hi": (0.3, 0.5, 0.8, 1.2),
    "oscillation.rough_lo": (0.03, 0.05, 0.07, 0.1, 0.15),
    "plateau.early_t90": (0.0, 0.02, 0.03, 0.05, 0.08),
    "slow.drop_none": (0.4, 0.5, 0.6, 0.7, 0.8),
    "slow.w_drop": (0.0, 0.2, 0.4, 0.8),
    "slow.w_tail": (0.1, 0.3, 0.5),
    "oscillation.t90_max": (0.2, 0.35, 0.5, 0.7),
}
FALSE_ALARM_TARGET = 0.03


@dataclass
class Case:
    run_id: str
    task: str
    label: str
    diverged: bool
    lr: float
    best_lr: float
    observed: float | None
    sig: Signals


def load_cases(corpus: Path) -> list[Case]:
    cache = corpus / ".accuracy-cache.pkl"
    labels = corpus / "labels.json"
    if cache.is_file() and cache.stat().st_mtime > labels.stat().st_mtime:
        with cache.open("rb") as fh:
            return pickle.load(fh)
    cases = []
    for r in json.loads(labels.read_text())["runs"]:
        run = load(corpus / r["path"])
        lr = run.lr
        sig = signals(
            run.loss.steps, run.loss.values, None if lr is None else lr.steps, None if lr is None else lr.values
        )
        cases.append(Case(r["run"], r["task"], r["label"], r["diverged"], r["lr"], r["best_lr"], run.observed_lr, sig))
    with cache.open("wb") as fh:
        pickle.dump(cases, fh)
    return cases


def with_param(cfg: Config, key: str, value: float) -> Config:
    stage, name = key.split(".")
    if stage == "verdict":
        return replace(cfg, verdict=replace(cfg.verdict, **{name: value}))
    sub = getattr(cfg.detect, stage)
    return replace(cfg, detect=replace(cfg.detect, **{stage: replace(sub, **{name: value})}))


def predict(cases: list[Case], cfg: Config) -> list[dict[str, Any]]:
    out = []
    for c in cases:
        findings = detect_all(c.sig, cfg.detect)
        verdict, _conf = decide(c.sig.curve, findings, cfg.verdict)
        rec = recommend(verdict, c.lr, c.sig.curve, findings, c.sig.lr, cfg.recommend)
        out.append({"case": c, "verdict": verdict, "findings": findings, "rec": rec.lr})
    return out


def scores(preds: list[dict[str, Any]]) -> dict[str, Any]:
    confusion = Counter((p["case"].label, p["verdict"]) for p in preds)
    f1s = []
    for k in CLASSES:
        tp = confusion[(k, k)]
        fp = sum(confusion[(o, k)] for o in CLASSES if o != k)
        fn = sum(confusion[(k, o)] for o in (*CLASSES, "unknown") if o != k)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    ok = [p for p in preds if p["case"].label == "ok"]
    div = [p for p in preds if p["case"].diverged]
    non_ok = [p for p in preds if p["case"].label != "ok"]
    errs = [abs(math.log10(p["rec"] / p["case"].best_lr)) for p in non_ok if p["rec"]]
    return {
        "n": len(preds),
        "accuracy": sum(p["verdict"] == p["case"].label for p in preds) / len(preds),
        "macro_f1": sum(f1s) / len(f1s),
        "f1": dict(zip(CLASSES, f1s, strict=True)),
        "false_alarm": sum(p["verdict"] in ("too_high", "too_low") for p in ok) / max(len(ok), 1),
        "divergence_recall": sum(
            any(f.pathology == "divergence" and f.severity == "error" for f in p["findings"]) for p in div
        )
        / max(len(div), 1),
        "within_3x": sum(e <= math.log10(3) for e in errs) / max(len(non_ok), 1),
        "median_log10_err": statistics.median(errs) if errs else float("nan"),
        "confusion": confusion,
    }


def objective(s: dict[str, Any]) -> float:
    return s["macro_f1"] - 2.0 * max(0.0, s["false_alarm"] - FALSE_ALARM_TARGET)


def tune(cases: list[Case], cfg: Config) -> Config:
    best = objective(scores(predict(cases, cfg)))
    for _ in range(2):
        for key, grid in GRID.items():
            for value in grid:
                trial = with_param(cfg, key, value)
                score = objective(scores(predict(cases, trial)))
                if score > best + 1e-9:
                    best, cfg = score, trial
    return fit_factors(cases, cfg)


def fit_factors(cases: list[Case], cfg: Config) -> Config:
    """Recommendation factors from the training runs: per kind of evidence, the median correction
    too-high runs needed; for too-low runs, least squares of log10(needed) on drop and t90."""
    import numpy as np

    preds = predict(cases, cfg)
    groups: dict[str, list[float]] = {"mild": [], "nonfinite": [], "diverged": []}
    rows, need_low = [], []
    for p in preds:
        c = p["case"]
        need = math.log10(c.best_lr / c.lr)
        if p["verdict"] == "too_high" and c.label == "too_high":
            div = [f for f in p["findings"] if f.pathology == "divergence"]
            kind = "mild" if not div else "nonfinite" if "nonfinite" in div[0].evidence else "diverged"
            groups[kind].append(-need)
        if p["verdict"] == "too_low" and c.label == "too_low" and c.sig.curve is not None:
            cv = c.sig.curve
            drop = min(max((cv.start - cv.end) / max(abs(cv.start), 1e-12), 0.0), 1.0)
            rows.append((1.0, drop, c.sig.shape.t90))
            need_low.append(need)
    r = cfg.recommend
    med = lambda xs, d: 10 ** statistics.median(xs) if len(xs) >= 3 else d  # noqa: E731
    r = replace(
        r,
        high_mild=med(groups["mild"], r.high_mild),
        high_nonfinite=med(groups["nonfinite"], r.high_nonfinite),
        high_diverged=med(groups["diverged"], r.high_diverged),
    )
    if len(rows) >= 10:
        coef, *_ = np.linalg.lstsq(np.array(rows), np.array(need_low), rcond=None)
        r = replace(r, low_a=float(coef[0]), low_b=float(coef[1]), low_c=float(coef[2]))
    return replace(cfg, recommend=r)


def leave_one_task_out(cases: list[Case]) -> tuple[list[dict[str, Any]], dict[str, Config]]:
    pooled, fitted = [], {}
    for task in sorted({c.task for c in cases}):
        cfg = tune([c for c in cases if c.task != task], Config.default())
        fitted[task] = cfg
        pooled += predict([c for c in cases if c.task == task], cfg)
    return pooled, fitted


def table(s: dict[str, Any]) -> str:
    rows = [
        ("runs", f"{s['n']}"),
        ("verdict accuracy", f"{s['accuracy']:.3f}"),
        (
            "macro-F1 (too_high / ok / too_low)",
            f"{s['macro_f1']:.3f} ({' / '.join(f'{v:.2f}' for v in s['f1'].values())})",
        ),
        ("false alarms (non-ok verdict on ok runs)", f"{100 * s['false_alarm']:.1f}%"),
        ("divergence recall", f"{s['divergence_recall']:.3f}"),
        ("recommended rate within 3x of best (non-ok runs)", f"{100 * s['within_3x']:.1f}%"),
        ("median abs log10(recommended / best)", f"{s['median_log10_err']:.2f}"),
    ]
    out = ["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)]
    out += ["", "| label \\ verdict | " + " | ".join((*CLASSES, "unknown")) + " |", "|---|---|---|---|---|"]
    for k in CLASSES:
        out.append(f"| {k} | " + " | ".join(str(s["confusion"][(k, v)]) for v in (*CLASSES, "unknown")) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).parent / ".cache" / "corpus")
    ap.add_argument("--per-task", action="store_true", help="also print each held-out task's figures")
    args = ap.parse_args(argv)
    cases = load_cases(args.corpus)
    default = scores(predict(cases, Config.default()))
    pooled, fitted = leave_one_task_out(cases)
    full = tune(cases, Config.default())
    print("## Leave-one-task-out (thresholds fitted without the task scored)\n")
    print(table(scores(pooled)))
    if args.per_task:
        for task in sorted(fitted):
            print(f"\n### held out: {task}\n")
            print(table(scores([p for p in pooled if p["case"].task == task])))
    print("\n## Shipped defaults, in-sample (for reference)\n")
    print(table(default))
    print("\n## Fitted on the whole corpus (the values to ship)\n")
    print(full)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
