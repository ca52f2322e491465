"""Shift plan: how many people start each shift pattern so interval requirements are covered cheaply.

Why an integer program: rounding interval requirements into shifts by hand wastes hours or leaves holes.
We solve, with scipy's HiGHS ``milp``,

    minimise   Σ_j paid_hours_j · x_j  +  under_penalty · Σ_t u_t  +  over_penalty · Σ_t o_t
    subject to Σ_j cover_tj · x_j + u_t − o_t = required_t      for every interval t
               x_j ∈ ℤ≥0 (people starting shift instance j),  u_t, o_t ≥ 0

``cover_tj`` is the share of interval t that instance j works (unpaid breaks excluded). The slack u_t makes
every request feasible: intervals that cannot be covered (no pattern reaches them) are *reported* as
under-staffed instead of the solver failing. The default penalty (1000 per missing agent-interval) is far
above the cost of any shift, so slack is only used where no shift can help.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import csr_matrix

logger = logging.getLogger(__name__)

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)


def _minutes(hhmm: str) -> int:
    m = _HHMM.match(hhmm.strip())
    if not m:
        raise ValueError(f"Start time must look like HH:MM (got {hhmm!r}).")
    return int(m.group(1)) * 60 + int(m.group(2))


@dataclass(frozen=True)
class ShiftPattern:
    """A shift that may start on the given weekdays (0 = Monday) at ``start`` ("HH:MM") local time.

    ``breaks`` are unpaid and not worked: ``(offset_minutes_from_start, length_minutes)`` pairs.
    Shifts may run past midnight.
    """

    name: str
    start: str
    length_minutes: int
    breaks: tuple[tuple[int, int], ...] = ()
    weekdays: tuple[int, ...] = ALL_DAYS

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("A shift pattern needs a name.")
        _minutes(self.start)
        if not 0 < self.length_minutes <= 24 * 60:
            raise ValueError(f"Shift length must be in (0, 24h] (got {self.length_minutes} min).")
        for off, ln in self.breaks:
            if off < 0 or ln <= 0 or off + ln > self.length_minutes:
                raise ValueError(f"Break {(off, ln)} does not fit inside shift {self.name!r}.")
        if not self.weekdays or any(d not in ALL_DAYS for d in self.weekdays):
            raise ValueError("weekdays must be a non-empty subset of 0..6.")

    @property
    def start_minutes(self) -> int:
        return _minutes(self.start)

    @property
    def paid_hours(self) -> float:
        return (self.length_minutes - sum(ln for _, ln in self.breaks)) / 60.0

    def worked_segments(self) -> list[tuple[int, int]]:
        """Worked (offset, end) minute ranges relative to the shift start, breaks removed."""
        segs, cur = [], 0
        for off, ln in sorted(self.breaks):
            if off > cur:
                segs.append((cur, off))
            cur = max(cur, off + ln)
        if cur < self.length_minutes:
            segs.append((cur, self.length_minutes))
        return segs


def make_patterns(
    starts: Iterable[str],
    lengths_hours: Iterable[float],
    *,
    break_minutes: int = 30,
    break_if_longer_than_hours: float = 6.0,
    weekdays: tuple[int, ...] = ALL_DAYS,
) -> tuple[ShiftPattern, ...]:
    """Every start × length combination; shifts longer than the threshold get one unpaid mid-shift break
    (German ArbZG: 30 minutes after more than 6 hours), placed at the middle rounded down to 30 minutes."""
    out = []
    for st in starts:
        for hours in lengths_hours:
            length = int(round(hours * 60))
            brk: tuple[tuple[int, int], ...] = ()
            if break_minutes > 0 and hours > break_if_longer_than_hours:
                brk = (((length // 2 - break_minutes // 2) // 30 * 30, break_minutes),)
            out.append(ShiftPattern(f"{st} {hours:g}h", st, length, brk, weekdays))
    return tuple(out)


@dataclass(frozen=True)
class ShiftPlanResult:
    """Solved shift plan.

    ``intervals``: ds, required, planned (people working, breaks excluded), over, under.
    ``shifts``: pattern, start, end, paid_hours, people (only instances with people > 0).
    """

    intervals: pd.DataFrame
    shifts: pd.DataFrame
    status: str
    optimal: bool
    paid_hours: float
    under_agent_intervals: float
    objective: float
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = {"ds", "required", "planned", "over", "under"} - set(self.intervals.columns)
        if missing:
            raise ValueError(f"intervals lacks columns {sorted(missing)}")


def _instances(
    patterns: Sequence[ShiftPattern], first: pd.Timestamp, last_end: pd.Timestamp
) -> list[tuple[ShiftPattern, pd.Timestamp]]:
    """Pattern × day starts that overlap the horizon (including shifts that started the day before)."""
    days = pd.date_range(first.normalize() - pd.Timedelta(days=1), last_end.normalize(), freq="D")
    out = []
    for p in patterns:
        for day in days:
            if day.weekday() not in p.weekdays:
                continue
            start = day + pd.Timedelta(minutes=p.start_minutes)
            end = start + pd.Timedelta(minutes=p.length_minutes)
            if end > first and start < last_end:
                out.append((p, start))
    return out


def coverage_matrix(
    ds: pd.DatetimeIndex, interval_minutes: float, instances: list[tuple[ShiftPattern, pd.Timestamp]]
) -> np.ndarray:
    """cover[t, j] = share of interval t worked by one person on instance j (0..1)."""
    base = ds[0]
    s = ((ds - base) / pd.Timedelta(minutes=1)).to_numpy(dtype=float)
    e = s + interval_minutes
    cover = np.zeros((len(ds), len(instances)))
    for j, (p, start) in enumerate(instances):
        off = (start - base) / pd.Timedelta(minutes=1)
        for a, b in p.worked_segments():
            cover[:, j] += np.clip(np.minimum(off + b, e) - np.maximum(off + a, s), 0.0, None)
    return cover / interval_minutes


def solve_shift_plan(
    required: pd.Series,
    patterns: Sequence[ShiftPattern],
    *,
    interval_minutes: float | None = None,
    under_penalty: float = 1000.0,
    over_penalty: float = 0.0,
    time_limit_s: float = 30.0,
    mip_rel_gap: float = 1e-4,
    on_progress: Callable[[float, str], None] | None = None,
) -> ShiftPlanResult:
    """People per shift-pattern start covering ``required`` (a Series of agents indexed by interval start).

    Returns planned agents per interval with over/under staffing. Stops at ``time_limit_s`` with the best
    plan found (``optimal`` is then False). Raises ``ValueError`` for an empty or irregular requirement.
    """
    if not patterns:
        raise ValueError("Give at least one shift pattern.")
    if under_penalty <= 0 or over_penalty < 0 or time_limit_s <= 0:
        raise ValueError("under_penalty and time_limit_s must be positive, over_penalty >= 0.")
    req = required.sort_index().astype(float)
    if req.empty:
        raise ValueError("The requirement has no intervals.")
    if req.index.has_duplicates:
        raise ValueError("The requirement has duplicate interval starts.")
    if not np.all(np.isfinite(req.to_numpy())) or (req < 0).any():
        raise ValueError("Requirements must be finite and >= 0.")
    ds = pd.DatetimeIndex(req.index)
    if interval_minutes is None:
        if len(ds) < 2:
            raise ValueError("Give interval_minutes for a single-interval requirement.")
        interval_minutes = float(pd.Series(ds).diff().dropna().min() / pd.Timedelta(minutes=1))
    if on_progress:
        on_progress(0.05, "building shift instances")
    last_end = ds[-1] + pd.Timedelta(minutes=interval_minutes)
    inst = _instances(patterns, ds[0], last_end)
    cover = coverage_matrix(ds, interval_minutes, inst)
    keep = cover.sum(axis=0) > 0
    inst = [i for i, k in zip(inst, keep, strict=True) if k]
    cover = cover[:, keep]
    n_t, n_j = cover.shape
    paid = np.array([p.paid_hours for p, _ in inst])
    c = np.concatenate([paid, np.full(n_t, under_penalty), np.full(n_t, over_penalty)])
    eye = np.eye(n_t)
    a_mat = csr_matrix(np.hstack([cover, eye, -eye]))
    r = req.to_numpy()
    integrality = np.concatenate([np.ones(n_j), np.zeros(2 * n_t)])
    if on_progress:
        on_progress(0.2, f"solving: {n_j} shift starts × {n_t} intervals")
    res = milp(c, constraints=LinearConstraint(a_mat, r, r), integrality=integrality,
               options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap), "disp": False})
    if res.x is None:
        raise ValueError(f"The shift-plan solver found no plan: {res.message}")
    x = np.round(res.x[:n_j]).astype(np.int64)
    planned = cover @ x
    over = np.maximum(planned - r, 0.0)
    under = np.maximum(r - planned, 0.0)
    intervals = pd.DataFrame({"ds": ds, "required": r, "planned": planned, "over": over, "under": under})
    rows = [
        {"pattern": p.name, "start": st, "end": st + pd.Timedelta(minutes=p.length_minutes),
         "paid_hours": p.paid_hours, "people": int(k)}
        for (p, st), k in zip(inst, x, strict=True) if k > 0
    ]
    shifts = pd.DataFrame(rows, columns=["pattern", "start", "end", "paid_hours", "people"])
    paid_total = float(paid @ x)
    status = {0: "optimal", 1: "time limit reached", 2: "infeasible", 3: "unbounded"}.get(res.status, res.message)
    if on_progress:
        on_progress(1.0, status)
    logger.info("Shift plan: %d starts, %.1f paid hours, status %s", int(x.sum()), paid_total, status)
    return ShiftPlanResult(
        intervals=intervals, shifts=shifts, status=str(status), optimal=res.status == 0, paid_hours=paid_total,
        under_agent_intervals=float(under.sum()), objective=float(res.fun),
        extra={"instances": float(n_j), "mip_gap": float(getattr(res, "mip_gap", np.nan) or 0.0)},
    )
