"""Validate an upload (or an already-built frame) against a dataset kind and report every problem.

Flow: :func:`src.data.loader.read_table` gives raw cells → headers are mapped to canonical columns
(English/German aliases, :func:`kinds.normalise_header`) → each column is parsed by the explicit rule
for its type (:mod:`src.data.parsing`) → row checks (empty required cells, ranges, duplicate keys,
cross-field rules) → series checks (interval grid, mixed steps, gaps) → a typed frame, only when
there is no error.

Decisions worth knowing (the "why"):
- *Errors block the import, warnings do not, infos explain what was decided* (encoding, separator,
  decimal separator, date order, skipped title rows, hidden sheets).
- ``a/b/yyyy`` dates: when a value such as ``13/01/2024`` proves the order for the whole column, the
  column is read that way and an **info** names the deciding value (the preview shows the result);
  when no value decides it, or values contradict each other, it is an **error** asking the user to
  choose ``date_order``. ``dd.mm.yyyy`` is always day-first; ISO is never re-ordered.
- The decimal separator is decided once per file from values that reveal it (``7,5``, ``1.234,5``,
  ``0.25`` ...). If nothing reveals it, ``1.234`` / ``1,234`` is an error, not a guess.
- Interval series: real exports hold only open hours, so night/closed-day gaps are normal. A series
  is *irregular* (error) when timestamps are off its grid (10:17 in a 30-minute series) or when whole
  days use a different uniform step (30 min one day, 60 min another). Missing slots between a day's
  first and last interval, and missing days on weekdays that do have data, are gap **warnings**.
- Dates before 1990 or more than 2 years after ``today`` are errors; dates after ``today`` in the
  kind's time column are one warning per column.
- Repeated problems are capped per (column, problem): 50 listed, then "... and N more".
- Roster rows (a plan, so future dates are normal) are resolved to full start/end timestamps from the shift type
  or the given times before duplicates are checked; see :func:`_resolve_roster_times` for the rules. Whether the
  staff ids exist is a question for the store, so the service adds that warning (``src.services.data``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, kinds
from src.data.kinds import ColumnSpec, KindSpec
from src.data.loader import (
    Cell,
    ParseOptions,
    RawTable,
    UploadLimits,
    UploadRejected,
    check_xml_safety,
    read_table,
)
from src.data.parsing import (
    EXCEL_EPOCH,
    TIME_ONLY_DAY,
    Issue,
    IssueCollector,
    Parsed,
    clean_str,
    decimal_evidence,
    parse_bools,
    parse_datetimes,
    parse_lists,
    parse_numbers,
    parse_outcomes,
    parse_texts,
    parse_times,
    show_value,
)

logger = logging.getLogger(__name__)

__all__ = [
    "Issue", "ParseOptions", "UploadLimits", "UploadRejected", "ValidationReport", "check_xml_safety",
    "text_limits", "validate_frame", "validate_raw", "validate_upload",
]

#: earliest date accepted anywhere (older values are typos or wrong formats)
MIN_DATE = np.datetime64("1990-01-01", "ns")
#: dates more than this many years after ``today`` are errors
MAX_YEARS_AHEAD = 2
#: interval lengths (minutes) an intraday series may use
ALLOWED_STEPS = (5, 10, 15, 20, 30, 60)
#: upper bounds for hour columns (per shift / per week)
MAX_SHIFT_HOURS = 24.0
MAX_WEEK_HOURS = 168.0


@dataclass
class ValidationReport:
    """Everything the upload page shows: where the data came from, every issue, and the typed frame.

    ``frame`` has the canonical columns of the kind (all of them; optional columns missing from the
    file are filled with ``""``/NaN/NaT) and is ``None`` whenever there is an error.
    """

    kind: str
    file: str
    sheet: str | None
    encoding: str | None
    separator: str | None
    issues: list[Issue]
    frame: pd.DataFrame | None
    rows_read: int
    column_map: dict[str, str]
    #: counts per severity including issues folded into "... and N more" lines
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def infos(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "info"]

    def to_frame(self) -> pd.DataFrame:
        """One row per issue: severity, file, sheet, row, column, value, message."""
        cols = ["severity", "file", "sheet", "row", "column", "value", "message"]
        frame = pd.DataFrame([[getattr(i, c) for c in cols] for i in self.issues], columns=cols)
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def summary(self) -> str:
        """One plain sentence for the top of the upload page."""
        n_err = self.totals.get("error", len(self.errors))
        n_warn = self.totals.get("warning", len(self.warnings))
        where = f" (sheet {self.sheet!r})" if self.sheet else ""
        if self.rows_read == 0 and n_err:
            return f"{self.file}{where} could not be read: {self.errors[0].message.rstrip('.')}."
        warn = f" and {n_warn} warning{'s' if n_warn != 1 else ''}" if n_warn else ""
        rows = f"{self.rows_read:,} row{'s' if self.rows_read != 1 else ''}"
        if n_err:
            return (f"{self.file}{where}: {rows} read with {n_err} error{'s' if n_err != 1 else ''}"
                    f"{warn}; nothing can be imported until the errors are fixed.")
        return f"{self.file}{where}: {rows} read{warn or ' without problems'}; ready to import."


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------


def validate_upload(kind: str, filename: str, content: bytes, options: ParseOptions | None = None,
                    limits: UploadLimits | None = None) -> ValidationReport:
    """Read and validate uploaded bytes. Never raises for a bad file (an unknown ``kind`` is a
    programming error and raises ``ValueError``); rejections become a one-error report."""
    kinds.get_kind(kind)
    options = options or ParseOptions()
    limits = limits or UploadLimits()
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    try:
        raw = read_table(filename, content, options, limits, kind=kind)
    except UploadRejected as exc:
        return _failed(kind, name, exc.issue)
    except MemoryError:
        return _failed(kind, name, Issue("error", "The file needs too much memory to read; upload a smaller file.",
                                         name, code="memory"))
    except Exception:  # a bug must not take the page down; the user gets a clear message
        logger.exception("unexpected error reading upload %s", name)
        return _failed(kind, name, Issue("error", "The file could not be read because of an internal error; the "
                                         "details were logged.", name, code="internal"))
    return validate_raw(kind, raw, options)


def validate_raw(kind: str | KindSpec, raw: RawTable, options: ParseOptions | None = None) -> ValidationReport:
    """Validate a :class:`RawTable` from :func:`read_table` against an upload kind (by key) or a spec of its own.

    A spec is accepted so that other readers of tabular files (the forecast CLI's ``ds, y, series_id``) get the
    very rules, limits and messages of uploads instead of a second, narrower parser.
    """
    spec = kind if isinstance(kind, KindSpec) else kinds.get_kind(kind)
    options = options or ParseOptions()
    columns = [list(c) for c in zip(*raw.rows, strict=True)] if raw.rows else [[] for _ in raw.headers]
    return _guarded(spec, raw.headers, columns, raw.row_numbers, file=raw.file, sheet=raw.sheet,
                    encoding=raw.encoding, separator=raw.separator, options=options, pre_issues=raw.issues,
                    formula_cells=raw.formula_cells, epoch=raw.excel_epoch)


def validate_frame(kind: str, df: pd.DataFrame, *, file: str = "<frame>",
                   options: ParseOptions | None = None) -> ValidationReport:
    """Validate an already-built frame (canonical or aliased column names, any dtypes), e.g. the demo
    generator's output. Rows are numbered as in a CSV export of the frame: header = 1, first row = 2."""
    spec = kinds.get_kind(kind)
    options = options or ParseOptions()
    headers = [str(c) for c in df.columns]
    columns: list[list[Cell]] = []
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        columns.append(s.astype(object).where(s.notna(), None).tolist())
    row_numbers = list(range(2, len(df) + 2))
    return _guarded(spec, headers, columns, row_numbers, file=file, sheet=None, encoding=None, separator=None,
                    options=options, pre_issues=[], formula_cells=set(), epoch=EXCEL_EPOCH)


def _failed(kind: str, name: str, issue: Issue) -> ValidationReport:
    return ValidationReport(kind, name, issue.sheet, None, None, [issue], None, 0, {}, {"error": 1})


def _guarded(spec: KindSpec, headers: list[str], columns: list[list[Cell]], row_numbers: Sequence[int], *,
             file: str, sheet: str | None, **kw: Any) -> ValidationReport:
    try:
        return _validate(spec, headers, columns, row_numbers, file=file, sheet=sheet, **kw)
    except MemoryError:
        issue = Issue("error", "The file needs too much memory to validate; upload a smaller file.", file, sheet,
                      code="memory")
    except Exception:
        logger.exception("unexpected error validating %s", file)
        issue = Issue("error", "The file could not be validated because of an internal error; the details were "
                      "logged.", file, sheet, code="internal")
    return ValidationReport(spec.key, file, sheet, kw.get("encoding"), kw.get("separator"), [issue], None,
                            len(row_numbers), {}, {"error": 1})


# --------------------------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------------------------


def alias_lookup(spec: KindSpec) -> dict[str, str]:
    """normalised header → canonical column; canonical names win over aliases, earlier columns over later."""
    lookup: dict[str, str] = {}
    for col in spec.columns:
        lookup.setdefault(kinds.normalise_header(col.name), col.name)
    for col in spec.columns:
        for alias in col.aliases:
            lookup.setdefault(kinds.normalise_header(alias), col.name)
    return lookup


def _col_label(j: int) -> str:
    label, n = "", j + 1
    while n:
        n, rem = divmod(n - 1, 26)
        label = chr(65 + rem) + label
    return label


def _validate(spec: KindSpec, headers: list[str], columns: list[list[Cell]], row_numbers: Sequence[int], *,
              file: str, sheet: str | None, encoding: str | None, separator: str | None, options: ParseOptions,
              pre_issues: Sequence[Issue], formula_cells: set[tuple[int, int]], epoch: datetime) -> ValidationReport:
    sink = IssueCollector(file, sheet)
    sink.extend(pre_issues)
    rows = np.asarray(row_numbers, dtype=np.int64)
    if options.queues_in_columns:
        headers, columns, rows = _unpivot_queues(spec, headers, columns, rows, sink)
        formula_cells = set()  # already reported as errors while reading; positions refer to the wide sheet
    n = len(rows)

    # 1. headers -------------------------------------------------------------------------------
    lookup = alias_lookup(spec)
    used: dict[str, list[int]] = {}
    tod_j: int | None = None  # a separate time-of-day column completing a date-only time column
    part_js: list[int] = []  # columns whose sum is a count column the file does not have (Früh;Spät;Nacht)
    for j, header in enumerate(headers):
        if not header:
            if any(c not in (None, "") and not (isinstance(c, str) and not c.strip()) for c in columns[j]):
                sink.add("warning", "unnamed_column", f"Column {_col_label(j)} has values but no header; it is "
                         "ignored.", column=_col_label(j))
            continue
        token = kinds.normalise_header(header)
        if token in spec.time_of_day_aliases and tod_j is None and token not in lookup:
            tod_j = j
            continue
        if spec.summed_parts and token in spec.summed_parts[1] and token not in lookup:
            part_js.append(j)
            continue
        canon = lookup.get(token)
        if canon is None:
            sink.add("warning", "unknown_column", f"Column '{header}' is not used for {spec.title.lower()} and is "
                     "ignored.", column=header)
            continue
        used.setdefault(canon, []).append(j)
    tc = spec.time_column
    if spec.time_of_day_aliases and tod_j is None and tc and len(used.get(tc, [])) == 2:
        # "Datum" + "Intervall": both name the timestamp; the date one is the day, the other its time of day
        dated = [j for j in used[tc] if kinds.normalise_header(headers[j]) in kinds.DATE_HEADERS]
        timed = [j for j in used[tc] if kinds.normalise_header(headers[j]) in kinds.TIME_HEADERS]
        if len(dated) == 1 and len(timed) == 1:
            tod_j = timed[0]
            used[tc] = dated
    column_map: dict[str, str] = {}
    if tod_j is not None:
        column_map[headers[tod_j]] = f"{tc} (time of day)"
    for canon, js in used.items():
        column_map.setdefault(headers[js[0]], canon)
        if len(js) > 1:
            names = " and ".join(f"'{headers[j]}'" for j in js)
            sink.add("error", "duplicate_column", f"Columns {names} both mean '{canon}'; keep only one of them.",
                     column=headers[js[1]])
    if part_js:
        target = spec.summed_parts[0]
        if target in used:
            for j in part_js:
                sink.add("warning", "unknown_column", f"Column '{headers[j]}' is ignored: the file has the column "
                         f"'{headers[used[target][0]]}' for {target}.", column=headers[j])
        else:
            for j in part_js:
                column_map[headers[j]] = f"{target} (summed)"
            columns = [*columns, _summed_cells([columns[j] for j in part_js])]
            headers = [*headers, " + ".join(headers[j] for j in part_js)]
            used[target] = [len(headers) - 1]
            sink.add("info", "summed_columns", f"'{target}' is the sum of the columns "
                     f"{', '.join(repr(headers[j]) for j in part_js)} (an empty cell counts as 0 when the row has "
                     "a value in another of them).", column=headers[-1])
    for col in spec.columns:
        if col.required and col.name not in used:
            names = ", ".join(dict.fromkeys((col.name, *col.aliases)))
            hint = (" If every queue has its own column, choose 'one column per queue' in the reading options."
                    if spec.key == "workload" and col.name in ("queue", "volume") and not options.queues_in_columns
                    else "")
            sink.add("error", "missing_column", f"Required column '{col.name}' is missing. Accepted names: {names} "
                     f"(any upper/lower case).{hint}", column=col.name)
    header_of = {canon: headers[js[0]] for canon, js in used.items()}
    if tc in used:
        columns, rows, formula_cells = _skip_total_rows(columns, rows, formula_cells, used[tc][0],
                                                        header_of[tc], sink)
        n = len(rows)
    cells_of = {canon: columns[js[0]] for canon, js in used.items()}

    # 2. decimal separator, decided once per file ---------------------------------------------
    numeric = [c for c in used if spec.column(c).type in ("count", "number")]
    col_decimal: dict[str, str | None] = {}
    if options.decimal != "auto":
        col_decimal = {c: options.decimal for c in numeric}
    else:
        evidence = {c: decimal_evidence(cells_of[c]) for c in numeric}
        seen: dict[str, tuple[str, int]] = {}
        for c, ev in evidence.items():
            for sep, i in ev.items():
                seen.setdefault(sep, (c, i))
        if len(seen) == 1:
            sep, (c, i) = next(iter(seen.items()))
            col_decimal = {c2: sep for c2 in numeric}
            sink.add("info", "decimal", f"Numbers use '{sep}' as the decimal separator (e.g. "
                     f"{show_value(cells_of[c][i])} in row {rows[i]}, column '{header_of[c]}').",
                     row=int(rows[i]), column=header_of[c], value=cells_of[c][i])
        elif len(seen) == 2:
            (c1, i1), (c2, i2) = seen["."], seen[","]
            sink.add("error", "decimal_conflict", f"The file uses both decimal separators: "
                     f"{show_value(cells_of[c1][i1])} (row {rows[i1]}, column '{header_of[c1]}') has a decimal point "
                     f"but {show_value(cells_of[c2][i2])} (row {rows[i2]}, column '{header_of[c2]}') a decimal comma. "
                     "Correct the file or choose the decimal separator in the upload options.")
            col_decimal = {c: (next(iter(evidence[c])) if len(evidence[c]) == 1 else None) for c in numeric}
        else:
            col_decimal = {c: None for c in numeric}

    # 3. parse every mapped column ---------------------------------------------------------------
    parsed: dict[str, Parsed] = {}
    for canon in used:
        col = spec.column(canon)
        parsed[canon] = _parse_column(col, cells_of[canon], header_of[canon], rows, sink, options,
                                      col_decimal.get(canon), epoch, skills=(spec.key == "staff" and canon == "skills"))
    for ri, cj in formula_cells:  # already reported as "formula without a stored value"
        for canon, js in used.items():
            if js[0] == cj:
                parsed[canon].empty[ri] = False
    if tod_j is not None and tc in parsed:
        _add_time_of_day(parsed[tc], columns[tod_j], headers[tod_j], header_of[tc], rows, sink, options, epoch)

    # 4. required cells, ranges ------------------------------------------------------------------
    for canon, p in parsed.items():
        col = spec.column(canon)
        if col.required:
            for i in np.flatnonzero(p.empty):
                sink.add("error", "empty", f"Row {rows[i]}: column '{header_of[canon]}' is empty; a value is required.",
                         row=int(rows[i]), column=header_of[canon])
        if col.type in ("date", "datetime"):
            _check_date_range(p, canon == spec.time_column and not spec.planned, header_of[canon], rows, sink,
                              options)
    _check_text_lengths(spec, parsed, header_of, rows, sink)
    if spec.key == "roster":
        _resolve_roster_times(parsed, header_of, rows, sink, n)
    if options.timezone and spec.key in kinds.KINDS:
        _check_local_times(spec, parsed, header_of, rows, sink, options.timezone)

    # 5. duplicate keys, cross-field rules, series ---------------------------------------------
    _check_duplicates(spec, parsed, header_of, rows, sink, n)
    _check_cross_fields(spec, parsed, header_of, rows, sink)
    if spec.series_columns and spec.time_column in parsed:
        _check_series(spec, parsed, header_of, rows, sink)

    issues = sink.finish()
    totals = {s: sink.count(s) for s in ("error", "warning", "info")}
    frame = None if any(i.severity == "error" for i in issues) else _build_frame(spec, parsed, n)
    return ValidationReport(spec.key, file, sheet, encoding, separator, issues, frame, n, column_map, totals)


#: first word of a total or subtotal row in an export's time column ("Summe", "Gesamt", "Total", "Σ")
_RE_TOTAL = re.compile(r"\s*(summe|gesamt|gesamtsumme|zwischensumme|total|totals|grand total|subtotal|sum|σ|∑)\b.*",
                       re.IGNORECASE | re.DOTALL)


def _skip_total_rows(columns: list[list[Cell]], rows: np.ndarray, formula_cells: set[tuple[int, int]], time_j: int,
                     time_header: str, sink: IssueCollector
                     ) -> tuple[list[list[Cell]], np.ndarray, set[tuple[int, int]]]:
    """Drop rows whose time cell is a total label (``Summe``, ``Gesamt``, ``Total``…), each noted in the report.

    Why: exports from ACD and rostering tools end with (or interleave) total rows; they are not data (storing
    them would double the volume) and their time cell can never be a date, so skipping them is not a guess —
    it only spares the user from editing every export by hand.
    """
    cells = columns[time_j]
    drop = np.array([isinstance(c, str) and _RE_TOTAL.fullmatch(c) is not None for c in cells], dtype=bool)
    if not drop.any():
        return columns, rows, formula_cells
    for i in np.flatnonzero(drop):
        sink.add("info", "total_row", f"Row {rows[i]} is a total row ({show_value(cells[i])} in column "
                 f"'{time_header}') and was skipped.", row=int(rows[i]), column=time_header, value=cells[i])
    keep = ~drop
    if not keep.any():
        sink.add("error", "no_data", "The file has no data rows: every row is a total row.", column=time_header)
    new_index = np.cumsum(keep) - 1
    columns = [[c for c, k in zip(col, keep, strict=True) if k] for col in columns]
    formula_cells = {(int(new_index[ri]), cj) for ri, cj in formula_cells if keep[ri]}
    return columns, rows[keep], formula_cells


def _no_rows(headers: list[str], keep: list[int]) -> tuple[list[str], list[list[Cell]], np.ndarray]:
    """The long form's columns without rows: the refused sheet's problem is reported once, not as missing columns."""
    names = [*(headers[j] for j in keep), "queue", "volume"]
    return names, [[] for _ in names], np.zeros(0, dtype=np.int64)


#: long rows one wide upload may expand to (4 × the default row limit): a 500,000-row sheet with 58 queue
#: columns would otherwise build ~30 million cells in memory before any check
MAX_WIDE_VALUES = 2_000_000


def _unpivot_queues(spec: KindSpec, headers: list[str], columns: list[list[Cell]], rows: np.ndarray,
                    sink: IssueCollector) -> tuple[list[str], list[list[Cell]], np.ndarray]:
    """A workload sheet with one column per queue → the long form (time columns, site, aht, queue, volume).

    Every column that is not a known time/site/AHT column is a queue named by its header; an empty cell is an
    interval without data for that queue (as a missing row would be). A total column (``Summe``, ``Total``) is
    skipped, not read as a queue. Volume problems are then reported by row with the column ``volume``.
    """
    if spec.key != "workload":
        sink.add("error", "wide_not_supported", f"'One column per queue' applies to workload files only, not to "
                 f"{spec.title.lower()}.")
        return headers, columns, rows
    lookup = alias_lookup(spec)
    keep, queues = [], []
    for j, header in enumerate(headers):
        token = kinds.normalise_header(header) if header else ""
        canon = lookup.get(token)
        if not header:
            continue
        if canon in ("queue", "volume"):
            sink.add("error", "wide_queue_column", f"Column '{header}' names the {canon}, but the file was read with "
                     "one column per queue; untick that option for a file with queue and volume columns.",
                     column=header)
        elif canon is not None or token in spec.time_of_day_aliases:
            keep.append(j)
        elif _RE_TOTAL.fullmatch(header):
            sink.add("info", "total_column", f"Column '{header}' is a total and was skipped.", column=header)
        else:
            queues.append(j)
    if not queues:
        sink.add("error", "no_queue_columns", "The file was read with one column per queue, but it has no column "
                 "besides the time, site and AHT columns.")
        return _no_rows(headers, keep)
    filled = sum(1 for q in queues for c in columns[q] if clean_str(c) is not None)
    if filled > MAX_WIDE_VALUES:
        sink.add("error", "too_many_values", f"The sheet holds {filled:,} queue values; at most {MAX_WIDE_VALUES:,} "
                 "can be read at once. Upload a shorter period or fewer queues per file.")
        return _no_rows(headers, keep)
    out_cols: list[list[Cell]] = [[] for _ in range(len(keep) + 2)]
    out_rows: list[int] = []
    for i in range(len(rows)):
        for q in queues:
            cell = columns[q][i]
            if clean_str(cell) is None:  # blank, or only (non-breaking / zero-width) spaces: no data
                continue
            for k, j in enumerate(keep):
                out_cols[k].append(columns[j][i])
            out_cols[-2].append(headers[q])
            out_cols[-1].append(cell)
            out_rows.append(int(rows[i]))
    names = ", ".join(f"'{headers[q]}'" for q in queues[:8]) + (" …" if len(queues) > 8 else "")
    sink.add("info", "queues_in_columns", f"One column per queue: {len(queues)} queue(s) ({names}) → "
             f"{len(out_rows):,} rows of queue and volume.")
    return [*(headers[j] for j in keep), "queue", "volume"], out_cols, np.asarray(out_rows, dtype=np.int64)


def _summed_cells(parts: list[list[Cell]]) -> list[Cell]:
    """Row-wise sum of part columns as cells for the count parser: numbers (and numeric text with a plain integer
    form) add up, an empty cell is 0 when another part of the row has a value, a row with no value stays empty
    and anything else is passed on unchanged (so the count parser names the bad value)."""
    out: list[Cell] = []
    for cells in zip(*parts, strict=True):
        values = [clean_str(c) for c in cells]  # the parsers' notion of blank, incl. U+00A0/U+202F/U+FEFF
        filled = [v for v in values if v is not None]
        if not filled:
            out.append(None)
            continue
        bad = [v for v in filled if isinstance(v, bool) or not (isinstance(v, (int, float))
                                                                 or (isinstance(v, str) and v.isdigit()))]
        if bad:
            out.append(bad[0])
            continue
        total = sum(int(v) if isinstance(v, str) else v for v in filled)
        out.append(int(total) if float(total).is_integer() else total)
    return out


_HHMM = r"\d{1,2}:\d{2}(?::\d{2})?"
_RE_TIME_RANGE = re.compile(rf"\s*({_HHMM})\s*(?:-|–|—|bis|to)\s*{_HHMM}\s*(?:uhr)?\s*", re.IGNORECASE)
_RE_WHOLE_HOUR = re.compile(r"\s*(\d{1,2})\s*(?:h|uhr)?\s*", re.IGNORECASE)


def _interval_start(cell: Cell, hour_column: bool) -> Cell:
    """The start of an interval cell: ``08:00 - 08:30`` / ``08:00-08:30 Uhr`` → ``08:00``; in an hour column
    (``Stunde``/``Hour``) a whole number 0–23 → ``H:00``. Anything else is returned unchanged."""
    if isinstance(cell, str):
        m = _RE_TIME_RANGE.fullmatch(cell)
        if m:
            return m.group(1)
        m = _RE_WHOLE_HOUR.fullmatch(cell) if hour_column else None
        if m and int(m.group(1)) <= 23:
            return f"{int(m.group(1))}:00"
    elif hour_column and isinstance(cell, (int, float)) and not isinstance(cell, bool) and float(cell).is_integer() \
            and 0 <= cell <= 23:
        return f"{int(cell)}:00"
    return cell


def _add_time_of_day(stamp: Parsed, cells: list[Cell], tod_header: str, date_header: str, rows: np.ndarray,
                     sink: IssueCollector, options: ParseOptions, epoch: datetime) -> None:
    """Complete a date-only time column with a separate time-of-day column, in place.

    Why: many ACD/telephony exports write the day and the interval in two columns (``Datum;Uhrzeit;Anrufe`` or
    ``Date;Interval;Offered`` with ``08:00-08:30``). Each row must then have a date without a time in the date
    column and a time of day (or a full timestamp on the same day) in the time column; anything else is an error
    naming the row, so no row is placed at a guessed time.
    """
    hour_column = kinds.normalise_header(tod_header) in ("stunde", "hour")
    tod = parse_times([_interval_start(c, hour_column) for c in cells], date_order=options.date_order, epoch=epoch,
                      rows=rows, column=tod_header, sink=sink)
    days = stamp.values.astype("datetime64[D]").astype("datetime64[ns]")
    for i in np.flatnonzero(stamp.valid & tod.empty):
        sink.add("error", "empty", f"Row {rows[i]}: column '{tod_header}' is empty; the time of day is required "
                 f"because '{date_header}' holds only the date.", row=int(rows[i]), column=tod_header)
    has_time = stamp.valid & (stamp.values != days)
    for i in np.flatnonzero(has_time & tod.valid):
        sink.add("error", "date_has_time", f"Row {rows[i]}: column '{date_header}' already has a time of day "
                 f"({_fmt_ts(stamp.values[i])}) and column '{tod_header}' gives another; keep the time in one "
                 "column.", row=int(rows[i]), column=date_header, value=str(pd.Timestamp(stamp.values[i])))
    tod_day = tod.values.astype("datetime64[D]").astype("datetime64[ns]")
    other_day = stamp.valid & tod.valid & (tod_day != TIME_ONLY_DAY) & (tod_day != days)
    for i in np.flatnonzero(other_day):
        sink.add("error", "time_other_day", f"Row {rows[i]}: column '{tod_header}' holds {_fmt_ts(tod.values[i])}, "
                 f"which is not on the day in column '{date_header}' ({pd.Timestamp(days[i]):%Y-%m-%d}).",
                 row=int(rows[i]), column=tod_header, value=cells[i])
    ok = stamp.valid & tod.valid & ~has_time & ~other_day
    stamp.values[ok] = days[ok] + (tod.values[ok] - tod_day[ok])
    stamp.valid[:] = ok  # every other row with a date has had its error reported above or by parse_times


def _parse_column(col: ColumnSpec, cells: list[Cell], header: str, rows: np.ndarray, sink: IssueCollector,
                  options: ParseOptions, decimal: str | None, epoch: datetime, *, skills: bool) -> Parsed:
    if col.type in ("datetime", "date"):
        return parse_datetimes(cells, date_order=options.date_order, date_only=col.type == "date", epoch=epoch,
                               rows=rows, column=header, sink=sink, utc_offsets=options.utc_offsets)
    if col.type == "time":
        return parse_times(cells, date_order=options.date_order, epoch=epoch, rows=rows, column=header, sink=sink)
    if col.type in ("count", "number"):
        return parse_numbers(cells, decimal=decimal, integer=col.type == "count",  # type: ignore[arg-type]
                             non_negative=col.non_negative or col.type == "count", positive=col.positive,
                             rows=rows, column=header, sink=sink)
    if col.type == "bool":
        return parse_bools(cells, rows=rows, column=header, sink=sink)
    if col.type == "outcome":
        return parse_outcomes(cells, rows=rows, column=header, sink=sink)
    if col.type == "list":
        return parse_lists(cells, skills=skills, rows=rows, column=header, sink=sink)
    return parse_texts(cells, rows=rows, column=header, sink=sink)


def _check_date_range(p: Parsed, is_time_column: bool, header: str, rows: np.ndarray, sink: IssueCollector,
                      options: ParseOptions) -> None:
    today = options.resolved_today()
    try:
        limit_day = today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        limit_day = today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)
    upper = np.datetime64(limit_day, "D") + np.timedelta64(1, "D")
    tomorrow = np.datetime64(today, "D") + np.timedelta64(1, "D")
    v = p.values
    for i in np.flatnonzero(p.valid & (v < MIN_DATE)):
        sink.add("error", "date_range", f"Row {rows[i]}, column '{header}': {pd.Timestamp(v[i]):%Y-%m-%d} is before "
                 "1990; check the date format.", row=int(rows[i]), column=header, value=str(pd.Timestamp(v[i])),
                 raw_value=True)
        p.valid[i] = False
    for i in np.flatnonzero(p.valid & (v >= upper)):
        sink.add("error", "date_range", f"Row {rows[i]}, column '{header}': {pd.Timestamp(v[i]):%Y-%m-%d} is more "
                 f"than {MAX_YEARS_AHEAD} years after today ({today:%Y-%m-%d}).", row=int(rows[i]), column=header,
                 value=str(pd.Timestamp(v[i])), raw_value=True)
        p.valid[i] = False
    if is_time_column:
        future = np.flatnonzero(p.valid & (v >= tomorrow))
        if len(future):
            i = future[0]
            sink.add("warning", "future_date", f"Column '{header}': {len(future)} row(s) are dated after today "
                     f"({today:%Y-%m-%d}), e.g. row {rows[i]} ({pd.Timestamp(v[i])}). History is normally in the past.",
                     row=int(rows[i]), column=header, value=str(pd.Timestamp(v[i])), raw_value=True)


def text_limits(spec: KindSpec) -> dict[str, int]:
    """Longest text each of the kind's columns can store: the ``String(n)`` lengths of its table in the schema.

    Why from the table definitions: a copy of the numbers would drift from the schema. Why at all: SQLite stores
    any length while PostgreSQL refuses the whole insert (``value too long for type character varying(128)``), so
    the same file was stored on one database and crashed the ingest on the other. Unlimited (``Text``) columns and
    specs without a table (the forecast CLI's file) have no entry.
    """
    table = db.KIND_TABLES.get(spec.key)
    if table is None:
        return {}
    limits: dict[str, int] = {}
    for col in spec.columns:
        if col.type in ("text", "list") and col.name in table.c:
            length = getattr(table.c[col.name].type, "length", None)
            if isinstance(length, int):
                limits[col.name] = length
    return limits


def _check_text_lengths(spec: KindSpec, parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                        sink: IssueCollector) -> None:
    """Text values longer than their column can store are errors naming row, column and limit."""
    for canon, limit in text_limits(spec).items():
        p = parsed.get(canon)
        if p is None:
            continue
        lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in p.values), np.int64, len(p.values))
        for i in np.flatnonzero(p.valid & (lengths > limit)):
            sink.add("error", "text_too_long", f"Row {rows[i]}, column '{header_of[canon]}': the text has "
                     f"{lengths[i]} characters; at most {limit} can be stored. Shorten it.", row=int(rows[i]),
                     column=header_of[canon], value=p.values[i])
            p.valid[i] = False


def _check_local_times(spec: KindSpec, parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                       sink: IssueCollector, tz: str) -> None:
    """Wall-clock times checked against the clock changes of ``tz`` (the app's ``APP_TIMEZONE``).

    - A time that does not exist (02:00–02:59 on the spring-forward day in Europe/Berlin) is an **error**: no clock
      showed it, so the export is broken or was converted from another zone, and a guess would shift the row.
    - A time in the hour that occurs twice (fall-back day) is kept as the clock shows it — uploads are local wall
      clock, without offsets — with one **info** per column saying so: its two occurrences cannot be told apart, and
      where the time is part of the row's key (workload, roster) the second one is reported as a duplicate.
    Only upload kinds (stored as local wall clock) are checked; other specs (the forecast CLI's file) may be in UTC.
    """
    for col in spec.columns:
        p = parsed.get(col.name)
        if col.type not in ("datetime", "time") or p is None or not p.valid.any():
            continue
        header = header_of.get(col.name, col.name)
        sel = np.flatnonzero(p.valid)
        idx = pd.DatetimeIndex(p.values[sel])
        missing = idx.tz_localize(tz, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="NaT").isna()
        if missing.any():
            jumped = idx[missing].tz_localize(tz, ambiguous=np.zeros(int(missing.sum()), dtype=bool),
                                              nonexistent="shift_forward").tz_localize(None)
            for i, after in zip(sel[missing], jumped, strict=True):
                ts = pd.Timestamp(p.values[i])
                sink.add("error", "nonexistent_time", f"Row {rows[i]}, column '{header}': {ts:%Y-%m-%d %H:%M} does "
                         f"not exist in {tz}: the clocks jump forward to {after:%H:%M} that night (daylight saving "
                         "time starts). Correct the time, or export the local clock time.", row=int(rows[i]),
                         column=header, value=str(ts), raw_value=True)
                p.valid[i] = False
        repeated = idx.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").isna()
        if repeated.any():
            i = sel[np.argmax(repeated)]
            sink.add("info", "repeated_hour", f"Column '{header}': {int(repeated.sum())} row(s) lie in the hour that "
                     f"occurs twice when daylight saving time ends in {tz} (e.g. row {rows[i]}, "
                     f"{pd.Timestamp(p.values[i]):%Y-%m-%d %H:%M}). They are read as the local clock shows them, so "
                     "the two occurrences of such a time cannot be told apart; where the time is part of a row's key, "
                     "a second occurrence is reported as a duplicate.", row=int(rows[i]), column=header)


def _fmt_key(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M}"
    return repr(value) if value != "" else "(empty)"


def _check_duplicates(spec: KindSpec, parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                      sink: IssueCollector, n: int) -> None:
    keys = list(spec.key_columns)
    if not keys or any(spec.column(k).required and k not in parsed for k in keys) or n < 2:
        return  # no keys: repeated rows are the consumer's business (the forecast engine sums them)
    ok = np.ones(n, dtype=bool)
    data: dict[str, Any] = {}
    for k in keys:
        if k in parsed:
            p = parsed[k]
            ok &= p.valid | (p.empty & (not spec.column(k).required))
            data[k] = p.values
        else:
            data[k] = np.full(n, "", dtype=object)
    frame = pd.DataFrame(data)
    frame["__row"] = rows
    frame = frame[ok]
    dup = frame.duplicated(keys, keep=False)
    if not dup.any():
        return
    sub = frame[dup]
    first = sub.groupby(keys, sort=False, dropna=False)["__row"].transform("first")
    later = sub[sub["__row"] != first]
    names = ", ".join(header_of.get(k, k) for k in keys if k in parsed)
    time_key = spec.time_column if spec.time_column in parsed and spec.time_column in keys else None
    for (_, rec), first_row in zip(later.iterrows(), first[later.index], strict=True):
        shown = ", ".join(_fmt_key(pd.Timestamp(rec[k]) if spec.column(k).type in ("date", "datetime") else rec[k])
                          for k in keys if k in parsed)
        hint = ""
        if time_key:
            t = pd.Timestamp(rec[time_key])
            if t.month == 10 and t.dayofweek == 6 and t.day >= 25 and t.hour == 2:
                hint = " This may be the repeated hour when daylight saving time ends; export in one time base."
        sink.add("error", "duplicate_key",
                 f"Rows {first_row} and {rec['__row']} have the same {names} ({shown}).{hint}",
                 row=int(rec["__row"]), column=header_of.get(keys[0]), value=shown, raw_value=True)


def _check_cross_fields(spec: KindSpec, parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                        sink: IssueCollector) -> None:
    def both(a: str, b: str) -> np.ndarray | None:
        if a in parsed and b in parsed:
            return parsed[a].valid & parsed[b].valid
        return None

    def report(sev: str, code: str, mask: np.ndarray, col: str, text: str) -> None:
        for i in np.flatnonzero(mask):
            sink.add(sev, code, f"Row {rows[i]}: {text}", row=int(rows[i]), column=header_of[col])  # type: ignore[arg-type]

    def hours_cap(col: str, cap: float, unit: str) -> None:
        if col in parsed:
            p = parsed[col]
            report("error", "too_many_hours", p.valid & (p.values > cap), col,
                   f"'{header_of[col]}' is more than {cap:g} hours {unit}.")

    if spec.key == "overtime":
        m = both("responded_at", "contacted_at")
        if m is not None:
            report("error", "response_before_contact",
                   m & (parsed["responded_at"].values < parsed["contacted_at"].values), "responded_at",
                   f"'{header_of['responded_at']}' is before '{header_of['contacted_at']}'.")
        if "responded_at" in parsed and "accepted" in parsed:
            report("warning", "accepted_without_response",
                   parsed["accepted"].valid & parsed["accepted"].values & parsed["responded_at"].empty, "responded_at",
                   "the request was accepted but no response time is given.")
        m = both("contacted_at", "shift_date")
        if m is not None:
            contacted_day = parsed["contacted_at"].values.astype("datetime64[D]")
            report("warning", "contact_after_shift",
                   m & (contacted_day > parsed["shift_date"].values.astype("datetime64[D]")), "contacted_at",
                   "the person was contacted after the shift date.")
        hours_cap("hours_worked", MAX_SHIFT_HOURS, "for one shift")
        m = both("accepted", "hours_worked")
        if m is not None:
            report("warning", "hours_without_accept",
                   m & ~parsed["accepted"].values & (parsed["hours_worked"].values > 0), "hours_worked",
                   "hours were worked although the request was not accepted.")
    elif spec.key == "assignments":
        m = both("due", "assigned_at")
        if m is not None:
            report("warning", "due_before_assigned", m & (parsed["due"].values < parsed["assigned_at"].values), "due",
                   f"'{header_of['due']}' is before '{header_of['assigned_at']}'.")
        hours_cap("hours", MAX_WEEK_HOURS, "for one task")
    elif spec.key == "staff":
        hours_cap("contract_hours", MAX_WEEK_HOURS, "a week")


#: a rostered shift longer than this is reported as a warning: it is usually a swapped or mistyped time
LONG_SHIFT_HOURS = 12.0
_DAY = np.timedelta64(1, "D")


def _fmt_ts(v: np.datetime64) -> str:
    return f"{pd.Timestamp(v):%Y-%m-%d %H:%M}"


def _resolve_roster_times(parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                          sink: IssueCollector, n: int) -> None:
    """Roster rows: put start and end on the row's date, fill them from the shift type, derive the paid hours.

    Why in validation and not later: the duplicate-key check (staff_id, date, start) and the overlap check need the
    resolved start, and the store keeps full start/end timestamps so that a week's roster is one range query.

    Rules (every violation is an error, except a long shift, which is a warning):
    - ``shift_type``, when given, must be a known type (early, late, night, day or a German/English alias); without
      one, both ``start`` and ``end`` are required.
    - ``start`` defaults to the type's usual start (:data:`kinds.DEFAULT_SHIFT_STARTS`); ``end`` to start +
      :data:`kinds.DEFAULT_SHIFT_HOURS` (8 h), or start + ``hours`` when those are more (a long shift; fewer paid
      hours are breaks inside the usual 8 h). A bare end time that is not after the start lies on the next
      day (night shifts); equal times are an error (0 or 24 hours?). Full timestamps must lie on the row's date
      (the end: that day or the next) and the end must be after the start.
    - ``hours`` (paid hours) default to end − start; they may be less (breaks), not more, and at most 24.
    - One person's shifts in the file must not overlap.

    Afterwards ``parsed`` holds the resolved ``start``, ``end``, ``hours`` and canonical ``shift_type`` (``""`` when
    none was given), valid on the rows that resolved.
    """
    if "date" not in parsed:
        return
    date_p = parsed["date"]
    day = date_p.values.astype("datetime64[ns]")
    usable = date_p.valid.copy()
    st, sp, ep, hp = (parsed.get(c) for c in ("shift_type", "start", "end", "hours"))
    for p in (st, sp, ep, hp):
        if p is not None:
            usable &= p.valid | p.empty  # a filled cell that did not parse is already reported

    def col(name: str) -> str:
        return header_of.get(name, name)

    def err(i: int, code: str, column: str | None, text: str, value: Any = None, raw: bool = False) -> None:
        where = f"Row {rows[i]}, column '{column}'" if column in header_of.values() else f"Row {rows[i]}"
        sink.add("error", code, f"{where}: {text}", row=int(rows[i]), column=column, value=value, raw_value=raw)
        usable[i] = False

    # shift types
    type_key = np.full(n, "", dtype=object)
    has_type = np.zeros(n, dtype=bool)
    if st is not None:
        cache: dict[str, str] = {}
        for i in np.flatnonzero(st.valid):
            raw = str(st.values[i])
            key = cache.setdefault(raw, kinds.normalise_shift_type(raw))
            if key in kinds.DEFAULT_SHIFT_STARTS:
                type_key[i], has_type[i] = key, True
            else:
                err(int(i), "unknown_shift_type", col("shift_type"),
                    f"{raw!r} is not a known shift type; use {', '.join(kinds.DEFAULT_SHIFT_STARTS)} (German names "
                    "such as Frühdienst, Spätdienst, Nachtdienst work too), or leave it empty and give start and end "
                    "times.", raw)
    has_start = sp.valid.copy() if sp is not None else np.zeros(n, dtype=bool)
    has_end = ep.valid.copy() if ep is not None else np.zeros(n, dtype=bool)
    has_hours = hp.valid.copy() if hp is not None else np.zeros(n, dtype=bool)
    for i in np.flatnonzero(usable & ~has_type & ~(has_start & has_end)):
        missing = " and ".join(c for c, h in (("start", has_start[i]), ("end", has_end[i])) if not h)
        err(int(i), "missing_shift_time", header_of.get("shift_type"),
            f"without a shift type a shift needs its start and end times ({missing} missing). Give the shift type "
            f"(early, late, night, day) in '{col('shift_type')}', or both times.")

    # start
    offsets = {k: np.timedelta64(int(v[:2]) * 60 + int(v[3:]), "m") for k, v in kinds.DEFAULT_SHIFT_STARTS.items()}
    start = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    for i in np.flatnonzero(usable & has_type & ~has_start):
        start[i] = day[i] + offsets[type_key[i]]
    bare_start = np.zeros(n, dtype=bool)
    if sp is not None:
        sv = sp.values
        bare_start = has_start & (sv >= TIME_ONLY_DAY) & (sv < TIME_ONLY_DAY + _DAY)
        sel = usable & bare_start
        start[sel] = day[sel] + (sv[sel] - TIME_ONLY_DAY)
        for i in np.flatnonzero(usable & has_start & ~bare_start):
            if sv[i].astype("datetime64[D]") != day[i].astype("datetime64[D]"):
                err(int(i), "start_not_on_date", col("start"), f"{_fmt_ts(sv[i])} is not on the row's date "
                    f"{pd.Timestamp(day[i]):%Y-%m-%d}.", _fmt_ts(sv[i]), raw=True)
            else:
                start[i] = sv[i]

    # end
    end = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    hours_in = hp.values if hp is not None else np.zeros(n)
    for i in np.flatnonzero(usable & ~has_end):  # only rows with a shift type get here
        length = max(kinds.DEFAULT_SHIFT_HOURS, float(hours_in[i]) if has_hours[i] else 0.0)
        end[i] = start[i] + np.timedelta64(int(round(length * 3600)), "s")
    if ep is not None:
        ev = ep.values
        for i in np.flatnonzero(usable & has_end):
            if TIME_ONLY_DAY <= ev[i] < TIME_ONLY_DAY + _DAY:
                e = day[i] + (ev[i] - TIME_ONLY_DAY)
                if e == start[i]:
                    hhmm = f"{pd.Timestamp(e):%H:%M}"
                    err(int(i), "end_equals_start", col("end"), f"the shift starts and ends at {hhmm}; a shift cannot "
                        "last 0 or 24 hours. Check start and end.", hhmm, raw=True)
                    continue
                end[i] = e if e > start[i] else e + _DAY  # not after the start: the next day (night shift)
            elif not (day[i] <= ev[i].astype("datetime64[D]") <= day[i] + _DAY):
                err(int(i), "end_not_on_date", col("end"), f"{_fmt_ts(ev[i])} is neither on the row's date "
                    f"{pd.Timestamp(day[i]):%Y-%m-%d} nor on the next day.", _fmt_ts(ev[i]), raw=True)
            elif ev[i] <= start[i]:
                err(int(i), "end_before_start", col("end"), f"the end {_fmt_ts(ev[i])} is not after the start "
                    f"{_fmt_ts(start[i])}.", _fmt_ts(ev[i]), raw=True)
            else:
                end[i] = ev[i]

    # paid hours
    duration = (end - start) / np.timedelta64(1, "h")
    hours = np.where(has_hours, hours_in, duration).astype(np.float64)
    for i in np.flatnonzero(usable & has_hours):
        if hours_in[i] > MAX_SHIFT_HOURS:
            err(int(i), "too_many_hours", col("hours"), f"{hours_in[i]:g} hours is more than {MAX_SHIFT_HOURS:g} "
                "hours for one shift.", float(hours_in[i]))
        elif hours_in[i] > duration[i] + 1e-6:
            err(int(i), "hours_exceed_shift", col("hours"), f"{hours_in[i]:g} paid hours is more than the "
                f"{duration[i]:g} h from {_fmt_ts(start[i])} to {_fmt_ts(end[i])}.", float(hours_in[i]))
    for i in np.flatnonzero(usable & (duration > LONG_SHIFT_HOURS)):
        sink.add("warning", "long_shift", f"Row {rows[i]}: the shift lasts {duration[i]:g} h ({_fmt_ts(start[i])} to "
                 f"{_fmt_ts(end[i])}); check start and end.", row=int(rows[i]), column=header_of.get("end"))

    # one person's shifts must not overlap
    sid_p = parsed.get("staff_id")
    if sid_p is not None:
        mask = usable & sid_p.valid
        f = pd.DataFrame({"sid": sid_p.values[mask], "s": start[mask], "e": end[mask], "row": rows[mask]})
        f = f.sort_values(["sid", "s", "row"], kind="stable")
        prev = f.groupby("sid", sort=False)[["s", "e", "row"]].shift(1)
        clash = (f["s"] < prev["e"]) & (f["s"] != prev["s"])  # the same start is a duplicate key, reported there
        for (_, r), (_, q) in zip(f[clash].iterrows(), prev[clash].iterrows(), strict=True):
            sink.add("error", "overlapping_shifts",
                     f"Rows {int(q['row'])} and {int(r['row'])}: {r['sid']!r} is rostered twice at the same time "
                     f"({_fmt_ts(q['s'])}–{pd.Timestamp(q['e']):%H:%M} and {_fmt_ts(r['s'])}–"
                     f"{pd.Timestamp(r['e']):%H:%M}).", row=int(r["row"]), column=header_of.get("staff_id"),
                     value=r["sid"])

    zeros = np.zeros(n, dtype=bool)
    parsed["start"] = Parsed(start, usable.copy(), zeros.copy())
    parsed["end"] = Parsed(end, usable.copy(), zeros.copy())
    parsed["hours"] = Parsed(hours, usable.copy(), zeros.copy())
    parsed["shift_type"] = Parsed(type_key, usable.copy(), zeros.copy())


def _check_series(spec: KindSpec, parsed: dict[str, Parsed], header_of: dict[str, str], rows: np.ndarray,
                  sink: IssueCollector) -> None:
    tcol = spec.time_column
    assert tcol is not None
    t = parsed[tcol]
    series = [c for c in spec.series_columns if c in parsed]
    mask = t.valid.copy()
    for c in series:
        mask &= parsed[c].valid | parsed[c].empty
    data = {"t": t.values[mask], "row": rows[mask]}
    for c in series:
        data[c] = parsed[c].values[mask]
    frame = pd.DataFrame(data).sort_values("t", kind="stable").drop_duplicates(subset=[*series, "t"])
    groups = frame.groupby(series, sort=False) if series else [((), frame)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{header_of[c]} {v!r}" for c, v in zip(series, key, strict=True) if v != "") or "the file"
        _check_one_series(label, g["t"].to_numpy("datetime64[ns]"), g["row"].to_numpy(), header_of[tcol], sink)


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)


def _missing_days(days: np.ndarray) -> np.ndarray:
    """Days between the first and last day without data, on weekdays that do have data elsewhere."""
    uniq = np.unique(days)
    if len(uniq) < 2:
        return uniq[:0]
    span = np.arange(uniq[0], uniq[-1] + np.timedelta64(1, "D"), dtype="datetime64[D]")
    missing = np.setdiff1d(span, uniq)
    return missing[np.isin(_weekday(missing), np.unique(_weekday(uniq)))]


def _check_one_series(label: str, t: np.ndarray, r: np.ndarray, header: str, sink: IssueCollector) -> None:
    if len(t) < 2:
        return
    ns = t.astype(np.int64)
    days = t.astype("datetime64[D]")
    minute_of_day = (ns - days.astype("datetime64[ns]").astype(np.int64)) // 60_000_000_000
    off_second = ns % 60_000_000_000 != 0
    if not off_second.any() and not minute_of_day.any():  # daily series
        missing = _missing_days(days)
        if len(missing):
            sink.add("warning", "gap", f"{label}: {len(missing)} day(s) without data between {days[0]} and {days[-1]} "
                     f"(e.g. {missing[0]}), on weekdays that have data elsewhere. Missing days are not filled in.",
                     column=header)
        return
    # the grid: the largest allowed step that >= 90 % of the times sit on; failing that, the largest
    # step with the best share (so one 10:17 among a few half-hours is flagged as the odd one out)
    shares = {s: float(np.mean(minute_of_day % s == 0)) for s in ALLOWED_STEPS}
    step = next((s for s in reversed(ALLOWED_STEPS) if shares[s] >= 0.9), None)
    if step is None:
        best = max(shares.values())
        step = max(s for s in ALLOWED_STEPS if shares[s] == best) if best >= 0.5 else None
    if step is None:
        sink.add("error", "irregular_interval", f"{label}: the times are not on a regular grid of 5, 10, 15, 20, 30 "
                 f"or 60 minutes (e.g. row {r[0]}, {pd.Timestamp(t[0])}).", row=int(r[0]), column=header)
        return
    off_grid = off_second | (minute_of_day % step != 0)
    for i in np.flatnonzero(off_grid):
        sink.add("error", "irregular_interval", f"Row {r[i]}, column '{header}': {pd.Timestamp(t[i]):%Y-%m-%d %H:%M:%S}"
                 f" is not on the {step}-minute grid of {label}.", row=int(r[i]), column=header,
                 value=str(pd.Timestamp(t[i])), raw_value=True)
    on = ~off_grid
    t, r, days, mins = t[on], r[on], days[on], ns[on] // 60_000_000_000
    if len(t) < 2:
        return
    same_day = days[1:] == days[:-1]
    diffs = np.diff(mins)
    # uniform step per day (days with >= 4 intervals, all equally spaced): mixed steps are an error
    day_start = np.flatnonzero(np.r_[True, ~same_day])
    day_len = np.diff(np.r_[day_start, len(t)])
    uniform: dict[int, list[int]] = {}
    for s0, ln in zip(day_start, day_len, strict=True):
        if ln >= 4:
            d = diffs[s0: s0 + ln - 1]
            if (d == d[0]).all():
                uniform.setdefault(int(d[0]), []).append(int(s0))
    base = step
    if uniform:
        base = min(uniform)
        if len(uniform) > 1:
            common = max(uniform, key=lambda k: len(uniform[k]))
            other = next(k for k in sorted(uniform) if k != common)
            i0, i1 = uniform[common][0], uniform[other][0]
            sink.add("error", "mixed_interval", f"{label} mixes {other}-minute and {common}-minute intervals: "
                     f"{days[i1]} (from row {r[i1]}) uses {other} minutes, {days[i0]} (from row {r[i0]}) uses "
                     f"{common} minutes. Use one interval length for the whole file.", row=int(r[i1]), column=header)
    gap_pos = np.flatnonzero(same_day & (diffs > base))
    if len(gap_pos):
        missing = int(((diffs[gap_pos] // base) - 1).sum())
        i = gap_pos[0]
        sink.add("warning", "gap", f"{label}: {missing} missing {base}-minute interval(s) inside opening hours (e.g. "
                 f"after {pd.Timestamp(t[i]):%Y-%m-%d %H:%M}, row {r[i]}). Missing intervals are not filled in.",
                 row=int(r[i]), column=header)
    missing_days = _missing_days(days)
    if len(missing_days):
        sink.add("warning", "gap_days", f"{label}: {len(missing_days)} day(s) without any interval between {days[0]} "
                 f"and {days[-1]} (e.g. {missing_days[0]}), on weekdays that have data elsewhere.", column=header)


def _build_frame(spec: KindSpec, parsed: dict[str, Parsed], n: int) -> pd.DataFrame:
    """Canonical, typed columns in kind order; optional columns absent from the file are filled."""
    data: dict[str, Any] = {}
    for col in spec.columns:
        p = parsed.get(col.name)
        if col.type in ("datetime", "date", "time"):
            data[col.name] = pd.Series(p.values if p else np.full(n, np.datetime64("NaT"), "datetime64[ns]"),
                                       dtype="datetime64[ns]")
        elif col.type == "count":
            if p is None or p.empty.any():
                values = pd.array(np.where(p.valid, p.values, 0) if p else np.zeros(n, np.int64), dtype="Int64")
                if p is not None:
                    values[p.empty] = pd.NA
                else:
                    values[:] = pd.NA
                data[col.name] = pd.Series(values)
            else:
                data[col.name] = pd.Series(p.values, dtype=np.int64)
        elif col.type == "number":
            data[col.name] = pd.Series(np.where(p.valid, p.values, np.nan) if p else np.full(n, np.nan),
                                       dtype=np.float64)
        elif col.type in ("bool", "outcome"):
            data[col.name] = pd.Series(p.values if p else np.zeros(n, dtype=bool), dtype=bool)
        else:
            data[col.name] = pd.Series(p.values if p else np.full(n, "", dtype=object), dtype=object)
    return pd.DataFrame(data)
