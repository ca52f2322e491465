"""Helpers every people use case shares: the progress callback type, the app's local clock, the
decision labels the page and the CLI print, the sha256 of bytes and the lock of the package's two caches.

Why a module of its own: ranker storage, tasks, previews and outcomes all use these; keeping them here (importing
no other people module) keeps the package free of import circles.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd

from src.services import model_files
from src.services.context import AppContext

Progress = Callable[[float, str], None]
DECISION_LABELS = {
    "model": "model", "low_confidence": "rules (model unsure)", "shadow_mode": "rules (shadow mode)",
    "model_missing": "rules (no model)", "model_error": "rules (model failed)", "ml_disabled": "rules (ML off)",
    "ranking_disabled": "rules (ranking off)", "no_eligible_staff": "nobody eligible",
}
#: guards the ranker cache (:mod:`.ranker_store`) and the preview scoring cache (:mod:`.explain`)
_cache_lock = threading.Lock()


def _noop(_f: float, _t: str) -> None:
    return None


def now_local(app: AppContext) -> pd.Timestamp:
    """Naive local wall-clock time (stored task times are local, like the uploads)."""
    return pd.Timestamp.now(tz=app.settings.timezone).tz_localize(None).floor("s")


def _sha(data: bytes) -> str:
    return model_files.sha256_bytes(data)
