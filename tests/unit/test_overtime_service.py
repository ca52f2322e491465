"""Overtime services on the store (SQLite and, with TEST_DATABASE_URL, PostgreSQL): ranking from stored data, the
coverage workflow with audit rows and atomicity, the history mapping of app contacts, reports and role checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from src.data import overtime_store, store
from src.models.overtime import OvertimeRules, ShiftRequest, rank_candidates
from src.services import data as data_service
from src.services import overtime as ot
from src.services.context import PermissionDenied, ServiceError
from src.services.overtime import ranking as ot_ranking
from tests.conftest import ADMIN, PLANNER


def _today(app) -> date:
    return ot.local_now(app).date()


def _seed(app) -> date:
    """Four people at two homes and a small history; returns today's date."""
    today = _today(app)
    staff = pd.DataFrame({
        "staff_id": ["S1", "S2", "S3", "S4"], "name": ["Anna", "Ben", "Cem", "Dora"],
        "site": ["Haus A", "Haus A", "Haus A", "Haus B"], "role": ["Pflegefachkraft"] * 4,
        "skills": ["medication:3", "medication:2", "mobility:1", "medication:4"],
        "hire_date": pd.to_datetime(["2015-01-01", "2018-01-01", "2019-01-01", "2016-01-01"]),
        "contract_hours": [40.0, 20.0, 40.0, 40.0], "ot_willing": [True, True, False, True],
        "preferred_sites": ["Haus A", "Haus A", "", "Haus B"],
    })
    d1 = pd.Timestamp(today - timedelta(days=20))
    d2 = pd.Timestamp(today - timedelta(days=10))
    history = pd.DataFrame({
        "request_id": ["R1", "R1", "R2", "R2"], "shift_date": [d1, d1, d2, d2],
        "site": ["Haus A"] * 4, "shift_type": ["early", "early", "late", "late"],
        "staff_id": ["S1", "S2", "S1", "S2"],
        "contacted_at": [d1 - pd.Timedelta(hours=20), d1 - pd.Timedelta(hours=19), d2 - pd.Timedelta(hours=5),
                         d2 - pd.Timedelta(hours=4)],
        "responded_at": [d1 - pd.Timedelta(hours=19, minutes=30), pd.NaT, d2 - pd.Timedelta(hours=4, minutes=50),
                         d2 - pd.Timedelta(hours=3)],
        "accepted": [True, False, False, True], "hours_worked": [8.0, 0.0, 0.0, 8.0], "unit": ["WB1"] * 4,
    })
    data_service.ingest_frame(app, ADMIN, kind="staff", frame=staff, name="staff")
    data_service.ingest_frame(app, ADMIN, kind="overtime", frame=history, name="ot")
    return today


def _actions(app) -> list[str]:
    return list(store.audit_events(app.engine)["action"])[::-1]


def test_rank_from_store_matches_domain_and_explains_exclusions(app):
    today = _seed(app)
    day = today + timedelta(days=2)
    result = ot.rank(app, PLANNER, site="haus a", shift_date=day.isoformat(), shift_type="Frühdienst")
    assert result.request.site == "Haus A" and result.request.shift_type == "early"
    assert result.request.hours == 8.0  # typical early shift length from the history
    expected = rank_candidates(ShiftRequest("Haus A", day, "early", 8.0), store.load_frame(app.engine, "staff"),
                               store.load_frame(app.engine, "overtime"),
                               OvertimeRules(as_of=result.as_of))
    assert [(c.staff_id, round(c.total, 9)) for c in result.candidates] == \
           [(c.staff_id, round(c.total, 9)) for c in expected.candidates]
    assert {c.staff_id for c in result.candidates} == {"S1", "S2"}
    reasons = {e.staff_id: e.codes for e in result.excluded}
    assert reasons == {"S3": ("not_willing",), "S4": ("site",)}


@pytest.mark.parametrize("kwargs, message", [
    ({"site": "Nowhere"}, "Unknown site"),
    ({"shift_type": "brunch"}, "Unknown shift type"),
    ({"hours": 0}, "more than 0"),
    ({"hours": "abc"}, "must be a number"),
    ({"shift_date": "2026-02-30"}, "YYYY-MM-DD"),
    ({"unit": "WB9"}, "Unknown unit"),
    ({"required_skill": "medication:7"}, "1..5"),
    ({"weights": {"availability": 0.5, "acceptance": 0.5, "fairness": 0.5, "site_preference": 0, "reliability": 0}},
     "sum to 1"),
])
def test_rank_rejects_bad_input_with_clear_message(sqlite_app, kwargs, message):
    today = _seed(sqlite_app)
    args = {"site": "Haus A", "shift_date": today.isoformat(), "shift_type": "early", **kwargs}
    with pytest.raises(ServiceError, match=message):
        ot.rank(sqlite_app, PLANNER, **args)


def test_every_service_needs_a_logged_in_planner_or_admin(sqlite_app):
    _seed(sqlite_app)
    calls = [lambda a: ot.rank(sqlite_app, a, site="Haus A", shift_date="2026-01-01", shift_type="early"),
             lambda a: ot.create_request(sqlite_app, a, site="Haus A", shift_date="2026-01-01", shift_type="early"),
             lambda a: ot.contact(sqlite_app, a, 1, ["S1"]),
             lambda a: ot.record_response(sqlite_app, a, 1, "S1", "accepted"),
             lambda a: ot.fill_request(sqlite_app, a, 1, "S1"), lambda a: ot.cancel_request(sqlite_app, a, 1),
             lambda a: ot.fairness(sqlite_app, a), lambda a: ot.dashboard(sqlite_app, a),
             lambda a: ot.staff_detail(sqlite_app, a, "S1"), lambda a: ot.list_requests(sqlite_app, a),
             lambda a: ot.options(sqlite_app, a)]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call(None)
    with pytest.raises(PermissionDenied):  # planners may not upload the data the ranking reads
        data_service.ingest_frame(sqlite_app, PLANNER, kind="staff", frame=pd.DataFrame(), name="x")


def test_coverage_workflow_end_to_end_with_audit_and_fairness_change(app):
    today = _seed(app)
    before = ot.fairness(app, PLANNER, days=90, as_of_date=today, periods=0).report.per_person.set_index("staff_id")
    view = ot.create_request(app, PLANNER, site="Haus A", unit="WB1", shift_date=today + timedelta(days=1),
                             shift_type="late", hours=7.5, note="sick leave")
    assert view.code.startswith("OTR-") and view.is_open
    assert [c.staff_id for c in view.ranking.candidates] == view.contact_list()["staff_id"].tolist()
    sender = ot.LoggingOfferSender()
    assert ot.contact(app, PLANNER, view.code, ["S2", "S1"], channel="sms", sender=sender) == ["S2", "S1"]
    assert [o.staff_id for o in sender.sent] == ["S2", "S1"] and "7.5 h" in sender.sent[0].text()
    out = ot.record_response(app, PLANNER, view.code, "S2", "declined")
    assert not out.filled
    out = ot.record_response(app, PLANNER, view.code, "S1", "accepted")
    assert out.filled and f"{view.code} is filled" in out.message
    req = ot.list_requests(app, PLANNER).iloc[0]
    assert req["status"] == "filled" and req["filled_staff_id"] == "S1" and req["contacts"] == 2
    assert _actions(app)[-6:] == ["overtime.request.create", "overtime.contact", "overtime.contact",
                                  "overtime.response", "overtime.response", "overtime.fill"]
    contacts = overtime_store.contacts_frame(app.engine)
    assert contacts["delivery_ref"].str.startswith("log-").all()

    hist = overtime_store.combined_history(app.engine)
    mine = hist.loc[hist["request_id"] == view.code].set_index("staff_id")
    assert mine.loc["S1", "accepted"] and mine.loc["S1", "hours_worked"] == 7.5
    assert not mine.loc["S2", "accepted"] and pd.notna(mine.loc["S2", "responded_at"])

    after = ot.fairness(app, PLANNER, days=90, as_of_date=today, periods=0).report.per_person.set_index(
        "staff_id")
    assert after.loc["S1", "hours_worked"] == before.loc["S1", "hours_worked"] + 7.5
    assert after.loc["S2", "hours_charged"] == before.loc["S2", "hours_charged"] + 7.5  # a decline is charged
    with pytest.raises(ServiceError, match="already filled"):
        ot.record_response(app, PLANNER, view.code, "S2", "accepted")
    detail = ot.staff_detail(app, PLANNER, "S1", as_of_date=today)
    assert view.code in set(detail.detail.recent_shifts["request_id"])
    assert detail.contacts["request_id"].tolist() == [view.code]


def test_contacting_an_excluded_person_stores_nothing(app):
    today = _seed(app)
    view = ot.create_request(app, PLANNER, site="Haus A", shift_date=today + timedelta(days=1), shift_type="early")
    n_audit = len(_actions(app))
    with pytest.raises(ServiceError, match="S3 \\(Cem\\) cannot take this shift: not willing"):
        ot.contact(app, PLANNER, view.code, ["S1", "S3"])
    assert overtime_store.contacts_frame(app.engine).empty
    assert len(_actions(app)) == n_audit


class _BrokenSender:
    def __init__(self) -> None:
        self.calls = 0

    def send(self, offer):  # noqa: ANN001
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("SMS gateway down")
        return ot.DeliveryReceipt(offer.channel, "x")


def test_failed_delivery_rolls_back_every_contact(sqlite_app):
    today = _seed(sqlite_app)
    view = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=today + timedelta(days=1),
                             shift_type="early")
    with pytest.raises(ConnectionError):
        ot.contact(sqlite_app, PLANNER, view.code, ["S1", "S2"], channel="sms", sender=_BrokenSender())
    assert overtime_store.contacts_frame(sqlite_app.engine).empty
    assert "overtime.contact" not in _actions(sqlite_app)


def test_response_rules(sqlite_app):
    today = _seed(sqlite_app)
    view = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=today + timedelta(days=1),
                             shift_type="early")
    with pytest.raises(ServiceError, match="not contacted"):
        ot.record_response(sqlite_app, PLANNER, view.code, "S1", "accepted")
    ot.contact(sqlite_app, PLANNER, view.code, ["S1", "S2"])
    with pytest.raises(ServiceError, match="one of"):
        ot.record_response(sqlite_app, PLANNER, view.code, "S1", "maybe")
    with pytest.raises(ServiceError, match="before the contact"):
        ot.record_response(sqlite_app, PLANNER, view.code, "S1", "declined",
                           responded_at=ot.local_now(sqlite_app) - timedelta(hours=1))
    with pytest.raises(ServiceError, match="in the future"):
        ot.record_response(sqlite_app, PLANNER, view.code, "S1", "declined",
                           responded_at=ot.local_now(sqlite_app) + timedelta(hours=1))
    ot.record_response(sqlite_app, PLANNER, view.code, "S1", "no_answer")
    with pytest.raises(ServiceError, match="already answered"):
        ot.record_response(sqlite_app, PLANNER, view.code, "S1", "accepted")
    out = ot.record_response(sqlite_app, PLANNER, view.code, "S2", "accepted", fill=False)
    assert not out.filled
    with pytest.raises(ServiceError, match="only someone who accepted"):
        ot.fill_request(sqlite_app, PLANNER, view.code, "S1")
    ot.fill_request(sqlite_app, PLANNER, view.code, "S2")
    with pytest.raises(ServiceError, match="already filled"):
        ot.cancel_request(sqlite_app, PLANNER, view.code)
    with pytest.raises(ServiceError, match="does not exist"):
        ot.request_view(sqlite_app, PLANNER, "OTR-999999")
    with pytest.raises(ServiceError, match="not a request id"):
        ot.request_view(sqlite_app, PLANNER, "banana")


def test_history_mapping_of_open_filled_and_cancelled_requests(sqlite_app):
    today = _seed(sqlite_app)
    day = today + timedelta(days=3)
    a = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=day, shift_type="early").code
    b = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=day, shift_type="late").code
    c = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=day, shift_type="night").code
    for code in (a, b, c):
        ot.contact(sqlite_app, PLANNER, code, ["S1", "S2"])
    ot.record_response(sqlite_app, PLANNER, b, "S2", "accepted")  # fills b; S1's pending offer is withdrawn
    ot.record_response(sqlite_app, PLANNER, c, "S1", "declined")
    ot.cancel_request(sqlite_app, PLANNER, c, "agency nurse found")  # S2's pending offer withdrawn, decline kept
    h = overtime_store.app_history(sqlite_app.engine)
    rows = {(r.request_id, r.staff_id): r for r in h.itertuples()}
    assert set(rows) == {(a, "S1"), (a, "S2"), (b, "S2"), (c, "S1")}
    assert not rows[(a, "S1")].accepted and pd.isna(rows[(a, "S1")].responded_at)  # pending
    assert rows[(b, "S2")].accepted and rows[(b, "S2")].hours_worked == 8.0
    assert not rows[(c, "S1")].accepted and pd.notna(rows[(c, "S1")].responded_at)
    assert "overtime.cancel" in _actions(sqlite_app)


def test_default_as_of_is_the_end_of_the_uploaded_history_and_app_activity_does_not_move_it(sqlite_app):
    """#13.3: the default day was "the day after the last activity", so recording one coverage request moved a
    year-old window to today and every number changed without notice."""
    today = _today(sqlite_app)
    first = ot.default_as_of(sqlite_app, PLANNER)
    assert (first.day, first.source) == (today, "today") and "today (" in first.describe()  # nothing uploaded
    old = pd.Timestamp(today - timedelta(days=400))
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["A", "B"], "site": ["Haus A"] * 2, "role": ["x"] * 2,
                          "skills": ["mobility"] * 2, "hire_date": [pd.Timestamp("2010-01-01")] * 2,
                          "contract_hours": [40.0] * 2, "ot_willing": [True] * 2})
    data_service.ingest_frame(sqlite_app, ADMIN, kind="staff", frame=staff, name="s")
    hist = pd.DataFrame({"request_id": ["R"], "shift_date": [old], "site": ["Haus A"], "shift_type": ["early"],
                         "staff_id": ["S1"], "contacted_at": [old - pd.Timedelta(hours=5)],
                         "responded_at": [old - pd.Timedelta(hours=4)], "accepted": [True], "hours_worked": [8.0]})
    data_service.ingest_frame(sqlite_app, ADMIN, kind="overtime", frame=hist, name="h")
    d = ot.default_as_of(sqlite_app, PLANNER)
    assert (d.day, d.source, d.history_end) == (old.date(), "history", old.date())
    assert d.describe() == f"the last day of the uploaded overtime history ({old:%Y-%m-%d})"
    assert ot.default_as_of_date(sqlite_app, PLANNER) == old.date() == ot.options(sqlite_app, PLANNER).default_date
    rep = ot.fairness(sqlite_app, PLANNER, days=30, periods=0)
    assert rep.report.per_person.set_index("staff_id").loc["S1", "hours_worked"] == 8.0  # the old shift counts
    assert rep.later_offers == 0
    with pytest.raises(ServiceError, match="future"):
        ot.fairness(sqlite_app, PLANNER, as_of_date=today + timedelta(days=1))

    # a coverage request, a contact and an acceptance recorded in the app today: the default stays put
    view = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=today + timedelta(days=1),
                             shift_type="early")
    ot.contact(sqlite_app, PLANNER, view.code, ["S2"])
    ot.record_response(sqlite_app, PLANNER, view.code, "S2", "accepted")
    assert ot.default_as_of(sqlite_app, PLANNER) == d
    again = ot.fairness(sqlite_app, PLANNER, days=30, periods=0)
    assert again.as_of == rep.as_of and again.report.per_person["hours_worked"].sum() == 8.0
    assert again.later_offers == 1  # the page says that one offer lies after the chosen day
    assert ot.dashboard(sqlite_app, PLANNER, days=30).later_offers == 1
    now = ot.fairness(sqlite_app, PLANNER, days=30, periods=0, as_of_date=today)
    assert now.later_offers == 0 and now.report.per_person.set_index("staff_id").loc["S2", "hours_worked"] == 8.0


def test_reports_without_staff_say_what_to_upload(sqlite_app):
    with pytest.raises(ServiceError, match="staff list"):
        ot.fairness(sqlite_app, PLANNER)
    with pytest.raises(ServiceError, match="staff list"):
        ot.rank(sqlite_app, PLANNER, site="Haus A", shift_date="2026-01-01", shift_type="early")


def test_dashboard_counts_app_requests(sqlite_app):
    today = _seed(sqlite_app)
    view = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=today + timedelta(days=1),
                             shift_type="early")
    d0 = ot.dashboard(sqlite_app, PLANNER, days=90, as_of_date=today)
    assert d0.stats.total_ot_shifts == 2 and len(d0.open_requests) == 1
    ot.contact(sqlite_app, PLANNER, view.code, ["S2"])
    ot.record_response(sqlite_app, PLANNER, view.code, "S2", "accepted")
    d1 = ot.dashboard(sqlite_app, PLANNER, days=90, as_of_date=today)
    assert d1.stats.total_ot_shifts == 3 and d1.open_requests.empty
    assert d1.recent.iloc[0]["request_id"] == view.code and d1.recent.iloc[0]["status"] == "filled"
    assert isinstance(ot.local_now(sqlite_app), datetime)


@pytest.mark.parametrize(("clock", "day_offset", "shift_type"), [
    ("00:10", 0, "early"), ("05:59", 0, "early"), ("06:00", 0, "day"), ("13:00", 0, "late"), ("14:30", 0, "night"),
    ("23:59", 1, "early")])
def test_next_shift_is_the_first_that_has_not_started(sqlite_app, monkeypatch, clock, day_offset, shift_type):
    today = _today(sqlite_app)
    now = datetime.combine(today, datetime.strptime(clock, "%H:%M").time())
    monkeypatch.setattr(ot_ranking, "local_now", lambda app: now)  # next_shift reads the clock there
    nxt = ot.next_shift(sqlite_app, PLANNER)
    assert (nxt.day, nxt.shift_type) == (today + timedelta(days=day_offset), shift_type)
    assert nxt.start > now
    assert ot.next_shift(sqlite_app, PLANNER, ["night"]).shift_type == "night"
    with pytest.raises(PermissionDenied):
        ot.next_shift(sqlite_app, None)


def test_answer_labels_say_why_a_pending_offer_got_no_answer():
    assert [ot.answer_label(r, "filled") for r in ("accepted", "declined", "no_answer", None)] == [
        "accepted", "declined", "no answer", "not needed"]
    assert ot.answer_label(None, "open") == "waiting" and ot.answer_label(None, "cancelled") == "withdrawn"
