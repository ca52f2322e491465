"""Overtime use cases: rank people for a shift, run a coverage request, and report fairness.

One function per user action, shared by the Overtime pages, the REST API and the ``overtime`` CLI commands. Every
function checks the role first (planner or admin), reads what it needs from the store — the uploaded overtime
history *and* the contacts recorded in the app (``overtime_store.combined_history``) — and calls the pure domain
in ``src.models.overtime``. Every change (request, contact, response, fill, cancel) is written together with its
audit event in one transaction, so nothing is half-stored.

Coverage workflow: :func:`create_request` → :func:`request_view` (ranked contact list) → :func:`contact` (offer
sent through an :class:`OfferSender`; only eligible people may be contacted) → :func:`record_response`
(accepted / declined / no answer with the response time; an acceptance fills the shift by default) →
:func:`fill_request` / :func:`cancel_request`.

Times: contact and response times are local wall-clock times in ``settings.timezone`` (naive), like the uploaded
history; audit timestamps stay UTC.

Modules (one use case each; this package only re-exports them, so ``from src.services import overtime as ot``
and ``ot.rank(...)`` keep working):

- :mod:`.helpers` — local clock, staff/history readers, date parsing, rules, the reports' default "as of" day
  (imports none of the others)
- :mod:`.delivery` — :class:`Offer`, :class:`OfferSender` and the logging sender
- :mod:`.form_options` — what the forms offer (sites, units, shift types and hours, roles, skills)
- :mod:`.availability` — roster, overtime taken on and absences around a shift (the ranking's inputs)
- :mod:`.ranking` — :func:`rank`, :func:`next_shift`
- :mod:`.workflow` — coverage requests, contacts, responses, fill and cancel
- :mod:`.reports` — fairness, dashboard, staff detail, rostered week, staff list
- :mod:`.absences` — record, delete and list absences
- :mod:`.acceptance` — train, store and load the LightGBM acceptance model

A test that replaces a function (``monkeypatch.setattr``) must patch the module that looks the name up, e.g.
``ranking.local_now`` for :func:`next_shift`; patching this package only changes what callers of ``ot.x`` see.
"""

from __future__ import annotations

from src.data.overtime_store import parse_request_code, request_code
from src.services.context import ServiceError

from .absences import (
    ABSENCE_REASONS,
    MAX_ABSENCE_DAYS,
    MAX_ABSENCE_NOTE,
    Absence,
    UnknownAbsence,
    delete_absence,
    list_absences,
    record_absence,
)
from .acceptance import (
    ACCEPTANCE_DIR,
    AcceptanceModelInfo,
    acceptance_model_status,
    active_acceptance_model,
    train_acceptance_model,
)
from .availability import availability_inputs, roster_label, rostered_shifts
from .delivery import DeliveryReceipt, LoggingOfferSender, Offer, OfferSender
from .form_options import FALLBACK_SHIFT_HOURS, OvertimeOptions, options
from .helpers import (
    MAX_DAYS_FROM_TODAY,
    AsOfDefault,
    ProgressCallback,
    as_of_timestamp,
    default_as_of,
    default_as_of_date,
    local_now,
)
from .ranking import NextShift, ShiftInput, next_shift, rank
from .reports import (
    DashboardView,
    FairnessView,
    RosterWeek,
    StaffView,
    UnknownStaff,
    dashboard,
    factor_names,
    fairness,
    offers_after,
    roster_week,
    staff_detail,
    staff_list,
)
from .workflow import (
    RESPONSE_LABELS,
    RequestView,
    ResponseOutcome,
    answer_label,
    cancel_request,
    contact,
    create_request,
    fill_request,
    list_requests,
    record_response,
    request_view,
)

__all__ = [
    # helpers
    "MAX_DAYS_FROM_TODAY", "AsOfDefault", "ProgressCallback", "as_of_timestamp", "default_as_of",
    "default_as_of_date", "local_now",
    # delivery
    "DeliveryReceipt", "LoggingOfferSender", "Offer", "OfferSender",
    # options
    "FALLBACK_SHIFT_HOURS", "OvertimeOptions", "options",
    # availability
    "availability_inputs", "roster_label", "rostered_shifts",
    # ranking
    "NextShift", "ShiftInput", "next_shift", "rank",
    # workflow
    "RESPONSE_LABELS", "RequestView", "ResponseOutcome", "answer_label", "cancel_request", "contact",
    "create_request", "fill_request", "list_requests", "record_response", "request_view",
    # reports
    "DashboardView", "FairnessView", "RosterWeek", "StaffView", "UnknownStaff", "dashboard", "factor_names",
    "fairness", "offers_after", "roster_week", "staff_detail", "staff_list",
    # absences
    "ABSENCE_REASONS", "MAX_ABSENCE_DAYS", "MAX_ABSENCE_NOTE", "Absence", "UnknownAbsence", "delete_absence",
    "list_absences", "record_absence",
    # acceptance model
    "ACCEPTANCE_DIR", "AcceptanceModelInfo", "acceptance_model_status", "active_acceptance_model",
    "train_acceptance_model",
    # used through this package by callers, defined elsewhere
    "ServiceError", "parse_request_code", "request_code",
]
