"""Read a forecasting input file (``ds, y`` and optionally ``series_id``) with the upload reader and parsers.

Why this module exists: the automation CLI (``forecast`` / ``backtest``) used to read its file with pandas plus two
hand-written German-format helpers. It accepted fewer formats than the Data page (no Windows-1252 or UTF-16, no
Excel serials, no ``Datum;Uhrzeit`` exports, no total rows) and guessed where uploads ask (``01/02/2024``). Here
the file goes through :func:`src.data.loader.read_table` (sniffing of encoding, separator and header row; the
hostile-file limits) and :func:`src.data.validation.validate_raw` (one explicit parsing rule per column, errors
naming file, row, column and value), so the CLI accepts exactly what an upload accepts and says the same things
about what it refuses.

The file is described by a :class:`~src.data.kinds.KindSpec` of its own rather than by the workload kind: forecast
input has no required queue, ``y`` may have decimals (``1.234,5``), and repeated timestamps are not an error (the
engine sums them, e.g. the hour repeated when daylight saving time ends). Header names are the workload kind's
(``timestamp``/``Datum``, ``volume``/``Anrufe``, ``queue``/``Warteschlange`` …) plus ``ds``, ``y``, ``series_id``.
"""

from __future__ import annotations

import logging
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from src.data import kinds
from src.data.kinds import ColumnSpec, KindSpec
from src.data.loader import ParseOptions, UploadLimits, UploadRejected, read_table
from src.data.parsing import Issue
from src.data.validation import ValidationReport, alias_lookup, validate_raw

logger = logging.getLogger(__name__)

__all__ = ["SERIES_KEY", "SeriesFile", "read_series_bytes", "read_series_path", "series_spec"]

SERIES_KEY = "series"


def _aliases(extra: tuple[str, ...], workload_column: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*extra, *kinds.WORKLOAD.column(workload_column).aliases)))


def series_spec(with_series: bool) -> KindSpec:
    """The forecast input as a dataset spec; ``with_series`` makes ``series_id`` a required column.

    Why two variants: without a series column the whole file is one series, but when the file has one, a row
    with an empty series cell belongs to no series and must be reported (a column that is merely optional
    would pass it on as a series named ``""``).
    """
    workload = kinds.WORKLOAD
    columns = [
        ColumnSpec("ds", "datetime", aliases=_aliases(("ds",), "timestamp"),
                   description="Timestamp of the interval or day (local time)."),
        ColumnSpec("y", "number", non_negative=True, aliases=_aliases(("y", "value"), "volume"),
                   description="Observed volume; decimals allowed, never negative (the engine refuses those)."),
    ]
    if with_series:
        columns.insert(0, ColumnSpec("series_id", "text", aliases=_aliases(("series_id", "series", "serie",
                                                                            "unique_id"), "queue"),
                                     description="Name of the series (queue, unit …)."))
    columns.append(ColumnSpec("site", "text", required=False, aliases=_aliases(("site",), "site"),
                              description="Site of the queue: the same queue at two sites is two series."))
    return KindSpec(
        key=SERIES_KEY,
        title="Forecast input",
        description="Long table of one or more time series: ds, y and optionally series_id.",
        columns=tuple(columns),
        key_columns=(),  # repeated timestamps are summed by the engine, not refused
        time_column="ds",
        series_columns=("series_id", "site") if with_series else ("site",),
        time_of_day_aliases=workload.time_of_day_aliases,
    )


@dataclass(frozen=True)
class SeriesFile:
    """The typed frame (``ds`` datetime64, ``y`` float, ``series_id`` str when the file has it) and the report.

    ``frame`` is ``None`` exactly when the report has an error, as for uploads.
    """

    frame: pd.DataFrame | None
    report: ValidationReport


def _failed(issue: Issue) -> SeriesFile:
    report = ValidationReport(SERIES_KEY, issue.file, issue.sheet, None, None, [issue], None, 0, {}, {"error": 1})
    return SeriesFile(None, report)


def read_series_bytes(filename: str, content: bytes, options: ParseOptions | None = None,
                      limits: UploadLimits | None = None) -> SeriesFile:
    """Read and validate the bytes of a forecast input file named ``filename``; never raises for a bad file."""
    options = options or ParseOptions()
    limits = limits or UploadLimits()
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "input"
    spec = series_spec(with_series=True)
    try:
        raw = read_table(filename, content, options, limits, kind=spec)
    except UploadRejected as exc:
        return _failed(exc.issue)
    except MemoryError:
        return _failed(Issue("error", "The file needs too much memory to read; use a smaller file.", name,
                             code="memory"))
    lookup = alias_lookup(spec)
    if not any(lookup.get(kinds.normalise_header(h)) == "series_id" for h in raw.headers if h):
        spec = series_spec(with_series=False)
    report = validate_raw(spec, raw, options)
    return SeriesFile(_with_site_in_series(report.frame), report)


def _with_site_in_series(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """Fold a ``site`` column into ``series_id`` (``calls@Berlin``), as the app names workload series.

    Why: an export of several sites repeats each queue name per site; read by queue alone, the engine would sum
    the sites' volumes into one series without a word. Rows without a site keep the plain series name.
    """
    if frame is None or "site" not in frame.columns:
        return frame
    site = frame["site"]
    frame = frame.drop(columns="site")
    has_site = site.notna() & (site.astype(str) != "")
    if not has_site.any():
        return frame
    base = frame["series_id"].astype(str) if "series_id" in frame.columns else pd.Series("", index=frame.index)
    named = base.where(base == "", base + "@") + site.astype(str)
    frame["series_id"] = base.where(~has_site, named)
    return frame[["series_id", *[c for c in frame.columns if c != "series_id"]]]


def read_series_path(path: str | Path, options: ParseOptions | None = None,
                     limits: UploadLimits | None = None) -> SeriesFile:
    """Read a forecast input file from disk like an upload.

    Why the checks before reading: the upload reader works on bytes in memory, so a file over the size limit,
    a directory or a device (``/dev/zero``) is refused from its metadata instead of being read first, and at
    most ``limits.max_bytes + 1`` bytes are ever read (in case the file grows meanwhile).
    """
    limits = limits or UploadLimits()
    path = Path(path)
    name = path.name or str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return _failed(Issue("error", f"Input file {path} does not exist.", name, code="not_found"))
    except OSError as exc:
        return _failed(Issue("error", f"Cannot read {path}: {exc.strerror}.", name, code="not_readable"))
    if not stat.S_ISREG(info.st_mode):
        return _failed(Issue("error", f"{path} is not a regular file.", name, code="not_a_file"))
    if info.st_size > limits.max_bytes:
        return _failed(Issue("error", f"The file is {info.st_size / 2**20:.0f} MB; the limit is "
                             f"{limits.max_bytes / 2**20:.0f} MB. Use a shorter period or split the file.", name,
                             code="too_large"))
    try:
        with path.open("rb") as f:
            content = f.read(limits.max_bytes + 1)
    except OSError as exc:
        return _failed(Issue("error", f"Cannot read {path}: {exc.strerror}.", name, code="not_readable"))
    return read_series_bytes(name, content, ParseOptions() if options is None else options, limits)
