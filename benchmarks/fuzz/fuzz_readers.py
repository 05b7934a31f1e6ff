"""Fuzz the readers with atheris: any bytes give a valid Log or an LrdoctorError, nothing else.

Each input is read by one reader (``--reader NAME``, or the reader the first byte picks, the
rest of the bytes being the file), and the Log it gives is normalized as ``lrdoctor.load``
would. Anything but an LrdoctorError, or a Log that breaks the schema (arrays of unequal
length, a non-finite step, a message over several lines), is a finding: atheris stops and
writes the input to ``crash-*``. See README.md for the commands.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["lrdoctor"]):
    import numpy as np

    from lrdoctor.errors import LrdoctorError
    from lrdoctor.normalize import normalize
    from lrdoctor.readers import READERS, sniff
    from lrdoctor.run import Log
    from lrdoctor.source import Source

NAMES = list(READERS)


def check(log: Log) -> None:
    assert isinstance(log, Log)
    for name, s in log.series.items():
        assert s.name == name
        assert s.steps.dtype == s.values.dtype == s.seq.dtype == np.float64
        assert len(s.steps) == len(s.values) == len(s.seq)
        assert np.isfinite(s.steps).all(), name
    assert all("\n" not in w for w in log.warnings)


def read(reader: str | None, data: bytes) -> None:
    source = Source("<fuzz>", data=data)
    try:
        name = reader if reader is not None else sniff(source)
        log = READERS[name].read(source)
    except LrdoctorError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    check(log)
    if any(len(s) for s in log.series.values()):
        try:
            run = normalize(log)
        except LrdoctorError as exc:
            assert "\n" not in str(exc), str(exc)
            return
        assert np.all(np.diff(run.loss.steps) > 0)


def target(reader: str | None) -> object:
    def one_input(data: bytes) -> None:
        if reader is not None:
            read(reader, data)
        elif data:
            read(NAMES[data[0] % len(NAMES)] if data[0] < 128 else None, data[1:])

    return one_input


def main(argv: list[str]) -> None:
    reader = None
    if "--reader" in argv:
        at = argv.index("--reader")
        reader = argv[at + 1]
        if reader not in READERS:
            sys.exit(f"unknown reader {reader!r}; choose one of: {', '.join(READERS)}")
        argv = argv[:at] + argv[at + 2 :]
    atheris.Setup(argv, target(reader))
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
