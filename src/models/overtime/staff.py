"""Staff-frame normalisation for the overtime domain (skills, preferred sites, pro-rata factors)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

STAFF_REQUIRED: tuple[str, ...] = ("staff_id", "name", "site", "role", "contract_hours", "ot_willing")
_SPLIT = re.compile(r"[|;,]")


def fold(value: object) -> str:
    """Case- and space-insensitive comparison key for site, role and skill names."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return " ".join(str(value).split()).lower()


def split_list(value: object) -> list[str]:
    """Tokens of a ``|``-separated cell (``;`` and ``,`` accepted too); lists/tuples pass through."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    items = value if isinstance(value, list | tuple | set | np.ndarray) else _SPLIT.split(str(value))
    return [str(t).strip() for t in items if str(t).strip()]


def parse_skills(value: object) -> dict[str, int]:
    """``"medication:3|dementia"`` → ``{"medication": 3, "dementia": 1}``; a skill without level counts as 1."""
    out: dict[str, int] = {}
    for token in split_list(value):
        name, _, level = token.partition(":")
        key = fold(name)
        if not key:
            continue
        try:
            lvl = int(level.strip()) if level.strip() else 1
        except ValueError:
            lvl = 1
        out[key] = max(out.get(key, 0), lvl)
    return out


def as_bool(series: pd.Series) -> pd.Series:
    """Map yes/no spellings, 1/0 and booleans to a bool Series (missing → False)."""
    truthy = {"true", "1", "yes", "y", "ja", "j", "x"}
    if series.dtype == bool:
        return series
    return series.map(
        lambda v: (v is True) or (not isinstance(v, str) and not pd.isna(v) and bool(v))
        or (isinstance(v, str) and v.strip().lower() in truthy)
    ).astype(bool)


def prepare_staff(staff: pd.DataFrame, reference_hours: float = 40.0) -> pd.DataFrame:
    """Normalise a staff frame: string ids, parsed skills/preferred sites, ``pro_rata`` = reference / contract.

    ``pro_rata`` scales a person's hours to "hours per ``reference_hours`` contract hours", so a 20-hour
    part-timer's 10 overtime hours weigh like a full-timer's 20. A contract of 0 hours (on-call) is not scaled.
    """
    missing = [c for c in STAFF_REQUIRED if c not in staff.columns]
    if missing:
        raise ValueError(f"Staff frame is missing column(s): {', '.join(missing)}.")
    s = staff.copy()
    s["staff_id"] = s["staff_id"].astype(str)
    if s["staff_id"].duplicated().any():
        dups = ", ".join(sorted(s.loc[s["staff_id"].duplicated(), "staff_id"].unique())[:5])
        raise ValueError(f"Staff frame has duplicate staff_id(s): {dups}.")
    s["name"] = s["name"].astype(str)
    s["contract_hours"] = pd.to_numeric(s["contract_hours"], errors="coerce").fillna(0.0).astype(float)
    s["ot_willing"] = as_bool(s["ot_willing"])
    s["hire_date"] = pd.to_datetime(s["hire_date"]) if "hire_date" in s.columns else pd.NaT
    s["skill_levels"] = (s["skills"] if "skills" in s.columns else pd.Series([""] * len(s), index=s.index)).map(
        parse_skills
    )
    pref = s["preferred_sites"] if "preferred_sites" in s.columns else pd.Series([""] * len(s), index=s.index)
    s["preferred_set"] = pref.map(lambda v: frozenset(fold(t) for t in split_list(v)))
    s["site_key"] = s["site"].map(fold)
    s["role_key"] = s["role"].map(fold)
    s["pro_rata"] = np.where(s["contract_hours"] > 0, reference_hours / s["contract_hours"].where(
        s["contract_hours"] > 0, 1.0), 1.0)
    return s.reset_index(drop=True)
