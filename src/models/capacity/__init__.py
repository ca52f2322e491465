"""Capacity planning: Erlang C / Erlang A, non-queue workload, staffing plans and shift plans.

A page or service needs one call: :func:`plan_staffing` (forecast → requirement), then optionally
:func:`plan_shifts` (requirement → shift starts) and :func:`staffing_workbook` (→ Excel bytes).
"""

from .erlang import (
    ErlangCResult,
    apply_shrinkage,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    occupancy,
    required_agents,
    service_level,
    traffic_intensity,
)
from .erlang_a import ErlangAMetrics, ErlangAResult, erlang_a_metrics, required_agents_erlang_a
from .shift_plan import ShiftPattern, ShiftPlanResult, make_patterns, solve_shift_plan
from .staffing import (
    QueueParams,
    StaffingPlan,
    achieved_with_agents,
    params_frame,
    plan_from_intervals,
    plan_shifts,
    plan_staffing,
    staffing_workbook,
    what_if,
)
from .workload import BacklogPlan, backlog_plan, care_staff_required, workload_agents

__all__ = [
    "BacklogPlan",
    "ErlangAMetrics",
    "ErlangAResult",
    "ErlangCResult",
    "QueueParams",
    "ShiftPattern",
    "ShiftPlanResult",
    "StaffingPlan",
    "achieved_with_agents",
    "apply_shrinkage",
    "average_speed_of_answer",
    "backlog_plan",
    "care_staff_required",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "make_patterns",
    "occupancy",
    "params_frame",
    "plan_from_intervals",
    "plan_shifts",
    "plan_staffing",
    "required_agents",
    "required_agents_erlang_a",
    "service_level",
    "solve_shift_plan",
    "staffing_workbook",
    "traffic_intensity",
    "what_if",
    "workload_agents",
]
