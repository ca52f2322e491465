"""Constrained task assignment (greedy, balanced, optimal) with a shared eligibility model."""

from src.models.assignment.core import (
    METHODS,
    OUTPUT_COLUMNS,
    AssignmentConfig,
    AssignmentResult,
    LimitBreach,
    assign,
    compare_methods,
    count_violations,
    limit_breaches,
    prepare,
    solve,
    utilisation,
)
from src.models.assignment.eligibility import (
    REASONS,
    Candidates,
    attach_scores,
    build_candidates,
    parse_requirement,
    parse_skills,
)

__all__ = [
    "METHODS", "OUTPUT_COLUMNS", "REASONS", "AssignmentConfig", "AssignmentResult", "Candidates", "LimitBreach",
    "assign", "attach_scores", "build_candidates", "compare_methods", "count_violations", "limit_breaches",
    "parse_requirement", "parse_skills", "prepare", "solve", "utilisation",
]
