"""The command line: thin commands over the library. The only module that imports click."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from lrdoctor import __version__
from lrdoctor.errors import LrdoctorError

F = TypeVar("F", bound=Callable[..., Any])
OUTPUT_FORMATS = ("text", "json", "markdown")


class Outcome:
    """Whether a block of work met bad input (reported already) and so ends with exit code 2."""

    failed = False


@contextlib.contextmanager
def errors_reported(debug: bool) -> Iterator[Outcome]:
    """Turn any failure into one line on standard error; --debug re-raises for the traceback."""
    outcome = Outcome()
    try:
        yield outcome
    except LrdoctorError as exc:
        if debug:
            raise
        _error(str(exc), outcome)
    except Exception as exc:  # a bug or an input nobody foresaw: still one line, no traceback
        if debug:
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", outcome)


def _error(message: str, outcome: Outcome) -> None:
    from lrdoctor.report.text import safe

    outcome.failed = True
    click.echo(f"lrdoctor: error: {safe(' '.join(message.split()))}", err=True)


def input_options(func: F) -> F:
    """Options shared by every command that reads logs."""
    options = [
        click.option(
            "--reader",
            "reader",
            metavar="NAME",
            help="Force a reader instead of detecting it: tensorboard, mlflow, json, jsonl, csv, text.",
        ),
        click.option(
            "--metric",
            metavar="NAME",
            help="Series to judge. Default: the training loss, found by "
            "name (loss, train_loss, train/loss, ...). See `lrdoctor inspect`.",
        ),
        click.option(
            "--segment",
            type=int,
            metavar="N",
            help="When several runs are appended in one log, judge run N (1 = first, -1 = last). Default: the last.",
        ),
        click.option("--debug", is_flag=True, help="Show the full traceback on errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lrdoctor")
def cli() -> None:
    """Diagnose the learning rate of a training run from its loss log.

    lrdoctor reads the log a training run left behind (CSV, TensorBoard, JSON, JSON Lines,
    console text, MLflow), finds the training loss and the learning rate, and says what the
    curve shows: divergence, oscillation, plateaus, slow convergence, loss spikes.

    \b
    Example:
        lrdoctor diagnose runs/exp1/metrics.csv
        lrdoctor diagnose runs/exp1/ --format json
        lrdoctor inspect train.log
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@input_options
@click.option("--lr", type=float, metavar="VALUE", help="The base learning rate, when the log does not record it.")
@click.option(
    "--format",
    "output",
    type=click.Choice(OUTPUT_FORMATS),
    default="text",
    show_default=True,
    help="Output: text for people, json for programs (one object, or an array for several PATHs).",
)
def diagnose(
    paths: tuple[str, ...],
    reader: str | None,
    metric: str | None,
    segment: int | None,
    debug: bool,
    lr: float | None,
    output: str,
) -> None:
    """Read each log and report what its learning rate did.

    PATH is a log file (any supported format, gzip too), a run directory (TensorBoard,
    Lightning version dir, MLflow run, HF output dir) or - for standard input.

    Exit codes: 0 nothing of severity error found, 1 something was (e.g. NaN loss),
    2 bad input or usage (one line on standard error).

    \b
    Example:
        lrdoctor diagnose sample_logs/csv/digits_mlp_adam_ok.csv
        lrdoctor diagnose lightning_logs/version_3 --format json
        tail -f train.log | lrdoctor diagnose -
    """
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose as run_diagnosis
    from lrdoctor.report import RENDERERS

    results = []
    bad_input = False
    for path in paths:
        with errors_reported(debug) as outcome:
            results.append(run_diagnosis(load(path, format=reader, metric=metric, segment=segment, lr=lr)))
        bad_input = bad_input or outcome.failed
    if results:
        click.echo(RENDERERS[output](results))
    if bad_input:
        sys.exit(2)
    sys.exit(1 if any(dx.failed for dx in results) else 0)


@cli.command()
@click.argument("path", metavar="PATH")
@click.option("--reader", "reader", metavar="NAME", help="Force a reader instead of detecting it.")
@click.option("--format", "output", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def inspect(path: str, reader: str | None, output: str, debug: bool) -> None:
    """List every series in a log: points, steps, range, non-finite values.

    Use it to pick --metric for diagnose. The guessed training loss, validation loss and
    learning rate are marked in the role column.

    \b
    Example:
        lrdoctor inspect runs/exp1/events.out.tfevents.1700000000.host
    """
    from lrdoctor.inspect import describe
    from lrdoctor.readers import read_log

    with errors_reported(debug) as outcome:
        log = read_log(path, format=reader)
        rows = describe(log)
    if outcome.failed:
        sys.exit(2)
    if output == "json":
        doc = {
            "source": log.source,
            "format": log.format,
            "step_kind": log.step_kind,
            "series": [vars(r) for r in rows],
            "warnings": log.warnings,
        }
        click.echo(json.dumps(doc, indent=2, default=_json_default).replace("NaN", "null"))
        return
    click.echo(f"{log.source}  ({log.format}, {len(rows)} series, x axis: {log.step_kind})")
    click.echo(_table(rows))
    for w in log.warnings:
        click.echo(f"note: {w}")


def _json_default(value: object) -> object:
    return None


def _table(rows: list[Any]) -> str:
    from lrdoctor.report.text import safe

    head = ("series", "role", "points", "first", "last", "min", "max", "non-finite")
    body = [
        (
            safe(r.name),
            r.role,
            str(r.points),
            f"{r.first_step:g}",
            f"{r.last_step:g}",
            "-" if r.min is None else f"{r.min:.4g}",
            "-" if r.max is None else f"{r.max:.4g}",
            str(r.nonfinite),
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body, strict=False)]
    line = "  ".join(f"{{:{'>' if i >= 2 else '<'}{w}}}" for i, w in enumerate(widths))
    return "\n".join(line.format(*r) for r in [head, *body])


def main() -> None:
    cli(prog_name="lrdoctor")
