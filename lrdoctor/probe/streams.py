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
        os.fstat(2)
        target = 2
    except OSError:  # standard error closed (`2>&-`): what the user's code writes there is dropped
        target = -1
    try:
        saved = os.dup(1)  # (with descriptor 2 closed, this copy may take its number: tested first)
    except OSError:  # no standard output to protect
        yield
        return
    try:
        if target < 0:
            target = os.open(os.devnull, os.O_WRONLY)
            os.dup2(target, 1)
            os.close(target)
        else:
            os.dup2(target, 1)
    except OSError:
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
