"""Overtime domain: eligibility, 5-factor explainable ranking, charged hours and the fairness report.

Pure functions over pandas frames with the canonical columns of ``src.data.kinds`` (kinds "staff" and
"overtime"); no I/O, no Streamlit. Entry points:

- :func:`rank_candidates` (ShiftRequest, staff, history, OvertimeRules) → :class:`RankingResult`
- :func:`fairness_report`, :func:`fairness_by_window`, :func:`fairness_timeseries`
- :func:`overtime_dashboard`, :func:`acceptance_trend`, :func:`response_time_distribution`,
  :func:`recent_requests`, :func:`staff_detail`
- :func:`prepare_history` (charged-hours accounting per offer)
- optional ``src.models.overtime.acceptance_model`` (LightGBM; imported on demand so this package stays light):
  :func:`~.acceptance_model.fit_acceptance_model` and :func:`~.acceptance_model.acceptance_override`, whose
  result is passed to ``rank_candidates(..., acceptance_override=..., acceptance_source="lightgbm")``.
"""

from .history import ACCEPTED, DECLINED, NO_ANSWER, known_offers, per_person_hours, prepare_history
from .ranking import (
    EXCLUSION_CODES,
    PRIOR_LABEL,
    Candidate,
    ExcludedStaff,
    FactorScore,
    RankingResult,
    rank_candidates,
    reliability_value,
    rostered_hours_in_week,
    smoothed_acceptance,
)
from .report import (
    DEFAULT_WINDOWS,
    SCORE_FORMULA,
    DashboardStats,
    FairnessReport,
    StaffDetail,
    acceptance_trend,
    fairness_by_window,
    fairness_report,
    fairness_score,
    fairness_timeseries,
    overtime_dashboard,
    recent_requests,
    response_time_distribution,
    staff_detail,
)
from .rules import (
    DEFAULT_SHIFT_STARTS,
    DEFAULT_WEIGHTS,
    FACTORS,
    OvertimeRules,
    ShiftRequest,
    normalise_shift_type,
    shift_interval,
)
from .staff import parse_skills, prepare_staff

__all__ = [
    "ACCEPTED", "DECLINED", "NO_ANSWER", "DEFAULT_SHIFT_STARTS", "DEFAULT_WEIGHTS", "DEFAULT_WINDOWS",
    "EXCLUSION_CODES", "FACTORS", "PRIOR_LABEL", "SCORE_FORMULA",
    "Candidate", "DashboardStats", "ExcludedStaff", "FactorScore", "FairnessReport", "OvertimeRules",
    "RankingResult", "ShiftRequest", "StaffDetail",
    "acceptance_trend", "fairness_by_window", "fairness_report", "fairness_score", "fairness_timeseries",
    "known_offers", "normalise_shift_type", "overtime_dashboard", "parse_skills", "per_person_hours",
    "prepare_history", "prepare_staff", "rank_candidates", "recent_requests", "reliability_value",
    "rostered_hours_in_week",
    "response_time_distribution", "shift_interval", "smoothed_acceptance", "staff_detail",
]
