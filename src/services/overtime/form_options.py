"""What the overtime forms offer: known sites and units, shift types with their typical hours, roles, skills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from src.data import store
from src.models.overtime import OvertimeRules, normalise_shift_type
from src.services.context import Actor, AppContext, require_role

from .helpers import AsOfDefault, _history, default_as_of

#: hours of a shift type when the history has no accepted shift of that type
FALLBACK_SHIFT_HOURS = 8.0


@dataclass(frozen=True)
class OvertimeOptions:
    """What the forms offer: known sites and their units, shift types with typical hours, roles and skills."""

    sites: list[str]
    units: dict[str, list[str]]
    shift_types: list[str]
    shift_hours: dict[str, float]
    roles: list[str]
    skills: list[str]
    default_date: date
    staff_count: int
    history_rows: int
    as_of_default: AsOfDefault | None = None


def _shift_hours(history: pd.DataFrame, rules: OvertimeRules) -> dict[str, float]:
    out = {k: FALLBACK_SHIFT_HOURS for k in rules.shift_starts}
    if not history.empty:
        acc = history.loc[history["accepted"].astype(bool) & (history["hours_worked"] > 0)]
        if not acc.empty:
            med = acc.groupby(acc["shift_type"].map(normalise_shift_type))["hours_worked"].median()
            out.update({str(k): float(v) for k, v in med.items() if k in out})
    return out


def options(app: AppContext, actor: Actor) -> OvertimeOptions:
    require_role(actor, "planner", "admin")
    rules = OvertimeRules()
    staff = store.load_frame(app.engine, "staff")
    hist = _history(app)
    shifts = store.load_frame(app.engine, "unit_shifts")
    pairs = pd.concat([hist[["site", "unit"]], shifts[["site", "unit"]]], ignore_index=True).dropna()
    sites = sorted(set(hist["site"].astype(str)) | set(shifts["site"].astype(str)))
    if not sites and not staff.empty:
        sites = sorted(set(staff["site"].astype(str)))
    units = {s: sorted(set(g["unit"].astype(str))) for s, g in pairs.groupby("site")}
    skills: set[str] = set()
    for cell in staff.get("skills", pd.Series(dtype=object)).dropna():
        for tok in str(cell).replace(";", "|").split("|"):
            if tok.strip():
                skills.add(tok.split(":")[0].strip())
    as_of_default = default_as_of(app, actor)
    return OvertimeOptions(
        sites=sites, units=units, shift_types=list(rules.shift_starts), shift_hours=_shift_hours(hist, rules),
        roles=sorted(set(staff["role"].astype(str))) if not staff.empty else [], skills=sorted(skills),
        default_date=as_of_default.day, staff_count=len(staff), history_rows=len(hist), as_of_default=as_of_default,
    )
