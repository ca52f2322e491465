"""The one export module of the product: formatted Excel workbooks and CSV, safe against formula injection.

Why one module: every page exports tables that contain text from uploads (team names, comments, file
names). Spreadsheet programs execute text that starts with ``= + - @`` or a control character
(CWE-1236, OWASP CSV injection, ASVS 5.0 V1.2.10). Every export path therefore goes through
:func:`sanitize_frame`, and the Excel writer additionally stores every text cell with ``data_type 's'``
so a string can never become a formula even if a caller forgot to sanitise. Numeric columns are never
touched (``-5`` stays the number −5). Exports are pure functions returning bytes; :func:`save_output`
is the only function that touches the disk.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

logger = logging.getLogger(__name__)

#: first characters that make a spreadsheet treat text as a formula (or that hide one): = + - @ TAB CR LF NUL
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: named number formats accepted in ``number_formats``
NAMED_FORMATS = {
    "percent": "0.0%",
    "percent2": "0.00%",
    "integer": "0",
    "decimal": "0.00",
    "decimal1": "0.0",
    "thousands": "#,##0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "time": "hh:mm",
}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_HEADER_FONT = Font(bold=True, color="FFFFFF")


def neutralise(value: Any) -> Any:
    """Prefix ``'`` to a string whose first character is a formula trigger; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _is_text_column(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s)
                or isinstance(s.dtype, pd.PeriodDtype) or pd.api.types.is_timedelta64_dtype(s))


def sanitize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with header names and string cells of text (object/string/category) columns neutralised.

    Numeric, boolean and datetime columns are left exactly as they are.
    """
    out = df.copy()
    out.columns = [neutralise(str(c)) if not isinstance(c, str) else neutralise(c) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_column(col):
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(object)
            out.isetitem(i, col.map(neutralise, na_action="ignore"))
    return out


def to_csv_bytes(df: pd.DataFrame, *, index: bool = False) -> bytes:
    """Sanitised CSV as UTF-8 with BOM (Excel then shows umlauts), every non-numeric field quoted.

    ``QUOTE_NONNUMERIC`` quotes text, so a lone CR inside a value survives a round trip; NUL characters
    (silently dropped by CSV readers) are written as U+FFFD.
    """
    buf = io.StringIO()
    frame = sanitize_frame(df.reset_index() if index else df)
    for i in range(frame.shape[1]):  # NUL is dropped by CSV readers (pandas, Excel): keep it visible instead
        col = frame.iloc[:, i]
        if col.dtype == object:
            frame.isetitem(i, col.map(lambda v: v.replace("\0", "\ufffd") if isinstance(v, str) else v))
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    return buf.getvalue().encode("utf-8-sig")


def sanitize_sheet_name(name: str, taken: Sequence[str] = ()) -> str:
    """Excel-valid, unique sheet name: no ``[]:*?/\\``, no leading/trailing apostrophe, at most 31 chars."""
    clean = _SHEET_BAD.sub("_", str(name)).strip().strip("'")
    clean = "".join(ch for ch in clean if ch.isprintable()) or "Sheet"
    clean = clean[:31]
    base, n = clean, 2
    lower = {t.lower() for t in taken}
    while clean.lower() in lower:
        suffix = f" ({n})"
        clean = base[: 31 - len(suffix)] + suffix
        n += 1
    return clean


@dataclass(frozen=True)
class ChartSpec:
    """A native Excel chart drawn from columns of one sheet (names as in the DataFrame, before sanitising)."""

    sheet: str
    x_column: str
    y_columns: tuple[str, ...]
    kind: Literal["line", "bar"] = "line"
    title: str = ""
    x_title: str = ""
    y_title: str = ""
    anchor: str | None = None  # top-left cell, default: two columns right of the data
    width_cm: float = 24.0
    height_cm: float = 12.0

    def __post_init__(self) -> None:
        if self.kind not in ("line", "bar"):
            raise ValueError("ChartSpec.kind must be 'line' or 'bar'.")
        if not self.y_columns:
            raise ValueError("ChartSpec needs at least one y column.")
        if isinstance(self.y_columns, str):
            raise ValueError("ChartSpec.y_columns must be a tuple of names, not a string.")


def _cell_value(v: Any) -> Any:
    """Python value openpyxl can store; NaN/NaT/inf become empty cells, tz-aware datetimes become naive."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        if v.tzinfo is not None:
            v = v.tz_localize(None)
        return v.to_pydatetime()
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    if isinstance(v, pd.Timedelta):
        return v.total_seconds()
    if isinstance(v, (str, bool, int, float, date, datetime)):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _xml_safe(text: str) -> str:
    """Control characters XML 1.0 cannot hold (NUL, \x01–\x08, …) become U+FFFD instead of crashing the export."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def _default_format(s: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(s):
        return None
    if pd.api.types.is_datetime64_any_dtype(s):
        vals = s.dropna()
        midnight = bool(len(vals)) and bool((vals.dt.normalize() == vals).all())
        return NAMED_FORMATS["date" if midnight else "datetime"]
    if pd.api.types.is_integer_dtype(s):
        return NAMED_FORMATS["integer"]
    if pd.api.types.is_float_dtype(s):
        return NAMED_FORMATS["decimal"]
    if s.dtype == object and len(s.dropna()) and all(isinstance(v, date) for v in s.dropna()):
        return NAMED_FORMATS["date"]
    return None


def _write_sheet(ws: Any, df: pd.DataFrame, formats: Mapping[str, str]) -> None:
    frame = sanitize_frame(df)
    headers = list(frame.columns)
    for j, h in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=j, value=_xml_safe(str(h)))
        cell.data_type = "s"
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [max(8, min(50, len(str(h)) + 2)) for h in headers]
    for j in range(frame.shape[1]):
        src = df.iloc[:, j]
        col = frame.iloc[:, j]
        fmt = formats.get(str(df.columns[j]))
        fmt = NAMED_FORMATS.get(fmt, fmt) if fmt else _default_format(src)
        letter = get_column_letter(j + 1)
        for i, raw in enumerate(col.tolist(), start=2):
            v = _cell_value(raw)
            cell = ws.cell(row=i, column=j + 1)
            if isinstance(v, str):
                cell.value = _xml_safe(v)
                cell.data_type = "s"  # second layer: text is never a formula
            else:
                cell.value = v
                if fmt and v is not None and not isinstance(v, bool):
                    cell.number_format = fmt
            if i <= 1001:  # width from the first 1,000 rows is plenty and keeps big sheets fast
                shown = len(str(v)) if v is not None else 0
                if isinstance(v, datetime):
                    shown = 16
                elif isinstance(v, float):
                    shown = min(len(f"{v:.2f}"), 14)
                widths[j] = max(widths[j], min(50, shown + 2))
        ws.column_dimensions[letter].width = widths[j]
    ws.freeze_panes = "A2"
    if frame.shape[1]:
        ws.auto_filter.ref = f"A1:{get_column_letter(frame.shape[1])}{max(1, frame.shape[0] + 1)}"


def _add_chart(ws: Any, df: pd.DataFrame, spec: ChartSpec) -> None:
    cols = [str(c) for c in df.columns]
    missing = [c for c in (spec.x_column, *spec.y_columns) if c not in cols]
    if missing:
        raise ValueError(f"Chart on sheet {spec.sheet!r}: unknown columns {missing}.")
    n = len(df)
    chart = LineChart() if spec.kind == "line" else BarChart()
    chart.title = spec.title or None
    chart.x_axis.title = spec.x_title or spec.x_column
    chart.y_axis.title = spec.y_title or None
    chart.width, chart.height = spec.width_cm, spec.height_cm
    for y in spec.y_columns:
        j = cols.index(y) + 1
        chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
    xj = cols.index(spec.x_column) + 1
    chart.set_categories(Reference(ws, min_col=xj, min_row=2, max_row=n + 1))
    if pd.api.types.is_datetime64_any_dtype(df[spec.x_column]):
        chart.x_axis.number_format = _default_format(df[spec.x_column]) or "yyyy-mm-dd"
    anchor = spec.anchor or f"{get_column_letter(len(cols) + 2)}2"
    ws.add_chart(chart, anchor)


def to_excel_bytes(
    sheets: Mapping[str, pd.DataFrame],
    *,
    title: str | None = None,
    number_formats: Mapping[str, str] | None = None,
    charts: Sequence[ChartSpec] = (),
    sheet_formats: Mapping[str, Mapping[str, str]] | None = None,
) -> bytes:
    """A formatted .xlsx workbook: one sheet per DataFrame, in order.

    Every sheet gets a styled header row, frozen panes below it, an autofilter, column widths from the
    content, and number formats — by dtype (dates, datetimes, integers, 2-decimal floats) unless
    ``number_formats`` (column name → Excel format or a name from :data:`NAMED_FORMATS`, all sheets) or
    ``sheet_formats`` (sheet → column → format) says otherwise. Charts are native openpyxl line/bar charts.
    ``title`` becomes the document title property. Sheet names are made Excel-valid and unique.
    """
    if not sheets:
        raise ValueError("A workbook needs at least one sheet.")
    wb = Workbook()
    wb.remove(wb.active)
    if title:
        wb.properties.title = str(title)[:255]
    names: dict[str, str] = {}
    for name, df in sheets.items():
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"Sheet {name!r} must be a DataFrame.")
        safe = sanitize_sheet_name(name, list(names.values()))
        names[name] = safe
        ws = wb.create_sheet(safe)
        fmts = dict(number_formats or {})
        fmts.update((sheet_formats or {}).get(name, {}))
        _write_sheet(ws, df, fmts)
    for spec in charts:
        if spec.sheet not in sheets:
            raise ValueError(f"Chart refers to unknown sheet {spec.sheet!r}.")
        _add_chart(wb[names[spec.sheet]], sheets[spec.sheet], spec)
    buf = io.BytesIO()
    wb.save(buf)
    logger.debug("Excel export: %d sheets, %d charts", len(sheets), len(charts))
    return buf.getvalue()


def save_output(name: str, data: bytes, outputs_dir: Path, *, now: datetime | None = None) -> Path:
    """Write ``data`` to ``outputs_dir/<stem>_<YYYYmmdd-HHMMSS><suffix>`` and return the path.

    Only the final path component of ``name`` is used and reduced to ``[A-Za-z0-9._-]`` (no traversal);
    an existing file is never overwritten (a counter is appended).
    """
    base = Path(str(name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix
    stem = _FILE_BAD.sub("_", stem).strip("._") or "export"
    suffix = _FILE_BAD.sub("", suffix)[:10]
    outputs_dir = Path(outputs_dir)
    outputs_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        extra = "" if n == 1 else f"-{n}"
        path = outputs_dir / f"{stem[:80]}_{stamp}{extra}{suffix}"
        try:
            with open(path, "xb") as fh:
                fh.write(data)
        except FileExistsError:
            continue
        logger.info("Export saved: %s (%d bytes)", path.name, len(data))
        return path
    raise FileExistsError(f"Could not find a free file name for {base!r} in {outputs_dir}.")
