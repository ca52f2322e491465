"""What every overtime page needs first: the filter options, or a clear stop when there is nothing to show."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from src.services import overtime as ot
from src.services.context import Actor, AppContext, ServiceError


def options_or_stop(app: AppContext, actor: Actor) -> ot.OvertimeOptions:
    """The page's choices (sites, shift types, default date); stops the page with a message when unusable."""
    try:
        opts = ot.options(app, actor)
    except ServiceError as exc:
        st.error(str(exc))
        st.stop()
    if opts.staff_count == 0:
        st.info("No staff list is stored yet. An administrator can upload staff and overtime history on the "
                "**Data** page.")
        st.stop()
    return opts


#: short names of the exclusion rules (the codes of ``src.models.overtime.EXCLUSION_CODES``) for tables and counts
EXCLUSION_LABELS = {"not_willing": "not OT-willing", "site": "site", "absent": "absent",
                    "already_working": "already working", "min_rest": "minimum rest",
                    "max_weekly_hours": "weekly hours", "role": "role", "skill": "qualification"}


#: people excluded for these reasons could not be asked in any case; they are listed after the others
_NEVER_ASKED = frozenset({"site", "not_willing"})
_NOT_QUALIFIED = frozenset({"role", "skill"})


def excluded_table(result) -> tuple[pd.DataFrame, str]:  # noqa: ANN001 - a RankingResult
    """The excluded staff as the pages show them — staff_id, name, rules (short names), reasons — and a one-line
    count per rule ("already working 12 · minimum rest 9 · …", most frequent first), so a manager sees at a glance
    whether the roster, the rest rule or the weekly hours took people out.

    Ordered by how close a person came: first those blocked only by availability (absent, already working, rest,
    weekly hours — the ones a manager might still negotiate with), then missing role or qualification, then
    people outside the site scope or not willing to work overtime; staff_id within each group."""
    ex = result.excluded_frame()
    codes = [[c for c in cell.split(",") if c] for cell in ex["codes"]]
    ex.insert(2, "rules", [", ".join(EXCLUSION_LABELS.get(c, c) for c in cs) for cs in codes])
    ex["_order"] = [2 if _NEVER_ASKED & set(cs) else 1 if _NOT_QUALIFIED & set(cs) else 0 for cs in codes]
    ex = ex.sort_values(["_order", "staff_id"], kind="mergesort").reset_index(drop=True)
    counts = Counter(EXCLUSION_LABELS.get(c, c) for cs in codes for c in cs)
    summary = " · ".join(f"{label} {n}" for label, n in counts.most_common())
    return ex[["staff_id", "name", "rules", "reasons"]], summary
