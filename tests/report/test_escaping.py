"""Text from a log (metric names, messages) cannot inject terminal escapes or Markdown/HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from lrdoctor.cli import cli

HOSTILE = "<script>alert(1)</script>|x|\x1b[31mred\x1b[0m`code`"


def hostile_log(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.jsonl"
    rows = [{"step": s, HOSTILE: 2.0 * 0.95**s + 0.01 * (s % 2)} for s in range(60)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_terminal_output_shows_control_characters_as_text(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["diagnose", str(hostile_log(tmp_path)), "--metric", HOSTILE]).stdout
    assert "\x1b" not in out
    assert "\\x1b[31mred" in out


def test_inspect_escapes_control_characters(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["inspect", str(hostile_log(tmp_path))]).stdout
    assert "\x1b" not in out and "\\x1b[31mred" in out


def test_markdown_output_escapes_html_and_table_pipes(tmp_path: Path) -> None:
    out = (
        CliRunner()
        .invoke(cli, ["diagnose", str(hostile_log(tmp_path)), "--metric", HOSTILE, "--format", "markdown"])
        .stdout
    )
    assert "<script>" not in out and "\\<script\\>" in out
    assert "|x|" not in out and "\\|x\\|" in out
    assert "\x1b" not in out


def test_json_output_keeps_the_name_exactly(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["diagnose", str(hostile_log(tmp_path)), "--metric", HOSTILE, "--format", "json"])
    assert json.loads(out.stdout)["metric"] == HOSTILE


def test_markdown_names_the_axis_and_the_factor_without_a_rate() -> None:
    from tests.conftest import SAMPLE_LOGS

    log = SAMPLE_LOGS / "keras" / "digits_mlp_sgd_too_low.csv"  # per-epoch, no rate recorded
    out = CliRunner().invoke(cli, ["diagnose", str(log), "--format", "markdown"]).output
    assert "| severity | pathology | epochs | finding |" in out
    assert re.search(r"\| recommended \| [\d.]+x higher than the rate used \|", out), out
