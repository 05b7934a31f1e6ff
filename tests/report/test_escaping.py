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


def test_the_sweep_line_under_a_table_of_runs_is_escaped(tmp_path: Path) -> None:
    """The line on the rate a sweep points to names the validation loss it ranked by: a name from
    the logs, written raw under the Markdown table (and its control characters raw to a terminal)."""
    name = "val_loss <img src=x onerror=alert(1)>|\x1b[31m"
    for lr, scale in ((1e-3, 0.9), (1e-2, 0.5), (1e-1, 0.2), (1.0, 0.6)):
        rows = [
            {"step": s, "loss": 2.0 * (1 - scale * s / 60), "lr": lr, name: 2.1 * (1 - scale * s / 60)}
            for s in range(60)
        ]
        (tmp_path / f"lr{lr:g}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = CliRunner().invoke(cli, ["diagnose", str(tmp_path), "--format", "markdown"]).stdout
    (last,) = [line for line in out.splitlines() if line.startswith("the sweep points to")]
    assert re.search(r"(?<!\\)<img", last) is None and "\\<img" in last and "\x1b" not in last
    text = CliRunner().invoke(cli, ["diagnose", str(tmp_path)]).stdout
    assert "\x1b" not in text and "\\x1b[31m" in text
