"""`lrdoctor report`: a diagnosis written to a file the user names, as HTML or as Markdown.

HTML is one self-contained page. Markdown is a document with its PNGs written beside it
(``report.md`` -> ``report-run1.png``, ``report-overlay.png``, ...). Files are written only
where the user says, and an existing one only with ``force``.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.errors import LrdoctorError
from lrdoctor.report import html as html_report
from lrdoctor.report.check import at
from lrdoctor.report.markdown import md
from lrdoctor.report.summary import rate_change, shared_folder, top_text
from lrdoctor.report.text import VERDICT_WORDS
from lrdoctor.run import points, span_of

HTML_SUFFIXES = (".html", ".htm")
MD_SUFFIXES = (".md", ".markdown")


class OutputError(LrdoctorError):
    """The report cannot be written where asked: it exists (without --force), or no such folder."""


def planned_files(out: Path, runs: int, *, sweep: bool) -> list[Path]:
    """Every file a report of `runs` runs writes: the page, and for Markdown its pictures."""
    kind = _kind(out)
    if kind == "html":
        return [out]
    stem, folder = out.stem, out.parent
    pictures = [folder / f"{stem}-run{k}.png" for k in range(1, runs + 1)]
    if runs > 1:
        pictures.append(folder / f"{stem}-overlay.png")
    if sweep:
        pictures.append(folder / f"{stem}-sweep.png")
    return [out, *pictures]


# The longest file name most file systems take (bytes).
NAME_MAX = 255


def check_writable(files: Sequence[Path], *, force: bool, inputs: Sequence[str] = ()) -> None:
    """Refuse a report that would land on a log it reads (even with --force), in a folder that is
    not there, on a directory, or on an existing file without --force."""
    folder = files[0].parent
    if not folder.is_dir():
        missing = "is a file, not a folder" if folder.exists() else "does not exist; create it or write elsewhere"
        raise OutputError(f"{files[0]}: the folder {folder} {missing}")
    for path in files:
        if len(os.fsencode(path.name)) > NAME_MAX:  # a picture's name grows the page's by '-run1.png'
            raise OutputError(f"{path}: a file name longer than {NAME_MAX} bytes; name the report shorter")
        if path.is_dir():
            raise OutputError(f"{path}: is a directory; name a file such as report.html")
        if path.exists() and _is_read(path, inputs):
            raise OutputError(f"{path}: is a log this report reads; write the report elsewhere")
        if os.path.lexists(path) and not force:  # (a link to nothing is there too)
            raise OutputError(f"{path}: already exists; pass --force to overwrite it")


def _is_read(path: Path, inputs: Sequence[str]) -> bool:
    """The name is one of the logs read: a log named or read (by any spelling or link to it), or
    an event file inside a TensorBoard folder named (every one there is read). Another name for a
    log (a hard link) is no matter: writing replaces the name, not the file behind it."""
    real = os.path.realpath(path)
    for given in inputs:
        if os.path.exists(given) and os.path.realpath(given) == real:
            return True
        if os.path.isdir(given) and "tfevents" in path.name and real.startswith(os.path.realpath(given) + os.sep):
            return True
    return False


def write_report(
    diagnoses: Sequence[Diagnosis],
    out: Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    inputs: Sequence[str] = (),
    unread: Sequence[str] = (),
) -> list[Path]:
    """Draw, render and write; returns the files written. `progress(done, total)` is called as
    each run's picture is drawn (a second or so each); `inputs` are the paths given (a report
    never lands on one, nor on a log a diagnosis read); `unread`, why each input that could not be
    read was not, listed on the page (a post-mortem of a run that left no readable log)."""
    from lrdoctor.report import plots
    from lrdoctor.sweep import no_advice_because, sweep_advice

    if not diagnoses:
        raise OutputError(f"{out}: no run could be read, so there is nothing to report")
    advice = sweep_advice(diagnoses) if len(diagnoses) > 1 else None
    no_rate = no_advice_because(diagnoses) if len(diagnoses) > 1 and advice is None else None
    files = planned_files(out, len(diagnoses), sweep=advice is not None)
    check_writable(files, force=force, inputs=[*inputs, *(dx.run.source for dx in diagnoses)])
    names = shared_folder([dx.run.source for dx in diagnoses])[1]
    with np.errstate(over="ignore", invalid="ignore"):  # a loss near the float's limit is drawn, not warned of
        figures = html_report.Figures(
            runs=[_drawn(plots.run_figure(dx), k, len(diagnoses), progress) for k, dx in enumerate(diagnoses, start=1)],
            overlay=plots.overlay_figure(diagnoses, names) if len(diagnoses) > 1 else None,
            sweep=plots.sweep_figure(advice.points, advice.lr, advice.ranked_by) if advice is not None else None,
        )
    # A log named in bytes that are not UTF-8 (Linux allows them) is shown with '?' in their place.
    if _kind(out) == "html":
        page = html_report.render(diagnoses, figures, sweep=advice, no_rate=no_rate, unread=unread)
        contents: dict[Path, bytes] = {out: _utf8(page)}
    else:
        pictures = [p for p in (*figures.runs, figures.overlay, figures.sweep) if p is not None]
        page = render_markdown(diagnoses, [p.name for p in files[1:]], sweep=advice, no_rate=no_rate, unread=unread)
        contents = {out: _utf8(page)}
        contents.update(zip(files[1:], pictures, strict=True))
    written: list[Path] = []
    try:
        for path, data in reversed(contents.items()):  # the pictures first, the page that shows them last
            new = not os.path.lexists(path)
            _write(path, data)
            if new:
                written.append(path)
    except OutputError:  # nothing half done is left to block a rerun: what this call created goes
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return list(contents)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def _drawn(picture: bytes, done: int, total: int, progress: Callable[[int, int], None] | None) -> bytes:
    if progress is not None:
        progress(done, total)
    return picture


def render_markdown(
    diagnoses: Sequence[Diagnosis],
    pictures: Sequence[str],
    *,
    sweep: Any = None,
    no_rate: str | None = None,
    unread: Sequence[str] = (),
) -> str:
    """The Markdown document; `pictures` are the PNG names beside it, in planned_files order;
    `no_rate`, why several runs point to no rate as a sweep (lrdoctor.sweep.no_advice_because)."""
    out = ["# lrdoctor report", ""]
    if unread:
        out += ["## Not in this report", "", f"{len(unread)} input(s) could not be read:", ""]
        out += [f"- {md(line)}" for line in unread] + [""]
    runs = len(diagnoses)
    folder, names = shared_folder([dx.run.source for dx in diagnoses])
    if runs > 1:
        out += [f"Runs in {md(folder)}", ""] if folder else []
        out += ["| run | verdict | observed -> recommended rate | top finding |", "|---|---|---|---|"]
        out += [
            f"| [{md(name)}](#run-{k}) | {dx.verdict} | {md(rate_change(dx))} | {md(top_text(dx))} |"
            for k, (dx, name) in enumerate(zip(diagnoses, names, strict=True), start=1)
        ]
        out += ["", f"![the loss trends of every run]({_target(pictures[runs])})", ""]
        if sweep is not None:
            out += [f"**The sweep points to lr {sweep.lr:.3g}**: {md(sweep.because)}.", ""]
            out += [f"![final loss against learning rate]({_target(pictures[runs + 1])})", ""]
        elif no_rate is not None:
            out += [f"No rate from the runs as a sweep: {md(no_rate)}.", ""]
    for k, (dx, name) in enumerate(zip(diagnoses, names, strict=True), start=1):
        out += _md_section(k, dx, name, pictures[k - 1])
    return "\n".join(out).rstrip() + "\n"


def _md_section(k: int, dx: Diagnosis, name: str, picture: str) -> list[str]:
    run, loss = dx.run, dx.run.loss
    conf = "" if dx.verdict == "unknown" else f" (confidence {dx.confidence:.2f})"
    read = f"{run.metric}: {points(len(loss))}, {span_of(run.step_kind, loss.steps[0], loss.steps[-1])}"
    lines = [
        f'<a id="run-{k}"></a>',
        "",
        f"## {md(name)}",
        "",
        f"**Verdict: {VERDICT_WORDS[dx.verdict]}**{conf} · learning rate {md(rate_change(dx))}",
        "",
        *([f"Why: {md(dx.why)}", ""] if dx.why else []),
        f"![loss curve]({_target(picture)})",
        "",
        md(html_report.recommendation(dx)),
        "",
        *([f"Schedule advice: {md(a)}" for a in dx.advice] + [""] if dx.advice else []),
        f"Read {md(run.source)} ({md(run.format)}): {md(read)}.",
        "",
    ]
    for f in dx.findings:
        lines += [f"### {f.pathology} · {f.severity} · {at(run.step_kind, f)}", "", md(f.message), ""]
        if f.evidence:
            lines += ["| statistic | value |", "|---|---|"]
            lines += [f"| {md(key)} | {md(html_report.value_text(v))} |" for key, v in f.evidence.items()]
            lines.append("")
    lines += [f"- {md(w)}" for w in run.warnings]
    return [*lines, ""]


def check_page(out: Path, *, force: bool, inputs: Sequence[str] = ()) -> None:
    """What can be checked of the page before any log is read (its pictures' names depend on how
    many runs there are): its suffix, its folder, and whether it is there already or a log given.
    A wrong name had been found only after every log was read."""
    _kind(out)
    check_writable([out], force=force, inputs=inputs)


def _kind(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in MD_SUFFIXES:
        return "markdown"
    raise OutputError(f"{out}: name the report .html (one self-contained page) or .md (Markdown with PNGs beside it)")


def _write(path: Path, data: bytes) -> None:
    """Write beside the file, then put it in the file's place: --force replaces the name given (a
    link, a hard link) and never writes into a file that other names share. A report replaced
    keeps its permissions; in a folder that cannot take a new file, a report with no other name
    is rewritten in place."""
    try:
        old = os.lstat(path) if os.path.lexists(path) else None
        try:
            fd, temp = _create_beside(path)
        except PermissionError:
            if old is None or not stat.S_ISREG(old.st_mode) or old.st_nlink > 1:
                raise
            path.write_bytes(data)
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            if old is not None and stat.S_ISREG(old.st_mode):
                os.chmod(temp, stat.S_IMODE(old.st_mode))
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _create_beside(path: Path) -> tuple[int, str]:
    """A new file in the same folder, with a short name (the output's own may be near the 255-byte
    limit), created as open() would create the output (its mode under the umask)."""
    for k in range(100):
        temp = os.path.join(path.parent, f".lrdoctor-{os.getpid()}-{k}.tmp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temp
        except FileExistsError:
            continue
    raise OSError(f"no free temporary name in {path.parent}")


def _target(name: object) -> str:
    """A Markdown link target: a relative URL, so `#`, `?` and `%` (a fragment, a query, an escape)
    are percent-encoded, and so are what CommonMark reads in a target (`&amp;` as an entity, a
    backslash as an escape, `<` and `>`, which angle brackets cannot hold); in angle brackets where
    it holds a space or a parenthesis."""
    text = re.sub(r"[%#?<>&\\]", lambda m: f"%{ord(m.group(0)):02X}", str(name))
    # A name in bytes that are not UTF-8 (held as lone surrogates): each byte percent-encoded.
    text = re.sub("[\udc80-\udcff]", lambda m: f"%{ord(m.group(0)) - 0xDC00:02X}", text)
    return f"<{text}>" if re.search(r"[\s()]", text) else text
