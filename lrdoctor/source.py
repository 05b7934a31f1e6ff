"""Opening what the user named, read-only and safely: files, gzip, standard input, directories.

Whatever the input, reading ends: non-regular files (FIFOs, devices, sockets) are refused before
they are opened, content is read in chunks against a cap, and gzip data is inflated stream-wise,
so a small file that expands without end (a gzip bomb) is stopped after a bounded amount of
output. A gzip stream that is cut short gives what it holds, with a note the reader passes on
as a warning; a damaged one is refused.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lrdoctor.errors import CutShort, DamagedLog, InputError, UnreadableLog

HEAD_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ReadLimits:
    # The most content held in memory for one input; far above any real log (the largest in
    # the real-world corpus is a few MB), low enough that /dev/zero-like input ends.
    max_bytes: int = 2 * 1024**3
    # gzip output beyond this many times the compressed bytes read marks a bomb. Logs in
    # sample_logs/ and the real-world corpus compress 2x (event files) to 11x (text, JSON);
    # DEFLATE's own ceiling, about 1032x, is reached only by long runs of one byte.
    max_ratio: int = 200
    # The ratio is judged only past this much output, so a small, very repetitive log is never refused.
    ratio_after: int = 64 * 1024**2
    # Bytes read, or decompressed, per step.
    chunk: int = 1024**2
    # Compressed bytes fed to zlib per step.
    gzip_piece: int = 64 * 1024
    # Side files read whole (meta.yaml, params, hparams.yaml) are ignored above this size.
    side_file: int = 1024**2


LIMITS = ReadLimits()
MAX_INMEMORY = LIMITS.max_bytes


@dataclass(frozen=True)
class Source:
    """One input: a regular file (maybe gzip-compressed), bytes from stdin, or a directory.

    `notes` collects what reading the bytes revealed (a gzip stream cut short); `read_log`
    adds them to the log's warnings.
    """

    label: str
    path: Path | None = None
    data: bytes | None = None
    gzipped: bool = False
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.data is None and self.path.is_dir()

    @property
    def name(self) -> str:
        """The file name without a .gz suffix, for readers that also look at names."""
        base = self.path.name if self.path is not None else ""
        return base[:-3] if self.gzipped and base.endswith(".gz") else base

    def open(self) -> BinaryIO:
        """A binary stream of the (decompressed, capped) content."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return io.BytesIO(self.read_bytes())

    def head(self, size: int = HEAD_BYTES) -> bytes:
        if self.data is not None:
            return self.data[:size]
        assert self.path is not None
        try:
            with open(self.path, "rb") as raw:
                if not self.gzipped:
                    return raw.read(size)
                out = bytearray()
                for chunk in inflate(raw, self.label, notes=None):
                    out += chunk
                    if len(out) >= size:
                        break
                return bytes(out[:size])
        except OSError as exc:
            raise UnreadableLog(f"{self.label}: cannot read: {exc.strerror or exc}") from None

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            with open(self.path, "rb") as raw:
                if self.gzipped:
                    return b"".join(inflate(raw, self.label, notes=self.notes))
                if os.fstat(raw.fileno()).st_size > LIMITS.max_bytes:
                    raise UnreadableLog(f"{self.label}: larger than {_size(LIMITS.max_bytes)}; not read")
                data = raw.read()
        except OSError as exc:
            raise InputError(f"{self.label}: cannot read: {exc.strerror or exc}") from None
        if len(data) > LIMITS.max_bytes:  # it grew while being read
            raise UnreadableLog(f"{self.label}: larger than {_size(LIMITS.max_bytes)}; not read")
        return data

    def read_padded(self, before: int, after: int, *, min_size: int = 0) -> bytearray | None:
        """The content, as read_bytes gives it, in a new bytearray with `before` and `after`
        spare bytes around it; None when it is smaller than `min_size`. A plain file is read
        straight into the array, with no second copy of a large file."""
        if self.data is None and not self.gzipped:
            assert self.path is not None
            try:
                with open(self.path, "rb") as raw:
                    size = os.fstat(raw.fileno()).st_size
                    if size < min_size:
                        return None
                    if size <= LIMITS.max_bytes:
                        padded = bytearray(before + size + after)
                        if raw.readinto(memoryview(padded)[before : before + size]) == size and not raw.read(1):
                            return padded
            except OSError as exc:
                raise InputError(f"{self.label}: cannot read: {exc.strerror or exc}") from None
        data = self.read_bytes()  # compressed, in memory, too large or changing while read
        return None if len(data) < min_size else padded_copy(data, before, after)

    def text(self) -> str:
        return decode_text(self.read_bytes())


def open_source(path: str | Path) -> Source:
    """Check that `path` can be read without hanging or harm, and describe it."""
    if str(path) == "-":
        return _stdin()
    if str(path) == "":  # Path("") is the current folder: never read it for an unset variable
        raise InputError("'': an empty path (an unset variable?)")
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


def _stdin() -> Source:
    label = "<stdin>"
    if sys.stdin is None:  # started with standard input closed (`<&-`)
        raise InputError(f"{label}: standard input is closed; pipe or redirect a log file into it")
    stream = sys.stdin.buffer
    try:
        mode = os.fstat(stream.fileno()).st_mode
        interactive = stream.isatty()
    except (OSError, ValueError):  # a stream without a descriptor (tests, embedding): no device
        mode, interactive = 0, False
    if stat.S_ISCHR(mode) and not interactive:
        raise InputError(f"{label}: standard input is a device, not a log; pipe or redirect a log file into it")
    data = read_capped(stream, label)
    if data[:2] != GZIP_MAGIC:
        return Source(label, data=data)
    notes: list[str] = []
    return Source(label, data=b"".join(inflate(io.BytesIO(data), label, notes=notes)), notes=notes)


def read_capped(stream: BinaryIO, label: str) -> bytes:
    """All of `stream`, read in chunks; refused once past the cap."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(LIMITS.chunk):
        total += len(chunk)
        if total > LIMITS.max_bytes:
            raise UnreadableLog(f"{label}: more than {_size(LIMITS.max_bytes)}; not a log lrdoctor can hold")
        chunks.append(chunk)
    return b"".join(chunks)


def inflate(raw: BinaryIO, label: str, *, notes: list[str] | None) -> Iterator[bytes]:
    """The decompressed content of gzip data, chunk by chunk, every member in turn.

    Output is bounded per step and checked against the cap and the ratio to the input read,
    so a bomb ends early. A stream cut short gives what it holds, with a note; damaged data is
    an error (what it decompresses to may hold garbage). Zero padding after the last member is
    ignored, other bytes after it are noted.
    """
    limit = LIMITS.chunk
    taken = out = 0
    unz: zlib._Decompress | None = zlib.decompressobj(wbits=31)
    pending = b""
    full = False  # the last call filled its output: more may wait inside the decompressor
    while True:
        if not pending and not full:
            pending = raw.read(LIMITS.gzip_piece)
            taken += len(pending)
            if not pending:
                break
        if unz is None:  # between members: padding, another member, or junk
            pending = pending.lstrip(b"\x00")
            if not pending:
                continue
            if len(pending) < 2:
                pending += raw.read(1)
            if not pending.startswith(GZIP_MAGIC):
                _note(notes, f"{label}: ignored bytes after the end of the gzip data")
                return
            unz = zlib.decompressobj(wbits=31)
        try:
            chunk = unz.decompress(pending, limit)
        except zlib.error as exc:
            where = f" after {out} decompressed bytes" if out else ""
            raise DamagedLog(f"{label}: broken gzip data{where} ({exc}); not read") from None
        pending = unz.unconsumed_tail
        full = len(chunk) == limit
        if chunk:
            out += len(chunk)
            _check_growth(label, out, taken)
            yield chunk
        if unz.eof:
            pending, unz, full = unz.unused_data, None, False
    if unz is not None:
        tail = unz.flush()
        if tail:
            out += len(tail)
            _check_growth(label, out, taken)
            yield tail
        if not out:
            raise CutShort(f"{label}: the gzip data is cut short before any content")
        _note(
            notes,
            f"{label}: the gzip data is cut short (not completely written or copied); read the {out} bytes it holds",
        )


def _check_growth(label: str, out: int, taken: int) -> None:
    if out > LIMITS.max_bytes:
        raise UnreadableLog(f"{label}: more than {_size(LIMITS.max_bytes)} once decompressed; not read")
    if out > LIMITS.ratio_after and out > LIMITS.max_ratio * taken:
        raise UnreadableLog(
            f"{label}: the gzip data expands more than {LIMITS.max_ratio} times (past {_size(out)}), "
            "far beyond any log (a gzip bomb?); not read"
        )


def _note(notes: list[str] | None, message: str) -> None:
    if notes is not None and message not in notes:
        notes.append(message)


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


def read_regular(path: Path, *, limit: int = LIMITS.side_file) -> bytes | None:
    """A side file (meta.yaml, a params file) read whole; None when it is no regular file
    (a FIFO or a device: opened without blocking, never read) or is larger than `limit`."""
    with _open_regular(path) as fh:
        if fh is None or os.fstat(fh.fileno()).st_size > limit:
            return None
        data = fh.read(limit + 1)
    return None if len(data) > limit else data


def head_regular(path: Path, size: int = HEAD_BYTES) -> bytes | None:
    """The first `size` bytes of a regular file; None for anything else (FIFO, device)."""
    with _open_regular(path) as fh:
        return None if fh is None else fh.read(size)


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[BinaryIO | None]:
    """Open without blocking (a FIFO would wait for a writer), then keep it only if regular."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        yield fh if stat.S_ISREG(os.fstat(fd).st_mode) else None


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
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text[:4096] and _legacy(sample):
        return data.decode(LEGACY, errors="replace")
    return text


_ASCII = bytes(range(128))


# The one legacy encoding tried where UTF-8 fails: GB18030 (a superset of GBK), in which many
# logs from Chinese systems are written (a YOLOX config table drawn in box characters). Bytes
# that are no text seldom decode in it without an error, so a strict decode of a sample tells it.
LEGACY = "gb18030"


def _legacy(sample: bytes) -> bool:
    """Whether `sample` is GB18030 text and no UTF-8: most of its non-ASCII bytes are no UTF-8 (a
    UTF-8 log with a stray byte of another encoding stays UTF-8), and it decodes as GB18030 (a
    multi-byte character cut at its end aside)."""
    foreign = len(sample.translate(None, _ASCII))
    if not foreign or sample.decode("utf-8", errors="replace").count("\ufffd") * 2 < foreign:
        return False
    try:
        sample.decode(LEGACY)
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3
    return True


def padded_copy(data: bytes, before: int, after: int) -> bytearray:
    """`data` in a new bytearray, with `before` and `after` spare (zero) bytes around it."""
    padded = bytearray(before + len(data) + after)
    padded[before : before + len(data)] = data
    return padded


def as_utf8(data: bytes) -> bytes:
    """Bytes in UTF-8 without a BOM, for readers that parse bytes (UTF-16 and BOMs undone)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:]
    sample = data[:4096]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or sample.count(b"\x00") * 3 > len(sample):
        return decode_text(data).encode("utf-8")
    if not sample.isascii() and _legacy(sample):
        return data.decode(LEGACY, errors="replace").encode("utf-8")
    return data


_NUL_BLOCK = re.compile(rb"\x00{8,}")


def _unlike_text(text: str, controls: str = "\t\n\r\x1b\x0c\x08") -> int:
    """How many characters of `text` no text log holds: undecodable bytes, control characters
    other than `controls` (tabs, line ends, escapes of colours, backspaces of redrawn bars)."""
    return sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in controls))


def _clean(data: bytes) -> bool:
    """Text with hardly a byte that text lacks (a character cut by the crash, a terminal's bell
    pass; the letters of a single-byte encoding, which fail UTF-8 but are no control bytes): a file
    header before zeros (a saved array's, with its magic number and length bytes) does not."""
    text = data.decode("utf-8", errors="replace")
    controls = _unlike_text(text.replace("\ufffd", ""), "\t\n\r\x1b\x0c\x08\x07")
    return controls <= max(2, len(text) // 1000)


def looks_binary(head: bytes) -> bool:
    """True for data that is no text in any encoding decode_text handles, nor in a single-byte one.

    Backspaces (a progress bar redrawn in a terminal, as Keras does) are a text log's own, and
    so are blocks of NUL bytes after its first lines (what a crash leaves where the file system
    had allocated the next writes): they are not counted against it.
    """
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    block = _NUL_BLOCK.search(head)
    if block is not None and head.count(b"\n", 0, block.start()) >= 2 and _clean(head[: block.start()]):
        head = _NUL_BLOCK.sub(b"", head)
    text = decode_text(head)
    if _unlike_text(text) <= max(8, len(text) // 20):
        return False
    # Letters of a single-byte encoding (cp1251, cp1252, Latin-1) fail UTF-8 one byte at a time,
    # with no control character among them; data that is no text holds control bytes (an eighth of
    # random bytes is one). Such text is read with its letters replaced: the numbers are ASCII.
    controls = _unlike_text(text.replace("\ufffd", ""))
    return controls > max(2, len(text) // 1000) or b"\x00" in head
