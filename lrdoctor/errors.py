"""The one error hierarchy: the library raises these, only the CLI prints them."""

from __future__ import annotations


class LrdoctorError(Exception):
    """Base of every error lrdoctor raises on purpose; the CLI maps it to exit code 2."""


class InputError(LrdoctorError):
    """The path cannot be opened: missing, not a regular file, a loop, no permission."""


class UnreadableLog(LrdoctorError):
    """The file exists but no reader can make sense of it."""


class EmptyLog(UnreadableLog):
    """A training log with nothing in it yet: its header names a loss, and no row follows (a
    run that crashed before its first log), or a run folder's own log is empty. A folder search
    never passes it over as "no training log" (check fails on it); `check --skip-unreadable`
    does, as no run to judge, except a NoLossYet."""


class NoLossYet(EmptyLog):
    """A table whose rows go on with no number in its loss column, every cell empty: a run whose
    loss was NaN from its first step (pandas writes NaN as an empty cell), or one whose loss is
    logged less often than the other columns and has not come yet. A run's log: check fails on it
    even where it passes over files that hold no training log."""


class NotALog(UnreadableLog):
    """Data no reader takes and no log becomes by growing: binary data of no known log format."""


class DamagedLog(UnreadableLog):
    """A run's own log that cannot be read (an HF trainer_state.json cut off while written, an
    event file with no valid record, broken gzip data): a run whose log was damaged. Never passed
    over as "no training log"."""


class Placeholder(DamagedLog):
    """A Git LFS pointer committed in place of a log (a clone or CI checkout without Git LFS):
    a stand-in for a run's log, not a file that is no log. Never passed over: a gate that skipped
    it would pass every log of such a checkout unread."""


class CutShort(DamagedLog):
    """Gzip data that ends before any content: damaged, as a file to judge (check fails on it),
    or not yet written, as a file to watch (a gzip writer puts its header out first)."""


class NoSeries(LrdoctorError):
    """The log was read but holds no series that can be judged (no loss, no points)."""


class MissingMetric(NoSeries):
    """The series asked for by name is not in a log that does hold a training loss: a wrong
    name, not a file that is no training log. `found`: the series the log holds."""

    def __init__(self, message: str, found: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.found = found


class UnknownFormat(LrdoctorError):
    """A format name was asked for that no reader has."""


class MissingExtra(LrdoctorError):
    """An optional dependency is needed for this command and is not installed."""


class ProbeError(LrdoctorError):
    """The probe cannot run the user's factory or command, or every rate it tried diverged."""
