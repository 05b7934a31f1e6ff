"""The README's example of many runs through Dask runs, and gives what the CLI gives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import lrdoctor
from lrdoctor.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"

pytest.importorskip("dask")
sys.path.insert(0, str(ROOT / "examples"))
import many_runs_dask  # noqa: E402


def test_diagnose_file_is_the_json_document_of_the_cli() -> None:
    path = str(SAMPLES / "csv" / "digits_mlp_adam_ok.csv")
    out = CliRunner().invoke(cli, ["diagnose", path, "--format", "json"])
    assert lrdoctor.diagnose_file(path) == json.loads(out.output)


def test_many_runs_through_dask_bag_match_one_at_a_time(tmp_path: Path) -> None:
    paths = sorted(str(p) for p in (SAMPLES / "csv").glob("*.csv")) + sorted(
        str(p) for p in (SAMPLES / "jsonl").glob("*.jsonl")
    )
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"\x00\x01 not a log")
    rows = many_runs_dask.diagnose_all([*paths, str(bad)], scheduler="threads", partitions=3)
    assert [r["source"] for r in rows] == [*paths, str(bad)]  # every run, in order
    for path, row in zip(paths, rows, strict=False):
        assert row["verdict"] == lrdoctor.diagnose_file(path)["verdict"]
    assert rows[-1]["verdict"] == "error" and "broken.csv" in rows[-1]["error"]


def test_the_example_runs_as_a_script_with_processes(tmp_path: Path) -> None:
    out = tmp_path / "verdicts.jsonl"
    assert many_runs_dask.main([str(SAMPLES / "jsonl" / "*.jsonl"), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(list((SAMPLES / "jsonl").glob("*.jsonl"))) and all("verdict" in r for r in rows)
