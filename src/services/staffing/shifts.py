"""Shift plan: the shift-pattern editor table read back into patterns, and people per shift start covering a
queue's requirement."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from src.models.capacity import ShiftPattern, ShiftPlanResult, StaffingPlan, plan_shifts
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _service_error

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PATTERN_COLUMNS = ("name", "start", "hours", "break_minutes", "break_after_minutes", "days")


def default_patterns_table() -> pd.DataFrame:
    """Starting shift patterns for the editor: 8 h (30 min unpaid break) and 4 h shifts at common starts."""
    rows = []
    for start in ("07:00", "08:00", "09:00", "10:00", "11:00", "12:00"):
        rows.append({"name": f"{start} 8h", "start": start, "hours": 8.0, "break_minutes": 30.0,
                     "break_after_minutes": None, "days": "Mon-Sun"})
    for start in ("08:00", "10:00", "12:00", "14:00", "16:00"):
        rows.append({"name": f"{start} 4h", "start": start, "hours": 4.0, "break_minutes": 0.0,
                     "break_after_minutes": None, "days": "Mon-Sun"})
    frame = pd.DataFrame(rows, columns=list(PATTERN_COLUMNS))
    frame["break_after_minutes"] = frame["break_after_minutes"].astype(float)
    return frame


def _parse_days(text: Any, row: int) -> tuple[int, ...]:
    s = str(text or "Mon-Sun").strip()
    if s.lower() in ("", "all", "daily", "mon-sun"):
        return (0, 1, 2, 3, 4, 5, 6)
    names = {n.lower(): i for i, n in enumerate(WEEKDAY_NAMES)}
    out: set[int] = set()
    for part in re.split(r"[,\s;]+", s):
        if not part:
            continue
        ends = part.split("-")
        try:
            if len(ends) == 1:
                out.add(names[ends[0][:3].lower()])
            elif len(ends) == 2:
                a, b = names[ends[0][:3].lower()], names[ends[1][:3].lower()]
                out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
            else:
                raise KeyError(part)
        except KeyError:
            raise ServiceError(f"Shift pattern row {row}: days {s!r} — use weekday names like 'Mon-Fri' or "
                               "'Sat,Sun'.") from None
    return tuple(sorted(out))


def patterns_from_table(table: pd.DataFrame) -> tuple[ShiftPattern, ...]:
    """Shift patterns from the editor table; a ServiceError names the row and the field."""
    out: list[ShiftPattern] = []
    names: set[str] = set()
    for i, row in enumerate(table.to_dict("records"), start=1):
        if all(v is None or (isinstance(v, float) and math.isnan(v)) or v == "" for v in row.values()):
            continue
        start = str(row.get("start") or "").strip()
        name = str(row.get("name") or "").strip() or f"{start} shift"
        try:
            hours = float(row.get("hours"))
            brk = float(row.get("break_minutes") or 0)
            after_raw = row.get("break_after_minutes")
            after = None if after_raw is None or (isinstance(after_raw, float) and math.isnan(after_raw)) \
                else float(after_raw)
        except (TypeError, ValueError):
            raise ServiceError(f"Shift pattern row {i} ({name}): hours and break minutes must be numbers.") from None
        if not math.isfinite(hours) or not 0.5 <= hours <= 16:
            raise ServiceError(f"Shift pattern row {i} ({name}): length must be between 0.5 and 16 hours.")
        length = int(round(hours * 60))
        breaks: tuple[tuple[int, int], ...] = ()
        if brk < 0 or (after is not None and after < 0):
            raise ServiceError(f"Shift pattern row {i} ({name}): break minutes cannot be negative.")
        if brk > 0:
            off = int(after) if after is not None else (length // 2 - int(brk) // 2) // 30 * 30
            breaks = ((off, int(brk)),)
        if name in names:
            raise ServiceError(f"Shift pattern row {i}: the name {name!r} is used twice.")
        names.add(name)
        try:
            out.append(ShiftPattern(name=name, start=start, length_minutes=length, breaks=breaks,
                                    weekdays=_parse_days(row.get("days"), i)))
        except ValueError as exc:
            raise ServiceError(f"Shift pattern row {i} ({name}): {exc}") from None
    if not out:
        raise ServiceError("Add at least one shift pattern.")
    return tuple(out)


def build_shift_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, queue: str,
                     patterns: Sequence[ShiftPattern], time_limit_s: float = 20.0,
                     on_progress: Callable[[float, str], None] | None = None) -> ShiftPlanResult:
    """People per shift start covering the queue's required agents at minimum paid hours, with the SL achieved."""
    require_role(actor, "planner", "admin")
    if queue not in plan.params:
        raise ServiceError(f"Queue {queue!r} is not in this plan.")
    if plan.params[queue].channel == "care":
        raise ServiceError("Care-home requirements are already staff per unit and day; no shift plan is needed.")
    try:
        return plan_shifts(plan, patterns, queue=queue, time_limit_s=time_limit_s, on_progress=on_progress)
    except ValueError as exc:
        raise _service_error(exc) from None
