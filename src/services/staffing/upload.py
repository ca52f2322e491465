"""An uploaded volume file checked with the workload validator (row-level issues; nothing is stored), summed over
sites into the volume to plan."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from src.data.kinds import get_kind, normalise_header
from src.data.loader import ParseOptions, UploadRejected, read_table
from src.data.parsing import IssueCollector, decimal_evidence, parse_numbers
from src.data.validation import alias_lookup, validate_raw
from src.services.context import Actor, AppContext, require_role
from src.services.data import upload_limits
from src.services.data import validate_upload as _validate_upload

from ._common import infer_interval_seconds
from .results import VolumeInput, VolumeUpload

_UPLOAD_POINT = ("yhat", "forecast", "prognose")
_UPLOAD_UPPER = {"yhat_upper_80": "yhat_upper_80", "yhat_upper_95": "yhat_upper_95"}


def validate_volume_upload(app: AppContext, actor: Actor, *, filename: str, content: bytes,
                           options: ParseOptions | None = None) -> VolumeUpload:
    """Check a volume file (``ds``/``timestamp``, ``queue``, ``volume`` or ``yhat``, optional ``aht_seconds``,
    ``yhat_upper_80``/``_95``) with the workload validator; nothing is stored.

    Whole-number ``volume`` columns go through :func:`src.data.validation.validate_upload` unchanged. A
    fractional forecast column (``yhat``) is checked cell by cell as a non-negative number and the other columns
    by the workload rules, so the report still names file, row and column for every problem.
    """
    require_role(actor, "planner", "admin")
    options = options or ParseOptions()
    try:
        raw = read_table(filename, content, options, upload_limits(app), kind="workload")
    except UploadRejected:
        return VolumeUpload(_validate_upload(app, actor, kind="workload", filename=filename, content=content,
                                             options=options), None)
    norm = [normalise_header(h) for h in raw.headers]
    point = next((j for j, h in enumerate(norm) if h in _UPLOAD_POINT), None)
    uppers = {_UPLOAD_UPPER[h]: j for j, h in enumerate(norm) if h in _UPLOAD_UPPER}
    sink = IssueCollector(raw.file, raw.sheet)
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    parsed: dict[str, np.ndarray] = {}
    special = ([("yhat", point)] if point is not None else []) + list(uppers.items())
    for name, j in special:
        cells = [r[j] if j < len(r) else None for r in raw.rows]
        if options.decimal != "auto":
            dec = options.decimal
        else:
            ev = decimal_evidence(cells)
            dec = next(iter(ev)) if len(ev) == 1 else None
        p = parse_numbers(cells, decimal=dec, integer=False, non_negative=True, positive=False, rows=rows,
                          column=raw.headers[j], sink=sink)
        for i in np.flatnonzero(p.empty):
            sink.add("error", "missing_value", f"Row {rows[i]}, column '{raw.headers[j]}': the value is empty.",
                     row=int(rows[i]), column=raw.headers[j])
        parsed[name] = np.where(p.valid, p.values, np.nan)
    headers, drop = list(raw.headers), {j for _, j in special}
    if point is not None and "volume" not in [_volume_alias(h) for h in norm]:
        headers[point] = "volume"  # the workload rules check everything else; the yhat cells were checked above
        drop.discard(point)
        rows_cells = [[("0" if j == point else c) for j, c in enumerate(r)] for r in raw.rows]
    else:
        rows_cells = [list(r) for r in raw.rows]
    keep = [j for j in range(len(headers)) if j not in drop]
    raw2 = replace(raw, headers=[headers[j] for j in keep],
                   rows=[[r[j] if j < len(r) else None for j in keep] for r in rows_cells])
    report = validate_raw("workload", raw2, options)
    extra = sink.finish()
    issues = [i for i in report.issues if i.code != "future_date"] + extra
    rank = {"error": 0, "warning": 1, "info": 2}
    issues.sort(key=lambda i: rank.get(i.severity, 3))
    totals = dict(report.totals)
    totals.pop("future_date", None)
    for s in ("error", "warning", "info"):
        totals[s] = sum(1 for i in issues if i.severity == s)
    ok = not any(i.severity == "error" for i in issues)
    frame = report.frame if ok else None
    final = replace(report, issues=issues, frame=frame, totals=totals)
    if frame is None:
        return VolumeUpload(final, None)
    vol = pd.DataFrame({"queue": frame["queue"].astype(str), "site": frame["site"].fillna("").astype(str),
                        "ds": pd.to_datetime(frame["timestamp"]),
                        "yhat": parsed["yhat"] if "yhat" in parsed and point is not None and "volume" not in
                        [_volume_alias(h) for h in norm] else frame["volume"].astype(float),
                        "aht_seconds": pd.to_numeric(frame["aht_seconds"], errors="coerce")})
    for b in uppers:
        vol[b] = parsed[b]
    agg = _sum_sites(vol, [c for c in ("yhat", *uppers) if c in vol])
    interval = infer_interval_seconds(agg["ds"])
    return VolumeUpload(final, VolumeInput(frame=agg, source="upload", detail=f"Uploaded file {raw.file}",
                                           interval_seconds=interval))


def _volume_alias(h: str) -> str | None:
    return alias_lookup(get_kind("workload")).get(h)


def _sum_sites(vol: pd.DataFrame, value_cols: list[str]) -> pd.DataFrame:
    """One row per queue and interval: volumes summed over sites, AHT volume-weighted."""
    w = vol["yhat"].where(vol["aht_seconds"].notna(), 0.0)
    tmp = vol.assign(_w=w, _wx=w * vol["aht_seconds"].fillna(0))
    out = tmp.groupby(["queue", "ds"], as_index=False)[[*value_cols, "_w", "_wx"]].sum(min_count=1)
    out["aht_seconds"] = out["_wx"] / out["_w"].where(out["_w"] > 0)
    out = out.drop(columns=["_w", "_wx"])
    if out["aht_seconds"].isna().all():
        out = out.drop(columns=["aht_seconds"])
    return out.sort_values(["queue", "ds"]).reset_index(drop=True)
