"""Forecast and Forecast accuracy pages driven through AppTest (real services, small synthetic history)."""

from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime

import openpyxl
import pandas as pd

from src.data import forecast_store as fstore
from src.services import forecasting as svc
from src.services.context import SYSTEM
from src.services.data import ingest_frame
from src.ui import state
from tests.app.conftest import logged_in
from tests.conftest import ADMIN, PLANNER
from tests.unit.test_forecast_service import CALLS, FAST, SITE, UNIT, load_history


def _page(role: str, user: str, page: str):
    at = logged_in(user, role).run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    return at


def _charts(at) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_forecast_page_without_data_explains_what_to_do(ui_app):
    at = _page("planner", "pat", "forecast.py")
    assert any("No workload or care-home history" in i.value for i in at.info)


def test_planner_trains_in_background_and_sees_results(ui_app):
    load_history(ui_app)
    at = _page("planner", "pat", "forecast.py")
    assert at.multiselect[0].value == [CALLS]
    model_box = next(s for s in at.selectbox if s.label == "Model")
    model_box.set_value("profile")
    next(n for n in at.number_input if n.label == "Backtest folds").set_value(2)
    next(b for b in at.button if b.label == "Train forecast").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state[state.key("fc_job")]
    outcome = job.future.result(timeout=60)  # the training runs in the executor, outside the script run
    assert outcome.runs[0].series_id == CALLS
    at.run()
    assert not at.exception, at.exception
    assert any("Trained and stored 1 forecast" in s.value and s.value.endswith("→ Profile.") for s in at.success)
    assert state.key("fc_job") not in at.session_state
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Model"] == "Profile" and metrics["Measured coverage 95%"].endswith("%")
    figs = _charts(at)
    names = {tr.get("name") for tr in figs[0]["data"]}
    assert {"history", "forecast", "95% interval", "80% interval"} <= names
    assert any(d.label == "Forecast (CSV)" for d in at.get("download_button"))
    backtest = at.dataframe[0].value
    assert list(backtest["model"]) == [svc.MODEL_LABELS["profile"]] and bool(backtest["chosen"].iloc[0])


def test_training_error_is_shown_not_raised(ui_app):
    load_history(ui_app, weeks=3)
    at = _page("planner", "pat", "forecast.py")
    next(n for n in at.number_input if n.label == "Horizon (days)").set_value(14)
    next(b for b in at.button if b.label == "Train forecast").click()
    at.run()
    if state.key("fc_job") in at.session_state:  # a quick failure may already be shown by the run of the click
        at.session_state[state.key("fc_job")].future.exception(timeout=60)
        at.run()
    assert not at.exception
    assert any("needed" in e.value for e in at.error)
    # the series by its label only, not also by its internal id ("Series 'workload:calls@CC-Test' has …")
    message = next(e.value for e in at.error if "needed" in e.value)
    assert CALLS not in message and message.startswith("Nothing was trained. calls · CC-Test has ")
    assert fstore.list_runs(ui_app.engine) == []


def test_care_home_forecast_is_shown_with_components(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [UNIT], horizon_days=14, model="prophet", folds=2)
    at = _page("planner", "pat", "forecast.py")
    at.radio[0].set_value("unit_shifts").run()
    assert not at.exception, at.exception
    assert any(m.label == "Model" and m.value == "Prophet" for m in at.metric)  # in words, not the code
    assert len(_charts(at)) >= 3  # forecast, components, backtest


def test_accuracy_page_shows_live_metrics_heatmap_and_versions(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST)
    at = _page("planner", "pat", "forecast_accuracy.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["With actuals to compare"] == "1"
    per = next(d.value for d in at.dataframe if "live_mape" in d.value.columns)
    assert "live_mape" in per.columns
    titles = [f["layout"]["title"]["text"] for f in _charts(at)]
    assert "MAPE by queue × weekday" in titles and any("forecast vs actual" in t for t in titles)
    assert not any(b.label == "Activate" for b in at.button)  # planner: no admin actions


def test_admin_activates_a_version_on_the_accuracy_page(ui_app):
    load_history(ui_app)
    first = svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST).runs[0]
    second = svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST).runs[0]
    at = _page("admin", "admin", "forecast_accuracy.py")
    at.selectbox(key=state.key("fa_activate_workload")).set_value(second.version_id)
    at.button(key=state.key("fa_activate_btn")).click().run()
    assert not at.exception, at.exception
    assert any("now the active model" in s.value for s in at.success)
    assert svc.current_run(ui_app, CALLS)["id"] == second.run_id != first.run_id
    assert svc.list_versions(ui_app, ADMIN).set_index("version").loc[second.version_id, "active"]


def test_intraday_reforecast_section_with_stored_and_typed_actuals(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST)
    at = _page("planner", "pat", "forecast.py")
    assert any(h.value == "Intraday re-forecast" for h in at.subheader)
    assert at.date_input[-1].value == date(2025, 3, 7)  # the last forecast day whose actuals are stored
    next(b for b in at.button if b.label == "Re-forecast the rest of the day").click()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert "Factor for the rest of the day" in metrics and "Rest of day: re-forecast" in metrics
    assert any("re-forecast was" in i.value for i in at.info)  # a past day: honest check against the rest
    fig = _charts(at)[-1]
    names = {tr.get("name") for tr in fig["data"]}
    assert {"original forecast", "re-forecast", "actual so far", "actual later (stored)"} <= names
    assert any(d.label == "Re-forecast (CSV)" for d in at.get("download_button"))

    run_id = at.selectbox(key=state.key(f"fc_run_{CALLS}")).value
    assert at.radio(key=state.key(f"fc_intra_source_{run_id}")).value == "stored", "its days have actuals"
    at.radio(key=state.key(f"fc_intra_source_{run_id}")).set_value("entered").run()
    at.text_area(key=state.key("fc_intra_text")).input("08:00,60\n09:00,70\n10:00,80\n11:00,9O")
    next(b for b in at.button if b.label == "Re-forecast the rest of the day").click()
    at.run()
    assert not at.exception, at.exception
    assert any("line 4: volume '9O' is not a number" in e.value for e in at.error)
    at.text_area(key=state.key("fc_intra_text")).input("08:00,60\n09:00,70\n10:00,80\n11:00,90")
    next(b for b in at.button if b.label == "Re-forecast the rest of the day").click()
    at.run()
    assert not at.exception and not at.error
    factor = float(next(m.value for m in at.metric if m.label == "Factor for the rest of the day"))
    assert factor > 1.1


def test_intraday_section_is_absent_for_daily_series(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [UNIT], horizon_days=14, model="profile", folds=2)
    at = _page("planner", "pat", "forecast.py")
    at.radio[0].set_value("unit_shifts").run()
    assert not at.exception and not any(h.value == "Intraday re-forecast" for h in at.subheader)


def _train_button(at):
    return next(b for b in at.button if b.label == "Train forecast")


def test_form_is_disabled_as_soon_as_training_starts(ui_app, monkeypatch):
    """The run that starts the training drew the form enabled; only the progress fragment reran, so the button
    looked clickable for the whole training (a second click was silently ignored)."""
    load_history(ui_app)
    release = threading.Event()
    real = svc.train_forecasts

    def gated(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(svc, "train_forecasts", gated)
    at = _page("planner", "pat", "forecast.py")
    next(s for s in at.selectbox if s.label == "Model").set_value("profile")
    _train_button(at).click()
    at.run()
    try:
        assert not at.exception, at.exception
        assert state.key("fc_job") in at.session_state
        assert _train_button(at).disabled
        assert next(n for n in at.number_input if n.label == "Horizon (days)").disabled
    finally:
        release.set()
    at.session_state[state.key("fc_job")].future.result(timeout=60)


def test_retraining_shows_the_new_run_not_the_one_viewed_before(ui_app):
    """After a second training the viewer kept its keyed pickers on the previous run (index= is ignored once a
    keyed widget exists): the success message named the new model while the metrics, chart and downloads were
    the old run's."""
    load_history(ui_app)
    first = svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST).runs[0]
    at = _page("planner", "pat", "forecast.py")
    assert at.selectbox(key=state.key(f"fc_run_{CALLS}")).value == first.run_id
    next(s for s in at.selectbox if s.label == "Model").set_value("seasonal_naive")
    next(n for n in at.number_input if n.label == "Backtest folds").set_value(2)
    _train_button(at).click()
    at.run()
    at.session_state[state.key("fc_job")].future.result(timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("Trained and stored 1 forecast" in s.value for s in at.success)
    second = fstore.list_runs(ui_app.engine, series_id=CALLS)[0]
    assert second["id"] != first.run_id
    assert at.selectbox(key=state.key(f"fc_run_{CALLS}")).value == second["id"]
    assert {m.label: m.value for m in at.metric}["Model"] == "Seasonal naive"
    # the form kept the planner's choices through disabling and re-enabling (unkeyed widgets were reset)
    assert next(s for s in at.selectbox if s.label == "Model").value == "seasonal_naive"
    assert next(n for n in at.number_input if n.label == "Backtest folds").value == 2


def test_backtest_diagnostics_and_forecast_table_read_well(ui_app):
    """Backtest: full width with model names (beside the chart it cut off coverage, time and folds; codes like
    seasonal_naive); diagnostics: labels instead of n_missing/True/ISO times; forecast table: headers instead of
    yhat_lower_80, no repeated series/model/version columns; no 'nan' metric."""
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], horizon_days=7, model="auto", folds=1)
    at = _page("planner", "pat", "forecast.py")
    assert not at.exception, at.exception
    bt = at.dataframe[0].value
    assert list(bt.columns[:3]) == ["model", "chosen", "mase"]
    assert svc.MODEL_LABELS["seasonal_naive"] in set(bt["model"])
    assert {"coverage_80", "coverage_95", "seconds", "folds"} <= set(bt.columns)
    assert "mase_common" not in bt.columns
    # 10 weeks are too short for LightGBM: its row says why, with '–' (not a grey None) for what it could not score
    failed = bt[bt["model"] == svc.MODEL_LABELS["lightgbm"]].iloc[0]
    assert "history" in failed["error"] and failed["mase"] == "–"
    assert bt.loc[bt["model"] != failed["model"], "error"].eq("–").all()
    assert not bt[["coverage_80", "coverage_95"]].isna().any().any()  # '–' (1 fold), never a grey None
    metrics = {m.label: m.value for m in at.metric}
    assert "nan" not in metrics["Backtest MASE"] + metrics["Backtest WAPE"]
    diag = next(d.value for d in at.dataframe if list(d.value.columns) == ["item", "value"])
    items = dict(zip(diag["item"], diag["value"], strict=True))
    assert "n_missing" not in items and "Open intervals without a value (filled)" in items
    assert items["Closed on public holidays"] in ("yes", "no")
    assert "T" not in items["History to"]
    table = at.dataframe[-1]
    assert table.proto.column_order[:2] == ["ds", "yhat"] and "model_version" not in table.proto.column_order
    config = json.loads(table.proto.columns)
    assert config["yhat_lower_80"]["label"] == "80% low" and config["ds"]["label"] == "interval start"


def test_xlsx_download_is_typed_and_readable(ui_app):
    """Backtest sheet: columns were alphabetical JSON keys (model eleventh, mase_common); About sheet: coverage
    and times stored as text. Numbers must be numbers, times datetimes, text formula-safe."""
    load_history(ui_app)
    run = svc.train_forecasts(ui_app, PLANNER, [CALLS], horizon_days=7, model="auto", folds=2).runs[0]
    view = svc.load_run(ui_app, PLANNER, run.run_id)
    view.run["reason"] = "=HYPERLINK(\"http://x\")"  # text from elsewhere must never become a formula
    wb = openpyxl.load_workbook(io.BytesIO(svc.export_forecast(ui_app, PLANNER, view, "xlsx")))
    assert wb.sheetnames == ["Forecast", "Backtest", "About"]
    fc = wb["Forecast"]
    assert [c.value for c in fc[1]][:3] == ["series", "ds", "yhat"]
    assert isinstance(fc["B2"].value, datetime) and isinstance(fc["C2"].value, int | float)
    bt = wb["Backtest"]
    header = [c.value for c in bt[1]]
    assert header[:3] == ["model", "chosen", "MASE"] and "mase_common" not in header
    assert "coverage 80 %" in header
    assert isinstance(bt.cell(2, 3).value, int | float) and isinstance(bt.cell(2, 2).value, bool)
    assert bt.cell(2, 1).value in svc.MODEL_LABELS.values()
    about = {r[0].value: r[1] for r in wb["About"].iter_rows(min_row=2)}
    assert isinstance(about["Measured coverage of the 95% interval (%)"].value, int | float)
    assert isinstance(about["Trained at (UTC)"].value, datetime) and about["Trained at (UTC)"].is_date
    assert isinstance(about["Backtest MASE"].value, int | float)
    why = about["Why this model"]
    assert why.data_type == "s" and why.value.startswith("'=")


def test_accuracy_tables_read_well_and_band_breaks_over_closed_hours(ui_app):
    """Alerts: the detail sentence was cut off in st.dataframe (now a wrapping table; a day-level alert without
    00:00); live accuracy: the status was pushed off to the right and a series without actuals showed grey None;
    versions: coverage cut off behind the version id, None for what one fold cannot measure; chart: the 95% band
    was filled straight across nights and weekends."""
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST)
    svc.train_forecasts(ui_app, PLANNER, [UNIT], horizon_days=7, model="profile", folds=1)  # no actuals after it
    at = _page("planner", "pat", "forecast_accuracy.py")
    assert not at.exception, at.exception
    alerts = at.table[0].value
    assert list(alerts.columns) == ["series", "alert", "first affected", "detail"]
    unc = alerts[alerts["alert"] == "high uncertainty"]
    assert len(unc) and not unc["first affected"].str.contains("00:00").any()
    live = next(d for d in at.dataframe if "live_mae" in d.value.columns)
    assert live.proto.column_order[:3] == ["series", "status", "scored_model"]
    assert live.value["scored_model"].iloc[0] == "Profile"
    versions = next(d for d in at.dataframe if "code_version" in d.value.columns)
    assert versions.proto.column_order[:3] == ["series", "model_name", "active"]
    fig = next(f for f in _charts(at) if "forecast vs actual" in f["layout"]["title"]["text"])
    band = next(t for t in fig["data"] if t.get("name") == "95% interval" and t.get("fill"))
    assert band["fill"] == "toself" and None in band["x"]  # one shape per open stretch, nothing across nights

    at.radio(key=state.key("fa_kind")).set_value("unit_shifts").run()
    assert not at.exception, at.exception
    live = next(d for d in at.dataframe if "status" in d.value.columns)
    row = live.value.iloc[0]
    assert row["status"] == "no actuals yet for the forecast period"
    shown = live.value[[c for c in live.proto.column_order if c in live.value.columns]]
    assert not shown.isna().any().any()  # nothing drawn as a grey None
    versions = next(d for d in at.dataframe if "code_version" in d.value.columns)
    shown = versions.value[[c for c in versions.proto.column_order if c in versions.value.columns]]
    assert not shown.drop(columns=["active", "created_at"]).isna().any().any()


def test_admin_version_actions_name_series_and_delete_asks_first(ui_app):
    """Messages named the series by id ('… is now the active model of workload:calls@CC-Test'); Delete removed
    the pre-selected version on one click."""
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST)
    second = svc.train_forecasts(ui_app, PLANNER, [CALLS], horizon_days=7, model="seasonal_naive", folds=2).runs[0]
    at = _page("admin", "admin", "forecast_accuracy.py")
    at.selectbox(key=state.key("fa_activate_workload")).set_value(second.version_id)
    at.button(key=state.key("fa_activate_btn")).click().run()
    message = next(s.value for s in at.success if "active model" in s.value)
    assert message.startswith("calls · CC-Test: Seasonal naive") and "workload:" not in message

    assert at.button(key=state.key("fa_delete_btn")).disabled
    at.checkbox(key=state.key("fa_delete_confirm")).check().run()
    assert not at.button(key=state.key("fa_delete_btn")).disabled
    to_delete = at.selectbox(key=state.key("fa_delete_workload")).value
    at.button(key=state.key("fa_delete_btn")).click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Deleted calls · CC-Test: Profile") for s in at.success)
    assert to_delete not in set(svc.list_versions(ui_app, ADMIN)["version"])
    assert not at.checkbox(key=state.key("fa_delete_confirm")).value


def test_capacity_alert_counts_days_and_says_when_the_staff_list_cannot_be_complete(ui_app):
    """A care home's capacity alert said '28 interval(s)' for days, and with a staff list that covers far fewer
    shifts than were already worked it read as if every forecast day were impossible to staff."""
    load_history(ui_app)
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["Ann A", "Ben B"], "site": "Haus Test",
                          "role": "Pflegefachkraft", "skills": "wound_care:2", "hire_date": "2020-01-01",
                          "contract_hours": 40.0, "ot_willing": True, "preferred_sites": "Haus Test"})
    ingest_frame(ui_app, SYSTEM, kind="staff", frame=staff, name="test:staff")
    svc.train_forecasts(ui_app, PLANNER, [SITE], horizon_days=7, model="profile", folds=2)
    at = _page("planner", "pat", "forecast_accuracy.py")
    at.radio(key=state.key("fa_kind")).set_value("unit_shifts").run()
    assert not at.exception, at.exception
    alerts = at.table[0].value
    cap = alerts.loc[alerts["alert"] == "demand above capacity", "detail"].iloc[0]
    assert cap.startswith("7 day(s) forecast above the known capacity: 2 staff")
    assert "already worked" in cap and "staff list probably does not hold everyone" in cap


def test_intraday_time_follows_the_viewed_run(ui_app):
    """'Now' kept the time used with the run viewed before (one key for all runs): switching to a run whose
    suggested day closes earlier left a time after its last open interval (demo: 14:00 on a Saturday that closes
    at 13:00), and the re-forecast only answered with an error."""
    from datetime import time as dt_time

    load_history(ui_app)
    older = svc.train_forecasts(ui_app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST).runs[0]
    newer = svc.train_forecasts(ui_app, PLANNER, [CALLS], history_end=date(2025, 2, 23), **FAST).runs[0]
    at = _page("planner", "pat", "forecast.py")
    assert at.selectbox(key=state.key(f"fc_run_{CALLS}")).value == newer.run_id
    at.time_input[-1].set_value(dt_time(17, 0))
    next(b for b in at.button if b.label == "Re-forecast the rest of the day").click()
    at.run()  # the form commits 17:00 for this run
    assert at.time_input[-1].value == dt_time(17, 0)
    at.selectbox(key=state.key(f"fc_run_{CALLS}")).set_value(older.run_id).run()
    assert not at.exception, at.exception
    view = svc.load_run(ui_app, PLANNER, older.run_id)
    assert at.time_input[-1].value == svc.intraday_defaults(view).suggested_now


def test_intraday_defaults_to_typed_volumes_on_a_fresh_forecast(ui_app):
    """Issue 13.8: the default 'Stored volumes of that day' always failed on a fresh forecast (its days have no
    actuals yet). The form opens on typed volumes there, and a typed re-forecast works straight away."""
    load_history(ui_app)
    run = svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST).runs[0]  # all history: the forecast is the future
    at = _page("planner", "pat", "forecast.py")
    assert at.radio(key=state.key(f"fc_intra_source_{run.run_id}")).value == "entered"
    at.text_area(key=state.key("fc_intra_text")).input("08:00,60\n09:00,70\n10:00,80")
    next(b for b in at.button if b.label == "Re-forecast the rest of the day").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(m.label == "Factor for the rest of the day" for m in at.metric)


EVIL = '=HYPERLINK("http://x","y") [click](http://evil.example)'


def test_a_queue_name_is_shown_literally_in_the_trained_message_and_the_alerts(ui_app, monkeypatch):
    """Issue 13.10: a queue named =HYPERLINK("http://x","y") became a live link in the forecast success message
    and in the accuracy alerts table (st.table renders Markdown)."""
    from src.ui.text import md
    from tests.unit.test_forecast_service import synthetic_history

    frame = synthetic_history()["workload"].assign(queue=EVIL)
    ingest_frame(ui_app, SYSTEM, kind="workload", frame=frame, name="test:evil")
    at = _page("planner", "pat", "forecast.py")
    next(s for s in at.selectbox if s.label == "Model").set_value("profile")
    next(n for n in at.number_input if n.label == "Backtest folds").set_value(2)
    next(b for b in at.button if b.label == "Train forecast").click()
    at.run()
    at.session_state[state.key("fc_job")].future.result(timeout=60)
    at.run()
    assert not at.exception, at.exception
    message = next(s.value for s in at.success if s.value.startswith("Trained"))
    assert md(EVIL) in message and "[click](" not in message

    real = svc.accuracy_report

    def with_alert(app, actor, kind="workload"):
        rep = real(app, actor, kind)
        alerts = pd.DataFrame({"series": [EVIL], "alert": ["actual outside the 95% interval"],
                               "when": [pd.Timestamp("2025-03-03 09:00")], "detail": [f"{EVIL}: 3 hours"]})
        per = rep.per_series.assign(series=EVIL, drift=True, status="retrain recommended")
        return svc.AccuracyReport(per, rep.pairs, rep.heatmap, alerts, rep.kind)

    monkeypatch.setattr(svc, "accuracy_report", with_alert)
    at = _page("planner", "pat", "forecast_accuracy.py")
    table = at.table[0].value
    assert table["series"].tolist() == [md(EVIL)] and table["detail"].iloc[0] == md(f"{EVIL}: 3 hours")
    assert any(w.value.startswith(f"**{md(EVIL)}**") for w in at.warning)


def test_accuracy_versions_show_whole_series_names_and_pickers_follow_the_kind(ui_app):
    """Issue 13.12: units of one home could not be told apart (the series column cut their names off); the
    version pickers kept a queue's version while care homes were shown, with Activate enabled for it."""
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], **FAST)
    svc.train_forecasts(ui_app, PLANNER, [UNIT], horizon_days=7, model="profile", folds=2)
    at = _page("admin", "admin", "forecast_accuracy.py")
    assert at.selectbox(key=state.key("fa_activate_workload")).value is not None
    at.radio(key=state.key("fa_kind")).set_value("unit_shifts").run()
    assert not at.exception, at.exception
    versions = next(d for d in at.dataframe if "code_version" in d.value.columns)
    config = json.loads(versions.proto.columns)
    longest = max(versions.value["series"].map(len))
    assert config["series"]["width"] >= 7.5 * longest and config["series"]["label"] == "series"
    assert config["created_at"]["label"] == "created", "times in the app's zone, not 'created (UTC)'"
    assert at.selectbox(key=state.key("fa_activate_unit_shifts")).value is None, "no inactive care version"
    assert at.button(key=state.key("fa_activate_btn")).disabled


def test_backtest_model_names_are_not_cut_off(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [CALLS], horizon_days=7, model="auto", folds=1)
    at = _page("planner", "pat", "forecast.py")
    table = next(d for d in at.dataframe if "chosen" in d.value.columns)
    width = json.loads(table.proto.columns)["model"]["width"]
    assert width >= 7.5 * max(table.value["model"].map(len))
