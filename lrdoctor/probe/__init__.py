"""Recommend a learning rate by measurement on the user's own model (or training command).

The only part of lrdoctor that imports torch, and only once a probe runs: this module and
``config``, ``result``, ``render``, ``cmd``, ``progress``, ``curve`` and ``rates`` do not import it.

    from lrdoctor.probe import measure, ProbeOptions
    result = measure(spec="train.py:make_probe", options=ProbeOptions(steps=300))
    result.recommended_lr
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lrdoctor._compat import require
from lrdoctor.errors import ProbeError
from lrdoctor.probe.config import DEVICES, ProbeConfig, ProbeOptions
from lrdoctor.probe.result import ProbeResult, Trial

if TYPE_CHECKING:
    from lrdoctor.diagnosis import Diagnosis

__all__ = ["ProbeConfig", "ProbeError", "ProbeOptions", "ProbeResult", "Trial", "fold_into", "measure", "probe_parts"]

# Defaults of the rate range where the user gives none: the ramp is cheap, a command run is not.
RAMP_RANGE = (1e-6, 10.0)
CMD_RANGE = (1e-5, 10.0)
# The seeds torch.manual_seed accepts (a negative one is mapped onto the unsigned 64-bit range).
SEED_RANGE = (-(2**63), 2**64 - 1)
# Options of a SPEC probe that --cmd has no use for, at their defaults.
CMD_UNUSED = {
    name: getattr(ProbeOptions(), name) for name in ("steps", "device", "seed", "amp", "amp_dtype", "accum", "val")
}


def measure(
    *,
    spec: str | None = None,
    command: str | None = None,
    options: ProbeOptions | None = None,
    config: ProbeConfig | None = None,
    show_progress: bool = True,
) -> ProbeResult:
    """Probe a factory (`spec`, path/to/file.py:function) or a training command (`command`, with {lr} and {out})."""
    if (spec is None) == (command is None):
        raise ProbeError("give either SPEC (path/to/file.py:function) or --cmd COMMAND, not both or neither")
    opts = _with_range(options or ProbeOptions(), CMD_RANGE if command is not None else RAMP_RANGE)
    if command is not None:
        from lrdoctor.probe.cmd import probe_cmd

        _check_range(opts)
        unused = [f"--{name.replace('_', '-')}" for name, value in CMD_UNUSED.items() if getattr(opts, name) != value]
        if unused:
            raise ProbeError(
                f"--cmd runs your command as it is: {', '.join(unused)} apply to a SPEC probe only "
                "(put them in the command)"
            )
        assert opts.min_lr is not None and opts.max_lr is not None
        return probe_cmd(command, min_lr=opts.min_lr, max_lr=opts.max_lr, on_run=_run_note if show_progress else None)
    require("torch", extra="probe")
    from lrdoctor.probe.engine import device_check
    from lrdoctor.probe.spec import load_parts, on_path
    from lrdoctor.probe.streams import stdout_to_stderr

    assert spec is not None
    _check_options(opts)  # before the factory runs: it may load a dataset first
    device_check(opts.device)
    try:
        # Standard output holds the result alone, even against `os.system("echo ...")` in the factory.
        with on_path(spec), stdout_to_stderr():
            parts = load_parts(spec, seed=opts.seed)
            return _probe(parts, opts, config or ProbeConfig(), show_progress)
    except ProbeError as exc:
        raise _named(spec, exc) from exc.__cause__


def probe_parts(
    made: Mapping[str, Any] | Any,
    *,
    label: str = "probe",
    options: ProbeOptions | None = None,
    config: ProbeConfig | None = None,
    show_progress: bool = False,
) -> ProbeResult:
    """Probe what a factory returned (a dict or an object with model, batches, ...), without a file."""
    require("torch", extra="probe")
    from lrdoctor.probe.spec import check_parts

    try:
        parts = check_parts(label, made)
        opts = _with_range(options or ProbeOptions(), RAMP_RANGE)
        return _probe(parts, opts, config or ProbeConfig(), show_progress)
    except ProbeError as exc:
        raise _named(label, exc) from exc.__cause__


# The probe picks from rates half a decade apart: a rate used within that of its pick agrees with it.
PROBE_RESOLUTION_DECADES = 0.5
# How often the probe's pick lies within half a decade of the sweep's best rate on tasks its
# numbers were not chosen on (BENCHMARKS.md: 94% of the held-out cases, 64% on the tasks never
# used): the confidence of a verdict the measurement alone decides, the lower of the two.
PROBE_CONFIDENCE = 0.64


def fold_into(dx: Diagnosis, result: ProbeResult) -> Diagnosis:
    """The diagnosis with the probe's measurement folded in (`basis` "probe").

    A measurement that found no rate better than the initial weights (`no_gain`) changes nothing
    but the reasons given. Otherwise a verdict the log settled (too high, too low, unknown) stays,
    and the probe's rate is the recommendation, unless it goes against the verdict (a higher rate
    for a run that diverged): then the log's recommendation stays (`basis` "log", the measurement
    under `probe`), and the disagreement is said. Where the log looked healthy, the measurement
    decides: a rate used within the probe's resolution of its pick is kept (an ok verdict
    recommends the rate used); one further off is too high or too low by the measurement, and
    the probe's rate is recommended.
    """
    from lrdoctor.diagnosis import advice_at

    observed = dx.run.observed_lr
    measured = result.recommended_lr
    if not (math.isfinite(measured) and measured > 0):
        raise ProbeError(f"{result.source}: the probe returned no usable rate ({measured!r})")
    source = f"lrdoctor probe on {result.source}"
    folded = dataclasses.replace(dx, basis="probe", probed=result)
    if result.no_gain:  # the pick reads the scoring batches' noise: it settles nothing
        said = (
            f"{source} measured {measured:.3g}, but no rate it tried scored measurably below the initial weights: "
            "the measurement rests on noise, and the log's reading stands"
        )
        return dataclasses.replace(folded, basis="log", because=f"{dx.because + '; ' if dx.because else ''}{said}")
    if observed and (
        (dx.verdict == "too_high" and measured >= observed) or (dx.verdict == "too_low" and measured <= observed)
    ):
        # The log shows this rate too high, and the probe asks for more of it (or the other way):
        # the probed model, data or schedule differ from the logged run's. The log's evidence stands.
        said = f"{source} measured {measured:.3g}, {_times(measured / observed)} the rate used, against what the log"
        return dataclasses.replace(
            folded,
            basis="log",  # the recommendation is the log's; the measurement stays under `probe`
            because=f"{dx.because + '; ' if dx.because else ''}{said} shows: is the probed setup (data, batch size, "
            "schedule) the logged run's?",
        )
    if dx.verdict != "ok":
        return dataclasses.replace(
            folded,
            recommended_lr=measured,
            factor=None if not observed else measured / observed,
            because=f"measured by {source}",
            advice=advice_at(dx, measured),  # (a warmup or a decay to the rate measured, not the log's)
        )
    if not observed:
        return dataclasses.replace(
            folded, because=f"{source} measured {measured:.3g}; the log does not say which rate it used (pass --lr)"
        )
    ratio = measured / observed
    if abs(math.log10(ratio)) <= PROBE_RESOLUTION_DECADES + 1e-9:
        return dataclasses.replace(
            folded, because=f"{source} measured {measured:.3g}, within half a decade of the rate used: keep it"
        )
    return dataclasses.replace(
        folded,
        verdict="too_low" if ratio > 1 else "too_high",
        confidence=PROBE_CONFIDENCE,
        recommended_lr=measured,
        factor=ratio,
        because=f"measured by {source}",
        why=f"the log looked healthy, but {source} measured {measured:.3g}, {_times(ratio)} the rate used",
        advice=advice_at(dx, measured),
    )


def _times(ratio: float) -> str:
    return f"{ratio:.3g}x" if ratio >= 1 else f"1/{1 / ratio:.3g} of"


def _probe(parts: Any, opts: ProbeOptions, config: ProbeConfig, show_progress: bool) -> ProbeResult:
    from lrdoctor.probe.engine import device_check
    from lrdoctor.probe.progress import Progress
    from lrdoctor.probe.search import run_probe

    _check_options(opts)
    if opts.val and parts.val_batches is None:
        raise ProbeError("--val needs 'val_batches' from the factory")
    device_check(opts.device)
    progress = Progress(opts.steps, enabled=None if show_progress else False)
    try:
        return run_probe(parts, opts, config, progress)
    finally:
        progress.close()


def _with_range(opts: ProbeOptions, default: tuple[float, float]) -> ProbeOptions:
    """Fill in the rate range the user left open with the mode's default."""
    return dataclasses.replace(
        opts,
        min_lr=default[0] if opts.min_lr is None else opts.min_lr,
        max_lr=default[1] if opts.max_lr is None else opts.max_lr,
    )


def _check_options(opts: ProbeOptions) -> None:
    _check_range(opts)
    if opts.steps < 30:
        raise ProbeError(f"--steps {opts.steps}: too few for a range test and trials; give at least 30")
    if opts.accum < 1:
        raise ProbeError(f"--accum {opts.accum}: must be 1 or more")
    if opts.device not in DEVICES:
        raise ProbeError(f"--device {opts.device}: choose one of {', '.join(DEVICES)}")
    if not SEED_RANGE[0] <= opts.seed <= SEED_RANGE[1]:
        raise ProbeError(f"--seed {opts.seed}: out of range; give an integer from -2**63 to 2**64 - 1")


def _check_range(opts: ProbeOptions) -> None:
    lo, hi = opts.min_lr, opts.max_lr
    assert lo is not None and hi is not None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ProbeError(f"--min-lr {lo:g} --max-lr {hi:g}: need 0 < min-lr < max-lr")
    if hi < 10 * lo:
        raise ProbeError(f"--min-lr {lo:g} --max-lr {hi:g}: give a range of at least a decade")


def _named(label: str, exc: ProbeError) -> ProbeError:
    message = str(exc)
    return exc if message.startswith(f"{label}:") else ProbeError(f"{label}: {message}")


def _run_note(lr: float) -> None:
    import sys

    if sys.stderr.isatty():
        sys.stderr.write(f"lrdoctor probe: running at lr {lr:.3g}\n")
        sys.stderr.flush()
