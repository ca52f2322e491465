"""Overtime pages (dashboard, live rankings with the coverage workflow, fairness report, staff detail) via AppTest.

One demo-loaded SQLite store is shared by the module (loading the demo takes a few seconds); tests that change
data create their own coverage request.
"""

from __future__ import annotations

import pytest

from src.data import overtime_store, store
from src.services.context import set_app
from tests.app.conftest import demo_store, logged_in
from tests.conftest import ADMIN


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with demo_store(tmp_path_factory, "ot_pages") as ctx:
        yield ctx


@pytest.fixture
def ot_app(demo_app):
    set_app(demo_app)
    yield demo_app
    set_app(None)


def _page(name: str, user: str = "pat", role: str = "planner"):
    at = logged_in(user, role).run()
    at.switch_page(f"pages/{name}").run()
    assert not at.exception, at.exception
    return at


def _freeze_local_now(monkeypatch, now) -> None:
    """Make every reader of the overtime clock see ``now``: the pages call ``ot.local_now`` on the package, and each
    module of ``src.services.overtime`` looks up the name it imported (``next_shift``, ``rank``, the options)."""
    import importlib
    import pkgutil

    from src.services import overtime as ot

    modules = [ot] + [importlib.import_module(f"{ot.__name__}.{m.name}") for m in pkgutil.iter_modules(ot.__path__)]
    for module in modules:
        if hasattr(module, "local_now"):
            monkeypatch.setattr(module, "local_now", lambda app: now)


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_dashboard_shows_headline_numbers_and_charts(ot_app):
    at = _page("overtime.py")
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["OT-willing staff"]) > 0
    assert labels["Fairness score"].endswith("/ 100")
    assert labels["Avg response time"].endswith("min")
    assert int(labels["OT shifts covered"]) > 0
    assert len(at.get("plotly_chart")) == 2
    assert len(at.dataframe) >= 2  # top responders, recent requests


def test_rankings_then_coverage_workflow_until_filled(ot_app):
    at = _page("overtime_rankings.py")
    assert any("Rank staff" in i.value for i in at.info)
    at.selectbox(key="wfp_otr_site").set_value("Haus Abendrot")
    at.selectbox(key="wfp_otr_type").set_value("early")
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception, at.exception
    assert int(at.metric[0].value) > 0  # eligible
    table = at.dataframe[0].value
    assert list(table["rank"])[:3] == [1, 2, 3]
    assert {"Availability", "Acceptance", "Fairness", "Site preference", "Reliability", "Why"} <= set(table.columns)
    excluded = at.dataframe[1].value
    assert len(excluded) and excluded["reasons"].str.len().min() > 0
    assert at.get("plotly_chart"), "score-breakdown chart"

    _button(at, "Request coverage").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Coverage request OTR-" in s.value for s in at.success)
    code = at.session_state["wfp_ot_active_request"]
    contact_list = at.dataframe[0].value
    assert set(contact_list["status"]) == {"not contacted"}
    # nobody contacted yet: "–", not Streamlit's grey "None"
    assert set(contact_list["contacted_at"]) == set(contact_list["response_minutes"]) == {"–"}
    open_requests = next(d.value for d in at.dataframe if "created_by" in d.value.columns)
    assert open_requests.set_index("code").loc[at.session_state["wfp_ot_active_request"], "unit"] == "–"
    top = contact_list.iloc[0]

    _button(at, "Record contact").click()  # default selection = the best-ranked person
    at.run()
    assert not at.exception, at.exception
    assert any("Recorded 1 contact" in s.value for s in at.success)
    assert at.dataframe[0].value.iloc[0]["status"] == "waiting"
    assert at.dataframe[0].value.iloc[0]["contacted_at"] != "–" and at.dataframe[0].value.iloc[0]["responded_at"] == "–"

    at.radio(key="wfp_otr_resp_kind").set_value("accepted")
    at.number_input(key="wfp_otr_resp_minutes").set_value(600)  # 10 h after a contact made just now: future
    _button(at, "Record answer").click()
    at.run()
    assert not at.exception, at.exception
    assert any("in the future" in e.value and "minutes were cleared" in e.value for e in at.error), \
        [e.value for e in at.error]
    # #13.5: the typed minutes are cleared after the error, so the next answer does not fail the same way
    assert at.number_input(key="wfp_otr_resp_minutes").value is None
    at.radio(key="wfp_otr_resp_kind").set_value("accepted")
    _button(at, "Record answer").click()  # answered now
    at.run()
    assert not at.exception, at.exception
    assert any(f"{code} is filled" in s.value for s in at.success)
    assert any("filled by" in m.value for m in at.markdown)
    rid = overtime_store.parse_request_code(code)
    req = overtime_store.requests_frame(ot_app.engine, request_id=rid).iloc[0]
    assert req["status"] == "filled" and req["filled_staff_id"] == top["staff_id"]
    contacts = overtime_store.contacts_frame(ot_app.engine, request_id=rid)
    assert contacts["response"].tolist() == ["accepted"]
    actions = set(store.audit_events(ot_app.engine, actor="pat")["action"])
    assert {"overtime.request.create", "overtime.contact", "overtime.response", "overtime.fill"} <= actions


def test_rankings_reject_weights_not_summing_to_100(ot_app):
    at = _page("overtime_rankings.py")
    at.number_input(key="wfp_otr_w_fairness").set_value(50)
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception
    assert any("must add up to 100" in e.value for e in at.error)


def test_rankings_bad_skill_shows_error(ot_app):
    at = _page("overtime_rankings.py")
    at.text_input(key="wfp_otr_skill").input("medication:9")
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception
    assert any("1..5" in e.value for e in at.error)


def test_fairness_report_metrics_chart_and_windows(ot_app):
    at = _page("overtime_fairness.py")
    labels = {m.label: m.value for m in at.metric}
    score = float(labels["Fairness score (0–100)"])
    assert 0 <= score <= 100
    assert any("score = 100 × (1 − Gini)" in m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3  # bars + average, over time, per window
    windows = at.dataframe[0].value
    assert list(windows["days"]) == [30, 60, 90, 180, 365]
    people = at.dataframe[1].value
    assert {"worked_per_40", "charged_per_40", "flag"} <= set(people.columns)
    assert (people["flag"] == "over-utilised").any() and (people["flag"] == "under-utilised").any()
    assert list(at.dataframe[1].proto.column_order)[:3] == ["staff_id", "name", "flag"], "the flag in sight"
    at.radio(key="wfp_ot_fair_basis").set_value("worked")
    at.run()
    assert not at.exception
    assert any("Gini of worked" in m.value for m in at.markdown)


def test_staff_detail_shows_person(ot_app):
    hist = store.load_frame(ot_app.engine, "overtime")
    busiest = hist.loc[hist["accepted"]].groupby("staff_id").size().idxmax()
    at = logged_in("pat", "planner")
    at.query_params["staff"] = busiest
    at.run()
    at.switch_page("pages/overtime_staff.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="wfp_ot_staff_pick").set_value(busiest)
    at.run()
    labels = {m.label: m.value for m in at.metric}
    assert labels["OT hours worked (90 d)"].endswith(" h")
    assert any("Preferred sites" in m.value for m in at.markdown)
    assert len(at.dataframe) >= 2


def test_pages_on_empty_store_explain_what_to_do(ui_app):
    for page in ("overtime.py", "overtime_rankings.py", "overtime_fairness.py", "overtime_staff.py"):
        at = _page(page)
        assert any("staff" in i.value.lower() for i in at.info), page


def test_pages_registered_for_planner_and_admin(ot_app):
    for user, role in (("pat", "planner"), ("admin", "admin")):
        at = logged_in(user, role).run()
        for page in ("overtime.py", "overtime_rankings.py", "overtime_fairness.py", "overtime_staff.py"):
            at.switch_page(f"pages/{page}").run()
            assert not at.exception, (page, at.exception)


def test_rankings_date_stays_after_request_and_absence_excludes_person(ot_app):
    from datetime import timedelta

    from src.services import overtime as ot

    at = _page("overtime_rankings.py")
    day = ot.local_now(ot_app).date() + timedelta(days=9)
    at.date_input(key="wfp_otr_date").set_value(day)
    at.selectbox(key="wfp_otr_site").set_value("Haus Abendrot")
    at.selectbox(key="wfp_otr_type").set_value("late")
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception, at.exception
    top = at.dataframe[0].value.iloc[0]
    _button(at, "Request coverage").click()
    at.run()
    assert not at.exception, at.exception
    assert at.date_input(key="wfp_otr_date").value == day  # did not jump to today / the new default
    _button(at, "Close this request panel").click()
    at.run()
    assert at.date_input(key="wfp_otr_date").value == day
    at.switch_page("pages/overtime_staff.py").run()  # the widget's key is dropped while another page shows
    at.switch_page("pages/overtime_rankings.py").run()
    assert not at.exception, at.exception
    assert at.date_input(key="wfp_otr_date").value == day  # back on the last ranked shift, not today

    # record the top candidate as sick on that day, from the expander on the same page
    at.selectbox(key="wfp_otr_abs_who").set_value(f"{top['staff_id']} · {top['name']}")
    at.date_input(key="wfp_otr_abs_dates").set_value((day, day + timedelta(days=1)))
    at.selectbox(key="wfp_otr_abs_reason").set_value("sick")
    _button(at, "Record absence").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Recorded:" in s.value and top["staff_id"] in s.value for s in at.success)
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception, at.exception
    assert top["staff_id"] not in set(at.dataframe[0].value["staff_id"])
    excluded = at.dataframe[1].value.set_index("staff_id")
    # the absence is one of the reasons (the demo roster may add another, e.g. too little rest after a late shift)
    assert f"absent on {day:%Y-%m-%d} (sick)" in excluded.loc[top["staff_id"], "reasons"].split("; ")
    absences = at.dataframe[2].value
    assert absences[["staff_id", "days", "reason"]].values.tolist() == [[top["staff_id"], 2, "sick"]]

    # a second, overlapping entry is refused with a clear message; then delete the first
    at.selectbox(key="wfp_otr_abs_who").set_value(f"{top['staff_id']} · {top['name']}")
    at.date_input(key="wfp_otr_abs_dates").set_value((day, day))
    _button(at, "Record absence").click()
    at.run()
    assert any("already recorded as absent" in e.value for e in at.error)
    at.selectbox(key="wfp_otr_abs_del_pick").set_value(int(absences["id"].iloc[0]))
    at.run()
    _button(at, "Delete absence").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Deleted the absence" in i.value for i in at.info)
    assert overtime_store.absences_frame(ot_app.engine).empty
    actions = set(store.audit_events(ot_app.engine, actor="pat")["action"])
    assert {"overtime.absence.create", "overtime.absence.delete"} <= actions


def test_staff_detail_records_and_lists_absences(ot_app):
    from src.services import overtime as ot

    sid = store.load_frame(ot_app.engine, "staff")["staff_id"].iloc[0]
    at = logged_in("pat", "planner")
    at.query_params["staff"] = sid
    at.run()
    at.switch_page("pages/overtime_staff.py").run()
    assert not at.exception, at.exception
    today = ot.local_now(ot_app).date()
    at.date_input(key="wfp_ots_abs_dates").set_value((today, today))
    at.selectbox(key="wfp_ots_abs_reason").set_value("training")
    _button(at, "Record absence").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Recorded:" in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert table[["staff_id", "reason", "days"]].values.tolist() == [[sid, "training", 1]]
    ab = overtime_store.absences_frame(ot_app.engine)
    ot.delete_absence(ot_app, ADMIN, int(ab["id"].iloc[0]))


def test_dashboard_admin_trains_acceptance_model_planner_only_sees_status(ot_app):
    at = _page("overtime.py")
    assert not any(b.label == "Train acceptance model" for b in at.button)
    assert any("No acceptance model" in i.value for i in at.info)

    at = _page("overtime.py", "admin", "admin")
    _button(at, "Train acceptance model").click()
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert at.status[0].proto.state in ("complete", 2) or "Trained model" in at.status[0].label
    labels = {m.label: m.value for m in at.metric}
    assert float(labels["Log loss, model"]) > 0 and float(labels["Log loss, historical rate"]) > 0
    assert len(at.get("plotly_chart")) == 3  # trend, response times, model vs rate
    assert any("Rankings use the LightGBM model" in s.value for s in at.success) or any(
        "did not beat" in w.value for w in at.warning)
    assert "overtime.acceptance_model.train" in set(store.audit_events(ot_app.engine, actor="admin")["action"])


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_reports_as_of_stays_put_when_a_coverage_request_is_recorded(ot_app):
    """#13.3: the default "as of" was the day after the newest activity, so one coverage request recorded today
    moved the 90-day window of the Fairness report and the dashboard by weeks ("1,487 h worked" → "930 h")."""
    from datetime import timedelta

    from src.services import overtime as ot
    from tests.conftest import PLANNER

    default = ot.default_as_of(ot_app, PLANNER)
    assert default.source == "history" and default.day == default.history_end  # the demo history's last day
    at = _page("overtime_fairness.py")
    assert at.date_input(key="wfp_ot_fair_asof").value == default.day
    worked = _metrics(at)["Hours worked"]
    assert any(f"the default: the last day of the uploaded overtime history ({default.day:%Y-%m-%d})" in c.value
               for c in at.caption), [c.value for c in at.caption]

    # meanwhile a colleague records a coverage request, an offer and its acceptance
    today = ot.local_now(ot_app).date()
    view = ot.create_request(ot_app, PLANNER, site="Haus Abendrot", shift_date=today + timedelta(days=3),
                             shift_type="early")
    top = view.ranking.candidates[0].staff_id
    ot.contact(ot_app, PLANNER, view.code, [top])
    ot.record_response(ot_app, PLANNER, view.code, top, "accepted")
    later = ot.fairness(ot_app, PLANNER, periods=0).later_offers
    assert later >= 1

    at.run()  # the same session, next rerun
    assert not at.exception, at.exception
    assert at.date_input(key="wfp_ot_fair_asof").value == default.day
    assert _metrics(at)["Hours worked"] == worked
    assert any(f"{later:,} offer(s) made after {default.day:%Y-%m-%d}" in i.value for i in at.info)
    at.switch_page("pages/overtime.py").run()  # the dashboard opens on the same day
    assert not at.exception, at.exception
    assert at.date_input(key="wfp_ot_dash_asof").value == default.day
    fresh = _page("overtime_fairness.py")  # a new session: the same stable default
    assert fresh.date_input(key="wfp_ot_fair_asof").value == default.day
    assert _metrics(fresh)["Hours worked"] == worked

    # a chosen day is kept across page switches; "Count up to today" takes the new offer in
    at.switch_page("pages/overtime_fairness.py").run()
    _button(at, "Count up to today").click()
    at.run()
    assert not at.exception, at.exception
    assert at.date_input(key="wfp_ot_fair_asof").value == today
    assert not any("offer(s) made after" in i.value for i in at.info)
    assert any("chosen (default: the last day of the uploaded overtime history" in c.value for c in at.caption)
    at.switch_page("pages/overtime_staff.py").run()
    at.switch_page("pages/overtime.py").run()
    assert at.date_input(key="wfp_ot_dash_asof").value == today


@pytest.mark.parametrize(("clock", "day_offset", "shift_type", "started"), [
    ("05:30", 0, "early", False), ("12:00", 0, "late", True), ("23:00", 1, "early", True)])
def test_rankings_default_to_the_next_shift_not_started(ot_app, monkeypatch, clock, day_offset, shift_type, started):
    """#13.5: Live rankings opened on today's early shift even when it had started, with no warning until a
    coverage request existed."""
    from datetime import datetime, timedelta

    from src.services import overtime as ot

    today = ot.local_now(ot_app).date()
    now = datetime.combine(today, datetime.strptime(clock, "%H:%M").time())
    _freeze_local_now(monkeypatch, now)
    at = _page("overtime_rankings.py")
    assert at.date_input(key="wfp_otr_date").value == today + timedelta(days=day_offset)
    assert at.selectbox(key="wfp_otr_type").value == shift_type
    _button(at, "Rank staff").click()
    at.run()
    assert not at.exception, at.exception
    assert not any("started" in w.value for w in at.warning)  # the default shift is still to come
    if started:  # a shift that has begun (today's early one) is ranked, with a clear warning
        at.date_input(key="wfp_otr_date").set_value(today)
        at.selectbox(key="wfp_otr_type").set_value("early")
        _button(at, "Rank staff").click()
        at.run()
        assert not at.exception, at.exception
        assert any("This shift started at 06:00" in w.value for w in at.warning), [w.value for w in at.warning]


def test_offer_to_everyone_is_an_explicit_box_and_pending_offers_read_not_needed_after_a_fill(ot_app):
    """#13.15: Streamlit's *Select all* was the first row of "People to offer the shift to" (one click offered the
    shift to everyone); after a fill the others' pending offers showed "–"."""
    from datetime import timedelta

    from src.services import overtime as ot

    at = _page("overtime_rankings.py")
    at.date_input(key="wfp_otr_date").set_value(ot.local_now(ot_app).date() + timedelta(days=12))
    at.selectbox(key="wfp_otr_site").set_value("Haus Abendrot")
    at.selectbox(key="wfp_otr_type").set_value("night")
    _button(at, "Rank staff").click()
    at.run()
    _button(at, "Request coverage").click()
    at.run()
    assert not at.exception, at.exception
    code = at.session_state["wfp_ot_active_request"]
    pick = next(m for m in at.multiselect if m.label == "People to offer the shift to")
    assert pick.proto.HasField("select_all") and pick.proto.select_all == 0  # no bulk row in the dropdown
    n = len(pick.options)
    assert n >= 2 and pick.value == [pick.options[0]]  # the best-ranked person, as before
    box = at.checkbox(key="wfp_otr_contact_all")
    assert box.label == f"Offer it to all {n} people not contacted yet" and box.value is False
    box.check()
    _button(at, "Record contact").click()
    at.run()
    assert not at.exception, at.exception
    assert any(f"Recorded {n} contact(s) for {code}: everyone not contacted yet ({n} people)." == s.value
               for s in at.success), [s.value for s in at.success]
    assert set(at.dataframe[0].value["status"]) == {"waiting"}

    first = next(b for b in at.selectbox if b.label == "Who answered").value
    at.radio(key="wfp_otr_resp_kind").set_value("accepted")
    _button(at, "Record answer").click()
    at.run()
    assert not at.exception, at.exception
    assert any(f"{code} is filled" in s.value for s in at.success)
    closed = next(d.value for d in at.dataframe if "channel" in d.value.columns).set_index("staff_id")
    sid = first.split(" · ")[0]
    assert closed.loc[sid, "response"] == "accepted"
    assert set(closed.drop(index=sid)["response"]) == {"not needed"} and len(closed) == n
    other = closed.drop(index=sid).index[0]
    detail = logged_in("pat", "planner")
    detail.query_params["staff"] = other
    detail.run()
    detail.switch_page("pages/overtime_staff.py").run()
    assert not detail.exception, detail.exception
    mine = next(d.value for d in detail.dataframe if "contacted_by" in d.value.columns).set_index("request_id")
    assert mine.loc[code, "answer"] == "not needed"


def _headers(frame) -> dict[str, str]:
    """What a st.dataframe shows as column headers: the column config's label, else the column's own name."""
    import json

    cfg = json.loads(frame.proto.columns or "{}")
    order = list(frame.proto.column_order) or list(frame.value.columns)
    return {c: (cfg.get(c) or {}).get("label") or c for c in order if not (cfg.get(c) or {}).get("hidden")}


def _raw_headers(at) -> list[str]:
    return [h for d in at.dataframe for h in _headers(d).values()
            if "_" in h or not (h[:1].isupper() or h[:1] in "#0123456789")]


def test_overtime_tables_use_words_for_headers_and_one_rate_format(ot_app):
    """#13.12/#13.13: headers like staff_id, created_at, name, code; "62.5%" next to "55.56%" in Top responders;
    recent requests cut off beside the top responders."""
    from datetime import timedelta

    from src.services import overtime as ot

    at = _page("overtime.py")
    assert _raw_headers(at) == []
    top = next(d for d in at.dataframe if "acceptance_rate" in d.value.columns)
    import json

    rate = json.loads(top.proto.columns)["acceptance_rate"]
    assert rate["type_config"]["format"] == "%.0f%%"
    assert top.value["acceptance_rate"].between(0, 100).all() and top.value["acceptance_rate"].max() > 1
    recent = next(d for d in at.dataframe if "first_contacted_at" in d.value.columns).value
    taken = recent.loc[recent["status"] == "filled", "accepted_by"]
    assert len(taken) and taken.str.fullmatch(r".+ \(S\d+\)").all(), taken.head()  # "Anna Berg (S0042)"

    at = _page("overtime_fairness.py")
    assert _raw_headers(at) == []
    hist = store.load_frame(ot_app.engine, "overtime")
    at = logged_in("pat", "planner")
    at.query_params["staff"] = hist.loc[hist["accepted"]].groupby("staff_id").size().idxmax()
    at.run()
    at.switch_page("pages/overtime_staff.py").run()
    assert not at.exception, at.exception
    assert _raw_headers(at) == []

    at = _page("overtime_rankings.py")
    at.date_input(key="wfp_otr_date").set_value(ot.local_now(ot_app).date() + timedelta(days=20))
    at.selectbox(key="wfp_otr_site").set_value("Haus Abendrot")
    _button(at, "Rank staff").click()
    at.run()
    assert len(at.dataframe) >= 2 and _raw_headers(at) == []  # ranking, excluded
    _button(at, "Request coverage").click()
    at.run()
    assert not at.exception, at.exception
    assert len(at.dataframe) >= 3 and _raw_headers(at) == []  # contact list, ranking, excluded, open requests
    _button(at, "Record contact").click()
    at.run()
    _button(at, "Cancel request").click()
    at.run()
    assert not at.exception, at.exception
    closed = next(d for d in at.dataframe if "channel" in d.value.columns)
    assert _raw_headers(at) == [] and set(closed.value["response"]) == {"withdrawn"}


def test_overtime_pages_show_uploaded_names_literally(ui_app):
    """#13.10: a site or person named like a Markdown link must not become a link on the overtime pages."""
    from datetime import timedelta

    import pandas as pd

    from src.services import data as data_service
    from src.services import overtime as ot

    site, evil = "[Haus](http://evil.example)", "**Bold** :red[Eve]"
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": [evil, "Ben"], "site": [site] * 2,
                          "role": ["Pflegefachkraft"] * 2, "skills": ["medication:3"] * 2,
                          "hire_date": pd.to_datetime(["2015-01-01", "2018-01-01"]), "contract_hours": [40.0] * 2,
                          "ot_willing": [True] * 2, "preferred_sites": [site] * 2})
    day = pd.Timestamp(ot.local_now(ui_app).date() - timedelta(days=5))
    hist = pd.DataFrame({"request_id": ["R1"], "shift_date": [day], "site": [site], "shift_type": ["early"],
                         "staff_id": ["S1"], "contacted_at": [day - pd.Timedelta(hours=20)],
                         "responded_at": [day - pd.Timedelta(hours=19)], "accepted": [True], "hours_worked": [8.0],
                         "unit": ["WB <1>"]})
    data_service.ingest_frame(ui_app, ADMIN, kind="staff", frame=staff, name="staff")
    data_service.ingest_frame(ui_app, ADMIN, kind="overtime", frame=hist, name="ot")

    def shown(at) -> str:
        texts = [e.value for kind in ("markdown", "caption", "success", "info", "warning", "error", "subheader")
                 for e in getattr(at, kind)]
        texts += [b.label for b in at.button]
        return "\n".join(texts)

    at = _page("overtime_rankings.py")
    at.date_input(key="wfp_otr_date").set_value(day.date() + timedelta(days=10))
    _button(at, "Rank staff").click()
    at.run()
    _button(at, "Request coverage").click()
    at.run()
    assert not at.exception, at.exception
    at.checkbox(key="wfp_otr_contact_all").check()
    _button(at, "Record contact").click()
    at.run()
    next(b for b in at.selectbox if b.label == "Who answered").set_value(f"S1 · {evil}")
    at.radio(key="wfp_otr_resp_kind").set_value("accepted")
    at.checkbox(key="wfp_otr_resp_fill").uncheck()
    _button(at, "Record answer").click()
    at.run()
    assert not at.exception, at.exception
    text = shown(at)
    assert "\\[Haus\\](http\\://evil.example)" in text  # the site, escaped, in the request's headline
    assert "](http://evil" not in text and "\\*\\*Bold\\*\\* \\:red\\[Eve\\]" in text  # the answer / fill button
    at = logged_in("pat", "planner")
    at.query_params["staff"] = "S1"
    at.run()
    at.switch_page("pages/overtime_staff.py").run()
    assert not at.exception, at.exception
    text = shown(at)
    assert "**Home site:** \\[Haus\\](http\\://evil.example)" in text and "](http://evil" not in text
