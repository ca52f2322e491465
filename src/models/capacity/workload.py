"""Non-queue work: e-mails and outbound tasks by workload, care-home units directly in shifts.

Why: only calls wait in a queue that customers abandon; e-mails and outbound lists are worked from a
backlog, so their requirement is simply work ÷ productive time — plus, for e-mails, enough capacity to
answer every item within the promised response time. Care homes plan in shifts per unit and day, not in
contacts, so there the forecast already *is* the requirement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .erlang import ArrayLike, _as_array, exact_fraction, safe_ceil

logger = logging.getLogger(__name__)


def workload_agents(
    volume: ArrayLike, handling_seconds: ArrayLike, interval_seconds: ArrayLike = 1800, max_occupancy: float = 1.0
) -> np.ndarray:
    """Productive agents (fractional) to work ``volume`` items within their own interval.

    ``volume × handling time ÷ (interval × max_occupancy)`` — the occupancy cap is the share of logged-in
    time that can really be spent on the work (default 100 %).
    """
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"Maximum occupancy must be in (0, 1] (got {max_occupancy!r}).")
    vol = _as_array(volume, "volume")
    aht = _as_array(handling_seconds, "handling time", positive=True)
    iv = _as_array(interval_seconds, "interval", positive=True)
    return vol * aht / (iv * max_occupancy)


@dataclass(frozen=True)
class BacklogPlan:
    """Capacity per interval that clears every item within its response time (arrays of one length)."""

    agents_fractional: np.ndarray  # productive agents needed in each interval
    work_done_seconds: np.ndarray  # handling seconds processed in each interval
    backlog_seconds: np.ndarray  # handling seconds still open at the end of each interval
    deadline_intervals: int

    def __post_init__(self) -> None:
        if self.deadline_intervals < 1:
            raise ValueError("deadline_intervals must be >= 1.")
        if np.any(self.backlog_seconds < -1e-6):
            raise ValueError("Backlog cannot be negative.")


def backlog_plan(
    volume: ArrayLike,
    handling_seconds: ArrayLike,
    *,
    interval_seconds: float = 1800,
    response_hours: float = 24.0,
    max_occupancy: float = 1.0,
) -> BacklogPlan:
    """Backlog-carry model for e-mails answered within ``response_hours``.

    Items arriving in interval s are due by the end of interval ``s + d − 1`` with
    ``d = max(1, floor(response_hours·3600 / interval_seconds))`` (an item arriving at the start of s has
    exactly R hours). Each interval works the *smallest steady rate that still meets every known deadline*:
    ``c_t = max_{j=0..d−1} (Due(t+j) − Done(t−1)) / (j + 1)``, where Due(t+j) is the cumulative work due by
    the end of t+j. Only arrivals up to t enter Due(t+j) for j < d, so the plan is causal; peaks are spread
    evenly over the response window instead of being worked the moment they arrive, and the work is still
    never late. Items due after the horizon stay in ``backlog_seconds`` at the end. With R <= one interval
    this reduces to :func:`workload_agents`.
    """
    if not response_hours > 0:
        raise ValueError(f"Response time must be positive (got {response_hours!r}).")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"Maximum occupancy must be in (0, 1] (got {max_occupancy!r}).")
    vol = _as_array(volume, "volume").ravel()
    aht = np.broadcast_to(_as_array(handling_seconds, "handling time", positive=True), vol.shape)
    work = vol * aht
    d = max(1, int(np.floor(response_hours * 3600.0 / interval_seconds + 1e-9)))
    n = work.size
    # due_cum[t] = work that must be finished by the end of interval t = arrivals up to t - d + 1
    arr_cum = np.cumsum(work)
    due_cum = np.concatenate([np.zeros(min(d - 1, n)), arr_cum[: max(n - d + 1, 0)]])
    done = np.empty(n)
    backlog = np.empty(n)
    finished = 0.0
    steps = np.arange(1, d + 1, dtype=float)
    for t in range(n):
        window = due_cum[t:t + d]
        rate = max(0.0, float(np.max((window - finished) / steps[: window.size])))
        rate = min(rate, arr_cum[t] - finished)  # cannot work items that have not arrived
        finished += rate
        done[t] = rate
        backlog[t] = max(arr_cum[t] - finished, 0.0)
    agents = done / (interval_seconds * max_occupancy)
    logger.debug("Backlog plan for %d intervals, deadline %d intervals", n, d)
    return BacklogPlan(agents_fractional=agents, work_done_seconds=done, backlog_seconds=backlog,
                       deadline_intervals=d)


def care_staff_required(shifts: ArrayLike, ratio: float = 1.0) -> np.ndarray:
    """Staff per unit and day for care homes: ``ceil(shifts × ratio)`` computed exactly (ratio as typed).

    ``ratio`` lets a planner add e.g. a 1.1 cover factor; 10 shifts × 1.1 is 11, never 12.
    """
    if not ratio > 0:
        raise ValueError(f"Ratio must be positive (got {ratio!r}).")
    s = _as_array(shifts, "shifts")
    r = exact_fraction(ratio)
    if np.all(s == np.floor(s)) and (s.size == 0 or float(s.max()) * r.numerator < 2**62):
        return -((-s.astype(np.int64) * r.numerator) // r.denominator)
    return safe_ceil(s * float(r))
