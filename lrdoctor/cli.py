"""The command line: thin commands over the library. The only module that imports click."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from lrdoctor import __version__
from lrdoctor._alloc import reuse_freed_memory
from lrdoctor.errors import LrdoctorError

F = TypeVar("F", bound=Callable[..., Any])


def format_option(choices: tuple[str, ...], help: str) -> Callable[[F], F]:
    """A command's --format: its choices, text by default."""
    return click.option("--format", "output", type=click.Choice(choices), default="text", show_default=True, help=help)


OUTPUT_FORMATS = ("text", "json", "markdown", "csv")


class Outcome:
    """Whether a block of work met bad input (reported already) and so ends with exit code 2."""

    failed = False


@contextlib.contextmanager
def errors_reported(debug: bool, source: str | None = None) -> Iterator[Outcome]:
    """Turn any failure into one line on standard error; --debug re-raises for the traceback.
    `source` names the file an unforeseen failure came from (lrdoctor's own errors name it already)."""
    outcome = Outcome()
    try:
        yield outcome
    except LrdoctorError as exc:
        if debug:
            raise
        _error(str(exc), outcome)
    except BrokenPipeError:  # the reader went away (`| head`): click ends quietly
        raise
    except Exception as exc:  # a bug or an input nobody foresaw: still one line, no traceback
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_FULL:  # the output, not the log: said by main
            raise
        if debug:
            raise
        where = f"{source}: " if source is not None else ""
        _error(f"{where}unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", outcome)


def _error(message: str, outcome: Outcome) -> None:
    from lrdoctor.report.text import safe

    outcome.failed = True
    with contextlib.suppress(OSError):  # standard error full: the exit code (2) still says it
        click.echo(f"lrdoctor: error: {safe(' '.join(message.split()))}", err=True)


class Rate(click.ParamType):
    """A learning rate: a finite number above zero."""

    name = "rate"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            rate = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(rate) and rate > 0):
            self.fail(f"{value!r} is not a learning rate (a finite number above zero)", param, ctx)
        return rate


RATE = Rate()


class FiniteRange(click.FloatRange):
    """A finite number within the range: click's range lets NaN (no comparison holds) and inf
    through, a watch polling every NaN seconds never wakes and one every inf seconds overflows."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def input_options(func: F) -> F:
    """Options shared by every command that reads logs."""
    options = [
        click.option(
            "--reader",
            "reader",
            metavar="NAME",
            help="Force a reader instead of detecting it: tensorboard, mlflow, wandb, json, jsonl, csv, text.",
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
        click.option(
            "--lr",
            type=RATE,
            metavar="VALUE",
            help="The base learning rate, where the log has none (it overrides a logged one, with a note).",
        ),
        click.option("--debug", is_flag=True, help="Show the full traceback on errors."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class OneLineErrors(click.Group):
    """A usage error (an unknown option, a bad choice, a missing PATH) is one line on standard
    error with exit code 2, as every other error is, instead of click's three-line block."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        _writable_whatever_the_encoding()
        given = list(args) if args is not None else sys.argv[1:]
        if sys.stdout is None and next((a for a in given if not a.startswith("-")), None) != "report":
            # (started with standard output closed, `>&-`: the result would go nowhere, and the exit
            # code alone had said the run was healthy)
            click.echo("lrdoctor: error: cannot write the output: standard output is closed", err=True)
            sys.exit(2)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:  # `lrdoctor` alone: the help, as --help gives it
            click.echo(e.ctx.get_help())
            sys.exit(0)
        except click.UsageError as e:
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            click.echo(f"lrdoctor: error: {e.format_message()}{hint}", err=True)
            sys.exit(e.exit_code)
        except click.ClickException as e:
            click.echo(f"lrdoctor: error: {e.format_message()}", err=True)
            sys.exit(e.exit_code)
        except click.Abort:  # Ctrl-C (click turns KeyboardInterrupt into Abort): the shell's code for SIGINT
            click.echo("lrdoctor: interrupted", err=True)
            sys.exit(130)
        except OSError as e:
            if e.errno not in _OUTPUT_FULL:
                raise
            _output_lost(e)
        try:
            if sys.stdout is not None:  # None: started with standard output closed
                sys.stdout.flush()  # what is still buffered: a full disk shows here, not at exit
        except OSError as e:
            if e.errno not in _OUTPUT_FULL:
                raise
            _output_lost(e)
        sys.exit(code if isinstance(code, int) else 0)


def _writable_whatever_the_encoding() -> None:
    """Text the output's encoding cannot hold (a file named in bytes that are not UTF-8, read as
    lone surrogates; CJK names on a cp1252 console) is written escaped ('\\udcff', '\\u8bad'):
    it had raised UnicodeEncodeError, a traceback and exit 1, and lost the whole table."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


# Errors only a write raises: the output went to a full disk (`> /dev/full`), or past a quota or size limit.
_OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _output_lost(e: OSError) -> NoReturn:
    """Say that the output could not be written (exit 2), and drop what is still buffered for it."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    with contextlib.suppress(OSError):  # standard error full too (`> out 2>&1`): the exit code says it
        click.echo(f"lrdoctor: error: cannot write the output: {e.strerror or e}", err=True)
    sys.exit(2)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lrdoctor")
def cli() -> None:
    """Diagnose the learning rate of a training run from its loss log.

    lrdoctor reads the log a training run left behind (CSV, TensorBoard, JSON, JSON Lines,
    console text, MLflow, W&B), finds the training loss and the learning rate, and says what the
    curve shows: divergence, oscillation, plateaus, slow convergence, loss spikes, and
    overfitting where a validation loss is logged.

    \b
    Example:
        lrdoctor diagnose runs/exp1/metrics.csv
        lrdoctor diagnose runs/exp1/ --format json
        lrdoctor inspect train.log
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@input_options
@click.option(
    "--probe",
    "probe_spec",
    metavar="SPEC",
    help="Measure the rate on your model (path/to/file.py:function, see `lrdoctor probe`) and recommend that.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Runs diagnosed at once when PATH is a directory of runs or a glob. Default: the number of cores.",
)
@format_option(
    OUTPUT_FORMATS,
    (
        "Output: text for people; json for programs (one object, or an array for several PATHs); "
        "markdown, a document to paste in an issue or a pull request; csv, one row per run."
    ),
)
def diagnose(
    paths: tuple[str, ...],
    reader: str | None,
    metric: str | None,
    segment: int | None,
    debug: bool,
    lr: float | None,
    probe_spec: str | None,
    jobs: int | None,
    output: str,
) -> None:
    """Read each log and report what its learning rate did.

    PATH is a log file (any supported format, gzip too), a run directory (TensorBoard,
    Lightning version dir, MLflow run, HF output dir, Ultralytics run) or - for standard
    input. A directory
    holding several runs, or a glob, diagnoses every run in it in parallel and prints one
    table sorted by verdict (--format json: the array; csv: a summary sheet), with the rate
    a learning-rate sweep points to.

    Exit codes: 0 nothing of severity error found, 1 something was (e.g. NaN loss),
    2 bad input or usage (one line on standard error).

    \b
    Example:
        lrdoctor diagnose sample_logs/csv/digits_mlp_adam_ok.csv
        lrdoctor diagnose lightning_logs/version_3 --format json
        lrdoctor diagnose lightning_logs/ --jobs 4 --format csv > runs.csv
        cat train.log | lrdoctor diagnose -
    """
    from lrdoctor import load
    from lrdoctor.diagnosis import diagnose as run_diagnosis
    from lrdoctor.errors import InputError
    from lrdoctor.report import RENDERERS
    from lrdoctor.sweep import LoadOptions, expand, holds_run

    with errors_reported(debug) as outcome:
        if probe_spec is not None:  # a SPEC that cannot work is refused before the logs are judged
            from lrdoctor.probe.spec import check_spec

            check_spec(probe_spec)
        found = expand(paths)
    if outcome.failed:
        sys.exit(2)
    if found.several and probe_spec is not None:  # the probe judges one run: the one that reads, if one does
        readable = [t for t in found.targets if t.problem is None and holds_run(t.path)]
        if len(readable) == 1:  # and a pattern that matched nothing stays the error it is
            kept = readable + [t for t in found.targets if t.problem is not None]
            found = dataclasses.replace(found, targets=kept, several=False)
    # (a directory of runs or a glob; with --probe, two runs named one by one too)
    named = [t for t in found.targets if t.problem is None]
    if found.several or (probe_spec is not None and len(named) > 1):
        if probe_spec is not None:
            click.echo(
                f"lrdoctor: error: --probe measures one model for one run, and {', '.join(paths)} holds "
                f"{len(found.targets)}: name one run, or leave --probe out",
                err=True,
            )
            sys.exit(2)
        options = LoadOptions(reader=reader, metric=metric, segment=segment, lr=lr)
        one_folder = len(paths) == 1 and os.path.isdir(paths[0])
        code = _diagnose_many(
            found.targets, options, jobs=jobs, output=output, debug=debug, paths=paths, one_folder=one_folder
        )
        sys.exit(code)

    results = []
    bad_input = False
    for target in found.targets:  # one each; a folder holding one run deeper: that run
        path = target.path
        with errors_reported(debug, source=path) as outcome:
            if target.problem is not None:
                raise InputError(f"{path}: {target.problem}")
            results.append(run_diagnosis(load(path, format=reader, metric=metric, segment=segment, lr=lr)))
        bad_input = bad_input or outcome.failed
    if probe_spec is not None and results:
        with errors_reported(debug) as outcome:
            from lrdoctor.probe import fold_into, measure

            with contextlib.redirect_stdout(sys.stderr):  # the user's prints stay off the report
                probed = measure(spec=probe_spec)
            results = [fold_into(dx, probed) for dx in results]
        if outcome.failed:  # no diagnosis a script could take for the probe's: the error alone
            results = []
        bad_input = bad_input or outcome.failed
    if output == "json" and len(paths) > 1:  # several paths: an array, even of one run or none
        from lrdoctor.report import json_report

        click.echo(json_report.render(results, array=True))
    elif results:
        click.echo(RENDERERS[output](results))
    if probe_spec is not None:
        _user_code_writes_to_stderr()
    if bad_input:
        sys.exit(2)
    sys.exit(1 if any(dx.failed for dx in results) else 0)


def _user_code_writes_to_stderr() -> None:
    """Once the result is out: what the probed code still writes to standard output (its hooks at
    exit, its threads: wandb, mlflow, a logger's flush) goes to standard error, as its prints during
    the probe did; it had come after the result and broken the JSON a script reads."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.flush()
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr


@cli.command()
@click.argument("path", metavar="PATH")
@click.option(
    "--reader",
    "reader",
    metavar="NAME",
    help="Force a reader instead of detecting it: tensorboard, mlflow, wandb, json, jsonl, csv, text.",
)
@format_option(
    ("text", "json"),
    "Output: text for people, json for programs (each series: name, role, points, steps, range).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def inspect(path: str, reader: str | None, output: str, debug: bool) -> None:
    """List every series in a log: points, steps, range, non-finite values.

    Use it to pick --metric for diagnose. The guessed training loss, validation loss and
    learning rate are marked in the role column. A folder of several runs is listed run by run
    (with --format json, an array).

    \b
    Example:
        lrdoctor inspect runs/exp1/events.out.tfevents.1700000000.host
        lrdoctor inspect lightning_logs/
    """
    from lrdoctor.errors import InputError
    from lrdoctor.inspect import describe
    from lrdoctor.readers import read_log
    from lrdoctor.report.json_report import clean
    from lrdoctor.sweep import Result, expand

    with errors_reported(debug, source=path) as outcome:
        found = expand([path])  # a directory of runs: each run found in it
    if outcome.failed:
        sys.exit(2)
    docs: list[dict[str, Any]] = []
    bad_input = False
    passed_over = []
    for target in found.targets:
        with errors_reported(debug, source=target.path) as outcome:
            if target.problem is not None:
                raise InputError(f"{target.path}: {target.problem}")
            try:
                log = read_log(target.path, format=reader)
            except LrdoctorError as exc:
                if Result(target, error=exc).skipped:  # a loose file beside the runs, as diagnose passes over
                    passed_over.append(target.path)
                    continue
                raise
            rows, said = describe(log)
            head = {"source": log.source, "format": log.format, "step_kind": log.step_kind}
            docs.append({**head, "series": rows, "warnings": said})
        bad_input = bad_input or outcome.failed
    _note_passed_over(passed_over)
    if not docs and not bad_input:  # every file found was passed over: nothing listed is no success
        click.echo(f"lrdoctor: error: no training log among the files found in {_listed([path])}", err=True)
        bad_input = True
    # A folder whose other files were all passed over (a results.json beside the log) holds one run.
    one_folder = os.path.isdir(path) and len(docs) == 1 and len(passed_over) == len(found.targets) - 1
    several = found.several and not one_folder
    if output == "json":
        # Non-finite numbers become null value by value (never by editing the text: a file or a
        # series may be named "NaN_run").
        out = [clean({**d, "series": [vars(r) for r in d["series"]]}) for d in docs]
        if several or out:
            click.echo(json.dumps(out if several else out[0], indent=2, default=_json_default, allow_nan=False))
    else:
        blocks = []
        for d in docs:
            lines = [f"{d['source']}  ({d['format']}, {len(d['series'])} series, x axis: {d['step_kind']})"]
            lines.append(_table(d["series"]))
            lines += [f"note: {w}" for w in d["warnings"]]
            blocks.append("\n".join(lines))
        if blocks:
            click.echo("\n\n".join(blocks))
    sys.exit(2 if bad_input else 0)


def _diagnose_many(
    targets: list[Any],
    options: Any,
    *,
    jobs: int | None,
    output: str,
    debug: bool,
    paths: Sequence[str],
    one_folder: bool = False,
) -> int:
    """Diagnose every run found, report failures in one line each, render the table; the exit code.

    With `one_folder` (a single PATH, a directory) where every file but one was passed over as no
    training log (a results.json beside the log), that one run is reported as a run alone is.
    """
    from lrdoctor.report import summary
    from lrdoctor.report.markdown import md
    from lrdoctor.report.text import safe
    from lrdoctor.sweep import ProgressBar, by_verdict, describe, diagnose_all, no_advice_because, sweep_advice

    results = diagnose_all(targets, options, jobs=jobs, progress=ProgressBar())
    bad_input = False
    for r in results:
        if r.error is not None and not r.skipped:
            with errors_reported(debug) as outcome:
                raise r.error
            bad_input = bad_input or outcome.failed
    skipped = [r.target.path for r in results if r.skipped]
    if skipped:
        _note_passed_over(skipped)
        if len(skipped) == len(results):  # as check says: nothing was judged, which is no pass
            click.echo(f"lrdoctor: error: no training log among the files found in {_listed(paths)}", err=True)
            bad_input = True
    found = [r.diagnosis for r in results if r.diagnosis is not None]
    if one_folder and len(found) == 1 and len(skipped) == len(results) - 1 and output != "csv":
        from lrdoctor.report import RENDERERS

        click.echo(RENDERERS[output](found))
    elif output == "json":
        click.echo(summary.render_array(found))
    elif found:
        ordered = by_verdict(found)
        render = {"csv": summary.render_csv, "markdown": summary.render_markdown}.get(output, summary.table)
        click.echo(render(ordered))
        advice = sweep_advice(found)
        line = None
        if advice is not None and output in ("text", "markdown"):
            line = describe(advice)
        elif output in ("text", "markdown") and len(found) > 1:
            line = f"no rate from the sweep: {no_advice_because(found)}"
        if line is not None:  # (names from the log: escaped as the table's are, in Markdown)
            click.echo(f"\n{md(line) if output == 'markdown' else safe(line)}")
    if bad_input:
        return 2
    return 1 if any(dx.failed for dx in found) else 0


def gate_options(func: F) -> F:
    """Options of the commands that pass or fail a run (check, watch); they win over [tool.lrdoctor]."""
    options = [
        click.option(
            "--threshold",
            "thresholds",
            multiple=True,
            metavar="KEY=VALUE",
            help="Set a diagnosis threshold, e.g. divergence.explode_ratio=50 or verdict.min_confidence=0.5.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File with a [tool.lrdoctor] table. Default: the nearest pyproject.toml above the current directory.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="FILE...")
@input_options
@gate_options
@click.option(
    "--fail-on",
    metavar="VERDICTS",
    multiple=True,
    help="Also fail on these verdicts (too_high, too_low, ok, unknown), e.g. too_high,too_low; '' for none. "
    "Repeatable: the lists add up.",
)
@click.option(
    "--fail-on-pathology",
    metavar="NAMES",
    multiple=True,
    help="Also fail on these pathologies whatever their severity, e.g. divergence,loss_spike,plateau. "
    "Repeatable: the lists add up.",
)
@click.option(
    "--min-confidence",
    type=FiniteRange(0.0, 1.0),
    metavar="P",
    help="A --fail-on verdict fails only this sure or surer.",
)
@click.option(
    "--skip-unreadable",
    is_flag=True,
    help="Pass over files that are no training log (a requirements.txt) instead of exiting with 2. "
    "A file that cannot be opened (no permission) still fails: it may be a run.",
)
@format_option(
    ("text", "github"),
    "text: one line per file; github: also GitHub Actions annotations on each file.",
)
def check(
    paths: tuple[str, ...],
    reader: str | None,
    metric: str | None,
    segment: int | None,
    debug: bool,
    lr: float | None,
    thresholds: tuple[str, ...],
    config_file: Path | None,
    fail_on: tuple[str, ...],
    fail_on_pathology: tuple[str, ...],
    min_confidence: float | None,
    skip_unreadable: bool,
    output: str,
) -> None:
    """Gate many logs: one line each, exit 1 when any fails.

    A log fails on a finding of severity error (a NaN loss, a divergence), on a verdict named
    in --fail-on, or on a pathology named in --fail-on-pathology. Settings are read from
    [tool.lrdoctor] in the nearest pyproject.toml; options win.

    A directory of runs (lightning_logs/, runs/) or a quoted glob is checked run by run.

    Exit codes: 0 every log passed, 1 some log failed, 2 bad input or usage.

    \b
    Example:
        lrdoctor check runs/*/metrics.csv
        lrdoctor check lightning_logs/
        lrdoctor check logs/train.log --fail-on too_high,too_low --format github
    """
    from lrdoctor.config import diagnosis_config, gate, parse_list, parse_thresholds, resolve
    from lrdoctor.diagnosis import diagnose as run_diagnosis
    from lrdoctor.errors import DamagedLog, InputError, MissingMetric, NoLossYet, NoSeries, UnreadableLog
    from lrdoctor.normalize import normalize, runs_to_judge
    from lrdoctor.readers import read_log
    from lrdoctor.report import check as check_report
    from lrdoctor.report import github
    from lrdoctor.report.text import safe
    from lrdoctor.sweep import Result, expand

    with errors_reported(debug) as outcome:
        settings = resolve(
            config_file,
            metric=metric,
            fail_on=parse_list(",".join(fail_on) if fail_on else None),
            fail_on_pathology=parse_list(",".join(fail_on_pathology) if fail_on_pathology else None),
            min_confidence=min_confidence,
            thresholds=parse_thresholds(thresholds),
        )
        config = diagnosis_config(settings)
    if outcome.failed:
        sys.exit(2)
    with errors_reported(debug) as outcome:
        found = expand(paths)  # a directory of runs or a glob: each run found in it
    if outcome.failed:
        sys.exit(2)
    failed = bad_input = False
    passed_over: list[str] = []
    for target in found.targets:
        path = target.path
        with errors_reported(debug, source=path) as outcome:
            if target.problem is not None:
                if output == "github":  # (annotated as every other input that cannot be read is)
                    click.echo(github.unreadable(path, f"{path}: {target.problem}"))
                raise InputError(f"{path}: {target.problem}")
            try:
                log = read_log(path, format=reader)
                run = normalize(log, metric=settings.metric, segment=segment, lr=lr)
            except (UnreadableLog, NoSeries) as exc:
                # A wrong --metric is no skip, nor a damaged log (broken gzip data, a cut HF state),
                # nor a table whose loss column is empty on every row (a loss NaN from the start).
                if skip_unreadable and not isinstance(exc, MissingMetric | DamagedLog | NoLossYet):
                    said = safe(f"{path}: skipped, not a training log ({exc})")
                    click.echo(github.plain(said) if output == "github" else said)
                    continue
                # A loose file or stray folder found by searching (a summary.txt beside the runs)
                # is passed over, as diagnose does; a run that logged nothing yet fails the gate.
                if Result(target, error=exc).skipped:
                    passed_over.append(path)
                    continue
                if output == "github":
                    click.echo(github.unreadable(path, str(exc)))
                raise
            except LrdoctorError as exc:  # (no such file, one that cannot be read: annotated too)
                if output == "github":
                    click.echo(github.unreadable(path, str(exc)))
                raise
            # A W&B export of several runs: the gate judges each (unless --metric names one), not
            # only the one diagnose shows.
            runs = runs_to_judge(log, run.metric) if settings.metric is None else [("", run.metric)]
            shown = run.source if path == "-" else path  # '<stdin>', as diagnose names it
            unjudged = [name for name, loss in runs if loss is None]
            if unjudged:
                click.echo(
                    safe(f"lrdoctor: note: {shown}: not judged, no training loss logged: run(s) {', '.join(unjudged)}"),
                    err=True,
                )
            metrics = [loss for _, loss in runs if loss is not None]
            for name in metrics:
                each = run if name == run.metric else normalize(log, metric=name, segment=segment, lr=lr)
                label = shown if len(metrics) == 1 else f"{shown} [{name}]"
                if len(each.segments) > 1:  # runs appended in one log: say which one was judged
                    label += f" [appended run {each.segment} of {len(each.segments)}; choose with --segment N]"
                dx = run_diagnosis(each, config=config)
                reasons = gate(dx, settings)
                failed = failed or bool(reasons)
                said = check_report.line(label, dx, reasons)
                click.echo(github.plain(said) if output == "github" else said)
                if output == "github":
                    notes = github.annotate(path, dx, reasons, run=name if len(metrics) > 1 else None)
                    click.echo("\n".join(notes), nl=bool(dx.findings or reasons))
        bad_input = bad_input or outcome.failed
    if passed_over:
        _note_passed_over(passed_over)
        if len(passed_over) == len(found.targets):
            click.echo(f"lrdoctor: error: no training log among the files found in {_listed(paths)}", err=True)
            bad_input = True
    sys.exit(2 if bad_input else 1 if failed else 0)


@cli.command()
@click.argument("spec", required=False, metavar="SPEC")
@click.option("--cmd", "command", metavar="COMMAND", help="Run this training command per rate instead: {lr} and {out}.")
@click.option("--steps", type=int, default=300, show_default=True, help="Budget in optimizer steps (at least 30).")
@click.option("--min-lr", type=RATE, metavar="LR", help="Lowest rate tried. Default 1e-6 (--cmd: 1e-5).")
@click.option("--max-lr", type=RATE, metavar="LR", help="Highest rate tried. Default 10.")
@click.option(
    "--device",
    type=click.Choice(("cpu", "cuda", "mps")),
    default="cpu",
    show_default=True,
    help="Where the probe trains its copies of the model.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the curve: PNG, or SVG/PDF by suffix.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the factory's and probe's randomness.")
@click.option("--amp", is_flag=True, help="Mixed precision (float16 on CUDA, bfloat16 on CPU).")
@click.option(
    "--amp-dtype",
    type=click.Choice(("float16", "bfloat16")),
    help="Mixed precision in this type (implies --amp); float16 adds loss scaling.",
)
@click.option("--accum", type=int, default=1, show_default=True, help="Minibatches per optimizer step.")
@click.option("--val", is_flag=True, help="Range-test curve on the validation loss (needs val_batches).")
@format_option(
    ("text", "json"),
    "Output: text for people, json for programs (the recommended rate, the method and every trial).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def probe(
    spec: str | None,
    command: str | None,
    steps: int,
    min_lr: float | None,
    max_lr: float | None,
    device: str,
    plot_path: str | None,
    seed: int,
    amp: bool,
    amp_dtype: str | None,
    accum: int,
    val: bool,
    output: str,
    debug: bool,
) -> None:
    """Recommend a learning rate by measuring it on your own model.

    SPEC is path/to/file.py:function; the function returns a dict with model, batches and
    optionally loss_fn, optimizer (a callable (params, lr)) and val_batches. The probe trains
    copies (your model is left as it was): a range test finds where the loss stops falling,
    then short trials at half-decade rates around that limit, from the same initial weights,
    pick the rate by measured loss.
    The last line of text output is `recommended_lr VALUE`.

    \b
    Example:
        lrdoctor probe train.py:make_probe
        lrdoctor probe train.py:make_probe --steps 200 --format json --plot lr.png
        lrdoctor probe --cmd "python train.py --lr {lr} --max-steps 100 --log-dir {out}"
    """
    from lrdoctor.probe import ProbeOptions, measure
    from lrdoctor.probe.render import render_json, render_text

    options = ProbeOptions(
        steps=steps,
        min_lr=min_lr,
        max_lr=max_lr,
        device=device,
        seed=seed,
        amp=amp,
        amp_dtype=amp_dtype,
        accum=accum,
        val=val,
    )
    with errors_reported(debug) as outcome:
        if plot_path is not None:
            from lrdoctor.probe.plot import check_target

            check_target(plot_path)
        # Standard output holds the result alone: what the user's code prints goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = measure(spec=spec, command=command, options=options)
    if outcome.failed:
        _user_code_writes_to_stderr()
        sys.exit(2)
    click.echo(render_json(result) if output == "json" else render_text(result))
    _user_code_writes_to_stderr()
    if plot_path is not None:
        with errors_reported(debug) as outcome:
            from lrdoctor.probe.plot import plot

            plot(result, plot_path)
        if outcome.failed:
            sys.exit(2)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@input_options
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The report to write: NAME.html (one self-contained page) or NAME.md (Markdown, PNGs beside it).",
)
@click.option("--force", is_flag=True, help="Overwrite the report (and its pictures) if they exist.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N", help="Runs diagnosed at once (default: cores).")
def report(
    paths: tuple[str, ...],
    reader: str | None,
    metric: str | None,
    segment: int | None,
    debug: bool,
    lr: float | None,
    out: Path,
    force: bool,
    jobs: int | None,
) -> None:
    """Write the diagnosis as a page to read: plots of each run, findings, the rate to use.

    Per run: the verdict, the loss curve (raw and smoothed) with the validation loss and the
    learning rate, each finding shaded over its steps, the recommendation and the statistics
    behind each finding. With several runs (or a directory of runs): an overview table, the
    curves overlaid, and the rate a learning-rate sweep points to. Needs matplotlib
    (pip install 'lrdoctor[report]').

    Exit codes: as diagnose; 2 also when the report exists (pass --force) or cannot be written.

    \b
    Example:
        lrdoctor report runs/exp1/metrics.csv -o report.html
        lrdoctor report lightning_logs/ -o sweep.md --force
    """
    from lrdoctor.report.document import check_page, write_report
    from lrdoctor.sweep import LoadOptions, ProgressBar, diagnose_all, expand

    with errors_reported(debug) as outcome:
        check_page(out, force=force, inputs=paths)
    if outcome.failed:
        sys.exit(2)
    results = []
    with errors_reported(debug) as outcome:
        found = expand(paths)
        options = LoadOptions(reader=reader, metric=metric, segment=segment, lr=lr)
        results = diagnose_all(found.targets, options, jobs=jobs, progress=ProgressBar())
    bad_input = outcome.failed
    unread = []
    for r in results:
        if r.error is not None and not r.skipped:
            with errors_reported(debug) as outcome:
                raise r.error
            bad_input = True
            unread.append(str(r.error))
    diagnoses = [r.diagnosis for r in results if r.diagnosis is not None]
    passed_over = [r.target.path for r in results if r.skipped]
    _note_passed_over(passed_over)
    if passed_over and len(passed_over) == len(results):
        click.echo(f"lrdoctor: error: no training log among the files found in {_listed(paths)}", err=True)
        sys.exit(2)
    if bad_input and not diagnoses:  # each input's error is said already: nothing to write
        sys.exit(2)
    with errors_reported(debug) as outcome:
        written = write_report(
            diagnoses, out, force=force, progress=ProgressBar(unit="pictures"), inputs=paths, unread=unread
        )
        click.echo(f"wrote {', '.join(str(p) for p in written)} ({len(diagnoses)} run(s))", err=True)
    if bad_input or outcome.failed:
        sys.exit(2)
    sys.exit(1 if any(dx.failed for dx in diagnoses) else 0)


@cli.command()
@click.argument("path", metavar="PATH")
@input_options
@gate_options
@click.option(
    "--poll",
    type=FiniteRange(min=0.01),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="How often to look at the log for new points.",
)
@click.option(
    "--exit-on",
    metavar="NAMES",
    multiple=True,
    help="Pathologies that stop the watch with exit 1, found at severity warning or above (a divergence: "
    "error). Default: divergence. Repeatable: the lists add up.",
)
@click.option(
    "--timeout",
    type=FiniteRange(min=0),
    metavar="SECONDS",
    help="Stop after this long: exit 0, or 1 where a NaN at the end of the log is still undecided.",
)
def watch(
    path: str,
    reader: str | None,
    metric: str | None,
    segment: int | None,
    debug: bool,
    lr: float | None,
    thresholds: tuple[str, ...],
    config_file: Path | None,
    poll: float,
    exit_on: tuple[str, ...],
    timeout: float | None,
) -> None:
    """Follow a log still being written; stop as soon as a pathology is confirmed.

    The log (a text, CSV or JSON Lines file being appended to, a W&B run folder, or a
    TensorBoard directory whose event files grow) is diagnosed again whenever it changes. A line is printed when the
    verdict or the findings change. A file that is replaced, rotated or truncated is read again
    from its start.

    Exit codes: 1 a pathology in --exit-on was confirmed (or a NaN at the end of the log still
    stood when --timeout came), 0 --timeout passed without one, 2 bad input or usage, 130
    stopped with Ctrl-C.

    \b
    Example:
        lrdoctor watch runs/exp1/metrics.csv --exit-on divergence,loss_spike
        python train.py > train.log & lrdoctor watch train.log --poll 5
    """
    from lrdoctor.config import diagnosis_config, parse_list, parse_thresholds, resolve
    from lrdoctor.report import check as check_report
    from lrdoctor.sweep import LoadOptions
    from lrdoctor.watch import WatchConfig, follow

    if path == "-":  # a pipe cannot be re-read as it grows; `diagnose -` reads one to its end
        click.echo(
            "lrdoctor: error: watch follows a file as it grows, not standard input: "
            "give the log's path, or use `lrdoctor check -` on a finished log",
            err=True,
        )
        sys.exit(2)
    named = path
    with errors_reported(debug) as outcome:
        path = _one_run_to_watch(path)
    if outcome.failed:
        sys.exit(2)
    last = None
    try:
        with errors_reported(debug) as outcome:
            settings = resolve(
                config_file,
                metric=metric,
                exit_on=parse_list(",".join(exit_on) if exit_on else None),
                thresholds=parse_thresholds(thresholds),
            )
            options = LoadOptions(reader, settings.metric, segment, lr, diagnosis_config(settings))
            config = WatchConfig(poll=poll, exit_on=settings.exit_on, timeout=timeout)
            ends = [name for name in settings.exit_on if name in ("slow_convergence", "plateau")]
            if ends:
                click.echo(
                    f"lrdoctor: note: {' and '.join(ends)} {'judge' if len(ends) > 1 else 'judges'} a run's end: "
                    "early in a run, healthy runs show it too, and the watch stops there",
                    err=True,
                )
            for event in follow(path, options=options, config=config, folder=named):
                if event.kind == "update" and event.diagnosis is not None:
                    dx = event.diagnosis
                    summary = (dx.verdict, tuple((f.pathology, f.severity) for f in dx.findings))
                    if summary != last:
                        click.echo(check_report.line(path, dx, []))
                    last = summary
                elif event.kind in ("waiting", "replaced", "found"):
                    click.echo(f"lrdoctor: {check_report.safe(event.message)}", err=True)
                    path = str(event.path) if event.path is not None else path  # the run found in the folder
                elif event.kind == "confirmed":
                    click.echo(f"lrdoctor: {check_report.safe(event.message)}; stopping")
                    sys.exit(1)
                elif event.kind == "timeout":
                    click.echo(f"lrdoctor: {check_report.safe(event.message)}", err=True)
    except KeyboardInterrupt:
        click.echo("lrdoctor: stopped watching (Ctrl-C)", err=True)
        sys.exit(130)
    sys.exit(2 if outcome.failed else 0)


def _json_default(value: object) -> object:
    return None


def _one_run_to_watch(path: str) -> str:
    """The run PATH stands for (lrdoctor.watch.one_run): itself, or the one run in a folder; several
    runs or a pattern are refused (a watch follows one run as it grows)."""
    import os

    from lrdoctor.errors import InputError
    from lrdoctor.sweep import GLOB_CHARS
    from lrdoctor.watch import one_run

    if path == "":
        raise InputError("'': an empty path (an unset variable?)")
    if not os.path.lexists(path) and GLOB_CHARS.search(path):
        raise InputError(f"{path}: watch follows one log, not a pattern: give the path of one run")
    run = one_run(Path(path))
    return path if run == Path(path) else str(run)  # (as the user wrote it, where it is the run)


def _note_passed_over(paths: Sequence[str]) -> None:
    """One note on standard error naming the files found that hold no training log."""
    if paths:
        click.echo(
            f"lrdoctor: note: passed over {len(paths)} file(s) that hold no training log: {_listed(paths)}", err=True
        )


def _listed(paths: Sequence[str]) -> str:
    from lrdoctor.report.text import safe

    return ", ".join(safe(p) for p in paths)


def _table(rows: list[Any]) -> str:
    from lrdoctor.report.text import safe
    from lrdoctor.run import fmt_step

    head = ("series", "role", "points", "first", "last", "min", "max", "non-finite")
    body = [
        (
            safe(r.name),
            r.role,
            str(r.points),
            fmt_step(r.first_step),
            fmt_step(r.last_step),
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
    reuse_freed_memory()
    cli(prog_name="lrdoctor")
