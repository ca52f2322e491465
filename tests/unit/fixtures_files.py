"""Builders for good and hostile upload files, made in memory at test time (no binary files in git).

Each builder returns ``bytes``; :func:`write_tmp` puts them in a tmp dir when a path is needed.
The hostile shapes reproduce SECURITY_FINDINGS.md A–D: XML entity bombs, XXE, decompression bombs,
a far-away cell (XFD1048576), very wide rows, OLE2 headers, renamed files, undeclared zip parts.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def write_tmp(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ------------------------------------------------------------------------------------------ CSV


def csv_bytes(rows: Sequence[Sequence[Any]], *, sep: str = ",", encoding: str = "utf-8", bom: bool = False,
              newline: str = "\n", quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    """Rows written with the csv module (RFC 4180 quoting) in the given dialect and encoding."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator=newline, quoting=quoting)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    text = buf.getvalue()
    if encoding == "utf-16":
        return text.encode("utf-16")  # Python writes a BOM
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def text_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


# ----------------------------------------------------------------------------------------- XLSX


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[Any]]], *, hidden: Iterable[str] = (),
               number_formats: dict[str, str] | None = None) -> bytes:
    """A workbook written by openpyxl; values keep their Python type (datetime → date cell).
    Strings starting with '=' become formulas WITHOUT a cached value (as scripts write them)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        if title in set(hidden):
            ws.sheet_state = "hidden"
        for coord, fmt in (number_formats or {}).items():
            ws[coord].number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell_xml(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows: Sequence[Sequence[Any]]) -> str:
    from openpyxl.utils import get_column_letter

    body = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(_cell_xml(f"{get_column_letter(c)}{r}", v) for c, v in enumerate(row, start=1))
        body.append(f'<row r="{r}">{cells}</row>')
    return f'<worksheet xmlns="{NS}"><sheetData>{"".join(body)}</sheetData></worksheet>'


def raw_xlsx(sheet: str, *, shared_strings: str | None = None, extra: dict[str, bytes] | None = None,
             replace: dict[str, str] | None = None, declare_extra: bool = True, duplicate: str | None = None,
             sheet_state: str | None = None, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal workbook assembled part by part, so parts can be made hostile.

    ``sheet`` is the sheet1.xml text; ``replace`` swaps any part's text; ``extra`` adds parts
    (declared in [Content_Types].xml only when ``declare_extra``); ``duplicate`` adds a second
    copy of that part name."""
    state = f' state="{sheet_state}"' if sheet_state else ""
    overrides = [
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/>',
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/>',
    ]
    if shared_strings is not None:
        overrides.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sharedStrings+xml"/>')
    for part in (extra or {}) if declare_extra else ():
        overrides.append(f'<Override PartName="/{part}" ContentType="application/octet-stream"/>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL_NS}"><sheets>'
        f'<sheet name="data" sheetId="1"{state} r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
        'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        + ('<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           'sharedStrings" Target="sharedStrings.xml"/>' if shared_strings is not None else "")
        + "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    parts.update(replace or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        if duplicate:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                zf.writestr(duplicate, parts[duplicate])
    return buf.getvalue()


WORKLOAD_ROWS = [["timestamp", "queue", "volume"], ["2024-01-02 08:00", "calls", 5], ["2024-01-02 08:30", "calls", 7]]


def good_raw_xlsx() -> bytes:
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS))


def billion_laughs(levels: int = 10) -> str:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(ents)}]>'


def bomb_xlsx(part: str = "xl/sharedStrings.xml") -> bytes:
    """Billion laughs in one XML part (sharedStrings, sheet or workbook)."""
    dtd = billion_laughs()
    if part == "xl/sharedStrings.xml":
        sst = f'{dtd}<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        return raw_xlsx(sheet_xml(WORKLOAD_ROWS), shared_strings=sst)
    if part == "xl/worksheets/sheet1.xml":
        return raw_xlsx(dtd + sheet_xml(WORKLOAD_ROWS).replace(">calls<", ">&lol9;<", 1))
    base = raw_xlsx(sheet_xml(WORKLOAD_ROWS))
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        text = zf.read(part).decode()
    body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS), replace={part: dtd + body})


def quadratic_blowup_xlsx(entity_kb: int = 50, refs: int = 20_000) -> bytes:
    dtd = f'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "{"x" * entity_kb * 1024}">]>'
    sst = f'{dtd}<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>{"&a;" * refs}</t></si></sst>'
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS), shared_strings=sst)


def xxe_xlsx() -> bytes:
    dtd = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    sst = f'{dtd}<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS), shared_strings=sst)


def dtd_after_comment_xlsx() -> bytes:
    """The DOCTYPE hidden behind a long comment in the prolog."""
    sheet = '<?xml version="1.0"?><!--' + "c" * 200_000 + '--><!DOCTYPE x [<!ENTITY e "e">]>' + \
        sheet_xml(WORKLOAD_ROWS)
    return raw_xlsx(sheet)


def sparse_far_cells_xlsx(cells: Sequence[str] = ("A1", "XFD1", "A1048576")) -> bytes:
    """5 KB file whose cells span the whole sheet: pandas pads to rows × 16 384 (F-B)."""
    import re

    by_row: dict[int, list[str]] = {}
    for ref in cells:
        r = int(re.sub(r"[A-Z]", "", ref))
        by_row.setdefault(r, []).append(f'<c r="{ref}"><v>1</v></c>')
    rows = "".join(f'<row r="{r}">{"".join(cs)}</row>' for r, cs in sorted(by_row.items()))
    return raw_xlsx(f'<worksheet xmlns="{NS}"><sheetData>{rows}</sheetData></worksheet>')


def many_rows_xlsx(n_rows: int, n_cols: int = 10) -> bytes:
    """Rows without r= attributes compress ~250× (a 130 KB file took pandas 88 s at 200 000 rows)."""
    row = "<row>" + "<c><v>1</v></c>" * n_cols + "</row>"
    return raw_xlsx(f'<worksheet xmlns="{NS}"><sheetData>{row * n_rows}</sheetData></worksheet>')


def wide_rows_xlsx(n_cols: int, n_rows: int = 2) -> bytes:
    row = "<row>" + "<c><v>1</v></c>" * n_cols + "</row>"
    return raw_xlsx(f'<worksheet xmlns="{NS}"><sheetData>{row * n_rows}</sheetData></worksheet>')


def undeclared_part_xlsx() -> bytes:
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS), extra={"xl/payload.bin": b"\x00" * 64}, declare_extra=False)


def duplicate_part_xlsx() -> bytes:
    return raw_xlsx(sheet_xml(WORKLOAD_ROWS), duplicate="xl/worksheets/sheet1.xml")


def zip_without_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", "timestamp,queue,volume\n")
    return buf.getvalue()


def truncated_xlsx() -> bytes:
    data = good_raw_xlsx()
    return data[: len(data) // 2]


def hidden_first_sheet_xlsx() -> bytes:
    old = [["timestamp", "queue", "volume"], [datetime(2020, 1, 1), "old", 1]]
    return xlsx_bytes({"old": old, "history": [WORKLOAD_ROWS[0], [datetime(2024, 1, 2, 8), "calls", 5],
                                                [datetime(2024, 1, 2, 8, 30), "calls", 7]]}, hidden=["old"])


def formula_without_value_xlsx() -> bytes:
    return xlsx_bytes({"data": [["timestamp", "queue", "volume"], [datetime(2024, 1, 2, 8), "calls", 5],
                                [datetime(2024, 1, 2, 8, 30), "calls", "=C2*2"]]})


def title_rows_xlsx() -> bytes:
    return xlsx_bytes({"export": [["Staffing history export"], [], WORKLOAD_ROWS[0],
                                  [datetime(2024, 1, 2, 8), "calls", 5], [datetime(2024, 1, 2, 8, 30), "calls", 7]]})


def duplicate_header_csv(copies: int = 20_000) -> bytes:
    return (",".join(["a"] * copies) + "\n" + ",".join(["1"] * copies) + "\n").encode()


def long_header_csv(chars: int = 40_000) -> bytes:
    return ("timestamp,queue,volume" + "x" * chars + "\n2024-01-02,calls,1\n").encode()
