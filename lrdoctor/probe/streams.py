"""Standard output kept for the result: what the user's code writes there goes to standard error."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 pointed at descriptor 2 while the block runs, and put back on every way
    out (an error, Ctrl-C): `os.system("echo ...")`, a subprocess and a DataLoader worker started
    meanwhile write to standard error. (Python's own `print` follows `sys.stdout`, which the
    command line redirects.)"""
    _flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to protect
        yield
        return
    try:
        os.dup2(2, 1)
    except OSError:  # no standard error to send it to: descriptor 1 stays as it is
        os.close(saved)
        yield
        return
    try:
        yield
    finally:
        _flush()  # what Python buffered meanwhile goes where it was written, not into the result
        os.dup2(saved, 1)
        os.close(saved)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a stream closed or replaced by one without flush
            stream.flush()
