"""`--cmd` mode: run the user's own training command once per candidate rate and compare the logs.

No torch here: the command trains; lrdoctor only reads what it logged.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lrdoctor.errors import LrdoctorError, ProbeError
from lrdoctor.probe.result import ProbeResult, Trial
from lrdoctor.run import Run

CMD_METHOD = (
    "command sweep: one run per decade from min-lr upwards, stopped two decades past the best or at the "
    "first divergence, then the half decades either side of the best; each run scored on its last "
    "validation loss (else the mean of the last tenth of its training loss); the lowest wins"
)


@dataclass(frozen=True)
class CmdConfig:
    """The numbers of the command sweep."""

    # A run counts as worse than the best when its score is this many times the best; two such
    # decades in a row above the best end the upward scan (the loss-versus-rate curve is unimodal
    # in the corpus sweeps, benchmarks/corpus/README.md).
    worse_factor: float = 1.0
    worse_in_a_row: int = 2
    # Share of the training loss's last points averaged when the log has no validation loss.
    tail_frac: float = 0.1
    # A run whose training loss ended (the mean of that last share) above this multiple of its
    # first logged value diverged, however finite: the corpus labels' rule (labels.py,
    # diverge_factor), so that a rate whose loss blew up to 1e9 is not the pick of a sweep whose
    # every run did so.
    diverged_factor: float = 1.5
    # Scores this close (relative) count as the same: a command that ignores {lr} logs the same
    # losses at every rate, equal but for the rounding of the float text it writes.
    same_score_rel: float = 1e-9
    # Logged rates this close (relative) count as one rate: a command that ignores {lr} and logs the
    # rate it trains at (its rate series: the optimizer's, a schedule's) logs the same one at every
    # {lr}, however its unseeded runs' losses differ.
    same_lr_rel: float = 1e-6


@dataclass(frozen=True)
class Measured:
    score: float  # +inf: diverged or no loss logged
    steps: int
    note: str = ""  # set when the command failed or left no log: why
    # The peak of every learning-rate series its log holds (one per parameter group), if any: the
    # rate it trained at, as logged while it trained (not a setting saved beside the log, which a
    # script may leave at its default).
    logged_lr: tuple[float, ...] | None = None


def probe_cmd(
    template: str,
    *,
    min_lr: float,
    max_lr: float,
    config: CmdConfig | None = None,
    on_run: Callable[[float], None] | None = None,
) -> ProbeResult:
    """Run `template` (with {lr} and {out}) at each candidate rate and pick the lowest score."""
    cfg = config or CmdConfig()
    argv = _parse(template)
    started = time.monotonic()
    measured: dict[float, Measured] = {}

    def measure(lr: float) -> Measured:
        if lr not in measured:
            if on_run is not None:
                on_run(lr)
            measured[lr] = _run_once(argv, lr, cfg)
        return measured[lr]

    with _terminated_as_exit():
        best = _scan(measure, decade_rates(min_lr, max_lr), cfg)
        for lr in (best * 10**-0.5, best * 10**0.5) if best is not None else ():
            if min_lr * (1 - 1e-9) <= lr <= max_lr * (1 + 1e-9):
                measure(lr)
    if best is None:
        notes = "; ".join(sorted({m.note for m in measured.values() if m.note}))
        raise ProbeError(
            f"--cmd {template!r}: no run trained without diverging ({notes or 'every rate diverged'}; a loss that "
            f"ends {cfg.diverged_factor:g}x its first logged value or more, or non-finite, counts as diverged)"
        )
    _depends_on_lr(template, measured, cfg)
    pick = min(measured, key=lambda lr: (measured[lr].score, lr))
    trials = tuple(
        Trial(lr, m.score, m.steps, diverged=not math.isfinite(m.score), failed=bool(m.note))
        for lr, m in sorted(measured.items())
    )
    return ProbeResult(
        recommended_lr=pick,
        method=CMD_METHOD,
        steps_used=sum(m.steps for m in measured.values()),
        source=template,
        trials=trials,
        scored_on="each run's own log",
        notes=tuple(sorted({f"lr {lr:.3g}: {m.note}" for lr, m in measured.items() if m.note}))
        + _same_rate_logged(measured, cfg)
        + _edge(pick, measured),
        seconds=time.monotonic() - started,
    )


@contextlib.contextmanager
def _terminated_as_exit() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, systemd stopping a service) ends lrdoctor as an exception,
    not at once: the command running is killed (subprocess.run does so on any exception) and its
    {out} folder removed, where they had been left behind. Exit code 143, as for SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _edge(pick: float, measured: dict[float, Measured]) -> tuple[str, ...]:
    """A note when the pick is the lowest (or highest) rate run, still the best: the range ended there."""
    if len(measured) < 2:
        return ()
    if pick == min(measured):
        return (
            f"the pick {pick:.3g} is the lowest rate run, still the best: the best rate may lie below it; "
            "give a lower --min-lr",
        )
    if pick == max(measured):
        return (
            f"the pick {pick:.3g} is the highest rate run, still the best: the best rate may lie above it; "
            "give a higher --max-lr",
        )
    return ()


def decade_rates(min_lr: float, max_lr: float) -> list[float]:
    """One rate per decade from `min_lr` up to `max_lr` (`min_lr` itself first: the powers of ten
    inside a range such as 0.5 to 5 left both its ends unrun)."""
    steps = math.floor(math.log10(max_lr / min_lr) + 1e-9)
    return [min_lr * 10.0**k for k in range(max(steps, 0) + 1)]


def _scan(measure: Callable[[float], Measured], rates: list[float], cfg: CmdConfig) -> float | None:
    best: float | None = None
    worse = 0
    failed: list[tuple[float, str]] = []
    for lr in rates:
        done = measure(lr)
        score = done.score
        if not math.isfinite(score):
            if best is not None:
                break
            failed.append((lr, _without_rate(done.note, lr)))  # (the same failure names each its rate)
            if len(failed) == 2 and failed[0][1] and failed[0][1] == failed[1][1] and "exit " in failed[0][1]:
                # (the two lowest rates' runs failed alike: the command's fault, not a rate's)
                raise ProbeError(
                    f"--cmd: the command failed the same way at lr {failed[0][0]:.3g} and {failed[1][0]:.3g} "
                    f"({measure(failed[0][0]).note}); run it by hand with one rate to see why"
                )
            continue
        if best is None or score < measure(best).score:
            best, worse = lr, 0
            continue
        worse += int(score >= cfg.worse_factor * measure(best).score)
        if worse >= cfg.worse_in_a_row:
            break
    return best


def _depends_on_lr(template: str, measured: dict[float, Measured], cfg: CmdConfig) -> None:
    """Refuse a command whose every run scored the same: it does not train at the {lr} it is given."""
    if any(not math.isfinite(m.score) and not m.note for m in measured.values()):
        return  # a run that diverged at its rate (not one that failed) shows the rate reached it
    scored = {lr: m.score for lr, m in measured.items() if math.isfinite(m.score)}
    scores = list(scored.values())
    # Over two decades and more: rates close together may well end alike (a loss logged to two digits).
    if len(scores) < 2 or max(scored) < 100 * min(scored):
        return
    if all(math.isclose(v, scores[0], rel_tol=cfg.same_score_rel, abs_tol=0.0) for v in scores):
        trained = f"every run that trained ({len(scored)} of {len(measured)})"
        every = "every run" if len(scored) == len(measured) else trained
        raise ProbeError(
            f"--cmd {template!r}: {every} scored {scores[0]:.6g}, at rates from {min(scored):.3g} to "
            f"{max(scored):.3g}: the command's result does not depend on {{lr}}; pass {{lr}} on to the "
            "optimizer's learning rate"
        )


def _same_rate_logged(measured: dict[float, Measured], cfg: CmdConfig) -> tuple[str, ...]:
    """A note where every run logged the same rates, over two decades of {lr}: an unseeded command
    that ignores {lr} scores differently at every rate, and only its logged rate gives it away. A
    note, not a refusal: a log may hold only a group kept at a rate of its own on purpose."""
    logged = {lr: m.logged_lr for lr, m in measured.items() if m.logged_lr}
    if len(logged) < 2 or max(logged) < 100 * min(logged):
        return ()
    first = next(iter(logged.values()))
    for peaks in logged.values():
        if len(peaks) != len(first) or not all(
            math.isclose(a, b, rel_tol=cfg.same_lr_rel, abs_tol=0.0) for a, b in zip(peaks, first, strict=True)
        ):
            return ()
    return (
        f"every run logged lr {first[0]:.6g}, given {{lr}} from {min(logged):.3g} to {max(logged):.3g}: unless "
        "that is a parameter group kept at a rate of its own, the command does not train at the {lr} it is "
        "given, and the pick is noise; pass {lr} on to the optimizer's learning rate",
    )


def _parse(template: str) -> list[str]:
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise ProbeError(f"--cmd {template!r}: cannot split it into arguments ({exc})") from exc
    for token in ("{lr}", "{out}"):
        if not any(token in arg for arg in argv):
            raise ProbeError(
                f"--cmd {template!r}: no {token} in the command; e.g. train.py --lr {{lr}} --log-dir {{out}}"
            )
    return argv


def _run_once(argv: list[str], lr: float, cfg: CmdConfig) -> Measured:
    with tempfile.TemporaryDirectory(prefix="lrdoctor-probe-") as out:
        args = [a.replace("{lr}", _as_given(lr)).replace("{out}", out) for a in argv]
        try:
            done = subprocess.run(args, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise ProbeError(f"--cmd: cannot run {args[0]!r} ({exc.strerror or exc})") from exc
        try:
            measured = _score(Path(out), cfg)
        except LrdoctorError as exc:
            measured = Measured(math.inf, 0, f"no log read from {{out}}: {str(exc).replace(out, '{out}')}")
        if done.returncode != 0:  # a run that failed counts as diverged, whatever it logged first
            failed = f"exit {done.returncode}: {_last_line(done.stderr).replace(out, '{out}')}"
            return Measured(math.inf, measured.steps, failed, measured.logged_lr)
        return measured


def _without_rate(note: str, lr: float) -> str:
    """A failure's note with the rate its message names put as {lr} (in the message, not the exit
    status: 'exit 1' at lr 1 is no rate): 'exit 1: bad value 0.001' and 'exit 1: bad value 0.01'
    are the same failure. (A digit of another number taken for the rate only keeps two failures
    apart: the command then runs at more rates, as it would have.)"""
    status, sep, message = note.partition(": ")
    return status + sep + message.replace(_as_given(lr), "{lr}") if sep else note


def _as_given(lr: float) -> str:
    """The rate as the command receives it in place of {lr}."""
    return f"{lr:.6g}"


def _score(out: Path, cfg: CmdConfig) -> Measured:
    """The run's last validation loss, else the mean of its training loss's last tenth; +inf if any
    is not finite; with the steps it took and the rate it logged."""
    from lrdoctor import load

    run = load(_log_in(out))
    loss, logged_lr = run.loss, _logged_rates(run)
    # Optimizer steps taken: the last step logged, plus one where the log counts from step 0.
    steps = int(loss.steps[-1]) + int(loss.steps[0] == 0) if len(loss) and np.isfinite(loss.steps[-1]) else len(loss)
    if not np.isfinite(loss.values).all():
        return Measured(math.inf, steps, logged_lr=logged_lr)
    tail = max(1, math.ceil(len(loss) * cfg.tail_frac))
    end = float(np.mean(loss.values[-tail:]))
    if len(loss) > tail and end > cfg.diverged_factor * float(loss.values[0]) > 0:
        return Measured(math.inf, steps, logged_lr=logged_lr)  # blew up, finite or not
    val = run.val_loss
    if val is not None and len(val):
        last = float(val.values[-1])
        return Measured(last if math.isfinite(last) else math.inf, steps, logged_lr=logged_lr)
    return Measured(end, steps, logged_lr=logged_lr)


def _logged_rates(run: Run) -> tuple[float, ...] | None:
    """The peak of each learning-rate series in the log, in group order; None where there is none."""
    from lrdoctor import naming

    peaks = []
    for name in naming.lr_series(run.series):
        values = run.series[name].values
        values = values[np.isfinite(values)]
        if len(values):
            peaks.append(float(values.max()))
    return tuple(peaks) or None


def _log_in(out: Path) -> Path:
    """The folder itself when a reader knows its layout, else the one run found in it as
    `diagnose` finds runs (Lightning's lightning_logs/version_0/, a log beside a checkpoint),
    else its one file."""
    from lrdoctor.readers import READERS
    from lrdoctor.sweep import find_runs

    if any(reader.in_dir(out) is not None for reader in READERS.values()):
        return out
    runs = [r for r in find_runs(out) if r != out]
    if len(runs) == 1:
        return runs[0]
    if len(runs) > 1:
        found = ", ".join(str(r.relative_to(out)) for r in runs[:5])
        raise ProbeError(f"expected one run in {{out}}, found {len(runs)}: {found}")
    files = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    if len(files) != 1:
        found = ", ".join(p.name for p in files[:5]) or "nothing"
        raise ProbeError(f"expected one log file in {{out}}, found {found}")
    return files[0]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no message"
