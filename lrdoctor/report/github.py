"""GitHub Actions workflow commands: each finding becomes an annotation on the log file.

Escaping follows GitHub's runner: in the message `%`, CR and LF are percent-encoded; in
property values (file, title) also `:` and `,`.
"""

from __future__ import annotations

from pathlib import Path

from lrdoctor.diagnosis import Diagnosis
from lrdoctor.report.check import at

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: str) -> str:
    """`::level key=value,...::message`, every part escaped."""
    props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items())
    return f"::{level} {props}::{escape_data(message)}" if props else f"::{level}::{escape_data(message)}"


def plain(line: str) -> str:
    """A line of the report that is no workflow command, kept from reading as one: the runner
    takes a line that begins (leading spaces aside) with `::` or `##[` for a command, and a file
    committed as `::stop-commands::x.csv` would turn every later annotation off. Such a line
    begins with the path of a file in the current folder, which `./` names as well."""
    return "./" + line if line.lstrip().startswith(("::", "##[")) else line


def _where(label: str, title: str) -> dict[str, str]:
    """Annotation properties: a file is named as `file`; a run folder (TensorBoard, Lightning)
    cannot be, since GitHub attaches annotations to files: it goes into the title."""
    if label in ("-", "<stdin>"):  # standard input: no file to attach it to
        return {"title": f"{title} (standard input)"}
    if Path(label).is_dir():
        return {"title": f"{title} ({label})"}
    return {"file": label, "title": title}


def annotate(label: str, dx: Diagnosis, reasons: list[str], *, run: str | None = None) -> list[str]:
    """One annotation per finding (error when it fails the gate) and one for a failing verdict;
    `run` names the run of a file that holds several (a W&B export) in each title."""
    failing = {r.split(" ", 1)[0] for r in reasons}
    of = f" [{run}]" if run else ""
    out = []
    for f in dx.findings:
        level = "error" if f.pathology in failing else LEVELS.get(f.severity, "notice")
        message = f"{f.message} ({at(dx.run.step_kind, f)}; verdict {dx.verdict})"
        out.append(command(level, message, **_where(label, f"lrdoctor {f.pathology}{of}")))
    if any(r.startswith("verdict ") for r in reasons):
        rate = "" if dx.recommended_lr is None else f"; try lr {dx.recommended_lr:.3g}"
        out.append(
            command(
                "error",
                f"learning rate {dx.verdict.replace('_', ' ')} (confidence {dx.confidence:.2f}){rate}",
                **_where(label, f"lrdoctor verdict {dx.verdict}{of}"),
            )
        )
    return out


def unreadable(label: str, message: str) -> str:
    return command("error", message, **_where(label, "lrdoctor cannot read this log"))
