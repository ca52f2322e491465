"""Workforce Planner — Streamlit entry point.

Run with ``streamlit run src/app.py`` (the README's ``make run`` does this after the first-start bootstrap).
It only puts the project on the path and runs the router (:mod:`src.ui.router`): the declarative ``PAGES``
table there says which role sees which page, and a page not allowed for a role is never registered.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run src/app.py` puts src/ on the path, not the project root
    sys.path.insert(0, str(ROOT))

from src.ui.router import PAGES, PAGES_DIR, SECTION_ORDER, PageSpec, main, pages_for  # noqa: E402

__all__ = ["PAGES", "PAGES_DIR", "SECTION_ORDER", "PageSpec", "main", "pages_for"]

main()
