"""Forecast and Forecast accuracy pages driven through AppTest (real services, small synthetic history)."""

from __future__ import annotations

import json
from datetime import date

from src.data import forecast_store as fstore
from src.services import forecasting as svc
from src.ui import state
from tests.app.conftest import logged_in
from tests.conftest import ADMIN, PLANNER
from tests.unit.test_forecast_service import CALLS, FAST, UNIT, load_history


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
    assert any("Trained and stored 1 forecast" in s.value for s in at.success)
    assert state.key("fc_job") not in at.session_state
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Model"] == "profile" and metrics["Measured coverage 95%"].endswith("%")
    figs = _charts(at)
    names = {tr.get("name") for tr in figs[0]["data"]}
    assert {"history", "forecast", "95% interval", "80% interval"} <= names
    assert any(d.label == "Forecast (CSV)" for d in at.get("download_button"))
    backtest = at.dataframe[0].value
    assert list(backtest["model"]) == ["profile"] and bool(backtest["chosen"].iloc[0])


def test_training_error_is_shown_not_raised(ui_app):
    load_history(ui_app, weeks=3)
    at = _page("planner", "pat", "forecast.py")
    next(n for n in at.number_input if n.label == "Horizon (days)").set_value(14)
    next(b for b in at.button if b.label == "Train forecast").click()
    at.run()
    at.session_state[state.key("fc_job")].future.exception(timeout=60)
    at.run()
    assert not at.exception
    assert any("needed" in e.value for e in at.error)
    assert fstore.list_runs(ui_app.engine) == []


def test_care_home_forecast_is_shown_with_components(ui_app):
    load_history(ui_app)
    svc.train_forecasts(ui_app, PLANNER, [UNIT], horizon_days=14, model="prophet", folds=2)
    at = _page("planner", "pat", "forecast.py")
    at.radio[0].set_value("unit_shifts").run()
    assert not at.exception, at.exception
    assert any(m.label == "Model" and m.value == "prophet" for m in at.metric)
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
    at.selectbox(key=state.key("fa_activate")).set_value(second.version_id)
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

    at.radio(key=state.key("fc_intra_source")).set_value("entered").run()
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
