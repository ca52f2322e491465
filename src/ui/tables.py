"""Table helpers for ``st.dataframe``.

Streamlit draws every missing value (None, NaN, NaT, <NA>) as a grey "None", whatever the column means. Where a
value is *not applicable* (no service level for an e-mail queue, no answer yet, no model score without a model)
the pages show "–" instead: :func:`dash_missing` turns those columns into text, formatted as the column config
would have, and :func:`right_text` keeps numbers right-aligned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

#: what a not-applicable or not-yet-known value shows
MISSING = "–"

Format = str | Callable[[Any], str]


def _fmt(value: Any, fmt: Format) -> str:
    if callable(fmt):
        return fmt(value)
    return fmt.format(value)


def dash_missing(frame: pd.DataFrame, formats: Mapping[str, Format], *, missing: str = MISSING) -> pd.DataFrame:
    """A copy of ``frame`` whose ``formats`` columns are text: each value formatted with its format (a
    ``str.format`` pattern such as ``"{:.1%}"`` or a callable), a missing value as ``missing``.

    Columns not in ``frame`` are ignored, so one mapping can serve tables that drop empty columns.
    """
    out = frame.copy()
    for col, fmt in formats.items():
        if col not in out.columns:
            continue
        out[col] = [missing if _is_missing(v) else _fmt(v, fmt) for v in out[col].tolist()]
    return out


def format_value(value: Any, fmt: Format, *, missing: str = "n/a") -> str:
    """One value for an ``st.metric`` or a caption: formatted, or ``missing`` when it is None/NaN or not a number.

    Why: ``f"{metrics.get('mase') or float('nan'):.2f}"`` showed a planner the text "nan" for a metric the backtest
    could not measure, and turned a true 0.0 into "nan" as well.
    """
    if _is_missing(value):
        return missing
    try:
        return _fmt(value, fmt)
    except (TypeError, ValueError):
        return missing


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like cells are never "missing"
        return False


def right_text(label: str | None = None, **kwargs: Any) -> Any:
    """A text column aligned like a number column (for numbers turned into text by :func:`dash_missing`)."""
    return st.column_config.TextColumn(label, alignment="right", **kwargs)


#: column names from the store and the services in words, for table headers (a planner read "task_id",
#: "staff_id", "display_name", "created_at", "tasks_in_preview", "ts_utc", "detail_json" on screen)
COLUMN_LABELS = {
    "task_id": "task", "staff_id": "staff no.", "name": "name", "task_type": "task type",
    "required_skill": "required skill", "display_name": "display name", "username": "user name",
    "created_at": "created", "created_by": "created by", "updated_at": "changed", "uploaded_at": "uploaded",
    "uploaded_by": "uploaded by", "file_name": "file", "rule_score": "rule score", "model_score": "model score",
    "model_rank": "model rank", "tasks_in_preview": "tasks in this preview", "free_hours": "free hours",
    "can_take": "has room", "override_reason": "override reason", "overridden": "overridden",
    "rule_staff_id": "rules chose", "model_staff_id": "model chose", "rule_score_chosen": "rule score",
    "scored_at": "scored", "logged_at": "logged", "preview_id": "preview", "agree": "agree",
    "ts_utc": "time", "object_type": "object", "object_id": "object id", "detail_json": "detail",
    "precision_at_3": "Precision@3", "rules_auc": "rules AUC", "rules_precision_at_3": "rules Precision@3",
    "auc": "AUC",
}


def headers(columns: Any, **overrides: Any) -> dict[str, Any]:
    """``column_config`` giving each of ``columns`` that has one its header in words (:data:`COLUMN_LABELS`);
    ``overrides`` (column → label or column config) win."""
    config: dict[str, Any] = {c: COLUMN_LABELS[c] for c in columns if c in COLUMN_LABELS}
    config.update(overrides)
    return config


def fit_width(values: Any, *, header: str = "", minimum: int = 60, maximum: int = 480) -> int:
    """A column width in pixels that shows the longest of ``values`` (and the header) uncut.

    Why: fixed widths cut names off — "Haus Abendrot / Wohnbereich Kasta…" and "… / Beschützender Bere…" could
    not be told apart on Forecast accuracy. ~7.5 px per character of the app's font, plus the cell padding.
    """
    texts = [str(v) for v in values if not _is_missing(v)] + [header]
    longest = max((len(t) for t in texts), default=0)
    return int(min(maximum, max(minimum, 7.5 * longest + 24)))
