"""The coverage workflow: :func:`create_request` → :func:`request_view` (ranked contact list) → :func:`contact`
(offer sent through an :class:`~.delivery.OfferSender`; only eligible people may be contacted) →
:func:`record_response` (an acceptance fills the shift by default) → :func:`fill_request` / :func:`cancel_request`.

Every change is written together with its audit event in one transaction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from src.data import db, overtime_store, store
from src.data.overtime_store import CHANNELS, RESPONSES, parse_request_code, request_code
from src.models.overtime import RankingResult
from src.models.overtime.rules import TIE_BREAKS
from src.services.context import Actor, AppContext, ServiceError, require_role

from .delivery import _DEFAULT_SENDER, Offer, OfferSender
from .helpers import ProgressCallback, _staff, local_now
from .ranking import ShiftInput, _rank, _validate_shift

log = logging.getLogger(__name__)

RESPONSE_LABELS = {"accepted": "accepted", "declined": "declined", "no_answer": "no answer"}


def answer_label(response: str | None, request_status: str) -> str:
    """An offer's answer in words: accepted / declined / no answer, else by the request's state — "waiting" while it
    is open, "not needed" once someone else filled it, "withdrawn" when it was cancelled (a "–" read as if the
    person had never answered)."""
    if isinstance(response, str) and response in RESPONSE_LABELS:
        return RESPONSE_LABELS[response]
    return {"filled": "not needed", "cancelled": "withdrawn"}.get(request_status, "waiting")


@dataclass(frozen=True)
class RequestView:
    """A stored request, its contacts (with names and response minutes) and a fresh ranking for it."""

    request: dict[str, Any]
    contacts: pd.DataFrame
    ranking: RankingResult | None

    @property
    def code(self) -> str:
        return str(self.request["code"])

    @property
    def is_open(self) -> bool:
        return self.request["status"] == "open"

    def answers(self) -> list[str]:
        """Each contact's :func:`answer_label` (row order of ``contacts``)."""
        return [answer_label(r if pd.notna(r) else None, str(self.request["status"]))
                for r in self.contacts["response"]]

    def contact_list(self) -> pd.DataFrame:
        """Ranked candidates with their contact status (``not contacted`` / ``waiting`` / the response)."""
        cols = ["rank", "staff_id", "name", "site", "role", "total", "status", "contacted_at", "responded_at",
                "response_minutes"]
        if self.ranking is None:
            return pd.DataFrame(columns=cols)
        frame = self.ranking.to_frame()[["rank", "staff_id", "name", "site", "role", "total"]]
        c = self.contacts.set_index("staff_id") if not self.contacts.empty else None
        status, cat, rat, mins = [], [], [], []
        for sid in frame["staff_id"]:
            if c is not None and sid in c.index:
                row = c.loc[sid]
                status.append(RESPONSE_LABELS.get(row["response"], "waiting") if pd.notna(row["response"])
                              else "waiting")
                cat.append(row["contacted_at"])
                rat.append(row["responded_at"])
                mins.append(row["response_minutes"])
            else:
                status.append("not contacted")
                cat.append(pd.NaT)
                rat.append(pd.NaT)
                mins.append(math.nan)
        return frame.assign(status=status, contacted_at=pd.to_datetime(cat), responded_at=pd.to_datetime(rat),
                            response_minutes=mins)[cols]


def _request_row(app: AppContext, request_id: int | str) -> dict[str, Any]:
    rid = parse_request_code(request_id)
    if rid is None:
        raise ServiceError(f"{request_id!r} is not a request id (expected e.g. OTR-000012).")
    frame = overtime_store.requests_frame(app.engine, request_id=rid)
    if frame.empty:
        raise ServiceError(f"Request {request_code(rid)} does not exist.")
    return frame.iloc[0].to_dict()


def _shift_of(row: Mapping[str, Any]) -> ShiftInput:
    return ShiftInput(site=row["site"], shift_date=pd.Timestamp(row["shift_date"]).date(),
                      shift_type=row["shift_type"], hours=float(row["hours"]), unit=row["unit"] or None,
                      required_role=row["required_role"] or None, required_skill=row["required_skill"] or None)


def _named_contacts(app: AppContext, rid: int, staff: pd.DataFrame | None = None) -> pd.DataFrame:
    contacts = overtime_store.contacts_frame(app.engine, request_id=rid)
    staff = store.load_frame(app.engine, "staff") if staff is None else staff
    names = staff.set_index("staff_id")["name"] if not staff.empty else pd.Series(dtype=object)
    contacts.insert(3, "name", contacts["staff_id"].map(names).fillna(""))
    contacts["response_minutes"] = (contacts["responded_at"] - contacts["contacted_at"]).dt.total_seconds() / 60.0
    return contacts


def create_request(app: AppContext, actor: Actor, *, site: str, shift_date: date | str, shift_type: str,
                   hours: float | str | None = None, unit: str | None = None, required_role: str | None = None,
                   required_skill: str | None = None, note: str | None = None) -> RequestView:
    """Store an open coverage request (audited) and return it with its ranked contact list."""
    require_role(actor, "planner", "admin")
    shift = _validate_shift(app, site=site, shift_date=shift_date, shift_type=shift_type, hours=hours, unit=unit,
                            required_role=required_role, required_skill=required_skill, check_range=True)
    _staff(app)  # a request nobody can be ranked for is useless: fail before storing
    note = (note or "").strip()[:500] or None
    with db.write_tx(app.engine) as conn:
        rid = overtime_store.insert_request(
            conn, site=shift.site, unit=shift.unit,
            shift_date=datetime.combine(shift.shift_date, datetime.min.time()), shift_type=shift.shift_type,
            hours=shift.hours, required_role=shift.required_role, required_skill=shift.required_skill, note=note,
            created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.request.create",
                          object_type="ot_request", object_id=request_code(rid),
                          detail={"site": shift.site, "unit": shift.unit, "shift_date": shift.shift_date.isoformat(),
                                  "shift_type": shift.shift_type, "hours": shift.hours,
                                  "required_role": shift.required_role, "required_skill": shift.required_skill})
    log.info("overtime request %s created by %s", request_code(rid), actor.username)
    return request_view(app, actor, rid)


def request_view(app: AppContext, actor: Actor, request_id: int | str, *,
                 weights: Mapping[str, float] | None = None, tie_break: str = "seniority",
                 on_progress: ProgressCallback | None = None) -> RequestView:
    """A request with its contacts and (while it is open) the current ranking for its shift."""
    require_role(actor, "planner", "admin")
    if tie_break not in TIE_BREAKS:  # also when no ranking is made (filled/cancelled): one answer per value
        raise ServiceError(f"Tie-break must be one of {', '.join(TIE_BREAKS)}.")
    row = _request_row(app, request_id)
    staff = store.load_frame(app.engine, "staff")
    contacts = _named_contacts(app, int(row["id"]), staff)
    ranking = None
    if row["status"] == "open" and not staff.empty:
        ranking = _rank(app, _shift_of(row), request_id=row["code"], weights=weights, tie_break=tie_break,
                        on_progress=on_progress, staff=staff)
    return RequestView(request=row, contacts=contacts, ranking=ranking)


def list_requests(app: AppContext, actor: Actor, *, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Coverage requests made in the app, newest first (code, shift, status, contacts, responses, filled by)."""
    require_role(actor, "planner", "admin")
    if status is not None and status not in overtime_store.REQUEST_STATUSES:
        raise ServiceError(f"Status must be one of {', '.join(overtime_store.REQUEST_STATUSES)}.")
    return overtime_store.requests_frame(app.engine, status=status, limit=limit)


def _check_open(row: Mapping[str, Any] | None, code: str) -> Mapping[str, Any]:
    if row is None:
        raise ServiceError(f"Request {code} does not exist.")
    if row["status"] == "filled":
        raise ServiceError(f"Request {code} is already filled (by {row['filled_staff_id']}).")
    if row["status"] == "cancelled":
        raise ServiceError(f"Request {code} was cancelled.")
    return row


def contact(app: AppContext, actor: Actor, request_id: int | str, staff_ids: Sequence[str], *,
            channel: str = "phone", sender: OfferSender | None = None,
            contacted_at: datetime | None = None) -> list[str]:
    """Record that ``staff_ids`` were offered the shift (and send the offer for sms/e-mail). Returns the ids.

    Only people who are eligible right now may be contacted (their exclusion reasons are shown otherwise);
    a person is contacted once per request. All contacts and their audit events are stored together, after every
    offer was delivered — if a delivery fails, nothing is recorded.
    """
    require_role(actor, "planner", "admin")
    if channel not in CHANNELS:
        raise ServiceError(f"Channel must be one of {', '.join(CHANNELS)}.")
    ids = [str(s).strip() for s in staff_ids if str(s).strip()]
    if not ids:
        raise ServiceError("Choose at least one person to contact.")
    if len(set(ids)) != len(ids):
        raise ServiceError("A person is listed twice.")
    view = request_view(app, actor, request_id)
    code = view.code
    _check_open(view.request, code)
    now = local_now(app)
    when = contacted_at or now
    if when > now + timedelta(minutes=5):
        raise ServiceError("The contact time lies in the future.")
    assert view.ranking is not None
    candidates = {c.staff_id: c for c in view.ranking.candidates}
    excluded = {e.staff_id: e for e in view.ranking.excluded}
    done = set(view.contacts["staff_id"])
    problems = []
    for sid in ids:
        if sid in done:
            problems.append(f"{sid} was already contacted for {code}")
        elif sid in excluded:
            problems.append(f"{sid} ({excluded[sid].name}) cannot take this shift: {'; '.join(excluded[sid].reasons)}")
        elif sid not in candidates:
            problems.append(f"{sid} is not in the staff list")
    if problems:
        raise ServiceError("Nobody was contacted. " + " · ".join(problems))
    sender = sender or _DEFAULT_SENDER
    r = view.request
    start, _ = view.ranking.shift_start, view.ranking.shift_end
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(r["id"])), code)
        for sid in ids:
            cand = candidates[sid]
            cid = overtime_store.insert_contact(conn, request_id=int(r["id"]), staff_id=sid, channel=channel,
                                                contacted_at=when, contacted_by=actor.username, rank=cand.rank,
                                                score=round(cand.total, 4))
            ref = None
            if channel != "phone":
                receipt = sender.send(Offer(
                    request_code=code, staff_id=sid, staff_name=cand.name, channel=channel, site=r["site"],
                    unit=r["unit"], shift_date=pd.Timestamp(r["shift_date"]).date(), shift_type=r["shift_type"],
                    start=start.to_pydatetime(), hours=float(r["hours"])))
                if not receipt.delivered:
                    raise ServiceError(f"The offer to {sid} could not be delivered by {channel}; nobody was "
                                       "contacted.")
                ref = receipt.reference
                overtime_store.set_delivery_ref(conn, cid, ref)
            store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.contact",
                              object_type="ot_request", object_id=code,
                              detail={"staff_id": sid, "channel": channel, "rank": cand.rank,
                                      "score": round(cand.total, 2), "contacted_at": when, "delivery_ref": ref})
    log.info("request %s: %d contact(s) recorded by %s", code, len(ids), actor.username)
    return ids


@dataclass(frozen=True)
class ResponseOutcome:
    request_code: str
    staff_id: str
    response: str
    response_minutes: float
    filled: bool
    message: str


def record_response(app: AppContext, actor: Actor, request_id: int | str, staff_id: str, response: str, *,
                    responded_at: datetime | None = None, fill: bool = True) -> ResponseOutcome:
    """Record a contacted person's answer (accepted / declined / no_answer) and its time (default now).

    With ``fill`` (default) an acceptance fills the shift in the same transaction; the others' pending offers are
    then withdrawn. A response is recorded once; the request must still be open.
    """
    require_role(actor, "planner", "admin")
    if response not in RESPONSES:
        raise ServiceError(f"Response must be one of {', '.join(RESPONSES)}.")
    row = _request_row(app, request_id)
    code = str(row["code"])
    now = local_now(app)
    when = responded_at or now
    if when > now + timedelta(minutes=5):
        raise ServiceError("The response time lies in the future.")
    sid = str(staff_id).strip()
    filled = False
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        c = overtime_store.get_contact(conn, int(row["id"]), sid)
        if c is None:
            raise ServiceError(f"{sid} was not contacted for {code}; record the contact first.")
        if c["response"] is not None:
            raise ServiceError(f"{sid} already answered {code} ({RESPONSE_LABELS[c['response']]}).")
        if when < c["contacted_at"]:
            raise ServiceError(f"The response time {when:%Y-%m-%d %H:%M} is before the contact "
                               f"({c['contacted_at']:%Y-%m-%d %H:%M}).")
        overtime_store.set_response(conn, int(c["id"]), response=response, responded_at=when,
                                    recorded_by=actor.username)
        minutes = (when - c["contacted_at"]).total_seconds() / 60.0
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.response",
                          object_type="ot_request", object_id=code,
                          detail={"staff_id": sid, "response": response, "responded_at": when,
                                  "response_minutes": round(minutes, 1)})
        if response == "accepted" and fill:
            _fill(conn, actor, int(row["id"]), code, sid)
            filled = True
    person = store.load_frame(app.engine, "staff", where={"staff_id": sid})
    who = f"{person['name'].iloc[0]} ({sid})" if len(person) else sid
    msg = f"{who} {RESPONSE_LABELS[response]} after {minutes:.0f} min."
    if filled:
        msg += f" {code} is filled."
    return ResponseOutcome(code, sid, response, minutes, filled, msg)


def _fill(conn: Any, actor: Actor, rid: int, code: str, sid: str) -> None:
    if overtime_store.close_request(conn, rid, status="filled", by=actor.username, staff_id=sid) != 1:
        raise ServiceError(f"Request {code} is not open any more.")
    store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.fill", object_type="ot_request",
                      object_id=code, detail={"staff_id": sid})


def fill_request(app: AppContext, actor: Actor, request_id: int | str, staff_id: str) -> None:
    """Give the shift to a person who accepted it (when the acceptance was recorded without filling)."""
    require_role(actor, "planner", "admin")
    row = _request_row(app, request_id)
    code = str(row["code"])
    sid = str(staff_id).strip()
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        c = overtime_store.get_contact(conn, int(row["id"]), sid)
        if c is None or c["response"] != "accepted":
            raise ServiceError(f"{sid} has not accepted {code}; only someone who accepted can fill it.")
        _fill(conn, actor, int(row["id"]), code, sid)


def cancel_request(app: AppContext, actor: Actor, request_id: int | str, reason: str = "") -> None:
    """Cancel an open request (the gap was closed otherwise); pending offers are withdrawn."""
    require_role(actor, "planner", "admin")
    row = _request_row(app, request_id)
    code = str(row["code"])
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        overtime_store.close_request(conn, int(row["id"]), status="cancelled", by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.cancel",
                          object_type="ot_request", object_id=code, detail={"reason": (reason or "")[:500]})
