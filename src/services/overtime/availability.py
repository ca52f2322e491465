"""Who is busy around a shift: the stored roster, overtime taken on in the app, and recorded absences — the
``schedule`` and ``absences`` inputs of the ranking (and the roster shown per person)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from src.data import overtime_store, store
from src.models.overtime import OvertimeRules, ShiftRequest, shift_interval
from src.services.context import AppContext

from .helpers import local_now


def roster_label(shift_type: str | None, site: str, unit: str | None) -> str:
    """How a rostered shift is named in exclusion reasons: ``rostered early shift at Haus A/Wohnbereich 1``."""
    kind = f"{shift_type} shift" if shift_type else "shift"
    where = site + (f"/{unit}" if unit else "")
    return f"rostered {kind} at {where}"


def rostered_shifts(app: AppContext, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp, *,
                    staff_id: str | None = None) -> pd.DataFrame:
    """Stored roster shifts that start in [start, end): staff_id, date, shift_type, start, end, site, unit, hours,
    label (see :func:`roster_label`), ordered by start."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    frame = store.load_frame(app.engine, "roster", where={"staff_id": staff_id} if staff_id else None,
                             start=lo.normalize().to_pydatetime(), end=hi.to_pydatetime())
    frame = frame.loc[(frame["start"] >= lo) & (frame["start"] < hi)]
    frame = frame.sort_values(["start", "staff_id"], kind="mergesort").reset_index(drop=True)
    frame["label"] = [roster_label(t, s, u) for t, s, u in zip(frame["shift_type"], frame["site"], frame["unit"],
                                                                strict=True)]
    return frame


def availability_inputs(app: AppContext, start: pd.Timestamp, end: pd.Timestamp, *, as_of: pd.Timestamp | None = None,
                        exclude_request: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranking's ``schedule`` and ``absences`` around a shift [start, end) from the store.

    - ``schedule`` (staff_id, start, end, label, rostered, hours):
      - the **rostered** shifts (uploaded roster, kind ``roster``; label e.g. "rostered early shift at Haus A/WB 1",
        ``rostered`` true, ``hours`` = paid hours) from the Monday of the shift's ISO week — or two days before
        the shift, if earlier — to two days after it: the overlap and minimum-rest rules see them, and the
        maximum-weekly-hours rule adds up that week's rostered hours instead of assuming the contract hours (see
        ``rank_candidates``). The roster is read as stored now: it is a plan, and a past ranking "as of" a moment
        uses the current plan too.
      - overtime shifts people took on in the app (an accepted offer on a request they filled or that is still
        open), from two days before to two days after the shift. A live ranking counts every stored acceptance; a
        ranking "as of" a past moment only those recorded before it. ``exclude_request`` (a request code) leaves
        that request out. Accepted overtime from the uploaded history reaches the ranking through the history.
    - ``absences`` (staff_id, date, reason): one row per day of every recorded absence touching the shift.
    """
    lo, hi = start.normalize() - pd.Timedelta(days=2), end + pd.Timedelta(days=2)
    committed = overtime_store.committed_overtime(app.engine)
    rules = OvertimeRules()
    live = as_of is None or as_of >= pd.Timestamp(local_now(app)) - pd.Timedelta(minutes=1)
    rows = []
    for r in committed.itertuples(index=False):
        if r.request_id == exclude_request or not (lo <= r.shift_date <= hi):
            continue
        if not live and (pd.isna(r.responded_at) or r.responded_at >= as_of):
            continue
        try:
            s, e = shift_interval(ShiftRequest(site="-", shift_date=r.shift_date, shift_type=r.shift_type,
                                               hours=r.hours), rules)
        except (KeyError, ValueError):
            continue
        rows.append({"staff_id": r.staff_id, "start": s, "end": e, "label": f"overtime shift {r.request_id}",
                     "rostered": False, "hours": float(r.hours)})
    week_start = start.normalize() - pd.Timedelta(days=start.weekday())
    roster = rostered_shifts(app, min(week_start, lo), max(week_start + pd.Timedelta(days=7), hi))
    columns = ["staff_id", "start", "end", "label", "rostered", "hours"]
    overtime = pd.DataFrame(rows, columns=columns)
    rostered = roster.assign(rostered=True)[columns]
    if rostered.empty or overtime.empty:  # (concatenating an empty frame is deprecated in pandas)
        schedule = overtime if rostered.empty else rostered.reset_index(drop=True)
    else:
        schedule = pd.concat([rostered, overtime], ignore_index=True)
    schedule["rostered"] = schedule["rostered"].astype(bool)

    first, last = start.normalize(), (end - pd.Timedelta(microseconds=1)).normalize()
    ab = overtime_store.absences_frame(app.engine, start=first.to_pydatetime(), end=last.to_pydatetime())
    days = []
    for a in ab.itertuples(index=False):
        for day in pd.date_range(max(a.date_from.normalize(), first), min(a.date_to.normalize(), last), freq="D"):
            days.append({"staff_id": a.staff_id, "date": day, "reason": a.reason})
    absences = pd.DataFrame(days, columns=["staff_id", "date", "reason"])
    return schedule, absences
