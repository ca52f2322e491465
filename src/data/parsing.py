"""Cell-level parsing rules for uploaded tables, one explicit rule per canonical column type.

Why this module exists: pandas' convenient parsers guess, and their guesses are silently wrong on
real exports (``1.234`` → 1.234 instead of 1234, ``dayfirst=True`` swapping ISO month and day,
``errors="coerce"`` turning typos into NaN, see SECURITY_FINDINGS.md D1/D4/D5). Here every cell is
classified by an allow-list of shapes; a cell that matches no shape, or a column whose meaning
depends on a convention the file does not reveal, is *reported* — never coerced.

Every ``parse_*`` function takes the cells of one column (``str`` for CSV; ``str``/``int``/
``float``/``bool``/``datetime`` for Excel and frames; ``None`` for empty) and returns a
:class:`Parsed` with the typed values, a ``valid`` mask and an ``empty`` mask. Problems go to an
:class:`IssueCollector`, which caps repeated problems so a 100 000-row broken file still gives a
readable report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from src.data import kinds

Severity = Literal["error", "warning", "info"]
_SEVERITIES = ("error", "warning", "info")

#: how many issues of one (column, problem) pair are listed before a summary line takes over
DEFAULT_ISSUE_CAP = 50
#: characters of a cell value shown in a report
VALUE_REPR_CHARS = 60


@dataclass(frozen=True)
class Issue:
    """One problem found in an upload, located as the user sees it in the file.

    ``row`` is the row number shown by Excel / a text editor (header = row 1 unless title rows
    were skipped); ``column`` is the user's own header text; ``value`` a truncated ``repr``.
    ``code`` is a stable machine-readable problem kind (e.g. ``"bad_number"``) for the UI/tests.
    """

    severity: Severity
    message: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    code: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}, got {self.severity!r}")


def show_value(value: Any) -> str:
    """A short, unambiguous rendering of a cell for messages (``repr`` so spaces/controls show)."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    else:
        text = repr(value)
    if len(text) > VALUE_REPR_CHARS:
        text = text[: VALUE_REPR_CHARS - 1] + "…"
    return text


class IssueCollector:
    """Collects issues, listing at most ``cap`` per (column, code) and summarising the rest.

    Issues are kept in groups by (column, code) in order of first appearance, so the final list
    reads column by column with each group's "... and N more" line right after its examples.
    """

    def __init__(self, file: str, sheet: str | None = None, cap: int = DEFAULT_ISSUE_CAP) -> None:
        if cap < 1:
            raise ValueError("cap must be >= 1")
        self.file = file
        self.sheet = sheet
        self.cap = cap
        self._groups: dict[tuple[str | None, str], list[Issue]] = {}
        self._extra: dict[tuple[str | None, str], int] = {}

    def add(self, severity: Severity, code: str, message: str, *, row: int | None = None,
            column: str | None = None, value: Any = None, raw_value: bool = False) -> None:
        """Record one problem; ``value`` is rendered with :func:`show_value` unless ``raw_value``."""
        key = (column, code)
        group = self._groups.setdefault(key, [])
        if len(group) >= self.cap:
            self._extra[key] = self._extra.get(key, 0) + 1
            return
        shown = None if value is None else (str(value) if raw_value else show_value(value))
        group.append(Issue(severity, message, self.file, self.sheet, row, column, shown, code))

    def extend(self, issues: Sequence[Issue]) -> None:
        """Add already-built issues (e.g. from the reader), keeping the cap per (column, code)."""
        for issue in issues:
            key = (issue.column, issue.code or issue.message)
            group = self._groups.setdefault(key, [])
            if len(group) >= self.cap:
                self._extra[key] = self._extra.get(key, 0) + 1
            else:
                group.append(issue)

    def count(self, severity: Severity) -> int:
        """Number of issues of ``severity`` recorded so far, including the summarised ones."""
        n = 0
        for key, group in self._groups.items():
            if group and group[0].severity == severity:
                n += len(group) + self._extra.get(key, 0)
        return n

    def has_errors(self) -> bool:
        return any(g and g[0].severity == "error" for g in self._groups.values())

    def finish(self) -> list[Issue]:
        """All issues, errors first, each capped group followed by its summary line."""
        out: list[Issue] = []
        for key, group in self._groups.items():
            out.extend(group)
            extra = self._extra.get(key, 0)
            if extra and group:
                first = group[0]
                where = f" in column '{key[0]}'" if key[0] is not None else ""
                out.append(Issue(first.severity, f"... and {extra} more rows with the same problem{where}.",
                                 self.file, self.sheet, None, key[0], None, first.code))
        rank = {s: i for i, s in enumerate(_SEVERITIES)}
        return sorted(out, key=lambda i: rank[i.severity])  # stable: keeps group order


@dataclass
class Parsed:
    """Typed values of one column plus masks; ``values[i]`` is meaningful only where ``valid[i]``."""

    values: np.ndarray
    valid: np.ndarray  # bool: cell held a usable value
    empty: np.ndarray  # bool: cell was empty (None / blank string)


Report = Callable[..., None]  # IssueCollector.add bound to a column


def clean_str(value: Any) -> str | None:
    """Strip a string cell (incl. non-breaking spaces); blank → ``None``; non-strings unchanged."""
    if isinstance(value, str):
        s = value.strip().strip("\u00a0\u202f\ufeff").strip()
        return s or None
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!"})
_NON_FINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan", "-nan", "+nan"})

# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------

_SP = "[ \u00a0\u202f]"
_RE_PLAIN = re.compile(r"\d+")
_RE_AMBIG_DOT = re.compile(r"[1-9]\d{0,2}\.\d{3}")
_RE_AMBIG_COMMA = re.compile(r"[1-9]\d{0,2},\d{3}")
_RE_SPACE_INT = re.compile(rf"[1-9]\d{{0,2}}(?:{_SP}\d{{3}})+")
_RE_EXP_PLAIN = re.compile(r"\d+[eE][+-]?\d+")
# shapes that reveal the decimal separator
_RE_DOT_DEC = re.compile(rf"(?:\d+|[1-9]\d{{0,2}}(?:,\d{{3}})+|[1-9]\d{{0,2}}(?:{_SP}\d{{3}})+)?\.\d+"
                         r"|(?:\d+\.\d*|\.\d+)[eE][+-]?\d+")
_RE_COMMA_DEC = re.compile(rf"(?:\d+|[1-9]\d{{0,2}}(?:\.\d{{3}})+|[1-9]\d{{0,2}}(?:{_SP}\d{{3}})+)?,\d+")
_RE_DOT_GROUPS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3}){2,}")  # 1.234.567 → dots are thousands
_RE_COMMA_GROUPS = re.compile(r"[1-9]\d{0,2}(?:,\d{3}){2,}")  # 1,234,567 → commas are thousands

Decimal = Literal[".", ","]


def _split_sign(s: str) -> tuple[int, str]:
    if s and s[0] in "+-\u2212":
        return (-1 if s[0] != "+" else 1), s[1:].lstrip()
    return 1, s


def number_shape(s: str) -> str:
    """Classify a number string: ``plain``, ``dot``/``comma`` (reveals that decimal separator),
    ``ambiguous`` (``1.234`` / ``1,234``: thousands or decimal?) or ``other`` (not a number)."""
    _, body = _split_sign(s)
    if _RE_PLAIN.fullmatch(body) or _RE_SPACE_INT.fullmatch(body) or _RE_EXP_PLAIN.fullmatch(body):
        return "plain"
    if _RE_AMBIG_DOT.fullmatch(body) or _RE_AMBIG_COMMA.fullmatch(body):
        return "ambiguous"
    if _RE_DOT_DEC.fullmatch(body) or _RE_COMMA_GROUPS.fullmatch(body):
        return "dot"
    if _RE_COMMA_DEC.fullmatch(body) or _RE_DOT_GROUPS.fullmatch(body):
        return "comma"
    return "other"


def _to_number(s: str, decimal: Decimal | None) -> int | float | None:
    """Convert ``s`` under ``decimal`` (``None`` = not known: only separator-free shapes pass)."""
    sign, body = _split_sign(s)
    shape = number_shape(s)
    if shape == "other" or shape == "ambiguous" and decimal is None:
        return None
    if shape in ("dot", "comma") and shape != {".": "dot", ",": "comma", None: None}[decimal]:
        return None
    body = re.sub(_SP, "", body)
    if decimal == ",":
        body = body.replace(".", "").replace(",", ".")
    else:
        body = body.replace(",", "")
    if re.fullmatch(r"\d+", body):
        return sign * int(body)
    try:
        return sign * float(body)
    except ValueError:  # pragma: no cover - shapes above only admit float-parsable bodies
        return None


def decimal_evidence(cells: Sequence[Any]) -> dict[str, int]:
    """For each decimal separator revealed by string cells, the index of the first such cell."""
    found: dict[str, int] = {}
    seen: set[str] = set()
    for i, v in enumerate(cells):
        s = clean_str(v)
        if not isinstance(s, str) or s in seen:
            continue
        seen.add(s)
        shape = number_shape(s)
        if shape in ("dot", "comma") and shape not in found:
            found[shape] = i
            if len(found) == 2:
                break
    return {("." if k == "dot" else ","): v for k, v in found.items()}


def parse_numbers(cells: Sequence[Any], *, decimal: Decimal | None, integer: bool, non_negative: bool,
                  positive: bool, rows: np.ndarray, column: str, sink: IssueCollector) -> Parsed:
    """Parse a count (``integer=True``) or number column with an explicit decimal convention.

    Unknown convention + a value like ``1.234`` is one column-level error asking the user to
    choose, because 1234 and 1.234 are both plausible and a 1000× error is silent downstream.
    """
    n = len(cells)
    out = np.zeros(n, dtype=np.int64 if integer else np.float64)
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    what = "whole number" if integer else "number"
    cache: dict[str, int | float | str] = {}
    ambiguous: list[int] = []
    for i, raw in enumerate(cells):
        v = clean_str(raw)
        if v is None:
            empty[i] = True
            continue
        if isinstance(v, str):
            num = cache.get(v)
            if num is None:
                low = v.lower()
                if low in _NON_FINITE:
                    num = "not_finite"
                elif v in EXCEL_ERRORS:
                    num = "excel_error"
                else:
                    parsed = _to_number(v, decimal)
                    if parsed is None:
                        num = "ambiguous" if decimal is None and number_shape(v) == "ambiguous" else "bad"
                    else:
                        num = parsed
                cache[v] = num
        elif _is_number(v):
            num = v.item() if isinstance(v, np.generic) else v
        else:
            num = "bad"
        if num == "ambiguous":
            ambiguous.append(i)
            continue
        if isinstance(num, str):
            if num == "not_finite":
                sink.add("error", "not_finite", f"Row {rows[i]}, column '{column}': {show_value(raw)} is not a finite "
                         f"{what}.", row=int(rows[i]), column=column, value=raw)
            elif num == "excel_error":
                sink.add("error", "excel_error", f"Row {rows[i]}, column '{column}': the cell shows the Excel error "
                         f"{v}; fix the formula or enter a value.", row=int(rows[i]), column=column, value=raw)
            else:
                hint = ""
                if isinstance(v, str) and decimal is not None and number_shape(v) in ("dot", "comma", "ambiguous"):
                    hint = f" with '{decimal}' as the decimal separator"
                sink.add("error", "bad_number", f"Row {rows[i]}, column '{column}': {show_value(raw)} is not a "
                         f"{what}{hint}.", row=int(rows[i]), column=column, value=raw)
            continue
        fnum = float(num)
        if not math.isfinite(fnum):
            sink.add("error", "not_finite", f"Row {rows[i]}, column '{column}': {show_value(raw)} is not a finite "
                     f"{what}.", row=int(rows[i]), column=column, value=raw)
            continue
        if integer:
            if isinstance(num, float) and not num.is_integer():
                sink.add("error", "not_integer", f"Row {rows[i]}, column '{column}': {show_value(raw)} is not a whole "
                         "number.", row=int(rows[i]), column=column, value=raw)
                continue
            if abs(fnum) > 2**53:
                sink.add("error", "too_large", f"Row {rows[i]}, column '{column}': {show_value(raw)} is too large.",
                         row=int(rows[i]), column=column, value=raw)
                continue
        if positive and fnum <= 0:
            sink.add("error", "not_positive", f"Row {rows[i]}, column '{column}': {show_value(raw)} must be greater "
                     "than 0.", row=int(rows[i]), column=column, value=raw)
            continue
        if non_negative and fnum < 0:
            sink.add("error", "negative", f"Row {rows[i]}, column '{column}': {show_value(raw)} is negative; "
                     f"{'counts' if integer else 'values'} must be 0 or more.", row=int(rows[i]), column=column,
                     value=raw)
            continue
        out[i] = int(num) if integer else fnum
        valid[i] = True
    if ambiguous:
        i = ambiguous[0]
        v = clean_str(cells[i])
        assert isinstance(v, str)
        sep = "." if "." in v else ","
        as_thousands = _to_number(v, "," if sep == "." else ".")
        as_decimal = _to_number(v, sep)  # type: ignore[arg-type]
        more = f" ({len(ambiguous)} values like this)" if len(ambiguous) > 1 else ""
        sink.add("error", "ambiguous_decimal",
                 f"Column '{column}': {show_value(v)} in row {rows[i]} could mean {as_thousands} or {as_decimal}"
                 f"{more}, and the file does not show which decimal separator it uses. Choose the decimal "
                 "separator ('.' or ',') in the upload options.", row=int(rows[i]), column=column, value=v)
    return Parsed(out, valid, empty)


# --------------------------------------------------------------------------------------------
# dates and times
# --------------------------------------------------------------------------------------------

_DATE_RE = (
    r"^(?:(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<dd>\d{1,2})\.(?P<dm>\d{1,2})\.(?P<dy>\d{4})"
    r"|(?P<sa>\d{1,2})/(?P<sb>\d{1,2})/(?P<sy>\d{4})"
    r"|(?P<yy>\d{4})/(?P<ym>\d{1,2})/(?P<yd>\d{1,2}))"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,6}))?)?)?$"
)
_RE_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_RE_TZ = re.compile(r".*\d(?:Z|[+-]\d{2}:?\d{2})$")
_RE_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_FAMILY_LABEL = {"iso": "ISO (yyyy-mm-dd)", "dotted": "dd.mm.yyyy", "slashed": "dd/mm/yyyy or mm/dd/yyyy",
                 "ymd_slash": "yyyy/mm/dd", "serial": "Excel serial numbers", "typed": "Excel date cells"}
EXCEL_EPOCH = datetime(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1678, 2261  # datetime64[ns] bounds

DateOrder = Literal["auto", "dmy", "mdy", "ymd"]


def _calendar(year: np.ndarray, month: np.ndarray, day: np.ndarray, hour: np.ndarray, minute: np.ndarray,
              second: np.ndarray, micro: np.ndarray) -> np.ndarray:
    """datetime64[ns] from components; NaT where the combination is not a real date/time."""
    ok = (year >= _MIN_YEAR) & (year <= _MAX_YEAR) & (hour <= 23) & (minute <= 59) & (second <= 59)
    frame = pd.DataFrame({
        "year": np.where(ok, year, np.nan), "month": np.where(ok, month, np.nan), "day": np.where(ok, day, np.nan),
        "hour": np.where(ok, hour, np.nan), "minute": np.where(ok, minute, np.nan),
        "second": np.where(ok, second, np.nan), "us": np.where(ok, micro, np.nan),
    })
    if not len(frame):
        return np.array([], dtype="datetime64[ns]")
    return pd.to_datetime(frame, errors="coerce").to_numpy(dtype="datetime64[ns]")


def _num(col: pd.Series) -> np.ndarray:
    # input is regex-matched digits or NaN, so a plain cast is exact (and 3x faster than to_numeric on 175k rows)
    return col.astype(np.float64).to_numpy()


def parse_datetimes(cells: Sequence[Any], *, date_order: DateOrder, date_only: bool, epoch: datetime,
                    rows: np.ndarray, column: str, sink: IssueCollector,
                    utc_offsets: Literal["error", "wall_clock"] = "error") -> Parsed:
    """Parse a date/datetime column from an allow-list of formats, one reading per column.

    Accepted: ISO ``yyyy-mm-dd[ HH:MM[:SS]]``, ``dd.mm.yyyy[ HH:MM[:SS]]``, ``yyyy/mm/dd``,
    ``a/b/yyyy`` (day or month first, decided for the whole column), Excel serial numbers and real
    date cells. ``a/b/yyyy`` with ``date_order="auto"``: if some value only makes sense one way
    (``13/01/2024``) the whole column is read that way and an *info* says so; if every value reads
    both ways with different results it is an *error* asking the user to choose; if some values need
    day-first and others month-first it is an error.

    A UTC offset (``…+02:00``, ``…Z``, or a time-zone-aware cell) is an error, unless ``utc_offsets="wall_clock"``:
    then the offset is dropped and the clock time kept (not converted), with one info per column — the forecast
    CLI's rule, because workload follows the local clock and exports change the offset at the clock change.
    """
    n = len(cells)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    families: dict[str, int] = {}
    str_idx: list[int] = []
    str_val: list[str] = []
    what = "date" if date_only else "date/time"
    wall_clock = utc_offsets == "wall_clock"
    offset_rows: list[int] = []  # cells whose offset was dropped (wall_clock only)

    def bad(i: int, code: str, msg: str) -> None:
        sink.add("error", code, f"Row {rows[i]}, column '{column}': {msg}", row=int(rows[i]), column=column,
                 value=cells[i])

    def from_serial(i: int, x: float) -> None:
        if not (0 < x < 2958466):
            bad(i, "bad_date", f"{show_value(cells[i])} is not a valid Excel date number.")
            return
        # a day fraction is rarely exact in binary (08:00 = 0.3333…): round to the nearest second
        ts = epoch + timedelta(seconds=round(float(x) * 86400))
        if not (_MIN_YEAR <= ts.year <= _MAX_YEAR):
            bad(i, "date_range", f"{show_value(cells[i])} is far outside the expected date range.")
            return
        out[i] = np.datetime64(ts, "ns")
        valid[i] = True

    for i, raw in enumerate(cells):
        v = clean_str(raw)
        if v is None:
            empty[i] = True
        elif isinstance(v, str):
            if wall_clock and _RE_TZ.match(v):
                v = _RE_OFFSET.sub("", v)
                offset_rows.append(i)
            str_idx.append(i)
            str_val.append(v)
        elif isinstance(v, (datetime, np.datetime64)):
            families.setdefault("typed", i)
            ts = pd.Timestamp(v)
            if wall_clock and ts is not pd.NaT and ts.tzinfo is not None:
                ts = ts.tz_localize(None)
                offset_rows.append(i)
            if ts is pd.NaT:
                empty[i] = True
            elif ts.tzinfo is not None:
                bad(i, "timezone", f"{show_value(raw)} has a time zone; use local time without an offset.")
            elif not (_MIN_YEAR <= ts.year <= _MAX_YEAR):
                bad(i, "date_range", f"{show_value(raw)} is far outside the expected date range.")
            else:
                out[i] = ts.to_datetime64()
                valid[i] = True
        elif isinstance(v, date) and not isinstance(v, datetime):
            families.setdefault("typed", i)
            out[i] = np.datetime64(v, "ns")
            valid[i] = True
        elif _is_number(v):
            families.setdefault("serial", i)
            from_serial(i, float(v))
        elif isinstance(v, time):
            bad(i, "bad_date", f"{show_value(raw)} is a time of day without a date.")
        else:
            bad(i, "bad_date", f"{show_value(raw)} is not a {what}.")

    if str_val:
        s = pd.Series(str_val, dtype=object)
        m = s.str.extract(_DATE_RE)
        idx = np.asarray(str_idx)
        unmatched = m[["iy", "dd", "sa", "yy"]].isna().all(axis=1).to_numpy()
        for j in np.flatnonzero(unmatched):
            i, v = int(idx[j]), str_val[j]
            if _RE_SERIAL.fullmatch(v):
                families.setdefault("serial", i)
                from_serial(i, float(v))
            elif _RE_TZ.match(v):
                bad(i, "timezone", f"{show_value(v)} has a time-zone offset; export local time without an offset.")
            else:
                bad(i, "bad_date", f"{show_value(v)} is not a recognised {what} (use yyyy-mm-dd, dd.mm.yyyy or "
                    "dd/mm/yyyy).")
        year = np.full(len(s), np.nan)
        month = np.full(len(s), np.nan)
        day = np.full(len(s), np.nan)
        for fam, (gy, gm, gd) in {"iso": ("iy", "im", "id"), "dotted": ("dy", "dm", "dd"),
                                  "ymd_slash": ("yy", "ym", "yd")}.items():
            sel = m[gy].notna().to_numpy()
            if sel.any():
                families.setdefault(fam, int(idx[np.argmax(sel)]))
                year[sel], month[sel], day[sel] = _num(m[gy])[sel], _num(m[gm])[sel], _num(m[gd])[sel]
        slashed = m["sa"].notna().to_numpy()
        hour = np.nan_to_num(_num(m["H"]))
        minute = np.nan_to_num(_num(m["M"]))
        second = np.nan_to_num(_num(m["S"]))
        frac = m["F"].fillna("").map(lambda f: int(f.ljust(6, "0")) if f else 0).to_numpy(dtype=np.float64)
        blocked = np.zeros(len(s), dtype=bool)
        if slashed.any():
            families.setdefault("slashed", int(idx[np.argmax(slashed)]))
            a, b, y = _num(m["sa"]), _num(m["sb"]), _num(m["sy"])
            as_dmy = ~np.isnat(_calendar(y, b, a, hour, minute, second, frac))
            as_mdy = ~np.isnat(_calendar(y, a, b, hour, minute, second, frac))
            order = date_order
            if order == "auto":
                only_dmy = slashed & as_dmy & ~as_mdy
                only_mdy = slashed & as_mdy & ~as_dmy
                both = slashed & as_dmy & as_mdy
                if only_dmy.any() and only_mdy.any():
                    jd, jm = int(np.argmax(only_dmy)), int(np.argmax(only_mdy))
                    sink.add("error", "ambiguous_date",
                             f"Column '{column}' mixes day-first dates ({show_value(str_val[jd])} in row "
                             f"{rows[idx[jd]]}) and month-first dates ({show_value(str_val[jm])} in row "
                             f"{rows[idx[jm]]}); no single reading fits. Correct the file.",
                             row=int(rows[idx[jm]]), column=column, value=str_val[jm])
                    blocked |= slashed & (as_dmy | as_mdy)
                elif only_dmy.any() or only_mdy.any():
                    order = "dmy" if only_dmy.any() else "mdy"
                    j = int(np.argmax(only_dmy if order == "dmy" else only_mdy))
                    label = "day/month/year" if order == "dmy" else "month/day/year"
                    sink.add("info", "date_order",
                             f"Column '{column}': dates read as {label} because values like "
                             f"{show_value(str_val[j])} (row {rows[idx[j]]}) only make sense that way.",
                             row=int(rows[idx[j]]), column=column, value=str_val[j])
                elif (both & (a != b)).any():
                    j = int(np.argmax(both & (a != b)))
                    d1 = pd.Timestamp(_calendar(y[j:j+1], b[j:j+1], a[j:j+1], hour[j:j+1], minute[j:j+1],
                                                second[j:j+1], frac[j:j+1])[0])
                    d2 = pd.Timestamp(_calendar(y[j:j+1], a[j:j+1], b[j:j+1], hour[j:j+1], minute[j:j+1],
                                                second[j:j+1], frac[j:j+1])[0])
                    count = int((both & (a != b)).sum())
                    sink.add("error", "ambiguous_date",
                             f"Column '{column}': {show_value(str_val[j])} in row {rows[idx[j]]} can be read as "
                             f"{d1:%d %B %Y} (day first) or {d2:%d %B %Y} (month first), and no value in the "
                             f"column decides it ({count} such value{'s' if count > 1 else ''}). Choose the date "
                             "order (day first or month first) in the upload options.",
                             row=int(rows[idx[j]]), column=column, value=str_val[j])
                    blocked |= slashed & (as_dmy | as_mdy)
                else:
                    order = "dmy"  # every value has day == month: both readings agree
            if order == "dmy":
                year[slashed], month[slashed], day[slashed] = y[slashed], b[slashed], a[slashed]
            elif order == "mdy":
                year[slashed], month[slashed], day[slashed] = y[slashed], a[slashed], b[slashed]
            else:  # ymd chosen, or blocked: leave NaN → reported below unless blocked
                pass
        stamps = _calendar(year, month, day, hour, minute, second, frac)
        matched = ~unmatched
        for j in np.flatnonzero(matched & np.isnat(stamps) & ~blocked):
            i, v = int(idx[j]), str_val[j]
            if slashed[j] and date_order == "ymd":
                bad(i, "bad_date", f"{show_value(v)} does not match the chosen date order year/month/day.")
            elif not np.isnan(year[j]) and not (_MIN_YEAR <= year[j] <= _MAX_YEAR):
                bad(i, "date_range", f"{show_value(v)} is far outside the expected date range.")
            else:
                bad(i, "bad_date", f"{show_value(v)} is not a valid {what} (no such day or time).")
        good = matched & ~np.isnat(stamps)
        out[idx[good]] = stamps[good]
        valid[idx[good]] = True

    if offset_rows:
        i = offset_rows[0]
        sink.add("info", "utc_offset", f"Column '{column}': {len(offset_rows)} value(s) carry a UTC offset (e.g. "
                 f"{show_value(cells[i])} in row {rows[i]}); the offset was dropped and the local clock time kept.",
                 row=int(rows[i]), column=column, value=cells[i])
    if len(families) > 1:
        fams = sorted(families, key=families.get)  # type: ignore[arg-type]
        examples = ", ".join(f"{_FAMILY_LABEL[f]} (row {rows[families[f]]})" for f in fams)
        sink.add("warning", "mixed_date_formats", f"Column '{column}' mixes date formats: {examples}. Each value "
                 "was read by its own format; check the preview.", column=column)
    if date_only:
        midnight = out.astype("datetime64[D]").astype("datetime64[ns]")
        for i in np.flatnonzero(valid & (out != midnight)):
            bad(int(i), "has_time", f"{show_value(cells[i])} has a time of day, but this column holds dates only.")
            valid[i] = False
    return Parsed(out, valid, empty)


#: the day a time of day without a date is placed on by :func:`parse_times` (long before any accepted date, so a
#: caller can tell "06:00" from "2026-11-02 06:00")
TIME_ONLY_DAY = np.datetime64("1970-01-01", "ns")
_RE_TIME = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*uhr)?", re.IGNORECASE)
_RE_HAS_DATE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}")


def parse_times(cells: Sequence[Any], *, date_order: DateOrder, epoch: datetime, rows: np.ndarray, column: str,
                sink: IssueCollector) -> Parsed:
    """Parse a time-of-day column: ``H:MM``, ``HH:MM``, ``HH:MM:SS`` (optionally followed by ``Uhr``), ``24:00``
    (midnight), Excel time cells and day fractions ``0 <= x < 1``.

    Why times keep their date when they have one: exports from rostering systems often write the start and end as
    full timestamps (``2026-11-02 06:00``); those cells are read by :func:`parse_datetimes`' rules and returned as
    they are, while a bare time is returned on :data:`TIME_ONLY_DAY`. The caller places bare times on the row's
    day and checks that full timestamps agree with it. An Excel date cell on the workbook's day zero (how Excel
    stores a time formatted as a date) counts as a bare time.
    """
    n = len(cells)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    zero_days = {epoch.date(), (epoch + timedelta(days=1)).date()}  # 1899-12-30 / -31 (1904-01-01 / -02)
    dated_idx: list[int] = []

    def bad(i: int, msg: str) -> None:
        sink.add("error", "bad_time", f"Row {rows[i]}, column '{column}': {msg}", row=int(rows[i]), column=column,
                 value=cells[i])

    def set_time(i: int, seconds: float) -> None:
        out[i] = TIME_ONLY_DAY + np.timedelta64(int(round(seconds)) % 86_400, "s")
        valid[i] = True

    for i, raw in enumerate(cells):
        v = clean_str(raw)
        if v is None:
            empty[i] = True
        elif isinstance(v, time):
            if v.tzinfo is not None:
                bad(i, f"{show_value(raw)} has a time zone; use local time without an offset.")
            else:
                set_time(i, v.hour * 3600 + v.minute * 60 + v.second)
        elif isinstance(v, (datetime, np.datetime64)):
            ts = pd.Timestamp(v)
            if ts is pd.NaT:
                empty[i] = True
            elif ts.tzinfo is not None:
                bad(i, f"{show_value(raw)} has a time zone; use local time without an offset.")
            elif ts.date() in zero_days:
                set_time(i, ts.hour * 3600 + ts.minute * 60 + ts.second)
            else:
                dated_idx.append(i)
        elif isinstance(v, date):
            bad(i, f"{show_value(raw)} is a date without a time of day.")
        elif _is_number(v):
            x = float(v)
            if 0.0 <= x < 1.0:
                set_time(i, x * 86_400)
            elif math.isfinite(x) and x >= 1.0:
                dated_idx.append(i)  # an Excel date-time serial
            else:
                bad(i, f"{show_value(raw)} is not a time of day (use HH:MM, e.g. 06:00).")
        elif isinstance(v, str):
            m = _RE_TIME.fullmatch(v)
            if m:
                h, mi, sec = int(m["H"]), int(m["M"]), int(m["S"] or 0)
                if (h, mi, sec) == (24, 0, 0):
                    set_time(i, 0)
                elif h > 23 or mi > 59 or sec > 59:
                    bad(i, f"{show_value(raw)} is not a valid time of day (hours 0–23, minutes 0–59).")
                else:
                    set_time(i, h * 3600 + mi * 60 + sec)
            elif _RE_HAS_DATE.match(v):
                dated_idx.append(i)
            else:
                bad(i, f"{show_value(raw)} is not a time of day (use HH:MM, e.g. 06:00 or 21:30).")
        else:
            bad(i, f"{show_value(raw)} is not a time of day (use HH:MM, e.g. 06:00).")
    if dated_idx:
        idx = np.asarray(dated_idx)
        sub = parse_datetimes([cells[i] for i in dated_idx], date_order=date_order, date_only=False, epoch=epoch,
                              rows=rows[idx], column=column, sink=sink)
        out[idx[sub.valid]] = sub.values[sub.valid]
        valid[idx[sub.valid]] = True
    return Parsed(out, valid, empty)


# --------------------------------------------------------------------------------------------
# bool, outcome, text, lists
# --------------------------------------------------------------------------------------------


def parse_bools(cells: Sequence[Any], *, rows: np.ndarray, column: str, sink: IssueCollector) -> Parsed:
    """yes/no, ja/nein, true/false, wahr/falsch, 1/0, y/n, j/n; ``x`` marks True and then blank = False."""
    n = len(cells)
    out = np.zeros(n, dtype=bool)
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    cleaned = [clean_str(c) for c in cells]
    x_marks = any(isinstance(c, str) and c.lower() == "x" for c in cleaned)
    for i, v in enumerate(cleaned):
        if v is None:
            if x_marks:
                valid[i] = True  # a ticked-box column: blank means "no"
            else:
                empty[i] = True
            continue
        if isinstance(v, (bool, np.bool_)):
            out[i], valid[i] = bool(v), True
            continue
        key = str(int(v)) if _is_number(v) and float(v) in (0.0, 1.0) else str(v).lower()
        if key in kinds.BOOL_TRUE:
            out[i], valid[i] = True, True
        elif key in kinds.BOOL_FALSE:
            valid[i] = True
        else:
            sink.add("error", "bad_bool", f"Row {rows[i]}, column '{column}': {show_value(cells[i])} is not yes/no "
                     "(use yes/no, ja/nein, true/false, 1/0 or x).", row=int(rows[i]), column=column, value=cells[i])
    return Parsed(out, valid, empty)


def parse_outcomes(cells: Sequence[Any], *, rows: np.ndarray, column: str, sink: IssueCollector) -> Parsed:
    """Outcome words from :data:`kinds.OUTCOME_VALUES` → True (success) / False (failure)."""
    n = len(cells)
    out = np.zeros(n, dtype=bool)
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    for i, raw in enumerate(cells):
        v = clean_str(raw)
        if v is None:
            empty[i] = True
            continue
        if isinstance(v, (bool, np.bool_)):
            key = "true" if v else "false"
        elif _is_number(v) and float(v) in (0.0, 1.0):
            key = str(int(v))
        else:
            key = " ".join(str(v).lower().split())
        if key in kinds.OUTCOME_VALUES:
            out[i], valid[i] = kinds.OUTCOME_VALUES[key], True
        else:
            sink.add("error", "bad_outcome", f"Row {rows[i]}, column '{column}': {show_value(raw)} is not an outcome "
                     "(use success or failure).", row=int(rows[i]), column=column, value=raw)
    return Parsed(out, valid, empty)


_RE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


#: a UTF-8 lead byte read as Windows-1252 (Â..ô) followed by a continuation byte read the same way
_RE_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                          "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039"
                          "\u203a\u20ac\u2122]")


def utf8_mojibake(text: str) -> str | None:
    """The intended text when ``text`` is UTF-8 that was decoded as Windows-1252 somewhere (``SÃ¼d`` → ``Süd``),
    else ``None``.

    Why: such text is stored without any error and then matches nothing (``Süd`` and ``SÃ¼d`` are two sites). The
    test is strict — the whole text must encode back to Windows-1252 bytes that are valid UTF-8 and read
    differently — so ordinary accented text (``São``, ``Ærø``, ``Müller``) never matches.
    """
    if not _RE_MOJIBAKE.search(text):
        return None
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return None
    return fixed if fixed != text else None


def _report_mojibake(sink: IssueCollector, row: int, column: str, text: str, fixed: str) -> None:
    sink.add("error", "mojibake", f"Row {row}, column '{column}': {show_value(text)} looks like UTF-8 text read with "
             f"the wrong encoding (it probably means {show_value(fixed)}). Save the file as UTF-8 ('CSV UTF-8') and "
             "read it as UTF-8, or correct the text.", row=row, column=column, value=text)


def _text_of(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, np.generic):
        return _text_of(v.item())
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    return str(v)


def parse_texts(cells: Sequence[Any], *, rows: np.ndarray, column: str, sink: IssueCollector) -> Parsed:
    """Stripped strings; control / bidi-override characters are errors (they break exports and hide text)."""
    n = len(cells)
    out = np.empty(n, dtype=object)
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    for i, raw in enumerate(cells):
        v = clean_str(raw)
        if v is None:
            empty[i] = True
            out[i] = ""
            continue
        s = _text_of(v)
        if _RE_CONTROL.search(s):
            sink.add("error", "control_chars", f"Row {rows[i]}, column '{column}': {show_value(s)} contains control "
                     "characters (line breaks, tabs or invisible formatting); remove them.", row=int(rows[i]),
                     column=column, value=s)
            out[i] = s
            continue
        fixed = utf8_mojibake(s)
        if fixed is not None:
            _report_mojibake(sink, int(rows[i]), column, s, fixed)
            out[i] = s
            continue
        out[i], valid[i] = s, True
    return Parsed(out, valid, empty)


_RE_LIST_SPLIT = re.compile(r"[|;,]")
_RE_SKILL = re.compile(r"(?P<name>[^:]+?)\s*(?::\s*(?P<level>[^:]*))?")


def parse_lists(cells: Sequence[Any], *, skills: bool, rows: np.ndarray, column: str,
                sink: IssueCollector) -> Parsed:
    """Split on ``|``, ``;`` or ``,`` and re-join with ``|``; skills tokens are ``name`` or ``name:level`` (1..5)."""
    n = len(cells)
    out = np.empty(n, dtype=object)
    valid = np.zeros(n, dtype=bool)
    empty = np.zeros(n, dtype=bool)
    for i, raw in enumerate(cells):
        v = clean_str(raw)
        out[i] = ""
        if v is None:
            empty[i] = True
            continue
        tokens = [str(t).strip() for t in v] if isinstance(v, (list, tuple)) else \
            [t.strip() for t in _RE_LIST_SPLIT.split(_text_of(v))]
        tokens = [t for t in tokens if t]
        if not tokens:
            empty[i] = True
            continue
        joined = "|".join(tokens)
        if _RE_CONTROL.search(joined):
            sink.add("error", "control_chars", f"Row {rows[i]}, column '{column}': {show_value(joined)} contains "
                     "control characters; remove them.", row=int(rows[i]), column=column, value=raw)
            continue
        fixed = utf8_mojibake(joined)
        if fixed is not None:
            _report_mojibake(sink, int(rows[i]), column, joined, fixed)
            continue
        if skills:
            canon: list[str] = []
            names: set[str] = set()
            problem = None
            for t in tokens:
                mt = _RE_SKILL.fullmatch(t)
                name = mt.group("name").strip() if mt else ""
                level = mt.group("level") if mt else None
                if not name:
                    problem = f"{show_value(t)} has no skill name"
                elif level is not None and not (level.strip().isdigit() and 1 <= int(level) <= 5):
                    problem = f"skill level in {show_value(t)} must be a whole number from 1 to 5"
                elif name.lower() in names:
                    problem = f"skill {show_value(name)} is listed twice"
                if problem:
                    break
                names.add(name.lower())
                canon.append(name if level is None else f"{name}:{int(level)}")
            if problem:
                sink.add("error", "bad_skill", f"Row {rows[i]}, column '{column}': {problem} (write skills like "
                         "'calls:3|emails').", row=int(rows[i]), column=column, value=raw)
                continue
            joined = "|".join(canon)
        out[i], valid[i] = joined, True
    return Parsed(out, valid, empty)
