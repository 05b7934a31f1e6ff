"""The README's transcripts (Usage, the check gate) are what the commands print (a "; ..." line is a prefix)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _transcript() -> list[tuple[list[str], list[str]]]:
    text = (ROOT / "README.md").read_text()
    block = text[text.index("```console\n$ lrdoctor diagnose") + len("```console\n") :]
    block = block[: block.index("```")]
    runs: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ lrdoctor "):
            runs.append((shlex.split(line)[2:], []))
        elif line.strip():
            runs[-1][1].append(line)
    return runs


def test_the_usage_block_has_the_two_examples() -> None:
    assert [args[:2] for args, _ in _transcript()] == [
        ["diagnose", "sample_logs/csv/diabetes_mlp_sgd_nan.csv"],
        ["diagnose", "sample_logs/keras/digits_mlp_sgd_too_low.csv"],
    ]


@pytest.mark.parametrize(("args", "expected"), _transcript())
def test_usage_transcript_matches_the_command(
    args: list[str], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, args)
    got = [line for line in result.output.splitlines() if line.strip()]
    assert len(got) == len(expected), result.output
    for want, line in zip(expected, got, strict=True):
        if want.endswith("; ..."):
            assert line.startswith(want[: -len(" ...")]), (want, line)
        else:
            assert line == want


def test_the_check_transcript_matches_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text()
    block = text[text.index("```console\n$ lrdoctor check") + len("```console\n") :]
    lines = block[: block.index("```")].splitlines()
    assert lines[0].startswith("$ lrdoctor check ") and lines[-2] == "$ echo $?"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(lines[0])[2:])
    assert result.output.splitlines() == lines[1:-2]
    assert result.exit_code == int(lines[-1])


def test_the_sweep_transcript_matches_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text()
    block = text[text.index("```console\n$ lrdoctor diagnose 'sample_logs/csv/*.csv'") + len("```console\n") :]
    lines = block[: block.index("```")].splitlines()
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(lines[0])[2:])
    assert result.stdout.splitlines() == lines[1:]
