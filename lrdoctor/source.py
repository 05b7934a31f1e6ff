"""Opening what the user named, read-only and safely: files, gzip, standard input, directories."""

from __future__ import annotations

import codecs
import gzip
import io
import os
import stat
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lrdoctor.errors import InputError, UnreadableLog

HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# A cap on what is decompressed or taken from standard input, so /dev/zero-like input ends.
MAX_INMEMORY = 2 * 1024**3


@dataclass(frozen=True)
class Source:
    """One input: a regular file (maybe gzip-compressed), bytes from stdin, or a directory."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    gzipped: bool = False

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.data is None and self.path.is_dir()

    @property
    def name(self) -> str:
        """The file name without a .gz suffix, for readers that also look at names."""
        base = self.path.name if self.path is not None else ""
        return base[:-3] if self.gzipped and base.endswith(".gz") else base

    def open(self) -> BinaryIO:
        """A binary stream of the (decompressed) content."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        if self.gzipped:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")

    def head(self, size: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:size]
        try:
            with self.open() as fh:
                return fh.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableLog(f"{self.label}: cannot read: {exc}") from exc

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        try:
            with self.open() as fh:
                data = fh.read(MAX_INMEMORY + 1)
        except (OSError, EOFError, zlib.error) as exc:
            if self.gzipped:
                raise UnreadableLog(f"{self.label}: broken gzip data: {exc}") from exc
            raise InputError(f"{self.label}: cannot read: {exc}") from exc
        if len(data) > MAX_INMEMORY:
            raise UnreadableLog(f"{self.label}: larger than {MAX_INMEMORY >> 30} GiB once decompressed")
        return data

    def text(self) -> str:
        return decode_text(self.read_bytes())


def open_source(path: str | Path) -> Source:
    """Check that `path` can be read without hanging or harm, and describe it."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_INMEMORY + 1)
        if len(data) > MAX_INMEMORY:
            raise UnreadableLog(f"<stdin>: more than {MAX_INMEMORY >> 30} GiB")
        if data[:2] == GZIP_MAGIC:
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                raise UnreadableLog(f"<stdin>: broken gzip data: {exc}") from exc
        return Source("<stdin>", data=data)
    p = Path(path)
    label = str(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"{label}: no such file or directory") from None
    except OSError as exc:  # ELOOP for a symlink loop, EACCES, ENAMETOOLONG ...
        raise InputError(f"{label}: cannot open: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        return Source(label, path=p)
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise InputError(f"{label}: is {kind}, not a regular file; save the log to a file or pipe it to '-'")
    if not os.access(p, os.R_OK):
        raise InputError(f"{label}: permission denied")
    if st.st_size == 0:
        raise UnreadableLog(f"{label}: the file is empty")
    try:
        with open(p, "rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        raise InputError(f"{label}: cannot open: {exc.strerror or exc}") from None
    return Source(label, path=p, gzipped=magic == GZIP_MAGIC)


def decode_text(data: bytes) -> str:
    """Bytes to text: BOMs and UTF-16 honoured, undecodable bytes replaced rather than fatal."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") * 3 > len(sample):
        # UTF-16 without a BOM: every other byte is NUL in ASCII-heavy text.
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        if max(even_nuls, odd_nuls) * 2 > len(sample) // 2:
            return data.decode("utf-16-be" if even_nuls > odd_nuls else "utf-16-le", errors="replace")
    return data.decode("utf-8", errors="replace")


def looks_binary(head: bytes) -> bool:
    """True for data that is no text in any encoding decode_text handles."""
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    text = decode_text(head)
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\x1b\x0c"))
    return bad > max(8, len(text) // 20)
