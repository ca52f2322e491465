"""Helpers every page uses: the app context, the current actor and a page-level role guard."""

from __future__ import annotations

import math
import re

import streamlit as st

from src.services.context import Actor
from src.ui import state
from src.ui.context import app_context
from src.ui.router import main as run_router
from src.ui.routing import inside_router

__all__ = ["app_context", "metric_delta", "require_page_role"]


def require_page_role(*roles: str) -> Actor:
    """Stop the page unless the logged-in actor holds one of ``roles`` (admin passes everything).

    The router already leaves forbidden pages out; this second check keeps a later refactor from opening one.
    A page file run outside the router (Streamlit's legacy page-folder mode on a fresh server's first deep link)
    runs nothing of its own: the request goes to the router, which authenticates and runs the page if the role
    allows it, and this run stops there.
    """
    if not inside_router():
        run_router()
        st.stop()
    actor = state.current_actor()
    if actor is None:
        st.error("Please log in.")
        st.stop()
    if actor.role != "admin" and actor.role not in roles:
        st.error("You do not have permission to open this page.")
        st.stop()
    return actor


def metric_delta(change: float, fmt: str) -> str | None:
    """A ``st.metric`` delta: ``change`` formatted with ``fmt`` (e.g. ``"{:+,.0f}"``, ``"{:+.1f} pts"``).

    A change that rounds to nothing is ``"0"``: st.metric draws exactly that grey and without an arrow, whereas
    ``"+0"`` got an up-arrow (red with ``delta_color="inverse"``), as if the what-if made things worse.
    None when the change is not a finite number (no delta shown).
    """
    if change is None or not math.isfinite(change):
        return None
    text = fmt.format(change)
    digits = re.sub(r"[^0-9]", "", text)
    return "0" if not digits.strip("0") else text
