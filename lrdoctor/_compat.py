"""Lazy imports of optional, heavy dependencies."""

from __future__ import annotations

import importlib
from types import ModuleType

from lrdoctor.errors import MissingExtra


def require(module: str, *, extra: str) -> ModuleType:
    """Import `module`, or raise MissingExtra naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(f"this needs the optional dependency {module!r}: pip install 'lrdoctor[{extra}]'") from exc
