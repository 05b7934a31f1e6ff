"""The accuracy benchmark's signal cache is keyed on what the signals depend on."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from benchmarks import accuracy


def _key_with(monkeypatch: pytest.MonkeyPatch, labels: Path, name: str, extra: bytes) -> str:
    """The cache key as it would be with `extra` appended to the source file called `name`."""
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        data = real(self)
        return data + extra if self.name == name else data

    with monkeypatch.context() as m:
        m.setattr(Path, "read_bytes", read_bytes)
        return accuracy.cache_key(labels)


def test_cache_key_follows_the_labels_and_the_code_behind_the_signals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text('{"runs": []}')
    first = accuracy.cache_key(labels)
    assert accuracy.cache_key(labels) == first
    for name in ("curve.py", "shape.py", "stats.py", "csv_reader.py", "accuracy.py"):
        assert _key_with(monkeypatch, labels, name, b"\n# changed\n") != first, name
    # The fitted parameters do not enter the signals: refitting keeps the cache.
    assert _key_with(monkeypatch, labels, "_fitted.py", b"\n# refitted\n") == first
    labels.write_text('{"runs": [], "x": 1}')
    assert accuracy.cache_key(labels) != first


def test_load_cases_replaces_a_cache_of_another_key_or_format(tmp_path: Path) -> None:
    (tmp_path / "labels.json").write_text('{"runs": []}')
    cache = tmp_path / ".accuracy-cache.pkl"
    cache.write_bytes(pickle.dumps(["a list, as the cache was once written"]))
    assert accuracy.load_cases(tmp_path) == []
    stored = pickle.loads(cache.read_bytes())
    assert stored == {"key": accuracy.cache_key(tmp_path / "labels.json"), "cases": []}
    cache.write_bytes(pickle.dumps({"key": "another", "cases": ["stale"]}))
    assert accuracy.load_cases(tmp_path) == []


def test_a_cache_written_under_another_module_layout_is_a_miss(tmp_path: Path) -> None:
    # A cache pickled by the script run as __main__ names a class the importer does not have; it
    # is recomputed, not a crash. Cases are pickled under the importable name from now on.
    (tmp_path / "labels.json").write_text('{"runs": []}')
    (tmp_path / ".accuracy-cache.pkl").write_bytes(b"c__main__\nNoSuchCase\n.")
    assert accuracy.load_cases(tmp_path) == []
    assert pickle.loads((tmp_path / ".accuracy-cache.pkl").read_bytes())["cases"] == []


@pytest.mark.parametrize("torn", [b"", b"\x80\x05\x95"])
def test_a_cache_cut_short_is_a_miss(tmp_path: Path, torn: bytes) -> None:
    # A run killed while writing the cache once left it empty, and every later run crashed on it.
    (tmp_path / "labels.json").write_text('{"runs": []}')
    (tmp_path / ".accuracy-cache.pkl").write_bytes(torn)
    assert accuracy.load_cases(tmp_path) == []
    assert pickle.loads((tmp_path / ".accuracy-cache.pkl").read_bytes())["cases"] == []
    assert {p.name for p in tmp_path.iterdir()} == {"labels.json", ".accuracy-cache.pkl"}  # no part left


def test_tasks_restricts_the_shipped_scoring_to_the_tasks_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        accuracy.Case(f"{t}/adam_constant/lr1e-3_s0", t, "adam", "ok", False, 1e-3, 1e-3, None, None) for t in "abc"
    ]  # type: ignore[arg-type]
    monkeypatch.setattr(accuracy, "load_cases", lambda corpus: cases)
    judged: list[list[str]] = []
    monkeypatch.setattr(accuracy, "predict", lambda cs, cfg: judged.append([c.task for c in cs]) or [])
    monkeypatch.setattr(accuracy, "shipped_table", lambda preds: "")
    monkeypatch.setattr(accuracy, "findings_table", lambda preds: "")
    assert accuracy.main(["--corpus", str(tmp_path), "--shipped", "--tasks", "c", "a"]) == 0
    assert judged == [["a", "c"]]
    with pytest.raises(SystemExit) as exc:  # a task the corpus lacks: named, not an empty table
        accuracy.main(["--corpus", str(tmp_path), "--shipped", "--tasks", "a", "z"])
    assert exc.value.code == 2 and "no runs of task(s) z" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # leave-one-task-out fits on every task: no subset
        accuracy.main(["--corpus", str(tmp_path), "--tasks", "a"])
    assert exc.value.code == 2 and "--tasks goes with --shipped" in capsys.readouterr().err
