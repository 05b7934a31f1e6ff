"""The command's allocator settings: taken by glibc, applied when the command starts."""

from __future__ import annotations

import platform
import sys

import pytest

from lrdoctor import _alloc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_settings() -> None:
    assert _alloc.reuse_freed_memory() is True


def test_the_command_applies_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from lrdoctor import cli

    calls: list[int] = []
    monkeypatch.setattr(cli, "reuse_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(sys, "argv", ["lrdoctor", "--version"])
    with pytest.raises(SystemExit):
        cli.main()
    assert calls == [1]
