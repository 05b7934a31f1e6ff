"""The accuracy benchmark's signal cache is keyed on what the signals depend on."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import accuracy


def test_cache_key_follows_the_labels_and_the_package_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text('{"runs": []}')
    first = accuracy.cache_key(labels)
    assert accuracy.cache_key(labels) == first
    labels.write_text('{"runs": [], "x": 1}')
    assert accuracy.cache_key(labels) != first
    # A change to any lrdoctor source file changes the key: seen through the files it reads.
    real_read = Path.read_bytes
    seen: list[str] = []

    def spy(self: Path) -> bytes:
        seen.append(self.name)
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    accuracy.cache_key(labels)
    assert {"curve.py", "shape.py", "stats.py", "csv_reader.py"} <= set(seen)
