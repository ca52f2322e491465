"""What every overtime page needs first: the filter options, or a clear stop when there is nothing to show."""

from __future__ import annotations

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
