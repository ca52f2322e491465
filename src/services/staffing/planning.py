"""Required staff: per interval and day for a whole volume with a what-if scenario (:func:`build_plan`), its
headline numbers, and for one interval in the Erlang calculator panel."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from src.models.capacity import (
    QueueParams,
    StaffingPlan,
    erlang_a_metrics,
    plan_staffing,
    required_agents,
    required_agents_erlang_a,
    what_if,
)
from src.models.capacity.erlang import average_speed_of_answer, erlang_c, occupancy, service_level
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _VOICE_ONLY, _service_error
from .results import CalculatorResult, Scenario, VolumeInput


def build_plan(app: AppContext, actor: Actor, volume: VolumeInput, params: Mapping[str, QueueParams], *,
               basis: str = "point", scenario: Scenario | None = None, use_interval_aht: bool = True,
               on_progress: Callable[[float, str], None] | None = None) -> StaffingPlan:
    """Required agents per interval and day (with achieved SL/ASA/occupancy/abandonment) for the volume,
    the per-queue parameters and an optional what-if scenario."""
    require_role(actor, "planner", "admin")
    scenario = scenario or Scenario()
    if basis != "point" and not volume.has_upper.get(basis, False):
        raise ServiceError(f"This volume has no {basis.replace('_', ' ')} % bound; plan on the point forecast.")
    frame = volume.frame
    if not use_interval_aht and "aht_seconds" in frame:
        frame = frame.drop(columns=["aht_seconds"])
    elif "aht_seconds" in frame and frame["aht_seconds"].isna().any():
        fallback = frame["queue"].map({q: p.aht_seconds for q, p in params.items()})
        frame = frame.assign(aht_seconds=frame["aht_seconds"].fillna(fallback))
    adjusted = {}
    for q, p in params.items():
        sl = scenario.sl_target if (scenario.sl_target is not None and p.channel == "voice"
                                    and p.sl_target is not None) else None
        shrink = scenario.shrinkage if p.channel != "care" else None
        try:
            adjusted[q] = what_if(p, sl_target=sl, shrinkage=shrink)
        except ValueError as exc:
            raise ServiceError(f"Queue {q}: {exc}") from None
    try:
        return plan_staffing(frame, adjusted, volume=basis,  # type: ignore[arg-type]
                             volume_factor=1 + scenario.volume_pct / 100.0,
                             aht_factor=1 + scenario.aht_pct / 100.0, on_progress=on_progress)
    except ValueError as exc:
        raise _service_error(exc) from None


def plan_totals(plan: StaffingPlan) -> dict[str, float]:
    """Headline numbers for metrics: agent hours, peak agents, volume-weighted SL of voice queues."""
    s = plan.summary
    voice = s[s["channel"] == "voice"]
    vol = float(voice["volume"].sum())
    sl = float((voice["service_level"] * voice["volume"]).sum() / vol) if vol > 0 else float("nan")
    hours = float(s["agent_hours"].sum(min_count=1)) if len(s) else 0.0
    care = plan.intervals[plan.intervals["queue"].isin(s.loc[s["channel"] == "care", "queue"])]
    return {"agent_hours": hours if math.isfinite(hours) else 0.0, "peak_agents": float(s["peak_agents"].max()),
            "service_level": sl, "volume": float(s["volume"].sum()),
            "below_target": float(s["intervals_below_target"].sum(min_count=1)),
            "care_staff_days": float(care["agents"].sum())}


def erlang_calculator(app: AppContext, actor: Actor, *, calls: float, aht_seconds: float,
                      interval_seconds: float = 1800, sl_target: float | None = 0.8, answer_within_s: float = 20.0,
                      asa_target_s: float | None = None, shrinkage: float = 0.0, max_occupancy: float = 1.0,
                      patience_s: float | None = None, sl_basis: str = "offered") -> CalculatorResult:
    """Required agents for one interval (Erlang C, or Erlang A with a patience) and the performance of nearby
    agent counts."""
    require_role(actor, "planner", "admin")
    common = dict(interval_seconds=interval_seconds, sl_target=sl_target, answer_within_s=answer_within_s,
                  asa_target_s=asa_target_s, max_occupancy=max_occupancy, shrinkage=shrinkage)
    if not all(math.isfinite(v) for v in (calls, aht_seconds, interval_seconds)) or calls < 0:
        raise ServiceError("Calls must be 0 or more and AHT and interval finite numbers.")
    if aht_seconds <= 0 or interval_seconds <= 0:
        raise ServiceError("AHT and the interval length must be positive.")
    try:
        if patience_s:
            res = required_agents_erlang_a(calls, aht_seconds, patience_s, sl_basis=sl_basis, **common)
            model = "Erlang A"
        else:
            res = required_agents(calls, aht_seconds, **common)
            model = "Erlang C"
    except ValueError as exc:
        raise _service_error(exc) from None
    row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in res.row().items()}
    if calls == 0:  # no queue to wait in: a service level of 100 % would be a number about nothing (as in plans)
        row.update({k: None for k in _VOICE_ONLY + ("occupancy",) if k in row})
    raw = int(row["agents_raw"])
    traffic = calls * aht_seconds / interval_seconds
    lo = max(1, raw - 5)
    n = np.arange(lo, max(raw + 6, lo + 6))
    if patience_s:
        m = erlang_a_metrics(n, calls, aht_seconds, patience_s, interval_seconds=interval_seconds,
                             answer_within_s=answer_within_s, sl_basis=sl_basis)
        sl, asa, pab, pw = m.service_level, m.asa_seconds, m.p_abandon, m.p_wait
    else:
        sl = service_level(n, traffic, aht_seconds, answer_within_s)
        asa = average_speed_of_answer(n, traffic, aht_seconds)
        pab = np.zeros(n.size)
        pw = erlang_c(n, traffic)
    table = pd.DataFrame({"agents": n, "service_level": sl, "asa_seconds": np.where(np.isfinite(asa), asa, np.nan),
                          "occupancy": occupancy(n, traffic), "p_wait": pw, "p_abandon": pab})
    if calls == 0:
        table[["service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon"]] = np.nan
    table["meets_target"] = table["agents"] >= raw
    return CalculatorResult(model=model, row=row, table=table)
