"""Diagnose many runs in parallel with Dask: one pure function per run, results as a table.

    pip install lrdoctor "dask[bag]"
    python examples/many_runs_dask.py "runs/**/metrics.csv" [--out verdicts.jsonl]

`lrdoctor.diagnose_file` reads one log and returns the JSON document of `lrdoctor diagnose
--format json` (plain data); a log lrdoctor cannot read becomes a row with its one-line error,
so one bad file never stops the job. On a cluster, hand `dask.distributed.Client(...)` the same
bag; with Ray, `ray.data.from_items(paths).map(judge)` does the same.
"""

from __future__ import annotations

import argparse
import glob
import json
from collections import Counter
from typing import Any

import dask.bag as db

import lrdoctor


def judge(path: str) -> dict[str, Any]:
    """One run's verdict as a flat row (the whole document is one call away)."""
    try:
        doc = lrdoctor.diagnose_file(path)
    except lrdoctor.LrdoctorError as exc:
        return {"source": path, "verdict": "error", "error": str(exc)}
    return {
        "source": doc["source"],
        "verdict": doc["verdict"],
        "confidence": doc["confidence"],
        "findings": [f["pathology"] for f in doc["findings"]],
        "lr_observed": doc["lr"]["observed"],
        "lr_recommended": doc["lr"]["recommended"],
    }


def diagnose_all(
    paths: list[str], *, scheduler: str = "processes", partitions: int | None = None
) -> list[dict[str, Any]]:
    bag = db.from_sequence(paths, npartitions=partitions or min(len(paths), 64) or 1)
    return bag.map(judge).compute(scheduler=scheduler)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pattern", help="a glob of log files or run directories (quote it)")
    ap.add_argument("--out", help="write one JSON line per run here")
    ap.add_argument("--scheduler", default="processes", help="dask scheduler: processes, threads, synchronous")
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(args.pattern, recursive=True))
    rows = diagnose_all(paths, scheduler=args.scheduler)
    if args.out:
        with open(args.out, "w") as fh:
            fh.writelines(json.dumps(row) + "\n" for row in rows)
    print(f"{len(rows)} runs:", dict(Counter(row["verdict"] for row in rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
