"""A tiny progress bar for standard error: drawn only on a terminal, redrawn at most ten times a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`[#####.....] 120/300 steps  trial lr=0.01` on one line, rewritten in place."""

    def __init__(
        self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None, width: int = 30
    ) -> None:
        """`enabled` None: draw only when `stream` (default standard error) is a terminal."""
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.width = width
        self._last = 0.0
        self._label = ""

    def advance(self, n: int = 1, *, label: str | None = None) -> None:
        self.done = min(self.total, self.done + n)
        if label is not None and label != self._label:
            self._label = label
            self._draw()
        elif time.monotonic() - self._last >= 0.1 or self.done == self.total:
            self._draw()

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        return f"[{bar}] {self.done}/{self.total} steps  {self._label}"

    def _draw(self) -> None:
        self._last = time.monotonic()
        if self.enabled:
            self.stream.write("\r" + self.line() + "\x1b[K")
            self.stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
