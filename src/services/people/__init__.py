"""People use cases: ranker training and storage, scorer settings, open tasks, assignment previews,
overrides, finalize, outcomes and the shadow-mode report.

Every function checks the role first, then calls the store and the pure domain packages
(:mod:`src.models.ranking`, :mod:`src.models.assignment`). Every change writes its audit event in the
same transaction as the change.

Ranker storage: the forecasting :class:`~src.models.registry.ModelRegistry` only holds
``FittedModel`` forecasts, so rankers are kept in the same safe style under
``models_dir/ranker/<version>/`` — ``model.txt`` (LightGBM text), ``metadata.json`` and
``manifest.json`` (sha256 of both files, created_by/at, headline metrics) — with an ``active.json``
pointer. Nothing is pickled; both files are checked against their sha256 and the LightGBM text is
first parsed in a subprocess (a corrupt model can abort the process instead of raising) before the
model is loaded. A model that fails any check is treated as missing: scoring falls back to the rules.

Which module holds what (``from src.services.people import name`` keeps working for every name below):

* :mod:`._common` — progress type, the app's local clock, decision labels, sha256, the cache lock; imports no
  sibling;
* :mod:`.ranker_store` — stored ranker versions, the active pointer, loading (also from a folder), activation;
* :mod:`.training` — training a ranker and the Ranking model page's report;
* :mod:`.settings` — scorer settings (ML, ranking, shadow mode, threshold);
* :mod:`.tasks` — open tasks: upload checks and import, demo tasks, lists and counts;
* :mod:`.scoring` — preview options, the staff window and scoring of task × staff pairs (also of files, for the
  CLI); it looks up ``score_candidates`` and ``_history``: patch them there (or in :mod:`.explain`) in tests;
* :mod:`.previews` — creating and reading assignment previews, the draft to resume;
* :mod:`.explain` — candidates and explanations of a preview's tasks (the preview scored once, cached);
* :mod:`.drafts` — override, finalize (limits re-checked) and discard of a draft preview;
* :mod:`.outcomes` — recorded outcomes and the shadow-mode report.

Patching a name on this package does not reach the submodule that looks it up; patch the submodule.
"""

from __future__ import annotations

from ._common import DECISION_LABELS, Progress, now_local
from .drafts import FinalizeOutcome, discard_preview, finalize_preview, override_assignment
from .explain import explain_task, explain_tasks, task_candidates
from .outcomes import (
    ShadowSummary,
    assignments_awaiting_outcome,
    finalized_assignments,
    record_outcomes,
    shadow_mode_report,
)
from .previews import PreviewView, create_preview, latest_draft, preview_view
from .ranker_store import (
    ACTIVE,
    MANIFEST,
    RANKER_DIR,
    RankerVersion,
    activate_ranker,
    active_ranker,
    list_ranker_versions,
    load_ranker_dir,
)
from .scoring import FileScoring, PreviewOptions, score_files
from .settings import default_scorer_settings, scorer_settings, update_scorer_settings
from .tasks import (
    MAX_TASK_HOURS,
    OPEN_TASKS_SPEC,
    TasksStored,
    generate_demo_tasks,
    import_tasks,
    next_week_start,
    open_tasks,
    task_summary,
    validate_tasks_upload,
)
from .training import RankerReport, TrainOutcome, ranker_report, train_ranker

# isort: split
# private helpers the tests read (or clear) as ``people._name``: the same objects as in their submodules (patching
# them here does not reach the submodule code, see above)
from .drafts import _limits_message as _limits_message
from .explain import _preview_scoring_cache as _preview_scoring_cache
from .ranker_store import _cache as _cache
from .ranker_store import _root as _root
from .ranker_store import _save_version as _save_version
from .ranker_store import _write_active as _write_active
from .scoring import _history as _history
from .scoring import _options_of as _options_of
from .scoring import _score as _score
from .scoring import _staff_for_window as _staff_for_window

__all__ = [
    "ACTIVE", "activate_ranker", "active_ranker", "assignments_awaiting_outcome", "create_preview",
    "DECISION_LABELS", "default_scorer_settings", "discard_preview", "explain_task", "explain_tasks", "FileScoring",
    "finalize_preview", "finalized_assignments", "FinalizeOutcome", "generate_demo_tasks", "import_tasks",
    "latest_draft", "list_ranker_versions", "load_ranker_dir", "MANIFEST", "MAX_TASK_HOURS", "next_week_start",
    "now_local", "OPEN_TASKS_SPEC", "open_tasks", "override_assignment", "PreviewOptions", "PreviewView",
    "preview_view", "Progress", "RANKER_DIR", "ranker_report", "RankerReport", "RankerVersion", "record_outcomes",
    "score_files", "scorer_settings", "shadow_mode_report", "ShadowSummary", "task_candidates", "task_summary",
    "TasksStored", "train_ranker", "TrainOutcome", "update_scorer_settings", "validate_tasks_upload",
]
