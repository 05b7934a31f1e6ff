"""Every reader, fed arbitrary or damaged bytes, gives a clean LrdoctorError or a valid Log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrdoctor.errors import LrdoctorError
from lrdoctor.readers import READERS, read_log
from lrdoctor.run import Log

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID = {
    "csv": b"step,loss,lr\n0,2.3,0.1\n1,2.1,0.1\n2,nan,0.1\n",
    "jsonl": b'{"step": 0, "loss": 2.3}\n{"step": 1, "loss": 2.1}\n',
    "json": b'{"log_history": [{"step": 1, "loss": 2.3, "epoch": 0.1}, {"step": 2, "loss": 2.1, "epoch": 0.2}]}',
    "text": b"iter 0: loss 2.3000, time 10ms\niter 1: loss 2.1000, time 10ms\n",
}


def check(log: Log) -> None:
    assert isinstance(log, Log)
    for s in log.series.values():
        assert len(s.steps) == len(s.values) == len(s.seq)
        assert s.steps.dtype == np.float64 and s.values.dtype == np.float64
        assert np.isfinite(s.steps).all()


def read_bytes(tmp_path: Path, data: bytes, reader: str | None) -> None:
    path = tmp_path / "input.log"
    path.write_bytes(data)
    try:
        log = read_log(path, format=reader)
    except LrdoctorError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    check(log)


@pytest.mark.parametrize("reader", [None, *READERS])
@PROFILE
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(tmp_path: Path, reader: str | None, data: bytes) -> None:
    read_bytes(tmp_path, data, reader)


@pytest.mark.parametrize("reader", sorted(VALID))
@PROFILE
@given(
    cut=st.integers(min_value=0, max_value=400),
    flip=st.integers(min_value=0, max_value=400),
    byte=st.integers(0, 255),
)
def test_cut_and_corrupted_valid_files(tmp_path: Path, reader: str, cut: int, flip: int, byte: int) -> None:
    data = bytearray(VALID[reader][: max(cut, 1)])
    data[flip % len(data)] = byte
    read_bytes(tmp_path, bytes(data), reader)
    read_bytes(tmp_path, bytes(data), None)


@pytest.mark.parametrize("reader", sorted(VALID))
def test_valid_samples_read(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "input.log"
    path.write_bytes(VALID[reader])
    log = read_log(path)
    check(log)
    assert len(log.series) >= 1
