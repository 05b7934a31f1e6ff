"""Project settings from ``[tool.lrdoctor]`` in pyproject.toml, and the gate they define.

The nearest pyproject.toml holding a ``[tool.lrdoctor]`` table, walking up from the current
directory, is read; command-line options win over it. Example::

    [tool.lrdoctor]
    metric = "train_loss"
    fail_on = ["too_high"]                  # verdicts that fail `lrdoctor check`
    fail_on_pathology = ["divergence"]      # pathologies that fail it, whatever their severity
    min_confidence = 0.6                    # a verdict in fail_on fails only this sure or surer
    exit_on = ["divergence", "loss_spike"]  # what stops `lrdoctor watch`

    [tool.lrdoctor.thresholds]              # any field of the diagnosis' configuration
    "divergence.explode_ratio" = 50
    "verdict.min_confidence" = 0.5
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrdoctor.errors import LrdoctorError

if TYPE_CHECKING:
    from lrdoctor.diagnosis import Config, Diagnosis

VERDICTS = ("too_high", "too_low", "ok", "unknown")
PYPROJECT = "pyproject.toml"


class BadConfig(LrdoctorError):
    """A setting in pyproject.toml or on the command line that lrdoctor cannot use."""


@dataclass(frozen=True)
class Settings:
    """What a project asks of lrdoctor; every field is also a command-line option."""

    metric: str | None = None
    fail_on: tuple[str, ...] = ()  # verdicts that fail the gate
    fail_on_pathology: tuple[str, ...] = ()  # pathologies that fail it, whatever their severity
    # A verdict in fail_on fails only at this confidence or above; 0 takes every such verdict.
    min_confidence: float = 0.0
    exit_on: tuple[str, ...] = ("divergence",)  # pathologies that stop `watch`
    thresholds: Mapping[str, float] = field(default_factory=dict)  # "detector.field" -> value
    origin: str | None = None  # the file the settings came from, for messages
    given: frozenset[str] = frozenset()  # the fields the command line set (override), over the file's


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.lrdoctor] table."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / PYPROJECT
        if not candidate.is_file() or not _mentions_lrdoctor(candidate):
            continue  # another project's file, whatever state it is in, is none of our business
        tool = _read_toml(candidate).get("tool", {})
        if isinstance(tool, dict) and "lrdoctor" in tool:
            return candidate
        if not isinstance(tool, dict):  # ('tool = 3' beside a comment naming lrdoctor)
            raise BadConfig(f"{candidate}: 'tool' must be a table ([tool.lrdoctor])")
    return None


def _mentions_lrdoctor(path: Path) -> bool:
    try:
        return b"lrdoctor" in path.read_bytes()
    except OSError:
        return True  # let the reading report it


def load_settings(path: Path | None = None, *, start: Path | None = None) -> Settings:
    """Settings from `path`, else from the nearest pyproject.toml above `start` (default: cwd)."""
    if path is None:
        path = find_pyproject(start or Path.cwd())
        if path is None:
            return Settings()
    data = _read_toml(path)
    tool = data.get("tool", {})
    if isinstance(tool, dict) and "lrdoctor" in tool:
        table = tool["lrdoctor"]
        if not isinstance(table, dict):
            raise BadConfig(f"{path}: [tool.lrdoctor] must be a table")
        return settings_from(table, origin=f"{path} [tool.lrdoctor]")
    if "tool" in data or path.name == PYPROJECT:
        raise BadConfig(f"{path}: no [tool.lrdoctor] table; put lrdoctor's settings under it")
    return settings_from(data, origin=str(path))  # a file of lrdoctor's own: its keys at the top


def settings_from(table: Mapping[str, Any], *, origin: str) -> Settings:
    """Check a [tool.lrdoctor] table key by key and turn it into Settings."""
    known = {f.name for f in dataclasses.fields(Settings)} - {"origin", "given"}
    values: dict[str, Any] = {"origin": origin}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise BadConfig(f"{origin}: unknown key {raw_key!r}; known: {', '.join(sorted(known))}")
        values[key] = _checked(key, value, origin)
    settings = Settings(**values)
    diagnosis_config(settings)  # fail now, naming the file, on a threshold that does not exist
    return settings


def override(settings: Settings, **options: Any) -> Settings:
    """Command-line options (those given, not None) win over the file's settings."""
    given = {k: _checked(k, v, "command line") for k, v in options.items() if v is not None}
    if "thresholds" in given:
        diagnosis_config(Settings(thresholds=given["thresholds"], origin="command line"))  # errors name it
        given["thresholds"] = {**settings.thresholds, **given["thresholds"]}
    return dataclasses.replace(settings, **given, given=settings.given | frozenset(given))


def parse_list(text: str | None) -> list[str] | None:
    """'a,b, c' -> ['a', 'b', 'c']; None stays None (option not given); '' is the empty list."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_thresholds(pairs: Sequence[str]) -> dict[str, float] | None:
    """('divergence.explode_ratio=50', ...) -> {'divergence.explode_ratio': 50.0}."""
    if not pairs:
        return None
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise BadConfig(f"--threshold {pair!r}: expected KEY=VALUE, e.g. divergence.explode_ratio=50")
        try:
            out[key.strip()] = float(value.strip())  # (its range is checked with the file's values)
        except ValueError:
            raise BadConfig(f"command line: thresholds.{key.strip()} must be a number, got {value.strip()!r}") from None
    return out


def diagnosis_config(settings: Settings) -> Config:
    """The diagnosis' configuration with the settings' thresholds applied."""
    from lrdoctor.diagnosis import Config

    cfg: Any = Config.default()
    for key, value in settings.thresholds.items():
        cfg = _replace_path(cfg, _full_path(cfg, key, settings.origin), value, key, settings.origin)
    return cfg


def shown_confidence(confidence: float) -> float:
    """The confidence as a person or a script reads it (two decimals in the terminal, three in
    JSON), the higher of the two: a --min-confidence copied from either is met by the verdict it
    was copied from (0.928, shown 0.93, had not met 0.93)."""
    return max(round(confidence, 2), round(confidence, 3), confidence)


def gate(dx: Diagnosis, settings: Settings) -> list[str]:
    """Why this diagnosis fails the gate (empty when it passes), one short reason each."""
    reasons = [f"{f.pathology} ({f.severity})" for f in dx.findings if f.severity == "error"]
    reasons += [
        f"{f.pathology} ({_named_by(settings, 'fail_on_pathology')})"
        for f in dx.findings
        if f.pathology in settings.fail_on_pathology and f.severity != "error"
    ]
    # An unknown verdict has no confidence (0): min_confidence weighs only verdicts that have one.
    sure = dx.verdict == "unknown" or shown_confidence(dx.confidence) >= settings.min_confidence
    if dx.verdict in settings.fail_on and sure:
        reasons.append(f"verdict {dx.verdict} ({_named_by(settings, 'fail_on')})")
    return list(dict.fromkeys(reasons))


def _named_by(settings: Settings, key: str) -> str:
    """Who asked for a failure: the option ('--fail-on'), or the settings file's key where the
    file set it and the command line did not ('fail_on in pyproject.toml')."""
    if key in settings.given or settings.origin is None:
        return "--" + key.replace("_", "-")
    return f"{key} in {Path(settings.origin.split(' [')[0]).name}"


# --- checking values ---------------------------------------------------------------------------


def _checked(key: str, value: Any, origin: str) -> Any:
    from lrdoctor.diagnosis import PATHOLOGIES

    if key == "metric":
        if not isinstance(value, str) or not value:
            raise BadConfig(f"{origin}: metric must be a series name, got {value!r}")
        return value
    if key in ("fail_on", "fail_on_pathology", "exit_on"):
        allowed = VERDICTS if key == "fail_on" else PATHOLOGIES
        items = parse_list(value) if isinstance(value, str) else value  # 'too_high,too_low', as on the command line
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise BadConfig(f"{origin}: {key} must be a list of names, got {value!r}")
        bad = [v for v in items if v not in allowed]
        if bad:
            raise BadConfig(f"{origin}: {key}: unknown {', '.join(map(repr, bad))}; choose from {', '.join(allowed)}")
        return tuple(items)
    if key == "min_confidence":
        number = _number(value, key, origin)
        if not 0.0 <= number <= 1.0:
            raise BadConfig(f"{origin}: min_confidence must be between 0 and 1, got {value!r}")
        return number
    if key == "thresholds":
        if not isinstance(value, Mapping):
            raise BadConfig(f'{origin}: thresholds must be a table of "detector.field" = number')
        return {k: _number(v, f"thresholds.{k}", origin) for k, v in _flattened(value).items()}
    raise BadConfig(f"{origin}: unknown setting {key!r}")


def _flattened(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The "detector.field" keys of a table, however TOML spells them: quoted
    ('"divergence.explode_ratio" = 50') or dotted and nested (divergence.explode_ratio = 50, or
    a [tool.lrdoctor.thresholds.divergence] table), which TOML reads as tables within tables."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flattened(value, f"{name}."))
        else:
            out[name] = value
    return out


def _number(value: Any, key: str, origin: str) -> float:
    """A finite number, as TOML writes one: not text ("0.9"), nor a boolean."""
    if isinstance(value, bool | str):
        raise BadConfig(f"{origin}: {key} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadConfig(f"{origin}: {key} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadConfig(f"{origin}: {key} must be a finite number, got {value!r}")
    return number


def _full_path(cfg: Any, key: str, origin: str | None) -> list[str]:
    """'divergence.explode_ratio' -> ['detect', 'divergence', 'explode_ratio']; full paths pass as they are."""
    parts = key.split(".")
    if parts[0] not in {f.name for f in dataclasses.fields(cfg)}:
        parts = ["detect", *parts]
    return parts


def _replace_path(obj: Any, parts: list[str], value: float, key: str, origin: str | None) -> Any:
    names = {f.name: f for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(obj) else {}
    if parts[0] not in names:
        where = f"{origin}: " if origin else ""
        choices = ", ".join(sorted(names)) or "none (not a group of thresholds)"
        raise BadConfig(f"{where}threshold {key!r}: no field {parts[0]!r} here; fields: {choices}")
    current = getattr(obj, parts[0])
    if len(parts) > 1:
        return dataclasses.replace(obj, **{parts[0]: _replace_path(current, parts[1:], value, key, origin)})
    if dataclasses.is_dataclass(current) or not isinstance(current, int | float) or isinstance(current, bool):
        raise BadConfig(f"{origin or 'command line'}: threshold {key!r} is not a number that can be set")
    if isinstance(current, int) and not float(value).is_integer():
        raise BadConfig(f"{origin or 'command line'}: threshold {key!r} takes a whole number, got {value!r}")
    if (current > 0 and value <= 0) or (current < 0 and value >= 0):
        sign = "above" if current > 0 else "below"
        raise BadConfig(
            f"{origin or 'command line'}: threshold {key!r} must stay {sign} 0 (default {current:g}), got {value!r}"
        )
    if (parts[0].endswith("confidence") or parts[0] == "p_value") and not 0 <= value <= 1:
        raise BadConfig(f"{origin or 'command line'}: threshold {key!r} is a probability, from 0 to 1; got {value!r}")
    return dataclasses.replace(obj, **{parts[0]: type(current)(value)})


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise BadConfig(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadConfig(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise BadConfig(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from None


def resolve(path: Path | None = None, **options: Any) -> Settings:
    """The file's settings (`path`, else the nearest pyproject.toml) with command-line options on top."""
    return override(load_settings(path), **options)
