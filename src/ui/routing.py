"""Whether the current script run is inside the router — the page guard's one question.

Streamlit runs a file of ``src/pages/`` on its own (outside ``src/app.py``) when a freshly started server's first
request is a deep link such as ``/users``: until the process's first ``st.navigation`` call it is in the legacy
page-folder mode, which lists every file in the sidebar and executes the requested one. The router marks the run
of the page it chose; :func:`src.ui.common.require_page_role` hands any other run over to the router.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# a script run executes in one thread (Streamlit's script-runner thread), pages included: per-thread is per-run
_local = threading.local()


@contextmanager
def routed() -> Iterator[None]:
    """Mark the page run inside this block as chosen by the router (role checked, user authenticated)."""
    previous = getattr(_local, "routed", False)
    _local.routed = True
    try:
        yield
    finally:
        _local.routed = previous


def inside_router() -> bool:
    """True while the router runs the page it chose."""
    return bool(getattr(_local, "routed", False))
