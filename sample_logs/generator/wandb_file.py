"""A W&B run file's history rows, decoded with wandb's own protobuf classes: independent of
lrdoctor's reader, for the sample's manifest and as the W&B baseline of benchmarks/speed.py.

The file is 32 KiB blocks of chunks (CRC-32, length, type: whole, first, middle, last) after a
7-byte header; each record is a wandb_internal_pb2.Record."""

from __future__ import annotations

import struct
from pathlib import Path


def history_rows(path: Path | str) -> list[dict[str, str]]:
    """Each history row as {name: value as JSON text}; a nested name joined with '/'."""
    from wandb.proto import wandb_internal_pb2

    data = Path(path).read_bytes()
    records, parts, pos = [], b"", 7
    while pos + 7 <= len(data):
        if 32768 - pos % 32768 < 7:
            pos += 32768 - pos % 32768
            continue
        _crc, size, kind = struct.unpack_from("<IHB", data, pos)
        chunk, pos = data[pos + 7 : pos + 7 + size], pos + 7 + size
        if kind in (1, 4):
            records.append(parts + chunk)
            parts = b""
        elif kind in (2, 3):
            parts += chunk
    rows = []
    for raw in records:
        record = wandb_internal_pb2.Record.FromString(raw)
        if record.WhichOneof("record_type") == "history":
            rows.append({"/".join(i.nested_key) or i.key: i.value_json for i in record.history.item})
    return rows
