"""What a probe measured and what it recommends. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Trial:
    """One short run at a fixed rate from the initial weights, and its score."""

    lr: float
    loss: float  # score after `steps` steps; +inf when the run diverged
    steps: int
    diverged: bool = False
    failed: bool = False  # --cmd: the command failed or left no log to read (counted as diverged; notes say why)
    batch_losses: tuple[float, ...] = ()  # the score's terms: the loss of each scoring batch


@dataclass(frozen=True)
class ProbeResult:
    recommended_lr: float
    method: str  # one line: how the rate was chosen
    steps_used: int  # optimizer steps (range test and trials; in --cmd mode, logged steps of all runs)
    source: str  # the SPEC, or the command template
    lrs: tuple[float, ...] = ()  # the range test: rate of each step ...
    losses: tuple[float, ...] = ()  # ... its loss (minibatch mean, or validation loss with --val) ...
    smoothed: tuple[float, ...] = ()  # ... and the curve read by the method (running median)
    limit: float | None = None  # stability limit read off the range test
    trials: tuple[Trial, ...] = ()
    scored_on: str = ""  # what the trials were compared on
    group_lrs: tuple[float, ...] = ()  # the recommended rate of each parameter group
    range_stopped: str = ""  # why the ramp ended: "diverged" or "reached max-lr"
    notes: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    # No trial scored measurably below the initial weights (a note says so): the pick reads noise.
    no_gain: bool = False
