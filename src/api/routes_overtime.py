"""Overtime endpoints: create a coverage request, read its ranked contact list, record contacts and responses,
report fairness, record/list/delete absences (rankings exclude absent people), read a person's rostered week.
Every endpoint calls :mod:`src.services.overtime` (role check + audit live there)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field, StringConstraints

from src.api.schemas import (
    ApiDate,
    ApiDateTime,
    ErrorOut,
    LocalDateTime,
    UtcDateTime,
    ValidationErrorOut,
    clean,
    local_naive,
    records,
)
from src.api.security import app_ctx, current_actor
from src.services import overtime as ot
from src.services.context import Actor, AppContext

router = APIRouter(tags=["overtime"])

#: printable text without control characters (PostgreSQL refuses NUL; logs and exports dislike the rest)
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_PRINTABLE)]


Name128 = _text(128, 1)
StaffId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                          pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")]
#: ``OTR-000012`` or ``12``
RequestId = Annotated[str, Path(pattern=r"^(?:[Oo][Tt][Rr]-)?0{0,6}[1-9][0-9]{0,8}$",
                                description="request code (e.g. `OTR-000012`) or its number",
                                examples=["OTR-000001"])]
#: integer keys are 32-bit: PostgreSQL refuses a larger value with a DataError (a 500), SQLite finds nothing
AbsenceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="absence id (from the list or the create answer)")]
StaffPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$",
                                description="staff id", examples=["S0001"])]
#: the tie-breaks of :data:`src.models.overtime.rules.TIE_BREAKS` — exactly those the ranking accepts (a test keeps
#: the two equal)
TieBreak = Literal["seniority", "staff_id", "fewest_hours"]
#: the reasons of :data:`src.services.overtime.ABSENCE_REASONS` (a test keeps the two equal)
AbsenceReason = Literal["sick", "leave", "training", "other"]


# ------------------------------------------------------------------------------------------------ schemas

class OvertimeRequestIn(BaseModel):
    site: Name128 = Field(description="site (care home) that needs cover; must be a known site")
    shift_date: ApiDate
    shift_type: _text(64, 1) = Field(description="early, late, night or day (German names accepted)")
    hours: float | None = Field(default=None, gt=0, le=24,
                                description="shift length; default: the typical length of that shift type")
    unit: _text(128) | None = None
    required_role: _text(128) | None = None
    required_skill: _text(128) | None = Field(default=None, description="e.g. `medication` or `medication:3`")
    note: _text(500) | None = None


class OvertimeRequestOut(BaseModel):
    request_id: str = Field(description="request code, e.g. OTR-000012")
    site: str
    unit: str | None = None
    shift_date: date
    shift_type: str
    hours: float
    required_role: str | None = None
    required_skill: str | None = None
    note: str | None = None
    status: Literal["open", "filled", "cancelled"]
    filled_staff_id: str | None = None
    filled_at: UtcDateTime | None = None
    created_by: str
    created_at: UtcDateTime | None = None
    contacts: int = 0
    responses: int = 0


class FactorOut(BaseModel):
    value: float | None = None
    weight: float | None = None
    contribution: float | None = Field(default=None, description="points out of 100 (100 × weight × value)")
    label: str = ""
    is_prior: bool = False


class CandidateOut(BaseModel):
    rank: int
    staff_id: str
    name: str
    site: str
    role: str
    total: float | None = Field(description="score out of 100: the sum of the factor contributions")
    factors: dict[str, FactorOut]
    prior_factors: list[str] = Field(default_factory=list)
    status: str = Field(description="not contacted, waiting, accepted, declined or no answer")
    contacted_at: LocalDateTime | None = None
    responded_at: LocalDateTime | None = None
    response_minutes: float | None = None


class ExcludedOut(BaseModel):
    staff_id: str
    name: str
    reasons: list[str]
    codes: list[str]


class ContactOut(BaseModel):
    staff_id: str
    name: str = ""
    channel: str
    rank: int | None = None
    score: float | None = None
    contacted_at: LocalDateTime
    contacted_by: str
    response: Literal["accepted", "declined", "no_answer"] | None = None
    responded_at: LocalDateTime | None = None
    response_minutes: float | None = None


class CandidatesOut(BaseModel):
    request: OvertimeRequestOut
    ranked: bool = Field(description="false once the request is filled or cancelled (no fresh ranking)")
    shift_start: LocalDateTime | None = None
    shift_end: LocalDateTime | None = None
    as_of: LocalDateTime | None = None
    acceptance_source: str | None = None
    weights: dict[str, float] = Field(default_factory=dict)
    candidates: list[CandidateOut] = Field(default_factory=list)
    excluded: list[ExcludedOut] = Field(default_factory=list)
    contacts: list[ContactOut] = Field(default_factory=list)


class ContactIn(BaseModel):
    staff_ids: list[StaffId] = Field(min_length=1, max_length=100)
    channel: Literal["phone", "sms", "email"] = "phone"
    contacted_at: ApiDateTime | None = Field(default=None, description="default now; naive = local time")


class ContactsOut(BaseModel):
    request_id: str
    contacted: list[str]
    message: str


class ResponseIn(BaseModel):
    staff_id: StaffId
    response: Literal["accepted", "declined", "no_answer"]
    responded_at: ApiDateTime | None = Field(default=None, description="default now; naive = local time")
    fill: bool = Field(default=True, description="an acceptance fills the shift at once")


class ResponseOut(BaseModel):
    request_id: str
    staff_id: str
    response: Literal["accepted", "declined", "no_answer"]
    response_minutes: float | None = None
    filled: bool
    message: str


class PersonFairnessOut(BaseModel):
    staff_id: str
    name: str | None = None
    site: str | None = None
    contract_hours: float | None = None
    ot_willing: bool | None = None
    offers: int = 0
    accepted: int = 0
    declined: int = 0
    no_answer: int = 0
    hours_worked: float | None = None
    hours_declined: float | None = None
    hours_no_answer: float | None = None
    hours_charged: float | None = None
    worked_per_40: float | None = None
    charged_per_40: float | None = None
    value: float | None = Field(default=None, description="hours per 40 contract hours on the chosen basis")
    under_utilised: bool = False
    over_utilised: bool = False


class WindowOut(BaseModel):
    days: int
    score: float | None = None
    gini: float | None = None
    jain: float | None = None
    cv: float | None = None
    max_mean: float | None = None
    average: float | None = None
    total: float | None = None
    n: float | None = None
    over_utilised: int = 0
    under_utilised: int = 0


class TrendPointOut(BaseModel):
    date: LocalDateTime
    score: float | None = None
    gini: float | None = None
    jain: float | None = None
    max_mean: float | None = None
    total: float | None = None


class FairnessOut(BaseModel):
    as_of: LocalDateTime
    days: int
    basis: Literal["charged", "worked"]
    unit: str = "hours per 40 contract hours"
    formula: str
    metrics: dict[str, float | None]
    worked: dict[str, float | None]
    charged: dict[str, float | None]
    people: list[PersonFairnessOut]
    windows: list[WindowOut]
    trend: list[TrendPointOut] = Field(default_factory=list)


class AbsenceIn(BaseModel):
    staff_id: StaffId = Field(description="must be a known staff id")
    date_from: ApiDate = Field(description="first day away; within a year of today")
    date_to: ApiDate | None = Field(default=None, description="last day away (inclusive); default: date_from. "
                                                              f"At most {ot.MAX_ABSENCE_DAYS} days in one entry")
    reason: AbsenceReason = Field(description="a category only: no health details")
    note: _text(ot.MAX_ABSENCE_NOTE) | None = None


class AbsenceOut(BaseModel):
    id: int = Field(description="absence id (the one to pass to DELETE /api/v1/overtime/absences/{absence_id})")
    staff_id: str
    name: str = Field(default="", description="the person's name (empty when they are no longer in the staff list)")
    date_from: date
    date_to: date
    days: int = Field(description="days away, both ends included")
    reason: AbsenceReason
    note: str | None = None
    created_by: str
    created_at: UtcDateTime | None = None


class RosterShiftOut(BaseModel):
    date: date
    shift_type: str = ""
    start: LocalDateTime
    end: LocalDateTime
    site: str
    unit: str | None = None
    hours: float


class RosterWeekOut(BaseModel):
    staff_id: str
    week_start: date = Field(description="Monday of the ISO week")
    week_end: date = Field(description="Sunday of the ISO week")
    shifts: list[RosterShiftOut]
    rostered_hours: float
    counted_hours: float = Field(description="what the maximum-weekly-hours rule counts: the rostered hours, or the "
                                             "contract hours when the person has no roster that week")
    contract_hours: float


# ------------------------------------------------------------------------------------------------ helpers

def _request_out(row: dict[str, Any]) -> OvertimeRequestOut:
    r = {k: clean(v) for k, v in row.items()}
    shift_date = r["shift_date"].date() if isinstance(r["shift_date"], datetime) else r["shift_date"]
    return OvertimeRequestOut(
        request_id=str(r["code"]), site=r["site"], unit=r.get("unit"), shift_date=shift_date,
        shift_type=r["shift_type"], hours=float(r["hours"]), required_role=r.get("required_role"),
        required_skill=r.get("required_skill"), note=r.get("note"), status=r["status"],
        filled_staff_id=r.get("filled_staff_id"), filled_at=r.get("filled_at"), created_by=r["created_by"],
        created_at=r.get("created_at"), contacts=int(r.get("contacts") or 0),
        responses=int(r.get("responses") or 0))


def _view_out(view: ot.RequestView) -> CandidatesOut:
    base: dict[str, Any] = dict(
        request=_request_out(view.request), ranked=view.ranking is not None,
        contacts=[ContactOut(**c) for c in records(view.contacts, list(ContactOut.model_fields))])
    if view.ranking is None:
        return CandidatesOut(**base)
    ranking = view.ranking
    status = {r["staff_id"]: r for r in records(view.contact_list())}
    candidates = []
    for c in ranking.candidates:
        d = clean(c.to_dict())
        s = status.get(c.staff_id, {})
        candidates.append(CandidateOut(
            rank=d["rank"], staff_id=d["staff_id"], name=d["name"], site=d["site"], role=d["role"], total=d["total"],
            factors={k: FactorOut(**v) for k, v in d["factors"].items()}, prior_factors=d["prior_factors"],
            status=s.get("status") or "not contacted", contacted_at=s.get("contacted_at"),
            responded_at=s.get("responded_at"), response_minutes=s.get("response_minutes")))
    return CandidatesOut(**base, shift_start=clean(ranking.shift_start), shift_end=clean(ranking.shift_end),
                         as_of=clean(ranking.as_of), acceptance_source=ranking.acceptance_source,
                         weights={str(k): float(v) for k, v in ranking.rules.weights.items()},
                         candidates=candidates, excluded=[ExcludedOut(**e.to_dict()) for e in ranking.excluded])


def _day(value: object) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def _absence_out(a: ot.Absence, created_at: datetime | None = None) -> AbsenceOut:
    return AbsenceOut(id=a.id, staff_id=a.staff_id, name=a.name, date_from=a.date_from, date_to=a.date_to,
                      days=a.days, reason=a.reason, note=a.note, created_by=a.created_by,  # type: ignore[arg-type]
                      created_at=created_at)


# ------------------------------------------------------------------------------------------------ endpoints

@router.post("/api/v1/overtime/requests", response_model=CandidatesOut, status_code=201)
def create_request(body: OvertimeRequestIn, actor: Annotated[Actor, Depends(current_actor)],
                   app: Annotated[AppContext, Depends(app_ctx)]) -> CandidatesOut:
    """Store an open coverage request (audited) and return it with the ranked contact list."""
    view = ot.create_request(app, actor, site=body.site, shift_date=body.shift_date, shift_type=body.shift_type,
                             hours=body.hours, unit=body.unit, required_role=body.required_role,
                             required_skill=body.required_skill, note=body.note)
    return _view_out(view)


@router.get("/api/v1/overtime/requests", response_model=list[OvertimeRequestOut])
def list_requests(actor: Annotated[Actor, Depends(current_actor)], app: Annotated[AppContext, Depends(app_ctx)],
                  status: Literal["open", "filled", "cancelled"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[OvertimeRequestOut]:
    """Coverage requests made in the app (and through this API), newest first."""
    frame = ot.list_requests(app, actor, status=status, limit=limit)
    return [_request_out(r) for r in frame.to_dict("records")]


@router.get("/api/v1/overtime/requests/{request_id}/candidates", response_model=CandidatesOut)
def candidates(request_id: RequestId, actor: Annotated[Actor, Depends(current_actor)],
               app: Annotated[AppContext, Depends(app_ctx)],
               tie_break: Annotated[TieBreak, Query(description="order of equal totals: seniority (earlier hire "
                                                                "date first), staff_id, or fewest_hours (fewest "
                                                                "charged overtime hours pro rata first)")]
               = "seniority") -> CandidatesOut:
    """The request, its contacts, and (while it is open) everyone ranked for it — eligible candidates with the
    five-factor score breakdown and their contact status, excluded staff with every reason."""
    return _view_out(ot.request_view(app, actor, request_id, tie_break=tie_break))


@router.post("/api/v1/overtime/requests/{request_id}/contacts", response_model=ContactsOut)
def contact(request_id: RequestId, body: ContactIn, actor: Annotated[Actor, Depends(current_actor)],
            app: Annotated[AppContext, Depends(app_ctx)]) -> ContactsOut:
    """Record that people were offered the shift (sms/email offers are sent). Only eligible people; all or
    nothing."""
    ids = ot.contact(app, actor, request_id, body.staff_ids, channel=body.channel,
                     contacted_at=local_naive(body.contacted_at, app.settings.timezone))
    code = ot.request_code(ot.parse_request_code(request_id) or 0)
    return ContactsOut(request_id=code, contacted=ids, message=f"{len(ids)} contact(s) recorded for {code}.")


@router.post("/api/v1/overtime/requests/{request_id}/responses", response_model=ResponseOut)
def respond(request_id: RequestId, body: ResponseIn, actor: Annotated[Actor, Depends(current_actor)],
            app: Annotated[AppContext, Depends(app_ctx)]) -> ResponseOut:
    """Record a contacted person's answer; with `fill` (default) an acceptance fills the shift."""
    res = ot.record_response(app, actor, request_id, body.staff_id, body.response,
                             responded_at=local_naive(body.responded_at, app.settings.timezone), fill=body.fill)
    return ResponseOut(request_id=res.request_code, staff_id=res.staff_id, response=res.response,  # type: ignore[arg-type]
                       response_minutes=clean(res.response_minutes), filled=res.filled, message=res.message)


@router.get("/api/v1/overtime/fairness", response_model=FairnessOut)
def fairness(actor: Annotated[Actor, Depends(current_actor)], app: Annotated[AppContext, Depends(app_ctx)],
             days: Annotated[int, Query(ge=1, le=3660)] = 90,
             as_of: Annotated[ApiDate | None, Query(description="default: last day of the uploaded OT history")]
             = None,
             basis: Literal["charged", "worked"] = "charged",
             site: Annotated[list[_text(128, 1)] | None, Query(max_length=50,
                                                                description="restrict to these sites")] = None,
             periods: Annotated[int, Query(ge=0, le=104, description="weekly trend points (0 = none)")] = 0,
             ) -> FairnessOut:
    """Per-person overtime hours (pro rata per 40 contract hours) with flags, Gini/Jain/max-mean, the 0–100
    score, every window's metrics and optionally the weekly trend."""
    view = ot.fairness(app, actor, days=days, as_of_date=as_of, basis=basis, sites=site or None, periods=periods)
    d = view.report.to_dict()
    return FairnessOut(
        as_of=view.report.as_of.to_pydatetime(), days=d["days"], basis=d["basis"], unit=d["unit"],
        formula=d["formula"], metrics={k: clean(v) for k, v in d["metrics"].items()},
        worked={k: clean(v) for k, v in d["worked"].items()}, charged={k: clean(v) for k, v in d["charged"].items()},
        people=[PersonFairnessOut(**r) for r in records(view.report.per_person,
                                                        list(PersonFairnessOut.model_fields))],
        windows=[WindowOut(**r) for r in records(view.windows)],
        trend=[TrendPointOut(**r) for r in records(view.timeseries)] if periods else [])


@router.get("/api/v1/overtime/absences", response_model=list[AbsenceOut])
def list_absences(actor: Annotated[Actor, Depends(current_actor)], app: Annotated[AppContext, Depends(app_ctx)],
                  staff_id: Annotated[StaffId | None, Query(description="only this person")] = None,
                  start: Annotated[ApiDate | None, Query(description="only absences touching this day or later")]
                  = None,
                  end: Annotated[ApiDate | None, Query(description="only absences touching this day or earlier")]
                  = None) -> list[AbsenceOut]:
    """Recorded absences by first day, optionally of one person and/or touching the days `start`..`end`."""
    frame = ot.list_absences(app, actor, staff_id=staff_id, start=start, end=end)
    return [AbsenceOut(**{**r, "date_from": _day(r["date_from"]), "date_to": _day(r["date_to"]),
                          "note": r.get("note") or None})
            for r in records(frame, list(AbsenceOut.model_fields))]


@router.post("/api/v1/overtime/absences", response_model=AbsenceOut, status_code=201,
             responses={422: {"model": ValidationErrorOut | ErrorOut,
                              "description": "invalid body (field paths), or refused by the service: unknown staff "
                                             "id, overlapping absence, too long, ends before it starts, more than a "
                                             "year from today (message); nothing stored"}})
def create_absence(body: AbsenceIn, actor: Annotated[Actor, Depends(current_actor)],
                   app: Annotated[AppContext, Depends(app_ctx)]) -> AbsenceOut:
    """Record that a person is away (sick, leave, training, other) — as on the Overtime page. Rankings exclude
    them for shifts on those days. Audited with the token's owner."""
    a = ot.record_absence(app, actor, staff_id=body.staff_id, date_from=body.date_from, date_to=body.date_to,
                          reason=body.reason, note=body.note)
    stored = records(ot.list_absences(app, actor, staff_id=a.staff_id, start=a.date_from, end=a.date_to))
    created_at = next((r.get("created_at") for r in stored if r.get("id") == a.id), None)
    return _absence_out(a, created_at)  # type: ignore[arg-type]


@router.delete("/api/v1/overtime/absences/{absence_id}", response_model=AbsenceOut,
               responses={404: {"model": ErrorOut, "description": "no absence with this id"}})
def delete_absence(absence_id: AbsenceId, actor: Annotated[Actor, Depends(current_actor)],
                   app: Annotated[AppContext, Depends(app_ctx)]) -> AbsenceOut:
    """Remove a recorded absence (entered by mistake, or the person came back early) and return it. Audited with
    the token's owner."""
    before = records(ot.list_absences(app, actor))
    row = next((r for r in before if r.get("id") == absence_id), {})
    try:
        gone = ot.delete_absence(app, actor, absence_id)
    except ot.UnknownAbsence as exc:
        raise HTTPException(404, str(exc)) from None
    out = _absence_out(gone, row.get("created_at"))  # type: ignore[arg-type]
    return out.model_copy(update={"name": row.get("name") or ""})


@router.get("/api/v1/overtime/staff/{staff_id}/roster", response_model=RosterWeekOut,
            responses={404: {"model": ErrorOut, "description": "no staff member with this id"}})
def roster(staff_id: StaffPath, actor: Annotated[Actor, Depends(current_actor)],
           app: Annotated[AppContext, Depends(app_ctx)],
           week: Annotated[ApiDate, Query(description="any day of the ISO week (Monday–Sunday)")]) -> RosterWeekOut:
    """The person's rostered shifts in one ISO week and the hours the weekly-maximum rule counts for them."""
    try:
        rw = ot.roster_week(app, actor, staff_id, week)
    except ot.UnknownStaff as exc:
        raise HTTPException(404, str(exc)) from None
    shifts = [RosterShiftOut(**{**r, "date": _day(r["date"]), "shift_type": r.get("shift_type") or ""})
              for r in records(rw.shifts, list(RosterShiftOut.model_fields))]
    return RosterWeekOut(staff_id=rw.staff_id, week_start=rw.week_start,
                         week_end=rw.week_start + timedelta(days=6), shifts=shifts,
                         rostered_hours=rw.rostered_hours, counted_hours=rw.counted_hours,
                         contract_hours=rw.contract_hours)
