"""Staffing page driven through AppTest: load volume from history, what-if, shift plan, calculator, save."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src.data import plan_store, store
from src.services import data as data_service
from tests.app.conftest import logged_in
from tests.conftest import ADMIN

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "sample"
PAGE = "pages/staffing.py"


def _key(name: str) -> str:
    return "wfp_" + name


@pytest.fixture
def staffed_app(ui_app):
    for kind, name in (("workload", "workload_sample.csv"), ("unit_shifts", "unit_shifts_sample_de.csv")):
        out = data_service.ingest_upload(ui_app, ADMIN, kind=kind, filename=name,
                                         content=(SAMPLES / name).read_bytes())
        assert out.stored, out.message
    return ui_app


def _open(role: str = "planner"):
    at = logged_in("pat" if role == "planner" else "admin", role).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _submit(at, label: str):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def test_empty_store_explains_what_to_do(ui_app):
    at = _open()
    assert at.title[0].value == "Staffing"
    assert any("No workload history" in i.value for i in at.info)
    assert all(m.label != "Agent hours (after shrinkage)" for m in at.metric)
    # the single-interval calculator works without any stored data (typed-in volume)
    assert next(m for m in at.metric if m.label.startswith("Agents (Erlang")).value == "20"


def test_history_plan_whatif_shift_plan_and_save(staffed_app):
    at = _open()
    _submit(at, "Load volume")
    assert any("Workload history" in s.value for s in at.success)
    charts = at.get("plotly_chart")
    assert charts, "the requirement chart is drawn"
    hours = _metric(at, "Agent hours (after shrinkage)")
    base_hours = float(hours.value.replace(",", ""))
    assert base_hours > 0 and not hours.delta
    sl = _metric(at, "Service level (voice)")
    assert sl.value.endswith("%") and float(sl.value.rstrip("%")) >= 80.0
    intervals = next(d.value for d in at.dataframe if "agents_raw" in d.value.columns)
    assert {"agents", "service_level"} <= set(intervals.columns) and len(intervals) > 20
    assert (intervals["agents"] >= intervals["agents_raw"]).all()

    # what-if: +20 % volume → more hours, with a delta against the base plan
    at.slider(key=_key("wi_volume")).set_value(20).run()
    assert not at.exception, at.exception
    more = _metric(at, "Agent hours (after shrinkage)")
    assert float(more.value.replace(",", "")) > base_hours
    assert more.delta and more.delta.startswith("+")
    at.button(key=_key("wi_reset")).click().run()
    assert not _metric(at, "Agent hours (after shrinkage)").delta

    # a bad parameter edit is a clear error, not a crash
    # shift plan for calls
    _submit(at, "Build shift plan")
    paid = _metric(at, "Paid hours")
    assert float(paid.value.replace(",", "")) > 0
    assert _metric(at, "SL with planned people").value.endswith("%")

    # calculator: textbook case 100 calls / 30 min, AHT 180 s, 80/20, 30 % shrinkage → 14 productive, 20 scheduled
    assert _metric(at, "Agents (Erlang C)").value == "20"
    assert _metric(at, "Productive agents").value == "14"

    at.text_input(key=_key("save_name")).input("Week plan")
    _submit(at, "Save plan")
    assert any("Saved as plan" in s.value for s in at.success)
    assert plan_store.count_plans(staffed_app.engine) == 1
    events = store.audit_events(staffed_app.engine, action="staffing.plan_save")
    assert len(events) == 1 and events.iloc[0]["actor"] == "pat"
    # the rerun after saving lists and opens the new plan in the Saved plans tab, with its own downloads
    assert at.selectbox(key=_key("saved_pick")).value == plan_store.list_plans(staffed_app.engine)["id"].iloc[0]
    assert len(at.download_button) == 4


def test_care_source_plans_staff_per_unit_and_day(staffed_app):
    at = _open()
    at.radio(key=_key("source")).set_value("care").run()
    _submit(at, "Load volume")
    assert any("Care-home unit shifts" in s.value for s in at.success)
    assert float(_metric(at, "Care staff shifts").value.replace(",", "")) > 0
    assert any("no interval shift plan" in i.value for i in at.info)


def test_upload_with_errors_shows_row_level_report(staffed_app):
    at = _open()
    at.radio(key=_key("source")).set_value("upload").run()
    bad = b"ds,queue,yhat\n2026-11-02 08:00,calls,12.5\n2026-11-02 09:00,calls,-3\n2026-11-02 10:00,calls,abc\n"
    at.file_uploader(key=_key("vol_upload")).upload("fc.csv", bad, "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert at.error
    report = at.dataframe[0].value
    assert set(report["row"].dropna().astype(int)) >= {3, 4}
    assert all(b.label != "Use this volume" for b in at.button)


def test_upload_clean_forecast_file_is_planned(staffed_app):
    at = _open()
    at.radio(key=_key("source")).set_value("upload").run()
    good = "ds,queue,yhat,yhat_upper_80\n" + "".join(
        f"2026-11-02 {h:02d}:00,calls,{80 + h * 3.5},{100 + h * 4}\n" for h in range(8, 18))
    at.file_uploader(key=_key("vol_upload")).upload("fc.csv", good.encode(), "text/csv")
    at.run()
    _submit(at, "Use this volume")
    assert any("Uploaded file fc.csv" in s.value for s in at.success)
    at.radio(key=_key("basis")).set_value("upper_80").run()
    assert not at.exception, at.exception
    assert float(_metric(at, "Peak agents in one interval").value) > 0


def test_calculator_erlang_a_and_large_traffic(ui_app):
    at = _open()
    at.radio(key=_key("k_model")).set_value("Erlang A")
    _submit(at, "Calculate")
    assert _metric(at, "Agents (Erlang A)").value.isdigit()
    at.radio(key=_key("k_model")).set_value("Erlang C")
    at.number_input(key=_key("k_calls")).set_value(100000.0)
    _submit(at, "Calculate")
    assert int(_metric(at, "Productive agents").value) > 10_000  # 10,000 Erlangs, no overflow


@pytest.mark.parametrize("model", ["Erlang C", "Erlang A"])
def test_calculator_with_no_calls_shows_no_service_level(ui_app, model):
    """0 calls: nobody waits, so there is no SL/ASA/occupancy — not 100 % (as closed hours in a plan)."""
    at = _open()
    at.radio(key=_key("k_model")).set_value(model)
    at.number_input(key=_key("k_calls")).set_value(0.0)
    _submit(at, "Calculate")
    assert not at.exception, at.exception
    assert _metric(at, "Service level").value == "—" and _metric(at, "ASA").value == "—"
    assert any("No calls in the interval" in c.value for c in at.caption)


def test_bad_parameter_edit_is_a_clear_error(staffed_app, monkeypatch):
    from src.services import staffing as svc

    real = svc.params_table

    def broken(params):
        t = real(params)
        t.loc[t["queue"] == "calls", "sl_target_pct"] = None
        t.loc[t["queue"] == "calls", "asa_target_s"] = None
        return t

    monkeypatch.setattr(svc, "params_table", broken)
    at = _open()
    _submit(at, "Load volume")
    assert any("calls" in e.value and "target" in e.value for e in at.error)


def test_page_is_registered_for_planner_and_admin(staffed_app):
    for role in ("planner", "admin"):
        at = _open(role)
        assert at.title[0].value == "Staffing"


def test_saved_plan_can_be_downloaded_again(staffed_app, monkeypatch):
    import io

    from openpyxl import load_workbook
    from streamlit.runtime.media_file_manager import MediaFileManager

    deferred: dict[str, object] = {}  # file name → the button's deferred data callable
    real_add = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        deferred[file_name] = data_callable
        return real_add(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    at = _open()
    _submit(at, "Load volume")
    at.text_input(key=_key("save_name")).input("=Week plan")
    _submit(at, "Save plan")
    (pid,) = plan_store.list_plans(staffed_app.engine)["id"].tolist()
    assert not at.exception, at.exception
    assert at.selectbox(key=_key("saved_pick")).value == pid
    xlsx = at.download_button(key=_key("saved_dl_xlsx"))
    csv = at.download_button(key=_key("saved_dl_csv"))
    assert (xlsx.label, csv.label) == ("Download Excel workbook", "Download CSV")
    assert xlsx.proto.deferred_file_id and csv.proto.deferred_file_id, "bytes are built only on click"
    assert xlsx.proto.ignore_rerun and csv.proto.ignore_rerun
    assert len(at.download_button) == 4  # the live plan's two buttons are still there
    # a second save (the selectbox already exists now) opens the newer plan, no widget-state error
    at.text_input(key=_key("save_name")).input("Second plan")
    _submit(at, "Save plan")
    assert not at.exception, at.exception
    newest = max(plan_store.list_plans(staffed_app.engine)["id"].tolist())
    assert newest != pid and at.selectbox(key=_key("saved_pick")).value == newest
    assert any("Saved as plan #" in s.value for s in at.success)

    name = f"staffing_plan_{pid}_Week_plan"
    assert {f"{name}.xlsx", f"{name}.csv"} <= set(deferred)
    wb = load_workbook(io.BytesIO(deferred[f"{name}.xlsx"]()))
    info = {r[0]: r[1] for r in wb["Info"].iter_rows(min_row=2, values_only=True)}
    assert info["Saved plan ID"] == pid and info["Plan name"] == "'=Week plan"
    assert "Intervals" in wb.sheetnames
    assert deferred[f"{name}.csv"]().decode("utf-8-sig").startswith('"queue","ds"')
    events = store.audit_events(staffed_app.engine, action="staffing.export")
    assert len(events) == 2 and set(events["actor"]) == {"pat"}


def _save_mixed_plan(ctx, name: str, *, with_shift_plan: bool = True) -> int:
    """Save an Erlang A calls + e-mail plan through the service (no stored history needed)."""
    from dataclasses import replace

    import pandas as pd

    from src.services import staffing as svc
    from tests.conftest import PLANNER

    ds = pd.date_range("2026-11-02 08:00", periods=6, freq="h")
    frame = pd.DataFrame({"queue": ["calls"] * 6 + ["emails"] * 6, "ds": list(ds) * 2,
                          "yhat": [120.0, 200.0, 220.0, 180.0, 90.0, 40.0, 40.0, 80.0, 60.0, 30.0, 20.0, 10.0]})
    v = svc.VolumeInput(frame=frame, source="upload", detail="Uploaded file mixed.csv", interval_seconds=3600)
    params = svc.default_params_for(v)
    params["calls"] = replace(params["calls"], patience_s=90.0)
    plan = svc.build_plan(ctx, PLANNER, v, params)
    sp = svc.build_shift_plan(ctx, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table())) \
        if with_shift_plan else None
    return svc.save_plan(ctx, PLANNER, plan, name=name, volume=v, shift_plan=sp)


def _saved_table(at):
    """The opened saved plan's requirement table (the only interval table while no live plan is loaded)."""
    return next(d.value for d in at.dataframe if "agents_raw" in d.value.columns)


def test_saved_plans_open_and_download_with_no_live_inputs(ui_app, monkeypatch):
    """A manager with no history, forecast or upload loaded opens and downloads a saved plan right away."""
    from src.services import staffing as svc

    opened: list[int] = []
    real_open = svc.open_saved_plan

    def counting_open(app, actor, plan_id):
        opened.append(plan_id)
        return real_open(app, actor, plan_id)

    monkeypatch.setattr(svc, "open_saved_plan", counting_open)
    at = _open()
    assert any("No saved plans yet" in i.value for i in at.info)
    older = _save_mixed_plan(ui_app, "Week 44", with_shift_plan=False)
    newest = _save_mixed_plan(ui_app, "Week 45")
    at = _open()
    assert any("No workload history" in i.value for i in at.info), "no live inputs are available"
    assert all(m.label != "Agent hours (after shrinkage)" for m in at.metric), "no live plan was computed"

    listed = next(d.value for d in at.dataframe if "source_detail" in d.value.columns)
    assert listed["id"].tolist() == [newest, older]
    stored = svc.list_saved_plans(ui_app, ADMIN).set_index("id")["created_at"]  # UTC in the store
    expected = pd.to_datetime(stored[newest]).tz_localize("UTC").tz_convert(ui_app.settings.timezone)
    assert pd.Timestamp(listed.set_index("id").loc[newest, "created_at"]) == expected.tz_localize(None)
    pick = at.selectbox(key=_key("saved_pick"))
    assert pick.value == newest
    table = _saved_table(at)
    quality = {"service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon"}
    assert quality <= set(table.columns) and table[sorted(quality)].notna().all().all()
    assert table["p_abandon"].gt(0).any(), "Erlang A abandonment as saved"
    assert {"planned", "planned_service_level"} <= set(table.columns) and "backlog_hours" not in table
    assert any("shift plan for calls" in c.value for c in at.caption)
    assert not any(c.value.startswith("Not recorded") for c in at.caption)
    assert any(d.value.columns.tolist()[:2] == ["pattern", "start"] for d in at.dataframe), "people per shift start"
    labels = [(b.label, b.proto.deferred_file_id != "") for b in at.download_button]
    assert labels == [("Download Excel workbook", True), ("Download CSV", True)]  # only the saved plan's
    at.run()  # any other rerun (a live slider, another tab) reuses the opened plan of this session
    assert not at.exception and opened == [newest]

    # the e-mail queue shows its backlog, not voice-only columns
    at.selectbox(key=_key(f"saved_queue_{newest}")).set_value("emails").run()
    assert not at.exception, at.exception
    emails = _saved_table(at)
    assert emails["backlog_hours"].notna().all() and not {"service_level", "p_wait"} & set(emails.columns)

    # another plan opens from the list
    pick.set_value(older).run()
    assert not at.exception, at.exception
    assert opened == [newest, older]
    table = _saved_table(at)
    assert table["p_wait"].notna().all() and "planned" not in table, "saved without a shift plan"
    assert not any("pattern" in d.value.columns for d in at.dataframe)
    assert len(at.download_button) == 2


def test_plan_saved_before_the_quality_columns_opens_with_them_empty(ui_app):
    from src.data import db

    pid = _save_mixed_plan(ui_app, "Old week")
    with db.write_tx(ui_app.engine) as conn:  # what schema version 1 left behind
        for col in plan_store.V2_INTERVAL_COLUMNS:
            conn.exec_driver_sql(f"ALTER TABLE staffing_plan_intervals DROP COLUMN {col}")
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=1, applied_at=db.utcnow()))
    db.init_schema(ui_app.engine)  # the app's start-up upgrade

    at = _open()
    assert at.selectbox(key=_key("saved_pick")).value == pid
    table = _saved_table(at)
    assert "p_wait" in table and table["p_wait"].isna().all(), "not recorded: an empty column, not an error"
    assert any(c.value.startswith("Not recorded when this plan was saved") and "P(wait)" in c.value
               for c in at.caption)
    assert table["service_level"].notna().all() and table["planned"].notna().all()
    assert len(at.download_button) == 2


def test_whatif_zero_changes_are_neutral_and_mixed_channel_tables_say_dash(staffed_app):
    at = _open()
    _submit(at, "Load volume")
    at.slider(key=_key("wi_volume")).set_value(5).run()
    assert not at.exception, at.exception
    below = _metric(at, "Intervals below SL target")
    # +5 % volume changes hours, but no interval falls below the target: "0" (grey, no arrow), not a red "↑ +0"
    assert _metric(at, "Agent hours (after shrinkage)").delta.startswith("+")
    assert below.value == "0" and below.delta == "0"
    daily = next(d.value for d in at.dataframe if "productive_hours" in d.value.columns)
    emails = daily[daily["queue"] == "emails"]
    assert len(emails) and set(emails["service_level"]) == {"–"} and set(emails["asa_seconds"]) == {"–"}
    assert daily.loc[daily["queue"] == "calls", "service_level"].str.endswith("%").all()
    summary = next(d.value for d in at.dataframe if "intervals_below_target" in d.value.columns)
    assert summary.set_index("queue").loc["emails", "intervals_below_target"] == "–"
    _submit(at, "Build shift plan")
    shifts = next(d for d in at.dataframe if "paid_hours" in d.value.columns and "pattern" in d.value.columns)
    assert list(shifts.proto.column_order)[:3] == ["pattern", "start", "people"], "the count next to the start"


def _path_to(node, wanted, path=()):
    """Where in the element tree the first node matching ``wanted`` sits (its delta path)."""
    for idx, child in getattr(node, "children", {}).items():
        if wanted(child):
            return (*path, idx)
        found = _path_to(child, wanted, (*path, idx))
        if found:
            return found
    return None


def test_result_tabs_keep_their_place_when_a_whatif_note_appears(staffed_app):
    """The browser redraws tabs whose place in the page changed, on their first tab: a what-if caption appearing
    above the result tabs sent a planner reading the Daily summary back to the requirement table."""
    at = _open()
    _submit(at, "Load volume")

    def where():
        return _path_to(at._tree, lambda n: getattr(n, "type", None) == "tab" and n.label == "Daily summary")

    neutral = where()
    at.slider(key=_key("wi_volume")).set_value(10).run()
    assert any(c.value.startswith("What-if:") for c in at.caption)
    assert neutral is not None and where() == neutral


def test_editors_show_blank_parameters_as_a_dash_or_empty_not_none(staffed_app):
    """Optional parameters left blank (no ASA target, no patience = Erlang C, no SL target for e-mails) showed
    Streamlit's grey "None", which reads like a value. The parameters editor shows "–", the shift-pattern editor
    (where an empty 'break after' means the middle of the shift) an empty cell; the values stay empty (NaN)."""
    at = _open()
    _submit(at, "Load volume")
    params = next(d for d in at.dataframe if "sl_target_pct" in d.value.columns)
    assert params.proto.HasField("placeholder") and params.proto.placeholder == "–"
    table = params.value.set_index("queue")
    assert table.loc["calls", "patience_s"] != table.loc["calls", "patience_s"], "still NaN: Erlang C"
    assert table.loc["emails", "sl_target_pct"] != table.loc["emails", "sl_target_pct"]
    patterns = next(d for d in at.dataframe if "break_after_minutes" in d.value.columns)
    assert patterns.proto.HasField("placeholder") and patterns.proto.placeholder == ""
    assert patterns.value["break_after_minutes"].isna().all()
    assert _metric(at, "Agent hours (after shrinkage)").value != "0", "the plan is computed from these values"


def _deferred_downloads(monkeypatch) -> dict[str, object]:
    """file name → the deferred data callable of every download button drawn (AppTest cannot fetch the bytes)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    deferred: dict[str, object] = {}
    real_add = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        deferred[file_name] = data_callable
        return real_add(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return deferred


def _workbook(deferred: dict[str, object], suffix: str = ".xlsx"):
    import io

    from openpyxl import load_workbook

    (name,) = [n for n in deferred if n.endswith(suffix) and not n.startswith("staffing_plan_1_")][-1:]
    return load_workbook(io.BytesIO(deferred[name]()))


def _info(wb) -> dict:
    return {r[0]: r[1] for r in wb["Info"].iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def two_forecasts_app(ui_app):
    """calls trained on all history (next week), emails with a back-dated history end (a past test week)."""
    from datetime import date

    from src.services import forecasting as fc
    from tests.conftest import PLANNER
    from tests.unit.test_staffing_forecast_period import CALLS, EMAILS, _history

    data_service.ingest_frame(ui_app, ADMIN, kind="workload", frame=_history(), name="t")
    fc.train_forecasts(ui_app, PLANNER, [CALLS], horizon_days=7, model="seasonal_naive", folds=1)
    fc.train_forecasts(ui_app, PLANNER, [EMAILS], horizon_days=7, model="seasonal_naive", folds=1,
                       history_end=date(2026, 10, 10))
    return ui_app


def test_stored_forecasts_of_different_weeks_are_not_added_into_one_plan(two_forecasts_app):
    """Issue #13.1: the default selection (both queues) planned the past test week and next week as one plan."""
    from datetime import date

    at = _open()
    at.radio(key=_key("source")).set_value("forecast").run()
    assert not at.exception, at.exception
    assert at.multiselect(key=_key("f_series")).value == ["workload:calls@A", "workload:emails@A"]
    periods = next(c.value for c in at.caption if c.value.startswith("Current forecasts — "))
    assert "calls · A: Sat 2026-10-31 14:00 → Sat 2026-11-07 13:00" in periods
    assert "emails · A: Fri 2026-10-09 18:00 → Fri 2026-10-16 17:00" in periods
    start = next(d for d in at.date_input if d.label == "Plan from")
    assert start.value == date(2026, 11, 1), "default: the next week the forecasts cover"
    _submit(at, "Load volume")
    assert any(s.value.startswith("**Stored forecast for Sun 2026-11-01 → Sat 2026-11-07: calls · A**")
               and "1 queue(s)" in s.value for s in at.success)
    assert any("emails · A (forecast for Fri 2026-10-09 18:00" in w.value and "left out" in w.value
               for w in at.warning), "the queue without a forecast for the week is named"
    both = float(_metric(at, "Agent hours (after shrinkage)").value.replace(",", ""))

    at.multiselect(key=_key("f_series")).set_value(["workload:calls@A"]).run()
    _submit(at, "Load volume")
    assert not at.warning
    assert float(_metric(at, "Agent hours (after shrinkage)").value.replace(",", "")) == both > 0

    # the planner can choose the past week instead: then only the e-mail forecast is planned
    at.multiselect(key=_key("f_series")).set_value(["workload:calls@A", "workload:emails@A"]).run()
    next(d for d in at.date_input if d.label == "Plan from").set_value(date(2026, 10, 10))
    next(n for n in at.number_input if n.label == "Days").set_value(6)
    _submit(at, "Load volume")
    assert any("Sat 2026-10-10 → Thu 2026-10-15: emails · A" in s.value for s in at.success)
    assert any("calls · A (forecast for Sat 2026-10-31 14:00" in w.value for w in at.warning)


def test_a_whatif_does_not_carry_over_to_the_next_volume(staffed_app, monkeypatch):
    """Issue #13.2: +10 % on the calls plan, then the care homes loaded: the care plan opened at +10 % shifts and
    its workbook's Info sheet recorded it."""
    deferred = _deferred_downloads(monkeypatch)
    at = _open()
    _submit(at, "Load volume")
    at.slider(key=_key("wi_volume")).set_value(10).run()
    assert _metric(at, "Agent hours (after shrinkage)").delta.startswith("+")
    assert _info(_workbook(deferred))["What-if"] == "volume +10 %"

    deferred.clear()
    at.radio(key=_key("source")).set_value("care").run()
    _submit(at, "Load volume")
    assert at.slider(key=_key("wi_volume")).value == 0
    care = _metric(at, "Care staff shifts")
    assert not care.delta and not any(c.value.startswith("What-if:") for c in at.caption)
    assert _info(_workbook(deferred))["What-if"] == "as planned"
    # a what-if set on the care plan is its own (and in its words)
    at.slider(key=_key("wi_volume")).set_value(10).run()
    assert any(c.value == "What-if: shifts +10 %. Deltas compare with the plan as entered." for c in at.caption)


def test_care_plan_uses_care_words_on_screen_and_in_the_workbook(staffed_app, monkeypatch):
    """Issue #13.11: "queue(s)", "agents", "AHT (seconds) = 86400", "Answered within (seconds) = 20" on a care
    plan. It speaks of units, shifts and staff per shift, and leaves out what means nothing for a care unit."""
    deferred = _deferred_downloads(monkeypatch)
    at = _open()
    at.radio(key=_key("source")).set_value("care").run()
    _submit(at, "Load volume")
    ok = next(s.value for s in at.success if "Care-home unit shifts" in s.value)
    assert "unit-days" in ok and "unit(s)" in ok and "queue" not in ok and "interval" not in ok
    assert any(h.value == "2 · Staff per shift per unit" for h in at.subheader)
    editor = next(d for d in at.dataframe if "care_ratio" in d.value.columns)
    assert list(editor.proto.column_order) == ["queue", "care_ratio"]
    labels = {c: cfg.get("label") for c, cfg in __import__("json").loads(editor.proto.columns).items()}
    assert labels["queue"] == "unit" and labels["care_ratio"] == "staff per shift"
    assert at.selectbox(key=_key("req_queue")).label == "Unit"
    table = next(d.value for d in at.dataframe if "agents" in d.value.columns and "ds" in d.value.columns)
    assert list(table.columns) == ["ds", "date", "volume", "agents"], "no AHT, traffic, occupancy or SL"

    wb = _workbook(deferred)
    words = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows(max_row=1) for c in row)
    for cc in ("Queue", "agents", "Agents", "AHT", "Answered within", "Service level", "Occupancy", "Traffic"):
        assert cc not in words, f"{cc!r} in a care workbook's headers"
    assert [c.value for c in wb["Parameters"][1]] == ["Unit", "Shifts basis (point forecast or upper bound)",
                                                      "Staff per shift"]
    assert [c.value for c in wb["Intervals"][1]] == ["Unit", "Date", "Shifts", "Staff to schedule"]
    info = _info(wb)
    assert "Interval length (minutes)" not in info and info["What-if"] == "as planned"


def test_saved_care_plan_opens_in_care_words(staffed_app):
    at = _open()
    at.radio(key=_key("source")).set_value("care").run()
    _submit(at, "Load volume")
    at.text_input(key=_key("save_name")).input("Care week")
    _submit(at, "Save plan")
    (pid,) = plan_store.list_plans(staffed_app.engine)["id"].tolist()
    assert at.selectbox(key=_key(f"saved_queue_{pid}")).label == "Unit"
    tables = [d.value for d in at.dataframe if list(d.value.columns) == ["ds", "date", "volume", "agents"]]
    assert len(tables) == 2, "the live and the saved unit table, both without contact-centre columns"
    assert any("what-if: as planned" in c.value for c in at.caption)
