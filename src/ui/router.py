"""The router: authentication, then one declarative table of which role sees which page.

A page not allowed for a role is never registered, so it cannot be reached even by URL. Every page file is run
only from :func:`main` (inside :func:`src.ui.routing.routed`): Streamlit runs a file of ``src/pages/`` directly
when a fresh server's first request is a deep link (its legacy page-folder mode, active until the first
``st.navigation`` call of the process), and the page guard then hands that request over to :func:`main`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from src.settings import ConfigError
from src.ui import auth as ui_auth
from src.ui.context import app_context
from src.ui.routing import routed
from src.ui.text import md

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
#: the browser tab's icon, served by the app itself: a ``:material/…:`` page icon made the browser fetch the favicon
#: from Google's font CDN on every rerun (failing offline), and an emoji needs an emoji font
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"


@dataclass(frozen=True)
class PageSpec:
    """One page of the app. ``icon`` is a ``:material/…:`` icon: the navigation draws it with the Material Symbols
    font Streamlit ships (emoji showed as empty boxes on machines without an emoji font)."""

    file: str
    title: str
    icon: str
    url_path: str
    section: str
    roles: tuple[str, ...]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("home.py", "Home", ":material/home:", "home", "Overview", ("admin", "planner")),
    PageSpec("data.py", "Data", ":material/upload_file:", "data", "Administration", ("admin",)),
    PageSpec("users.py", "Users", ":material/group:", "users", "Administration", ("admin",)),
    PageSpec("audit.py", "Audit log", ":material/history:", "audit", "Administration", ("admin",)),
    PageSpec("staffing.py", "Staffing", ":material/groups:", "staffing", "Planning", ("admin", "planner")),
    PageSpec("forecast.py", "Forecast", ":material/trending_up:", "forecast", "Planning", ("admin", "planner")),
    PageSpec("forecast_accuracy.py", "Forecast accuracy", ":material/fact_check:", "forecast-accuracy", "Planning",
             ("admin", "planner")),
    PageSpec("overtime.py", "Overtime", ":material/more_time:", "overtime", "Overtime", ("admin", "planner")),
    PageSpec("overtime_rankings.py", "Live rankings", ":material/format_list_numbered:", "overtime-rankings",
             "Overtime", ("admin", "planner")),
    PageSpec("overtime_fairness.py", "Fairness report", ":material/balance:", "overtime-fairness", "Overtime",
             ("admin", "planner")),
    PageSpec("overtime_staff.py", "Staff detail", ":material/badge:", "overtime-staff", "Overtime",
             ("admin", "planner")),
    PageSpec("assignment.py", "Assignment", ":material/assignment_ind:", "assignment", "People", ("admin", "planner")),
    PageSpec("ranking_model.py", "Ranking model", ":material/model_training:", "ranking-model", "People", ("admin",)),
)


#: the order sections appear in the sidebar: the planning pipeline first, administration last
SECTION_ORDER = ("Overview", "Planning", "People", "Overtime", "Administration")


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """The navigation sections for ``role``; pages the role may not open are left out entirely."""
    sections: dict[str, list[st.Page]] = {name: [] for name in SECTION_ORDER}
    for spec in PAGES:
        if role not in spec.roles:
            continue
        page = st.Page(PAGES_DIR / spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                       default=spec.url_path == "home")
        sections.setdefault(spec.section, []).append(page)
    return {name: pages for name, pages in sections.items() if pages}


def _signed_out() -> None:
    """The only page of an anonymous session: the login form is already drawn by the router."""


def requested_spec() -> PageSpec | None:
    """The page of :data:`PAGES` the browser's address names (``/users``), or None (home, unknown, no browser)."""
    url = st.context.url or ""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return next((spec for spec in PAGES if spec.url_path == last), None)


def _placeholder(spec: PageSpec | None, run: Callable[[], None]) -> list[st.Page]:
    """A hidden page at the address the browser asked for, running ``run`` instead of the page itself.

    Without it Streamlit answers a link to a page not registered for this session with its "Page not found —
    does not seem to exist" dialog, which also covers the login form. Only the requested address is registered,
    so the navigation sent to the browser lists no other page.
    """
    if spec is None or spec.url_path == "home":
        return []
    return [st.Page(run, title=spec.title, url_path=spec.url_path, visibility="hidden")]


def _not_for_role(spec: PageSpec, role: str) -> Callable[[], None]:
    def page() -> None:
        st.title(spec.title)  # escaped: the app's own page title
        st.warning(f"The page **{spec.title}** is not available for your role ({role}). Ask an administrator if "
                   "you need it.", icon=":material/lock:")
    return page


def _setup_needed(message: str) -> None:
    """Say what set-up is missing instead of Streamlit's redacted "This app has encountered an error"."""
    st.title("Workforce Planner")
    st.error(message, icon=":material/settings:")  # escaped: the app's own sentence (no host names)
    st.info("`make run` sets everything up on first start: a cookie key in `.local/cookie_key`, the SQLite file under "
            "`data/` and the demo data. See `config.example.env` for the settings.")
    st.navigation([st.Page(_signed_out, title="Set-up needed", url_path="setup", default=True)],
                  position="hidden").run()
    st.stop()


def main() -> None:
    st.set_page_config(page_title="Workforce Planner", page_icon=str(FAVICON), layout="wide")
    try:
        app = app_context()
    except ConfigError as exc:
        _setup_needed(f"The app is not configured yet: {exc}")
        return
    except SQLAlchemyError as exc:  # the message can hold host names; the details go to the server log only
        logging.getLogger(__name__).exception("database unavailable at start-up")
        _setup_needed(f"The database cannot be opened ({type(exc).__name__}). Check DATABASE_URL (or unset it to use "
                      "the built-in SQLite file under data/) and that the database server is running; the details "
                      "are in the server log.")
        return
    actor, authenticator = ui_auth.authenticate(app)
    if actor is None:
        st.caption("Workforce Planner — forecasting, staffing and fair assignment for contact centres "
                   "and care homes.")
        # Calling st.navigation on every run — with only a hidden sign-in page here — keeps Streamlit from
        # falling back to listing every file in src/pages/ (its legacy multipage mode) before login.
        # A deep link (/users) keeps its address through the login: the router then opens that page.
        st.navigation([st.Page(_signed_out, title="Sign in", url_path="sign-in", default=True),
                       *_placeholder(requested_spec(), _signed_out)], position="hidden").run()
        st.stop()
    with st.sidebar:
        st.markdown(f"**{md(actor.display_name or actor.username)}**  \n`{actor.username}` · {actor.role}")
        ui_auth.logout_button(app, authenticator, actor)
    sections = pages_for(actor.role)
    spec = requested_spec()
    if spec is not None and actor.role not in spec.roles:
        sections.setdefault(spec.section, []).extend(_placeholder(spec, _not_for_role(spec, actor.role)))
    page = st.navigation(sections, expanded=True)
    with routed():
        page.run()

