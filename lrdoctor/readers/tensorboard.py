"""Reader stub: to be written."""

from __future__ import annotations

from pathlib import Path

from lrdoctor.errors import UnreadableLog
from lrdoctor.run import Log
from lrdoctor.source import Source


def sniff(head: bytes, name: str) -> bool:
    return False


def read(source: Source) -> Log:
    raise UnreadableLog(f"{source.label}: reader not written yet")


def in_dir(path: Path) -> Path | None:
    return None
