"""lrdoctor's speed and memory on large logs, side by side with named baselines.

    python benchmarks/speed.py [--repeat 5] [--only csv tensorboard ...] [--write-docs]

Inputs are generated once into benchmarks/.cache/speed (not committed), each by the writer that
writes such logs in practice: pandas' `to_csv` (1,000,000 rows of step, loss, lr, and a long
table of as many rows), torch's `SummaryWriter` (1,000,000 scalar events), Python's `logging`
(1,000,000 `key=value` lines), `json.dumps` per line (1,000,000 JSON Lines records) and wandb
offline (1,000,000 logged steps). Generating them takes a few minutes.

Whole-process pairs (the command `lrdoctor diagnose FILE` against a baseline command doing only
the named work), run alternately `--repeat` times; the table gives each side's median wall time
and the median of the per-pair ratios:

- start: `lrdoctor diagnose` on a 300-row CSV / `python -c "import pandas"`;
- csv: on the 1,000,000-row CSV / `pandas.read_csv(path, engine="pyarrow")`;
- tensorboard: on the 1,000,000-event run / tbparse's `SummaryReader(dir).scalars`, and
  tensorboard's `EventAccumulator(dir, size_guidance={"scalars": 0}).Reload()`;
- long: on a 1,000,000-row long table (step, tag, value: tbparse's scalars saved with to_csv) /
  `pandas.read_csv(path, engine="pyarrow").pivot_table(index="step", columns="tag", values="value")`;
- wandb: on a W&B run file of 1,000,000 logged steps (written offline by wandb) / wandb's own
  protobuf classes decoding every record (`Record.FromString`, the history rows kept as dicts of
  JSON text), after the same block walk;
- text: on the 1,000,000-line log / a loop of one compiled regex extracting only the loss;
- nanogpt, hf-text, logging-source: the same on 1,000,000 lines of nanoGPT's console
  (`iter 5: loss 2.3456, time 12.34ms, mfu 30.00%`), of the HF Trainer's printed dicts, and of
  `logging` with the source location in brackets (`[train.py:120]`);
- bars: the same on 1,000,000 refreshes of Lightning's progress bar, each after a carriage
  return (a console saved to a file), read by the baseline as lines (Python's universal newlines);
- jsonl: on the 1,000,000-line file / `orjson.loads` of every line, and the standard library's
  `json.loads` of every line.

In-process (one interpreter): diagnosis time against the number of points (10^5 to 10^7), the
time to read 10^7 points from a CSV against the time to diagnose them, and the peak memory of
reading, normalising and diagnosing 10^7 points against the size of their raw float64 arrays.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import logging
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's lrdoctor, in-process as in the timed commands
CACHE = ROOT / "benchmarks" / ".cache" / "speed"
ROWS = 1_000_000
BIG = 10_000_000
PY = sys.executable


def _curve(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy decaying minibatch loss with warmup-cosine learning rate, n points."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    loss = 0.2 + 2.1 * np.exp(-steps / (n / 6)) + 0.05 * rng.standard_normal(n)
    warm = max(1, n // 50)
    lr = np.where(steps < warm, 1e-3 * (steps + 1) / warm, 0.5e-3 * (1 + np.cos(np.pi * (steps - warm) / (n - warm))))
    return steps, loss, lr


def _ready(path: Path) -> bool:
    return path.exists() and (path.is_file() or any(path.iterdir()))


def make_small_csv() -> Path:
    path = CACHE / "small.csv"
    if not _ready(path):
        steps, loss, lr = _curve(300)
        _frame(steps, loss, lr).to_csv(path, index=False)
    return path


def make_csv(n: int = ROWS, name: str = "big.csv") -> Path:
    path = CACHE / name
    if not _ready(path):
        steps, loss, lr = _curve(n)
        _frame(steps, loss, lr).to_csv(path, index=False)
    return path


def _frame(steps: np.ndarray, loss: np.ndarray, lr: np.ndarray):  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.DataFrame({"step": steps, "loss": loss, "lr": lr})


def make_tensorboard() -> Path:
    path = CACHE / "tensorboard"
    if not _ready(path):
        from torch.utils.tensorboard import SummaryWriter

        steps, loss, _ = _curve(ROWS)
        with SummaryWriter(str(path), max_queue=1000, flush_secs=600) as writer:
            for step, value in zip(steps.tolist(), loss.tolist(), strict=True):
                writer.add_scalar("train/loss", value, step)
    return path


def make_text() -> Path:
    return _logging_file(CACHE / "train.log", "%(asctime)s %(levelname)s %(name)s: %(message)s")


def _logging_file(path: Path, layout: str) -> Path:
    """ROWS lines of `step=.. loss=.. lr=..` written by Python's logging with the format `layout`."""
    if not _ready(path):
        steps, loss, lr = _curve(ROWS)
        logger = logging.getLogger(path.stem)
        logger.propagate = False
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter(layout))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        for step, value, rate in zip(steps.tolist(), loss.tolist(), lr.tolist(), strict=True):
            logger.info("step=%d loss=%.6f lr=%.6g", step, value, rate)
        handler.close()
        logger.removeHandler(handler)
    return path


def _lines_file(path: Path, line: Callable[[int, int, float, float], str]) -> Path:
    """ROWS lines, `line(i, step, loss, lr)` each."""
    if not _ready(path):
        steps, loss, lr = _curve(ROWS)
        with path.open("w") as fh:
            for i, (step, value, rate) in enumerate(zip(steps.tolist(), loss.tolist(), lr.tolist(), strict=True)):
                fh.write(line(i, step, value, rate) + "\n")
    return path


def make_nanogpt() -> Path:
    """nanoGPT's train.py console: its print of each iteration, the model flops utilisation last."""
    rng = np.random.default_rng(1)
    ms, mfu = (12 + rng.random(ROWS)).tolist(), (30 + rng.random(ROWS)).tolist()
    return _lines_file(
        CACHE / "nanogpt.log",
        lambda i, step, loss, lr: f"iter {step}: loss {loss:.4f}, time {ms[i]:.2f}ms, mfu {mfu[i]:.2f}%",
    )


def make_hf_text() -> Path:
    """The HF Trainer's console: the dict of each logging step, printed."""
    return _lines_file(
        CACHE / "hf_console.log",
        lambda i, step, loss, lr: str(
            {
                "loss": round(loss, 4),
                "grad_norm": round(loss * 3, 4),
                "learning_rate": lr,
                "epoch": round(step / ROWS * 3, 2),
            }
        ),
    )


def make_logging_source() -> Path:
    """Python logging with the source location in brackets, as many training scripts configure it."""
    return _logging_file(CACHE / "train_source.log", "%(asctime)s %(levelname)s [%(filename)s:%(lineno)d] %(message)s")


def make_bars() -> Path:
    """A console saved to a file (`python train.py > train.log 2>&1`) where Lightning's progress
    bar drew every step: ROWS refreshes, each after a carriage return, epochs of 5,000 steps."""
    path = CACHE / "bars.log"
    if not _ready(path):
        _, loss, _ = _curve(ROWS)
        per_epoch, width = 5000, 10
        with path.open("w", encoding="utf-8") as fh:
            for i, value in enumerate(loss.tolist()):
                epoch, k = divmod(i, per_epoch)
                done = (k + 1) * width // per_epoch
                bar = "\u2588" * done + " " * (width - done)
                fh.write(
                    f"\rEpoch {epoch}: {100 * (k + 1) // per_epoch:3d}%|{bar}| {k + 1}/{per_epoch} "
                    f"[00:{k // 100 % 60:02d}<00:10, 98.31it/s, v_num=0, train_loss={value:.3f}]"
                )
                if k + 1 == per_epoch:
                    fh.write("\n")
    return path


def make_jsonl() -> Path:
    return _lines_file(
        CACHE / "metrics.jsonl", lambda i, step, loss, lr: json.dumps({"step": step, "loss": loss, "lr": lr})
    )


def make_long() -> Path:
    """The CSV tbparse's SummaryReader(dir).scalars gives with pandas' to_csv: a row per point
    (step, tag, value), the loss and the rate of 500,000 steps."""
    path = CACHE / "long.csv"
    if not _ready(path):
        import pandas as pd

        steps, loss, lr = _curve(ROWS // 2)
        tags = np.repeat(np.array(["train/loss", "lr"])[None, :], len(steps), axis=0).ravel()
        frame = pd.DataFrame({"step": np.repeat(steps, 2), "tag": tags, "value": np.column_stack([loss, lr]).ravel()})
        frame.to_csv(path, index=False)
    return path


WANDB_WRITE = """
import math, sys, wandb
n = int(sys.argv[2])
settings = wandb.Settings(silent=True, console="off", x_disable_stats=True, x_disable_meta=True, disable_git=True)
run = wandb.init(project="speed", mode="offline", dir=sys.argv[1], settings=settings)
for s in range(n):
    run.log({"train/loss": 0.2 + 2.1 * math.exp(-s / (n / 6)), "train/lr": 1e-3}, step=s)
run.finish()
"""


def make_wandb() -> Path:
    """The W&B client's own run file of 1,000,000 logged steps, written offline by wandb itself
    (two and a half minutes here)."""
    root = CACHE / "wandb"
    found = sorted(root.glob("wandb/offline-run-*/run-*.wandb"))
    if not found:
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run([PY, "-c", WANDB_WRITE, str(root), str(ROWS)], check=True, cwd=root)
        found = sorted(root.glob("wandb/offline-run-*/run-*.wandb"))
    return found[0]


def lrdoctor_cmd(path: Path) -> list[str]:
    return [PY, "-m", "lrdoctor", "diagnose", str(path)]


def py(code: str, *args: Path | str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code), *map(str, args)]


PANDAS_PYARROW = "import sys, pandas; pandas.read_csv(sys.argv[1], engine='pyarrow')"
TBPARSE = "import sys; from tbparse import SummaryReader; SummaryReader(sys.argv[1]).scalars"
ACCUMULATOR = """
import sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
acc.Scalars("train/loss")
"""
REGEX_LOOP = r"""
import re, sys
pattern = re.compile(sys.argv[2] if len(sys.argv) > 2 else r"loss=([-+0-9.eE]+|nan|inf)")
losses = []
with open(sys.argv[1]) as fh:
    for line in fh:
        m = pattern.search(line)
        if m:
            losses.append(float(m.group(1)))
"""
ORJSON_LINES = """
import sys, orjson
with open(sys.argv[1], "rb") as fh:
    records = [orjson.loads(line) for line in fh]
"""
WANDB_PROTOBUF = """
import sys
sys.path.insert(0, sys.argv[2])
from generator.wandb_file import history_rows
history_rows(sys.argv[1])
"""
PIVOT = """
import sys, pandas
pandas.read_csv(sys.argv[1], engine="pyarrow").pivot_table(index="step", columns="tag", values="value")
"""
JSON_LINES = """
import sys, json
with open(sys.argv[1], "rb") as fh:
    records = [json.loads(line) for line in fh]
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: the diagnosis found a problem
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def pair(ours: list[str], base: list[str], repeat: int) -> tuple[float, float, float]:
    """Median seconds of each side and the median of the alternated per-pair ratios."""
    timed(ours), timed(base)  # warm the page cache and the bytecode caches
    pairs = [(timed(ours), timed(base)) for _ in range(repeat)]
    ratios = [a / b for a, b in pairs]
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs), statistics.median(ratios)


def _regex_baseline(pattern: str | None = None) -> list[tuple[str, Callable[[Path], list[str]], str]]:
    """The text baseline: one compiled regex per line reading the loss (`pattern`, else `loss=...`)."""
    extra = [] if pattern is None else [pattern]
    return [("one compiled regex per line, loss only", lambda p: py(REGEX_LOOP, p, *extra), "<= 1.5x")]


# name -> (input maker, [(baseline label, baseline command maker, target text)])
PAIRS: dict[str, tuple[Callable[[], Path], list[tuple[str, Callable[[Path], list[str]], str]]]] = {
    "start": (make_small_csv, [('python -c "import pandas"', lambda p: py("import pandas"), "<= 1.3x")]),
    "csv": (make_csv, [('pandas.read_csv(engine="pyarrow")', lambda p: py(PANDAS_PYARROW, p), "<= 1.5x")]),
    "tensorboard": (
        make_tensorboard,
        [
            ("tbparse SummaryReader(dir).scalars", lambda p: py(TBPARSE, p), "<= 0.1x"),
            ("EventAccumulator(scalars: 0)", lambda p: py(ACCUMULATOR, p), "<= 0.33x"),
        ],
    ),
    "long": (
        make_long,
        [('pandas.read_csv(engine="pyarrow").pivot_table(...)', lambda p: py(PIVOT, p), "<= 1.5x")],
    ),
    "wandb": (
        make_wandb,
        [
            (
                "wandb's protobuf classes, Record.FromString per record",
                lambda p: py(WANDB_PROTOBUF, p, ROOT / "sample_logs"),
                "<= 1.5x",
            )
        ],
    ),
    "text": (make_text, _regex_baseline()),
    "nanogpt": (make_nanogpt, _regex_baseline("loss ([-+0-9.eE]+|nan)")),
    "hf-text": (make_hf_text, _regex_baseline("'loss': ([-+0-9.eE]+|nan)")),
    "logging-source": (make_logging_source, _regex_baseline()),
    "bars": (make_bars, _regex_baseline("train_loss=([-+0-9.eE]+|nan)")),
    "jsonl": (
        make_jsonl,
        [
            ("orjson.loads per line", lambda p: py(ORJSON_LINES, p), "<= 1.5x"),
            ("json.loads per line", lambda p: py(JSON_LINES, p), "<= 1.5x"),
        ],
    ),
}


def run_pairs(names: list[str], repeat: int) -> list[str]:
    # As an installed package runs: from bytecode compiled once (pip compiles at install; an
    # environment with PYTHONDONTWRITEBYTECODE would otherwise compile lrdoctor on every run).
    compileall.compile_dir(ROOT / "lrdoctor", quiet=1)
    rows = [
        "| input | lrdoctor diagnose (s) | baseline | baseline (s) | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        make, baselines = PAIRS[name]
        path = make()
        for label, base, target in baselines:
            ours_s, base_s, ratio = pair(lrdoctor_cmd(path), base(path), repeat)
            rows.append(f"| {name} | {ours_s:.2f} | {label} | {base_s:.2f} | {ratio:.2f}x | {target} |")
            print(rows[-1], flush=True)
    return rows


def diagnosis_scaling() -> list[str]:
    """Seconds to normalise and diagnose n points held in memory, for n = 1e5, 1e6, 1e7."""
    from lrdoctor.diagnosis import diagnose
    from lrdoctor.normalize import normalize
    from lrdoctor.run import Log, Series

    rows = ["| points | normalize (s) | diagnose (s) | diagnose per 10^6 points (s) |", "|---|---|---|---|"]
    steps, loss, lr = (a.astype(np.float64) for a in _curve(1000))
    diagnose(normalize(Log("warm", "csv", {"loss": Series("loss", steps, loss)})))  # imports, first calls
    for n in (100_000, 1_000_000, BIG):
        steps, loss, lr = (a.astype(np.float64) for a in _curve(n))
        log = Log("mem", "csv", {"loss": Series("loss", steps, loss), "lr": Series("lr", steps.copy(), lr)})
        start = time.perf_counter()
        run = normalize(log)
        mid = time.perf_counter()
        diagnose(run)
        end = time.perf_counter()
        rows.append(f"| {n:,} | {mid - start:.2f} | {end - mid:.2f} | {(end - mid) / n * 1e6:.3f} |")
        print(rows[-1], flush=True)
        del log, run
        gc.collect()
    return rows


# Peak RSS from /proc (VmHWM, KiB): getrusage's ru_maxrss survives fork and exec on Linux, so
# a child started by a large parent would report the parent's size as its own peak.
MEMORY = """
import sys, time
import numpy, pandas
import lrdoctor.cli, lrdoctor.readers.csv_reader, lrdoctor.diagnosis

def peak():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))

base = peak()
from lrdoctor import load
from lrdoctor.diagnosis import diagnose
start = time.perf_counter()
run = load(sys.argv[1])
read = time.perf_counter()
diagnose(run)
done = time.perf_counter()
print(len(run.loss), base, peak(), read - start, done - read)
"""


def big_file() -> list[str]:
    """Read 10^7 CSV rows, then diagnose them: times, and peak memory over the raw arrays."""
    path = make_csv(BIG, "big10m.csv")
    out = subprocess.run([PY, "-c", MEMORY, str(path)], capture_output=True, text=True, check=True, cwd=ROOT)
    points, base_kib, peak_kib, read_s, diag_s = out.stdout.split()
    raw = 3 * int(points) * 8  # step, loss and lr as float64
    grown = (int(peak_kib) - int(base_kib)) * 1024
    rows = [
        "| measure | value |",
        "|---|---|",
        f"| points (rows of step, loss, lr) | {int(points):,} |",
        f"| read (load) | {float(read_s):.2f} s |",
        f"| diagnose | {float(diag_s):.2f} s |",
        f"| raw float64 arrays | {raw / 2**20:.0f} MiB |",
        f"| peak RSS growth over the imported interpreter | {grown / 2**20:.0f} MiB ({grown / raw:.2f}x raw) |",
        f"| file size | {path.stat().st_size / 2**20:.0f} MiB |",
    ]
    print("\n".join(rows), flush=True)
    return rows


DOCS = ROOT / "BENCHMARKS.md"
MARK_START, MARK_END = "<!-- speed-benchmark:start -->", "<!-- speed-benchmark:end -->"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="alternated pairs per comparison (default 5)")
    parts = [*PAIRS, "scaling", "memory"]
    ap.add_argument("--only", nargs="+", choices=parts, default=parts, help="run only these parts")
    ap.add_argument("--write-docs", action="store_true", help="write the tables into BENCHMARKS.md")
    args = ap.parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}; {resource.getpagesize()}-byte pages")
    blocks = [f"Command: `python benchmarks/speed.py --repeat {args.repeat}`"]
    names = [n for n in args.only if n in PAIRS]
    if names:
        blocks.append("\n".join(run_pairs(names, args.repeat)))
    if "scaling" in args.only:
        blocks.append("Diagnosis time against the number of points (in memory, one process):")
        blocks.append("\n".join(diagnosis_scaling()))
    if "memory" in args.only:
        blocks.append("10^7 rows read from a CSV and diagnosed (`lrdoctor.load`, then `diagnose`, one process):")
        blocks.append("\n".join(big_file()))
    if args.write_docs:
        doc = DOCS.read_text()
        start, end = doc.index(MARK_START) + len(MARK_START), doc.index(MARK_END)
        DOCS.write_text(doc[:start] + "\n" + "\n\n".join(blocks) + "\n" + doc[end:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
