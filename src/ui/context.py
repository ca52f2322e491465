"""The application context of this server process, as the UI reaches it."""

from __future__ import annotations

import streamlit as st

from src.data.loader import check_xml_safety
from src.services.context import AppContext, get_app


@st.cache_resource(show_spinner=False)
def app_context() -> AppContext:
    """One application context (engine, settings) per server process; start-up checks run here."""
    check_xml_safety()
    return get_app()
