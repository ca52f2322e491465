"""Read an uploaded CSV or .xlsx file into a table of raw cells, refusing hostile files early.

Why it is written by hand instead of ``pandas.read_csv`` / ``read_excel`` (SECURITY_FINDINGS.md A–D):
- pandas guesses locales and coerces silently (``1.234`` → 1.234, ``NA`` → NaN, short rows → NaN);
- ``read_excel`` pads every row to the widest one (a 5 KB file with a cell at XFD1048576 needs ~500 GB),
  reads hidden sheets, and returns NaN for formulas without a cached value;
- 20 000 duplicate header names cost ``read_csv`` 30 s of CPU before a single row is read.

So: cheap checks on the raw bytes first (size, magic numbers, zip directory, XML prologs, header width),
then a bounded read that keeps every CSV cell as a string and every Excel cell as its stored type. All
interpretation (numbers, dates, ...) happens later in :mod:`src.data.validation` with explicit rules.

:func:`src.data.upload_worker.load_upload` runs the whole read + validation in a fresh worker process with memory,
CPU and time limits, the only defence against a bomb nobody thought of yet.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import threading
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from src.data import kinds
from src.data.parsing import EXCEL_EPOCH, Issue, IssueCollector, show_value

logger = logging.getLogger(__name__)

__all__ = [
    "Issue", "ParseOptions", "RawTable", "UploadLimits", "UploadRejected", "check_xml_safety", "read_table",
    "zip_directory_rejection",
]

Cell = str | int | float | bool | datetime | None
#: a dataset kind by key, or a spec that is not an upload kind (the forecast CLI's ``ds, y, series_id`` file)
KindRef = str | kinds.KindSpec | None

_ENCODINGS = ("auto", "utf-8", "utf-16", "cp1252")
_SEPARATORS = ("auto", ",", ";", "\t")
_DECIMALS = ("auto", ".", ",")
_DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")
_UTC_OFFSETS = ("error", "wall_clock")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_XLSX_EXTS = (".xlsx", ".xlsm", ".xltx", ".xltm")
#: the expansion ratio is checked for workbook parts at least this large (a small part costs little to parse)
RATIO_CHECK_BYTES = 1024 * 1024
#: a sheet with more ``<row>`` elements than this must name a known column in its first rows before it is read whole
LARGE_SHEET_ROWS = 10_000
_CSV_EXTS = (".csv", ".txt", ".tsv", "")


@dataclass(frozen=True)
class ParseOptions:
    """What the user can choose in the upload form; ``"auto"`` means "detect, and ask when unsure".

    ``sheet=None`` reads the first *visible* sheet; a hidden sheet is read only when named here.
    ``header_row`` (1-based file row) overrides header detection. ``today`` anchors the future-date
    and "more than 2 years ahead" checks (``None`` = the real today).
    """

    encoding: Literal["auto", "utf-8", "utf-16", "cp1252"] = "auto"
    separator: Literal["auto", ",", ";", "\t"] = "auto"
    decimal: Literal["auto", ".", ","] = "auto"
    date_order: Literal["auto", "dmy", "mdy", "ymd"] = "auto"
    sheet: str | None = None
    today: date | None = None
    header_row: int | None = None
    #: workload only: the file has one volume column per queue (a planner's sheet: rows = intervals, columns =
    #: queues) instead of queue and volume columns; the user says so — it is never guessed
    queues_in_columns: bool = False
    #: timestamps with a UTC offset (``2024-03-31T09:00+02:00``): ``"error"`` (uploads: export local time) or
    #: ``"wall_clock"`` — drop the offset and keep the local clock time, as the forecast engine does for its CLI
    #: input (workload follows the local clock; exports change the offset at the clock change)
    utc_offsets: Literal["error", "wall_clock"] = "error"
    #: the zone the wall-clock times of uploads are in (``APP_TIMEZONE``; services pass the configured one): times
    #: that do not exist there (02:30 on the spring-forward day) are errors; ``None`` skips that check
    timezone: str | None = kinds.DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        for name, allowed in (("encoding", _ENCODINGS), ("separator", _SEPARATORS), ("decimal", _DECIMALS),
                              ("date_order", _DATE_ORDERS), ("utc_offsets", _UTC_OFFSETS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed!r}, got {getattr(self, name)!r}")
        if self.today is not None and (not isinstance(self.today, date) or isinstance(self.today, datetime)):
            raise ValueError("today must be a datetime.date")
        if self.header_row is not None and (not isinstance(self.header_row, int) or self.header_row < 1):
            raise ValueError("header_row must be a positive row number")
        if self.sheet is not None and not isinstance(self.sheet, str):
            raise ValueError("sheet must be a sheet name or None")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ValueError, TypeError, ZoneInfoNotFoundError):
                raise ValueError(f"timezone must be an IANA time zone name, got {self.timezone!r}") from None

    def resolved_today(self) -> date:
        return self.today if self.today is not None else date.today()


@dataclass(frozen=True)
class UploadLimits:
    """Hard limits checked before any parser sees the file (defaults sized for years of history)."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 500_000
    max_columns: int = 60
    max_header_bytes: int = 16 * 1024
    max_xlsx_uncompressed: int = 100 * 1024 * 1024
    max_cell_chars: int = 1000
    max_zip_members: int = 1000
    header_search_rows: int = 20
    #: a workbook part (of at least ``RATIO_CHECK_BYTES``) that unpacks to more than this many times its packed size
    #: is refused before parsing: real exports expand about 10-fold, a bomb of repeated rows 250-fold
    max_xlsx_ratio: int = 100

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")


class UploadRejected(Exception):
    """The file cannot be read at all; ``issue`` says why in words the uploader understands."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


@dataclass
class RawTable:
    """Cells exactly as stored: CSV cells are ``str``; Excel cells keep their type (``str``, ``int``,
    ``float``, ``bool``, ``datetime``) so a real date cell or number is never re-guessed from text.

    ``row_numbers[i]`` is the file row (as Excel shows it) of ``rows[i]``; blank rows are skipped.
    ``issues`` are non-fatal reading problems (ragged rows, formula cells without values, notes about
    the encoding, separator, skipped title rows or hidden sheets). ``formula_cells`` holds
    (row index, column index) of formula cells without a stored value (already reported).
    """

    file: str
    sheet: str | None
    encoding: str | None
    separator: str | None
    header_row: int
    headers: list[str]
    rows: list[list[Cell]]
    first_data_row: int
    row_numbers: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    excel_epoch: datetime = EXCEL_EPOCH


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _reject(file: str, message: str, *, sheet: str | None = None, row: int | None = None,
            column: str | None = None, value: Any = None, code: str = "rejected") -> UploadRejected:
    shown = None if value is None else show_value(value)
    return UploadRejected(Issue("error", message, file, sheet, row, column, shown, code))


def check_xml_safety() -> None:
    """Raise ``RuntimeError`` unless openpyxl parses XML through defusedxml (call at start-up).

    openpyxl only uses defusedxml when it is importable and ``OPENPYXL_DEFUSEDXML`` is not "False";
    without it, entity-expansion protection depends on how the interpreter's expat was built (F-A).
    """
    import openpyxl

    if getattr(openpyxl, "DEFUSEDXML", False) is not True:
        raise RuntimeError("openpyxl is not using defusedxml (install defusedxml and do not set "
                           "OPENPYXL_DEFUSEDXML=False); refusing to parse uploaded workbooks.")


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def read_table(filename: str, content: bytes, options: ParseOptions, limits: UploadLimits, *,
               kind: KindRef = None) -> RawTable:
    """Read ``content`` (named ``filename``) into a :class:`RawTable` or raise :class:`UploadRejected`.

    The format is decided by the bytes, not the name: OLE2 (old .xls or a password-protected
    workbook) is refused, a zip is read as a workbook, anything else as delimited text. ``kind`` (a kind's key
    or a :class:`~src.data.kinds.KindSpec`) narrows header and separator detection to that kind's column names.
    """
    name = os.path.basename(filename) or "upload"
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError("content must be bytes")
    content = bytes(content)
    ext = os.path.splitext(name.lower())[1]
    if not content:
        raise _reject(name, "The file is empty.", code="empty_file")
    if len(content) > limits.max_bytes:
        raise _reject(name, f"The file is {_mb(len(content))}; the limit is {_mb(limits.max_bytes)}. Upload a "
                      "shorter period or split the file.", code="too_large")
    if content.startswith(OLE2_MAGIC):
        raise _reject(name, "This is an encrypted or old .xls workbook, which cannot be read. Open it in Excel and "
                      "save it as .xlsx without a password (or as CSV).", code="ole2")
    if content.startswith(_ZIP_MAGICS):
        notes = []
        if ext not in _XLSX_EXTS:
            notes.append(Issue("info", f"'{name}' is an Excel workbook despite its name; read it as .xlsx.", name,
                               code="format_note"))
        table = _read_xlsx(name, content, options, limits, kind)
        table.issues[:0] = notes
        return table
    if ext in _XLSX_EXTS:
        raise _reject(name, f"'{name}' is not a valid Excel workbook (it is not a zip archive); it may be damaged or "
                      "renamed. Save it again from Excel as .xlsx, or upload it as CSV.", code="not_xlsx")
    if ext == ".xls":
        raise _reject(name, "Old .xls files are not supported. Save the file as .xlsx or CSV.", code="ole2")
    if ext not in _CSV_EXTS:
        raise _reject(name, f"Unsupported file type '{ext}'. Upload a .csv or .xlsx file.", code="file_type")
    return _read_csv(name, content, options, limits, kind)


# --------------------------------------------------------------------------------------------
# header detection (shared by CSV and Excel)
# --------------------------------------------------------------------------------------------


def _known_headers(kind: KindRef) -> frozenset[str]:
    if isinstance(kind, kinds.KindSpec):
        specs = [kind]
    else:
        specs = [kinds.get_kind(kind)] if kind else list(kinds.KINDS.values())
    names = {kinds.normalise_header(a) for s in specs for c in s.columns for a in (c.name, *c.aliases)}
    return frozenset(names)


def _is_blank(row: Sequence[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in row)


def _find_header(rows: Sequence[Sequence[Cell]], row_numbers: Sequence[int], options: ParseOptions,
                 limits: UploadLimits, kind: KindRef, name: str, sheet: str | None) -> tuple[int, list[Issue]]:
    """Index into ``rows`` of the header: the user's choice, else the first row with >= 2 known
    column names among the first ``header_search_rows`` rows, else the first non-blank row."""
    if options.header_row is not None:
        for i, rn in enumerate(row_numbers):
            if rn == options.header_row:
                return i, []
        raise _reject(name, f"Row {options.header_row} (chosen as the header row) is empty or beyond the data.",
                      sheet=sheet, code="header_row")
    known = _known_headers(kind)
    first_nonblank = None
    for i, row in enumerate(rows[: limits.header_search_rows]):
        if _is_blank(row):
            continue
        if first_nonblank is None:
            first_nonblank = i
        hits = sum(1 for c in row if isinstance(c, str) and kinds.normalise_header(c) in known)
        if hits >= 2:
            notes = []
            if i != first_nonblank or row_numbers[i] != 1:
                notes.append(Issue("info", f"Header found in row {row_numbers[i]}; the {row_numbers[i] - 1} row(s) "
                                   "above it (titles or blank rows) were skipped.", name, sheet, row_numbers[i],
                                   code="header_row"))
            return i, notes
    if first_nonblank is None:
        raise _reject(name, "The file contains no data (only blank rows).", sheet=sheet, code="empty_file")
    return first_nonblank, []


def _finish_table(name: str, sheet: str | None, encoding: str | None, separator: str | None,
                  records: list[list[Cell]], numbers: list[int], options: ParseOptions, limits: UploadLimits,
                  kind: KindRef, sink: IssueCollector, notes: list[Issue],
                  formula_at: dict[tuple[int, int], str] | None = None, epoch: datetime = EXCEL_EPOCH) -> RawTable:
    """Locate the header, drop blank rows, square the rows to the header width (reporting ragged ones)."""
    h, header_notes = _find_header(records, numbers, options, limits, kind, name, sheet)
    header_cells = records[h]
    width = len(header_cells)
    while width and (header_cells[width - 1] is None or str(header_cells[width - 1]).strip() == ""):
        width -= 1  # trailing empty header cells; their data (if any) is reported below
    headers = ["" if c is None else str(c).strip() for c in header_cells[:width]]
    rows: list[list[Cell]] = []
    row_numbers: list[int] = []
    formula_cells: set[tuple[int, int]] = set()
    formulas_by_row: dict[int, list[tuple[int, str]]] = {}
    for (r, c), coord in (formula_at or {}).items():
        formulas_by_row.setdefault(r, []).append((c, coord))
    for rec, rn in zip(records[h + 1:], numbers[h + 1:], strict=True):
        if _is_blank(rec):
            continue
        if len(rec) > width:
            extra = rec[width:]
            if not _is_blank(extra):
                sink.add("error", "row_width", f"Row {rn} has values beyond the {width} columns of the header; they "
                         "would be lost (a value may contain an unquoted separator).", row=rn,
                         value=next(c for c in extra if c not in (None, "")))
            rec = rec[:width]
        elif len(rec) < width and separator is not None:
            sink.add("error", "row_width", f"Row {rn} has {len(rec)} values but the header has {width} columns "
                     "(a separator or quote may be missing).", row=rn)
            rec = list(rec) + [""] * (width - len(rec))
        elif len(rec) < width:
            rec = list(rec) + [None] * (width - len(rec))
        for c, coord in formulas_by_row.get(rn, ()):
            if c < width:
                formula_cells.add((len(rows), c))
                sink.add("error", "formula_without_value", f"Cell {coord} holds a formula without a stored value; "
                         "open the file in Excel, let it calculate, and save it again.", row=rn,
                         column=headers[c] or None)
        rows.append(rec)
        row_numbers.append(rn)
    if len(rows) > limits.max_rows:
        raise _reject(name, f"The file has more than {limits.max_rows} data rows. Upload a shorter period.",
                      sheet=sheet, code="too_many_rows")
    if not rows:
        raise _reject(name, f"The file has a header (row {numbers[h]}) but no data rows.", sheet=sheet,
                      code="no_data")
    issues = notes + header_notes + sink.finish()
    return RawTable(name, sheet, encoding, separator, numbers[h], headers, rows, row_numbers[0], row_numbers, issues,
                    formula_cells, epoch)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def _decode(name: str, content: bytes, choice: str) -> tuple[str, str, list[Issue]]:
    """Decode with the user's encoding, or: UTF-8 (BOM optional) → UTF-16 by BOM → cp1252 only if the
    bytes are not UTF-8 and are valid cp1252. Never latin-1, which accepts any bytes and hides mistakes."""
    def fail(exc: UnicodeDecodeError, label: str) -> UploadRejected:
        line = content[: exc.start].count(b"\n") + 1
        return _reject(name, f"The file is not valid {label} text (byte 0x{content[exc.start]:02x} on line {line}). "
                       "Choose the right encoding in the upload options, or save the file as 'CSV UTF-8'.",
                       row=line, code="encoding")

    if choice != "auto":
        codec = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "cp1252": "cp1252"}[choice]
        try:
            text = content.decode(codec)
        except UnicodeDecodeError as exc:
            raise fail(exc, {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}[choice]) from None
        if codec == "cp1252":
            _refuse_utf8_read_as_cp1252(name, content, text)
        return text, codec, []
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise fail(exc, "UTF-16") from None
    try:
        return content.decode("utf-8-sig"), ("utf-8-sig" if content.startswith(b"\xef\xbb\xbf") else "utf-8"), []
    except UnicodeDecodeError as exc:
        if content.startswith(b"\xef\xbb\xbf"):
            raise fail(exc, "UTF-8") from None
        head = content[:4096]
        if len(head) >= 4 and head.count(b"\x00") * 4 >= len(head):
            raise _reject(name, "The file looks like UTF-16 text without a byte-order mark. Choose UTF-16 in the "
                          "upload options, or save the file as 'CSV UTF-8'.", code="encoding") from None
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError as exc2:
            raise fail(exc2, "UTF-8 or Windows-1252") from None
        note = Issue("info", "The file is not UTF-8; it was read as Windows-1252 (cp1252). Check that umlauts and "
                     "other special characters look right in the preview, or choose the encoding explicitly.",
                     name, code="encoding")
        return text, "cp1252", [note]


def _refuse_utf8_read_as_cp1252(name: str, content: bytes, text: str) -> None:
    """Refuse a UTF-8 file the user chose to read as Windows-1252: every umlaut would be stored as two wrong
    characters (``Süd`` → ``SÃ¼d``) without any error. Non-ASCII bytes that form valid UTF-8 are next to
    impossible in real Windows-1252 text (they would have to read like ``Ã¼`` there), so this is no guess."""
    if content.isascii():
        return
    try:
        intended = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    at = next(i for i, ch in enumerate(intended) if ord(ch) > 127)
    line_no = intended.count("\n", 0, at) + 1
    start = intended.rfind("\n", 0, at) + 1
    word = re.search(r"[^\s,;\t\"]*$", intended[start:at]).group() + re.match(r"[^\s,;\t\"]*", intended[at:]).group()
    shown = word[:40] or intended[at]
    wrong = shown.encode("utf-8").decode("cp1252", "replace")
    raise _reject(name, f"The file is UTF-8 text but was read as Windows-1252, so line {line_no} would read "
                  f"{wrong!r} instead of {shown!r}. Choose UTF-8 (or automatic detection) as the encoding.",
                  row=line_no, value=shown, code="encoding_mismatch")


def _split_line(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep, strict=False), [])
    except csv.Error:
        return line.split(sep)


def _detect_separator(name: str, sample_lines: list[str], kind: KindRef) -> str:
    """Pick the separator whose field count is most consistent over the sample (needs >= 2 fields);
    a tie is broken by how many header cells are known column names, else the user must choose."""
    known = _known_headers(kind)
    scored = []
    for sep in (",", ";", "\t"):
        widths = [len(_split_line(ln, sep)) for ln in sample_lines if ln.strip()]
        if not widths:
            continue
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        if mode < 2:
            continue
        hits = max(sum(1 for c in _split_line(ln, sep) if kinds.normalise_header(c) in known)
                   for ln in sample_lines[:20] if ln.strip())
        scored.append((widths.count(mode), hits, mode, sep))
    if not scored:
        raise _reject(name, "Could not find a column separator: no line has more than one column when split by "
                      "comma, semicolon or tab.", code="separator")
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
        a, b = scored[0][3], scored[1][3]
        raise _reject(name, f"The column separator is ambiguous ({_SEP_NAMES[a]} or {_SEP_NAMES[b]}). Choose it in "
                      "the upload options.", code="separator")
    return scored[0][3]


def _read_csv(name: str, content: bytes, options: ParseOptions, limits: UploadLimits, kind: KindRef) -> RawTable:
    text, encoding, notes = _decode(name, content, options.encoding)
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        head = text[:4096]
        if head.count("\x00") * 4 >= len(head):
            raise _reject(name, "The file looks like UTF-16 text without a byte-order mark. Choose UTF-16 in the "
                          "upload options, or save the file as 'CSV UTF-8'.", code="encoding")
        raise _reject(name, f"The file contains NUL bytes (first on line {line}); it is not a plain-text CSV file "
                      "(binary data, or UTF-16 read with the wrong encoding).", row=line, code="nul_bytes")
    if not text.strip():
        raise _reject(name, "The file contains no data (only blank lines).", code="empty_file")
    # Header width before any full parse: one huge or very wide line is a CPU DoS for CSV parsers (F-D3).
    pos = 0
    sample_lines: list[str] = []
    for lineno in range(1, max(limits.header_search_rows, 20) + 1):
        if pos >= len(text):
            break
        nl = text.find("\n", pos, pos + limits.max_header_bytes + 1)
        line = text[pos:] if nl < 0 else text[pos:nl]
        if (nl < 0 and len(line) > limits.max_header_bytes) or \
                len(line.encode("utf-8", "surrogatepass")) > limits.max_header_bytes:
            raise _reject(name, f"Line {lineno} is longer than {_mb(limits.max_header_bytes)}; this does not look "
                          "like a table export.", row=lineno, code="header_width")
        sample_lines.append(line.rstrip("\r"))
        if nl < 0:
            break
        pos = nl + 1
    sep = options.separator if options.separator != "auto" else _detect_separator(name, sample_lines, kind)
    for i, line in enumerate(sample_lines[: limits.header_search_rows]):
        n_fields = line.count(sep) + 1
        if n_fields > limits.max_columns:
            n_fields = len(_split_line(line, sep))
        if n_fields > limits.max_columns:
            raise _reject(name, f"Line {i + 1} has {n_fields} columns; the limit is {limits.max_columns}.",
                          row=i + 1, code="too_many_columns")
    if sep != ",":
        notes.append(Issue("info", f"Columns are separated by {_SEP_NAMES[sep]}s.", name, code="separator"))

    sink = IssueCollector(name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[Cell]] = []
    numbers: list[int] = []
    max_records = limits.max_rows + limits.header_search_rows + 1
    max_fields = limits.max_columns * 4
    rec_no = 0
    try:
        for rec in reader:
            rec_no += 1
            if len(rec) > max_fields:
                raise _reject(name, f"Row {rec_no} has {len(rec)} values; the limit is {limits.max_columns} columns.",
                              row=rec_no, code="too_many_columns")
            for j, cell in enumerate(rec):
                if len(cell) > limits.max_cell_chars:
                    raise _reject(name, f"Row {rec_no}, column {j + 1} holds {len(cell)} characters; the limit is "
                                  f"{limits.max_cell_chars}.", row=rec_no, code="cell_too_long")
            if rec and not (len(rec) == 1 and not rec[0].strip()):
                records.append(rec)  # type: ignore[arg-type]
                numbers.append(rec_no)
                if len(records) > max_records:
                    raise _reject(name, f"The file has more than {limits.max_rows} data rows. Upload a shorter period.",
                                  code="too_many_rows")
    except csv.Error as exc:
        where = rec_no + 1
        msg = str(exc)
        if "field larger than field limit" in msg:
            raise _reject(name, f"Row {where} holds a value longer than {limits.max_cell_chars} characters (often an "
                          "unclosed quote).", row=where, code="cell_too_long") from None
        raise _reject(name, f"Row {where}: the quoting is broken ({msg}); a quote (\") is probably not closed.",
                      row=where, code="bad_quotes") from None
    if not records:
        raise _reject(name, "The file contains no data (only blank lines).", code="empty_file")
    return _finish_table(name, None, encoding, sep, records, numbers, options, limits, kind, sink, notes)


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------

_RE_XML_DECL = re.compile(rb"<\?.*?\?>", re.S)


def _xml_has_dtd(stream: Any, budget: int = 1 << 20) -> bool | None:
    """True when the XML prolog holds a DOCTYPE (the only place entities can be declared), False when
    the root element starts first, ``None`` when the part is not XML at all. A prolog longer than
    ``budget`` bytes raises ``ValueError``. Only the prolog is read, so this costs microseconds."""
    buf = bytearray()
    eof = False

    def fill(n: int) -> None:
        nonlocal eof
        while len(buf) < n and not eof:
            if len(buf) > budget:
                raise ValueError("XML prolog too long")
            chunk = stream.read(65536)
            eof = not chunk
            buf.extend(chunk)

    fill(4)
    if buf[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 XML: decode the bounded head once
        fill(budget)
        buf[:] = bytes(buf[:budget]).decode("utf-16", "ignore").encode("utf-8")
        eof = True
    pos = 3 if buf[:3] == b"\xef\xbb\xbf" else 0
    while True:
        fill(pos + 9)
        while pos < len(buf) and buf[pos] in b" \t\r\n":
            pos += 1
            fill(pos + 9)
        if pos >= len(buf) or buf[pos] != ord("<"):
            return None
        if buf.startswith(b"<?", pos) or buf.startswith(b"<!--", pos):
            token = b"?>" if buf.startswith(b"<?", pos) else b"-->"
            while (end := buf.find(token, pos + 2)) < 0:
                if eof:
                    return False  # unterminated: the XML parser will refuse it
                fill(len(buf) + 65536)
            pos = end + len(token)
            continue
        return buf.startswith(b"<!", pos)


def _zip_directory(name: str, content: bytes, limits: UploadLimits
                   ) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo], list[str]]:
    """The zip directory's checks alone — nothing is unpacked, so they are safe (and take microseconds) even in the
    server process, before any worker is started: member count, duplicates, encryption, total and per-part
    expansion (the sizes are the directory's, which :mod:`zipfile` enforces while unpacking)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, IndexError):
        raise _reject(name, f"'{name}' is not a valid Excel workbook (the zip container is damaged or truncated). "
                      "Save it again from Excel as .xlsx.", code="not_xlsx") from None
    if len(infos) > limits.max_zip_members:
        raise _reject(name, f"The workbook has {len(infos)} internal parts (limit {limits.max_zip_members}); it is "
                      "not a normal spreadsheet.", code="zip_members")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise _reject(name, "The workbook contains the same internal part twice; it is damaged or tampered with. "
                      "Save it again from Excel.", code="zip_duplicate")
    if any(i.flag_bits & 0x1 for i in infos):
        raise _reject(name, "The workbook is encrypted. Save it as .xlsx without a password.", code="ole2")
    total = sum(i.file_size for i in infos)
    if total > limits.max_xlsx_uncompressed:
        raise _reject(name, f"The workbook expands to {_mb(total)} when unpacked (limit "
                      f"{_mb(limits.max_xlsx_uncompressed)}). Save a smaller export or use CSV.", code="zip_bomb")
    for info in infos:
        if info.file_size >= RATIO_CHECK_BYTES and info.file_size > limits.max_xlsx_ratio * max(info.compress_size, 1):
            raise _reject(name, f"The workbook part '{info.filename}' unpacks to {_mb(info.file_size)} from "
                          f"{_mb(info.compress_size)} ({info.file_size // max(info.compress_size, 1)}-fold; exports "
                          f"from Excel expand about 10-fold, at most {limits.max_xlsx_ratio}-fold is read). The file "
                          "was not opened: it is mostly repeated content. Save it again from Excel, or upload a CSV.",
                          code="zip_ratio")
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _reject(name, f"'{name}' is a zip file but not an Excel workbook (no xl/workbook.xml). Upload an .xlsx "
                      "saved by Excel or a CSV file.", code="not_xlsx")
    return zf, infos, names


def _check_zip(name: str, content: bytes, limits: UploadLimits) -> zipfile.ZipFile:
    """Directory-level checks that cost microseconds and stop decompression bombs (F-B) and
    entity bombs (F-A) before openpyxl parses anything."""
    import defusedxml.ElementTree as SafeET

    zf, infos, names = _zip_directory(name, content, limits)
    try:
        for info in infos:
            if info.is_dir():
                continue
            with zf.open(info) as member:
                if _xml_has_dtd(member):
                    raise _reject(name, f"The workbook part '{info.filename}' declares a DTD/entities, which Excel "
                                  "never writes (possible XML bomb). The file was not opened.", code="xml_dtd")
        types = SafeET.fromstring(zf.read("[Content_Types].xml"))
    except UploadRejected:
        raise
    except ValueError:
        raise _reject(name, "A workbook part starts with an over-long XML header; the file was not opened.",
                      code="xml_dtd") from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, KeyError) as exc:
        raise _reject(name, f"The workbook is damaged ({type(exc).__name__}: {exc}). Save it again from Excel.",
                      code="not_xlsx") from None
    except Exception as exc:  # defusedxml / ParseError on [Content_Types].xml
        raise _reject(name, f"The workbook's content-type list is damaged or unsafe ({type(exc).__name__}).",
                      code="not_xlsx") from None
    defaults, overrides = set(), set()
    for el in types:
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "Default":
            defaults.add((el.get("Extension") or "").lower())
        elif tag == "Override":
            overrides.add((el.get("PartName") or "").lstrip("/"))
    for info in infos:
        if info.is_dir() or info.filename == "[Content_Types].xml":
            continue
        ext = info.filename.rsplit(".", 1)[-1].lower() if "." in info.filename.rsplit("/", 1)[-1] else ""
        if info.filename not in overrides and ext not in defaults:
            raise _reject(name, f"The workbook contains a part '{info.filename}' that is not declared in its content "
                          "list; it is damaged or was tampered with. Save it again from Excel.", code="zip_undeclared")
    return zf


#: start tags of a sheet row (``<row r="1">``, ``<row>``, ``<row/>``, a prefixed ``<x:row r="1">``), not ``<rowBreaks>``
_ROW_TAGS = (b"<row ", b"<row>", b"<row/", b":row ")


def _count_row_elements(zf: zipfile.ZipFile, member: str) -> int:
    """How many rows a sheet part holds, by a streaming byte count over the unpacked XML (0.05 s for 48 MB).

    The count cannot be faked downwards the way the ``<dimension>`` tag can: every counted tag is a row openpyxl
    would parse. Rows with whitespace or other prefixes may be missed — the row bound while reading still holds.
    """
    count = 0
    tail = b""
    keep = max(len(t) for t in _ROW_TAGS) - 1  # shorter than every tag: no tag is counted twice
    with zf.open(member) as f:
        while chunk := f.read(1 << 20):
            block = tail + chunk
            count += sum(block.count(t) for t in _ROW_TAGS)
            tail = block[-keep:]
    return count


def _require_known_header(name: str, sheet: str, records: list[list[Cell]], known: frozenset[str], kind: KindRef,
                          row_elements: int, limits: UploadLimits) -> None:
    """A large sheet whose first rows name no column of the kind is refused before the rest is parsed.

    Why: without one known column name every required column is missing, so the upload fails anyway — but only after
    parsing every row (300,000 header-less rows cost 20-40 CPU-seconds). Checked only for large sheets, so small
    files keep the full report.
    """
    if any(isinstance(c, str) and kinds.normalise_header(c) in known for rec in records for c in rec):
        return
    spec = kind if isinstance(kind, kinds.KindSpec) else kinds.get_kind(str(kind))
    required = ", ".join(c.name for c in spec.columns if c.required)
    raise _reject(name, f"Sheet {sheet!r} has {row_elements:,} rows, but none of its first {limits.header_search_rows} "
                  f"rows names a column of {spec.title.lower()} ({required}); the rest was not read. Add the header "
                  "row, or choose the right sheet or dataset.", sheet=sheet, code="no_header")


def _member_contains(zf: zipfile.ZipFile, member: str, needles: tuple[bytes, ...]) -> bool:
    tail = b""
    with zf.open(member) as f:
        while chunk := f.read(1 << 20):
            block = tail + chunk
            if any(n in block for n in needles):
                return True
            tail = block[-16:]
    return False


def _column_letter(idx0: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(idx0 + 1)


def _cell_rows(rows: Iterator[tuple[Any, ...]], name: str, sheet: str) -> Iterator[tuple[Any, ...]]:
    """openpyxl's rows, with a failure *inside openpyxl* turned into a one-line "damaged workbook" rejection.

    Why: a cell pointing at a shared string the workbook does not have raised ``IndexError`` deep in openpyxl, which
    reached the user as "internal error" plus a traceback on the command line. Only errors raised while openpyxl
    reads a row are translated (our own code's bugs still surface as internal errors); the log keeps the details.
    """
    rn = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except (MemoryError, UploadRejected):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips over in a damaged part
            at = rn + 1
            logger.info("damaged workbook %s, sheet %r, row %s: %s: %s", name, sheet, at, type(exc).__name__, exc)
            what = ("refers to text that is missing from the workbook's shared-text list"
                    if isinstance(exc, IndexError | KeyError) else f"cannot be read ({type(exc).__name__})")
            raise _reject(name, f"The workbook is damaged: a cell in row {at} of sheet {sheet!r} {what}. Open the "
                          "file in Excel and save it again, or export it as CSV.", sheet=sheet, row=at,
                          code="damaged_xlsx") from None
        rn += 1
        yield row


_RE_DIMENSION = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_RE_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b")
_SIZE_PATCH_LOCK = threading.Lock()


def _sheet_size_from_head(ws: Any) -> None:
    """``ReadOnlyWorksheet._get_size`` without parsing the sheet: the ``<dimension>`` tag from the part's head.

    openpyxl 3.1 looks for the tag with an end-event ``iterparse`` that stops at the *end* of ``<sheetData>``, so a
    sheet without the tag is parsed whole just to open the workbook — every sheet, read or not. Profiling the
    300,000-row header-less upload: 46 of 47 s were spent there. The schema puts ``<dimension>`` before
    ``<sheetData>``, so scanning the bytes up to ``<sheetData`` (at most 1 MB) finds what openpyxl would.
    """
    from openpyxl.utils.cell import range_boundaries

    head = b""
    with ws._get_source() as src:
        while len(head) < (1 << 20) and not _RE_SHEET_DATA.search(head, max(0, len(head) - 65536 - 32)):
            chunk = src.read(65536)
            if not chunk:
                break
            head += chunk
    data = _RE_SHEET_DATA.search(head)
    dim = _RE_DIMENSION.search(head, 0, data.start() if data else len(head))
    if dim is None:
        return
    try:
        bounds = range_boundaries(dim.group(1).decode("ascii", "replace"))
    except (ValueError, TypeError):
        return
    if all(isinstance(b, int) for b in bounds):
        ws._min_column, ws._min_row, ws._max_column, ws._max_row = bounds


def _patch_openpyxl_sheet_size() -> None:
    """Install :func:`_sheet_size_from_head` once (it returns what openpyxl's own method does, only cheaply); an
    openpyxl without that private method is left alone."""
    from openpyxl.worksheet import _read_only

    with _SIZE_PATCH_LOCK:
        cls = _read_only.ReadOnlyWorksheet
        if getattr(cls, "_get_size", None) is not None and cls._get_size is not _sheet_size_from_head:
            cls._get_size = _sheet_size_from_head


def _read_xlsx(name: str, content: bytes, options: ParseOptions, limits: UploadLimits, kind: KindRef) -> RawTable:
    check_xml_safety()
    zf = _check_zip(name, content, limits)
    import openpyxl

    _patch_openpyxl_sheet_size()

    notes: list[Issue] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # ParseError, ValueError(EntitiesForbidden), KeyError, BadZipFile ...
        raise _reject(name, f"The workbook could not be opened ({type(exc).__name__}); it is damaged or not a "
                      "normal .xlsx file. Save it again from Excel.", code="not_xlsx") from None
    try:
        sheets = [ws for ws in wb.worksheets if hasattr(ws, "iter_rows")]
        if options.sheet is not None:
            match = [ws for ws in sheets if ws.title == options.sheet] or \
                [ws for ws in sheets if ws.title.strip().lower() == options.sheet.strip().lower()]
            if not match:
                available = ", ".join(repr(ws.title) for ws in sheets if ws.sheet_state == "visible")
                raise _reject(name, f"The workbook has no sheet named {options.sheet!r}. Sheets: {available}.",
                              code="sheet")
            ws = match[0]
            if ws.sheet_state != "visible":
                notes.append(Issue("warning", f"Sheet {ws.title!r} is hidden in the workbook; it was read because "
                                   "you chose it.", name, ws.title, code="hidden_sheet"))
        else:
            visible = [ws for ws in sheets if ws.sheet_state == "visible"]
            if not visible:
                raise _reject(name, "The workbook has no visible worksheet. Unhide the sheet to import, or name it in "
                              "the upload options.", code="sheet")
            ws = visible[0]
            hidden = [s.title for s in sheets if s.sheet_state != "visible"]
            if hidden:
                notes.append(Issue("info", f"Hidden sheet(s) {', '.join(map(repr, hidden))} were not read.", name,
                                   ws.title, code="hidden_sheet"))
            if len(visible) > 1:
                notes.append(Issue("info", f"The workbook has {len(visible)} visible sheets; read the first one, "
                                   f"{ws.title!r}. Choose another sheet in the upload options if needed.", name,
                                   ws.title, code="sheet"))
        sheet = ws.title
        declared = ws.max_column  # from the untrusted <dimension> tag, for a notice only
        declared_rows = ws.max_row  # the same tag: evidence for refusing only, never trusted to accept
        ws.reset_dimensions()
        max_row = limits.max_rows + limits.header_search_rows + 1
        max_col = limits.max_columns + 1
        path = getattr(ws, "_worksheet_path", None)
        # cheap evidence before openpyxl parses a single row (about 1 CPU-second per MB of sheet XML)
        if isinstance(declared_rows, int) and declared_rows > max_row:
            raise _reject(name, f"Sheet {sheet!r} declares {declared_rows:,} rows, more than {limits.max_rows:,} data "
                          "rows (the limit). Upload a shorter period, or delete stray cells far below the data.",
                          sheet=sheet, code="too_many_rows")
        row_elements = _count_row_elements(zf, path) if path in zf.namelist() else 0
        if row_elements > max_row:
            raise _reject(name, f"Sheet {sheet!r} has {row_elements:,} rows, more than {limits.max_rows:,} data rows "
                          "(the limit). Upload a shorter period.", sheet=sheet, code="too_many_rows")
        known = _known_headers(kind) if (row_elements > LARGE_SHEET_ROWS and kind is not None
                                         and options.header_row is None and not options.queues_in_columns) else None
        records: list[list[Cell]] = []
        numbers: list[int] = []
        has_empty = False
        rows_in = _cell_rows(ws.iter_rows(max_row=max_row + 1, max_col=max_col, values_only=True), name, sheet)
        for rn, row in enumerate(rows_in, start=1):
            if rn > max_row:  # openpyxl only pads up to here when a later row exists (e.g. a cell in A1048576)
                raise _reject(name, f"The sheet has more than {limits.max_rows} data rows (it uses rows beyond row "
                              f"{max_row}). Upload a shorter period, or delete stray cells far below the data.",
                              sheet=sheet, code="too_many_rows")
            if len(row) >= max_col and row[max_col - 1] not in (None, ""):
                raise _reject(name, f"Row {rn} has data beyond column {_column_letter(limits.max_columns - 1)} (limit "
                              f"{limits.max_columns} columns).", sheet=sheet, row=rn, code="too_many_columns")
            cells = list(row[: limits.max_columns])
            if None in cells:
                has_empty = True
            while cells and cells[-1] is None:
                cells.pop()
            for j, c in enumerate(cells):
                if isinstance(c, str) and len(c) > limits.max_cell_chars:
                    raise _reject(name, f"Cell {_column_letter(j)}{rn} holds {len(c)} characters; the limit is "
                                  f"{limits.max_cell_chars}.", sheet=sheet, row=rn, code="cell_too_long")
            if cells:
                records.append(cells)
                numbers.append(rn)
            if known is not None and rn == limits.header_search_rows:
                _require_known_header(name, sheet, records, known, kind, row_elements, limits)
        if isinstance(declared, int) and declared > max_col:
            notes.append(Issue("info", f"The sheet says it uses columns up to {_column_letter(declared - 1)}; only "
                               f"the first {limits.max_columns} columns were read.", name, sheet, code="wide_sheet"))
        if not records:
            raise _reject(name, f"Sheet {sheet!r} is empty.", sheet=sheet, code="empty_file")
        formula_at: dict[tuple[int, int], str] = {}
        if has_empty and path and _member_contains(zf, path, (b"<f>", b"<f ", b":f>", b":f ")):
            formula_at = _formulas_without_value(name, content, sheet, records, numbers, max_row, max_col)
        epoch = wb.epoch if isinstance(getattr(wb, "epoch", None), datetime) else EXCEL_EPOCH
    finally:
        wb.close()
        zf.close()
    return _finish_table(name, sheet, None, None, records, numbers, options, limits, kind, IssueCollector(name, sheet),
                         notes, formula_at, epoch)


def _formulas_without_value(name: str, content: bytes, sheet: str, records: list[list[Cell]], numbers: list[int],
                            max_row: int, max_col: int) -> dict[tuple[int, int], str]:
    """Second, bounded pass with ``data_only=False``: formula cells whose cached value was empty.

    ``data_only=True`` returns None both for empty cells and for formulas nobody calculated
    (files written by scripts), which pandas turns into a silent NaN (F-C).
    """
    import openpyxl

    by_row = dict(zip(numbers, records, strict=True))
    found: dict[tuple[int, int], str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    try:
        ws = wb[sheet]
        ws.reset_dimensions()
        rows_in = _cell_rows(ws.iter_rows(max_row=max_row, max_col=max_col, values_only=True), name, sheet)
        for rn, row in enumerate(rows_in, start=1):
            cached = by_row.get(rn, [])
            for j, v in enumerate(row):
                is_formula = (isinstance(v, str) and v.startswith("=")) or type(v).__name__ in (
                    "ArrayFormula", "DataTableFormula")
                if is_formula and (j >= len(cached) or cached[j] is None):
                    found[(rn, j)] = f"{_column_letter(j)}{rn}"
    finally:
        wb.close()
    return found


def zip_directory_rejection(name: str, content: bytes, limits: UploadLimits) -> Issue | None:
    """The rejection a workbook's zip directory alone proves (see :func:`_zip_directory`), else ``None``: nothing is
    unpacked, so the server process may call it before it spends a worker on the file."""
    if not isinstance(content, bytes | bytearray) or len(content) > limits.max_bytes or \
            not bytes(content[:4]).startswith(_ZIP_MAGICS):
        return None
    try:
        _zip_directory(name, bytes(content), limits)[0].close()
    except UploadRejected as exc:
        return exc.issue
    return None
