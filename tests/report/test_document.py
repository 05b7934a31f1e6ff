"""`lrdoctor report -o FILE`: written only where asked, never over a file without --force."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrdoctor.cli import cli
from lrdoctor.report.markdown import md
from tests.report.conftest import diagnosis_of, png_size


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_html_report_is_the_one_file_written(tmp_path: Path, healthy_log: Path) -> None:
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    result = invoke("report", str(healthy_log), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Verdict: <strong>ok</strong>" in page
    assert result.stderr.startswith(f"wrote {out} (1 run(s))")


def test_exit_code_follows_diagnose(tmp_path: Path, nan_log: Path) -> None:
    assert invoke("report", str(nan_log), "-o", str(tmp_path / "r.html")).exit_code == 1


def test_an_existing_report_is_kept_unless_forced(tmp_path: Path, healthy_log: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("mine")
    result = invoke("report", str(healthy_log), "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"lrdoctor: error: {out}: already exists; pass --force to overwrite it"
    assert out.read_text() == "mine"
    assert invoke("report", str(healthy_log), "-o", str(out), "--force").exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_markdown_report_writes_its_pictures_beside_it(tmp_path: Path, healthy_log: Path, nan_log: Path) -> None:
    out = tmp_path / "docs" / "runs.md"
    out.parent.mkdir()
    result = invoke("report", str(healthy_log), str(nan_log), "-o", str(out))
    assert result.exit_code == 1, result.output
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["runs-overlay.png", "runs-run1.png", "runs-run2.png", "runs.md"]
    text = out.read_text()
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text) == ["runs-overlay.png", "runs-run1.png", "runs-run2.png"]
    assert "| [healthy.csv](#run-1) | ok |" in text and '<a id="run-2"></a>' in text
    assert "**Verdict: too high** (confidence 1.00)" in text
    section = text.split('<a id="run-2"></a>', 1)[1]
    why = next(line for line in section.splitlines() if line.startswith("Why: "))  # the terminal's "because"
    assert section.index("**Verdict: too high**") < section.index(why) < section.index("![loss curve](runs-run2.png)")
    assert why.startswith("Why: the run diverged, which settles it: loss is NaN"), why
    for name in names[:-1]:
        assert png_size((out.parent / name).read_bytes())[0] == 1000


def test_markdown_pictures_are_not_overwritten_either(tmp_path: Path, healthy_log: Path) -> None:
    (tmp_path / "r-run1.png").write_bytes(b"mine")
    result = invoke("report", str(healthy_log), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 2 and "r-run1.png: already exists; pass --force" in result.stderr
    assert not (tmp_path / "r.md").exists() and (tmp_path / "r-run1.png").read_bytes() == b"mine"


def test_bad_output_names_are_usage_errors(tmp_path: Path, healthy_log: Path) -> None:
    result = invoke("report", str(healthy_log), "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 2 and "name the report .html" in result.stderr
    result = invoke("report", str(healthy_log), "-o", str(tmp_path / "missing" / "r.html"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["healthy.csv"]


def test_a_directory_of_runs_is_one_report_with_an_overview(tmp_path: Path, healthy_log: Path, nan_log: Path) -> None:
    out = tmp_path / "all.html"
    result = invoke("report", str(tmp_path), "-o", str(out), "--jobs", "1")
    assert result.exit_code == 1, result.output
    page = out.read_text()
    assert '<a href="#run-1">healthy.csv</a>' in page and '<a href="#run-2">nan.csv</a>' in page
    assert f'<p class="meta">2 run(s) in {tmp_path}{os.sep} · lrdoctor ' in page  # the folder they are named from
    result = invoke("report", str(tmp_path / "healthy.csv"), str(tmp_path / "nan.csv"), "-o", str(tmp_path / "all.md"))
    lines = (tmp_path / "all.md").read_text().splitlines()
    assert lines[2] == f"Runs in {md(str(tmp_path) + os.sep)}" and lines[4].startswith("| run |")
    assert lines[6].startswith("| [healthy.csv](#run-1) |") and lines[7].startswith("| [nan.csv](#run-2) |")


def test_a_rate_sweep_report_plots_final_loss_against_rate(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    folder.mkdir()
    for lr, end in ((1e-3, 1.0), (1e-2, 0.2), (1e-1, 0.5)):  # one task, best at 0.01
        rows = "".join(f"{s},{end + (2.3 - end) * 0.9**s:.5f},{lr}\n" for s in range(100))
        (folder / f"lr_{lr:g}.csv").write_text("step,loss,lr\n" + rows)
    out = tmp_path / "sweep.html"
    assert invoke("report", str(folder), "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert "The sweep points to lr <strong>0.01</strong>" in page
    assert '<img alt="final loss against learning rate"' in page
    assert len(re.findall(r"<img ", page)) == 3 + 2  # one per run, the overlay, the sweep


@pytest.mark.parametrize("suffix", ["html", "md"])
def test_runs_that_point_to_no_rate_say_why_on_the_page(tmp_path: Path, suffix: str) -> None:
    """As the terminal's table says under it: a folder of runs of different tasks (starting
    levels 10x apart) is no sweep, and the page says so rather than leaving the section out."""
    folder = tmp_path / "runs"
    folder.mkdir()
    for lr, start in ((1e-3, 0.23), (1e-2, 2.3)):
        rows = "".join(f"{s},{start * 0.1 + start * 0.9 * 0.95**s:.5f},{lr}\n" for s in range(100))
        (folder / f"lr_{lr:g}.csv").write_text("step,loss,lr\n" + rows)
    out = tmp_path / f"r.{suffix}"
    assert invoke("report", str(folder), "-o", str(out)).exit_code == 0
    page = out.read_text()
    assert "No rate from the runs as a sweep: the runs start at losses from 0.23 to 2.3" in page
    assert "final loss against learning rate" not in page


def test_markdown_picture_links_hold_spaces(tmp_path: Path, healthy_log: Path) -> None:
    out = tmp_path / "my report.md"
    assert invoke("report", str(healthy_log), "-o", str(out)).exit_code == 0
    assert "![loss curve](<my report-run1.png>)" in out.read_text()


def test_markdown_picture_links_encode_what_a_url_reads_as_a_fragment_or_query(
    tmp_path: Path, healthy_log: Path
) -> None:
    out = tmp_path / "exp#3 50%?.md"
    assert invoke("report", str(healthy_log), "-o", str(out)).exit_code == 0
    assert "![loss curve](<exp%233 50%25%3F-run1.png>)" in out.read_text()
    assert (tmp_path / "exp#3 50%?-run1.png").is_file()  # the file keeps its name; the link encodes it


@pytest.mark.parametrize(
    ("name", "link"),
    [("a<b.md", "a%3Cb-run1.png"), ("x&amp;y.md", "x%26amp;y-run1.png"), ("c (1)>.md", "<c (1)%3E-run1.png>")],
)
def test_markdown_picture_links_encode_what_commonmark_reads_in_a_target(
    tmp_path: Path, healthy_log: Path, name: str, link: str
) -> None:
    """'<' had been put inside '<...>', which CommonMark forbids (no picture shown), and '&amp;'
    decoded as an entity (a link to another file's name)."""
    out = tmp_path / name
    assert invoke("report", str(healthy_log), "-o", str(out)).exit_code == 0
    assert f"![loss curve]({link})" in out.read_text()


def test_a_report_of_nothing_readable_says_so_once(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = invoke("report", str(empty), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"lrdoctor: error: {empty}: the file is empty"]
    assert not (tmp_path / "r.html").exists()


def test_the_pictures_drawn_are_counted_for_a_progress_bar(tmp_path: Path, healthy_log: Path, nan_log: Path) -> None:
    import io

    from lrdoctor.report.document import write_report
    from lrdoctor.sweep import ProgressBar

    calls: list[tuple[int, int]] = []
    dxs = [diagnosis_of(healthy_log), diagnosis_of(nan_log)]
    write_report(dxs, tmp_path / "r.md", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    stream = io.StringIO()
    stream.isatty = lambda: True  # type: ignore[method-assign]
    ProgressBar(stream, width=4, unit="pictures")(1, 2)
    assert stream.getvalue() == "\r[##..] 1/2 pictures"


def test_a_report_never_lands_on_a_log_it_reads_even_with_force(tmp_path: Path, healthy_log: Path) -> None:
    log = tmp_path / "run.html"  # a CSV log, named like a page
    log.write_bytes(healthy_log.read_bytes())
    for out in (log, tmp_path / "." / "run.html"):
        result = invoke("report", str(log), "-o", str(out), "--force")
        assert result.exit_code == 2
        assert (
            result.stderr.strip() == f"lrdoctor: error: {out}: is a log this report reads; write the report elsewhere"
        )
        assert log.read_bytes() == healthy_log.read_bytes()
    link = tmp_path / "latest.html"  # a link to the log: the log is what would be overwritten
    link.symlink_to(log)
    assert invoke("report", str(log), "-o", str(link), "--force").exit_code == 2
    assert log.read_bytes() == healthy_log.read_bytes() and link.is_symlink()


def test_force_replaces_a_link_not_the_file_it_points_to(tmp_path: Path, healthy_log: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    link = tmp_path / "report.html"
    link.symlink_to(mine)
    assert invoke("report", str(healthy_log), "-o", str(link), "--force").exit_code == 0
    assert mine.read_text() == "mine"
    assert not link.is_symlink() and link.read_text().startswith("<!DOCTYPE html>")


def tensorboard_run(run: Path) -> tuple[Path, Path]:
    """A TensorBoard run written by torch's SummaryWriter, and its one event file."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(run)) as writer:
        for step in range(40):
            writer.add_scalar("train/loss", 2.0 * 0.95**step, step)
    (event,) = run.glob("events.out.tfevents.*")
    return run, event


def test_a_hard_link_to_a_log_is_replaced_and_an_event_file_in_a_folder_read_refused(
    tmp_path: Path, healthy_log: Path
) -> None:
    log = tmp_path / "run.csv"
    log.write_bytes(healthy_log.read_bytes())
    hard = tmp_path / "run.html"  # another name for the log: --force replaces the name, not the log
    os.link(log, hard)
    assert invoke("report", str(log), "-o", str(hard), "--force").exit_code == 0
    assert log.read_bytes() == healthy_log.read_bytes() and hard.read_text().startswith("<!DOCTYPE html>")
    run, event = tensorboard_run(tmp_path / "tb")
    before = event.read_bytes()
    renamed = event.with_name(event.name + ".md")  # an event file TensorBoard reads, named like a page
    event.rename(renamed)
    result = invoke("report", str(run), "-o", str(renamed), "--force")
    assert result.exit_code == 2 and "is a log this report reads" in result.stderr
    assert renamed.read_bytes() == before


def test_a_link_to_nothing_is_not_replaced_without_force(tmp_path: Path, healthy_log: Path) -> None:
    dangling = tmp_path / "report.html"
    dangling.symlink_to(tmp_path / "nowhere" / "x.html")
    result = invoke("report", str(healthy_log), "-o", str(dangling))
    assert result.exit_code == 2 and "already exists; pass --force" in result.stderr and dangling.is_symlink()


def test_a_hard_link_to_a_file_inside_a_run_folder_is_replaced_and_a_report_there_rewritten(
    tmp_path: Path,
) -> None:
    run, log = tensorboard_run(tmp_path / "tb_run")
    before = log.read_bytes()
    linked = tmp_path / "latest.html"  # another name for the event file the folder's reader reads
    os.link(log, linked)
    assert invoke("report", str(run), "-o", str(linked), "--force").exit_code == 0
    assert log.read_bytes() == before and linked.read_text().startswith("<!DOCTYPE html>")
    page = run / "report.html"  # a report kept in the run folder, written again
    assert invoke("report", str(run), "-o", str(page)).exit_code == 0
    assert invoke("report", str(run), "-o", str(page), "--force").exit_code == 0


def test_force_never_writes_into_a_file_another_name_shares(tmp_path: Path, healthy_log: Path) -> None:
    """hparams.yaml beside a Lightning metrics.csv, hard-linked as the output: the link is replaced
    by the report; the file the reader reads beside the log keeps its bytes."""
    run = tmp_path / "version_0"
    run.mkdir()
    (run / "metrics.csv").write_bytes(healthy_log.read_bytes())
    hparams = run / "hparams.yaml"
    hparams.write_text("lr: 0.001\nbatch_size: 32\n")
    out = tmp_path / "hp.html"
    os.link(hparams, out)
    assert invoke("report", str(run / "metrics.csv"), "-o", str(out), "--force").exit_code == 0
    assert hparams.read_text() == "lr: 0.001\nbatch_size: 32\n"
    assert out.read_text().startswith("<!DOCTYPE html>") and not list(tmp_path.glob(".*.tmp"))


def test_force_keeps_a_reports_mode_and_a_long_name_is_written(tmp_path: Path, healthy_log: Path) -> None:
    private = tmp_path / "private.html"
    private.write_text("old")
    private.chmod(0o600)
    assert invoke("report", str(healthy_log), "-o", str(private), "--force").exit_code == 0
    assert private.stat().st_mode & 0o777 == 0o600 and private.read_text().startswith("<!DOCTYPE html>")
    long = tmp_path / ("a" * 245 + ".html")  # 250 bytes: the most a name may hold is 255
    assert invoke("report", str(healthy_log), "-o", str(long)).exit_code == 0 and long.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_report_name_too_long_for_its_pictures_is_refused_before_drawing(tmp_path: Path, healthy_log: Path) -> None:
    """'a'*252 + '.md' is a valid name; its picture '...-run1.png' is not: said plainly, nothing written."""
    out = tmp_path / ("a" * 252 + ".md")
    before = set(tmp_path.iterdir())
    result = invoke("report", str(healthy_log), "-o", str(out))
    assert result.exit_code == 2 and "a file name longer than 255 bytes" in result.stderr
    assert "unexpected" not in result.stderr and set(tmp_path.iterdir()) == before


def test_a_report_that_fails_half_way_leaves_nothing_to_block_a_rerun(
    tmp_path: Path, healthy_log: Path, monkeypatch
) -> None:
    """A full disk while writing the pictures: the files this report created are removed again."""
    from lrdoctor.report import document

    real, calls = document._write, []

    def failing(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise document.OutputError(f"{path}: cannot write: No space left on device")
        real(path, data)

    monkeypatch.setattr(document, "_write", failing)
    out = tmp_path / "r.md"
    before = set(tmp_path.iterdir())
    assert invoke("report", str(healthy_log), str(healthy_log), "-o", str(out)).exit_code == 2
    assert len(calls) == 2 and set(tmp_path.iterdir()) == before
    monkeypatch.setattr(document, "_write", real)
    assert invoke("report", str(healthy_log), "-o", str(out)).exit_code == 0  # no --force needed


def test_a_log_named_in_bytes_that_are_not_utf8_is_reported(tmp_path: Path, healthy_log: Path) -> None:
    if os.name != "posix":
        return
    folder = tmp_path / "runs"
    folder.mkdir()
    odd = os.path.join(os.fsencode(folder), b"r\xff\xfe.csv")
    with open(odd, "wb") as fh:
        fh.write(healthy_log.read_bytes())
    for name in ("r.html", "r.md"):
        result = invoke("report", str(folder), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.stderr
        assert "?" in (tmp_path / name).read_text(encoding="utf-8")
    (folder / "b.csv").write_bytes(healthy_log.read_bytes())  # two runs: an overlay with a legend
    result = invoke("report", str(folder), "-o", str(tmp_path / "two.html"))
    assert result.exit_code == 0, result.stderr
    # A page named so links its pictures by their bytes, percent-encoded.
    page = os.path.join(os.fsencode(tmp_path), b"r\xe9p.md")
    result = invoke("report", str(healthy_log), "-o", os.fsdecode(page))
    assert result.exit_code == 0, result.stderr
    assert "](r%E9p-run1.png)" in Path(os.fsdecode(page)).read_text(encoding="utf-8")
    assert os.path.exists(os.path.join(os.fsencode(tmp_path), b"r\xe9p-run1.png"))


def test_a_loss_near_the_floats_limit_is_drawn_without_numpy_warnings(tmp_path: Path) -> None:
    log = tmp_path / "huge.csv"
    log.write_text("step,loss\n" + "".join(f"{i},{1e308 * (1 + i / 100)!r}\n" for i in range(100)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a warning shown to the user fails the report here
        result = invoke("report", str(log), "-o", str(tmp_path / "r.html"))
    assert result.exit_code in (0, 1) and "RuntimeWarning" not in result.stderr, result.stderr


def test_files_passed_over_in_a_folder_are_named(tmp_path: Path, healthy_log: Path) -> None:
    """As diagnose and check do: a note naming the files that hold no training log, and an error
    (exit 2, nothing written) where every file was passed over."""
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "a.csv").write_text(healthy_log.read_text())
    (runs / "b.csv").write_text(healthy_log.read_text())
    (runs / "config2.json").write_text('{"lr": 0.1, "batch_size": 32}')
    result = invoke("report", str(runs), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    assert f"lrdoctor: note: passed over 1 file(s) that hold no training log: {runs / 'config2.json'}" in result.stderr
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.log").write_text("starting\nnothing to see\n")
    (notes / "b.log").write_text("done\n")
    result = invoke("report", str(notes), "-o", str(tmp_path / "n.html"))
    assert result.exit_code == 2 and "no training log among the files found in" in result.stderr
    assert not (tmp_path / "n.html").exists()


def test_a_report_under_a_file_says_that_it_is_a_file(tmp_path: Path, healthy_log: Path) -> None:
    result = invoke("report", str(healthy_log), "-o", str(healthy_log / "x.html"))
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"lrdoctor: error: {healthy_log / 'x.html'}: the folder {healthy_log} is a file, not a folder"
    )


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_inputs_that_could_not_be_read_are_listed_on_the_page(tmp_path: Path, healthy_log: Path, suffix: str) -> None:
    """A post-mortem of a run whose log cannot be read had said so on the terminal only: the page
    showed the other runs and never named it."""
    bad = tmp_path / "crashed <run>.csv"
    bad.write_text("step,loss,lr\n" + "".join(f"{s},,0.1\n" for s in range(20)))
    out = tmp_path / f"report{suffix}"
    result = invoke("report", str(healthy_log), str(bad), "-o", str(out))
    assert result.exit_code == 2 and out.is_file()
    page = out.read_text()
    assert "Not in this report" in page and "1 input(s) could not be read" in page
    assert "holds no number yet" in page and "<run>" not in page  # named, escaped


def test_a_page_that_cannot_be_written_is_refused_before_any_log_is_read(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A wrong suffix, a missing folder or a page already there had been found after every log was
    read (seconds on a large one)."""
    import lrdoctor.sweep

    monkeypatch.setattr(lrdoctor.sweep, "diagnose_all", lambda *a, **k: pytest.fail("a log was read"))
    (tmp_path / "there.html").write_text("x")
    log = tmp_path / "run.csv"
    log.write_text("step,loss\n0,1\n")
    for out, said in (
        ("r.txt", "name the report .html"),
        ("no/r.html", "does not exist"),
        ("there.html", "already exists"),
    ):
        result = invoke("report", str(log), "-o", str(tmp_path / out))
        assert result.exit_code == 2 and said in result.stderr
