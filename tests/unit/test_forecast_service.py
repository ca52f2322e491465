"""Forecasting service: catalogue, training → registry + store (atomic, audited), reads, versions, accuracy."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

from src.data import db, store
from src.data import forecast_store as fstore
from src.services import forecasting as svc
from src.services.context import SYSTEM, PermissionDenied, ServiceError
from src.services.data import ingest_frame
from tests.conftest import ADMIN, PLANNER

CALLS = "workload:calls@CC-Test"
UNIT = "care:Haus Test/Station 1"
SITE = "care:Haus Test"
FAST = dict(horizon_days=7, model="profile", folds=2)


def synthetic_history(weeks: int = 10, seed: int = 3) -> dict[str, pd.DataFrame]:
    """Hourly calls (open Mon–Fri 08–18) and daily shifts of two care units, with a clear weekly pattern."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2025-01-06", periods=weeks * 7 * 24, freq="h")
    open_ = (ds.dayofweek < 5) & (ds.hour >= 8) & (ds.hour < 18)
    lam = 20 + 10 * np.sin(np.pi * (ds.hour - 8) / 10) + 3 * (ds.dayofweek == 0)
    workload = pd.DataFrame({"timestamp": ds[open_], "queue": "calls", "site": "CC-Test",
                             "volume": rng.poisson(lam[open_])})
    days = pd.date_range("2025-01-06", periods=weeks * 7, freq="D")
    units = pd.concat([pd.DataFrame({"date": days, "site": "Haus Test", "unit": f"Station {i}",
                                     "shifts": rng.poisson(8 + i - 2 * (days.dayofweek >= 5))}) for i in (1, 2)])
    return {"workload": workload, "unit_shifts": units}


def load_history(app, weeks: int = 10) -> None:
    for kind, frame in synthetic_history(weeks).items():
        ingest_frame(app, SYSTEM, kind=kind, frame=frame, name=f"test:{kind}")


def test_catalogue_lists_queues_units_and_site_totals(app):
    load_history(app)
    cat = {s.series_id: s for s in svc.series_catalogue(app, PLANNER)}
    assert set(cat) == {CALLS, UNIT, "care:Haus Test/Station 2", SITE}
    assert cat[CALLS].queue == "calls" and cat[SITE].label == "Haus Test (all units)"
    site = fstore.load_series_history(app.engine, cat[SITE])
    unit = fstore.load_series_history(app.engine, cat[UNIT])
    assert len(site) == len(unit) == 70 and (site["y"] > unit["y"]).all()  # total = sum of the two units


def test_train_stores_run_rows_version_and_audit(app):
    load_history(app)
    seen = []
    out = svc.train_forecasts(app, PLANNER, [CALLS, UNIT], on_progress=lambda f, t: seen.append(f), **FAST)
    assert len(out.runs) == 2 and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    calls = next(r for r in out.runs if r.series_id == CALLS)
    assert calls.activated  # first version of the series becomes active
    view = svc.load_run(app, PLANNER, calls.run_id)
    assert len(view.forecast) == 7 * 24  # hourly grid incl. closed hours
    night = view.forecast[view.forecast["ds"].dt.hour < 8]
    assert (night["yhat"] == 0).all() and (~night["is_open"]).all()
    assert (view.forecast["yhat_upper_95"] >= view.forecast["yhat_upper_80"]).all()
    assert set(view.backtest["model"]) == {"profile"} and view.run["reason"]
    assert view.active
    unit_view = svc.load_run(app, PLANNER, next(r.run_id for r in out.runs if r.series_id == UNIT))
    assert len(unit_view.forecast) == 7 and unit_view.run["freq"] == "1D"
    versions = svc.list_versions(app, PLANNER)
    assert len(versions) == 2 and versions["active"].all() and versions["mase"].notna().all()
    events = store.audit_events(app.engine, action="forecast.train")
    assert len(events) == 2 and set(events["actor"]) == {"pat"}


def test_second_planner_training_does_not_replace_active_version(app):
    load_history(app)
    first = svc.train_forecasts(app, PLANNER, [CALLS], **FAST).runs[0]
    second = svc.train_forecasts(app, PLANNER, [CALLS], **FAST).runs[0]
    assert first.activated and not second.activated
    assert svc.current_run(app, CALLS)["id"] == first.run_id
    third = svc.train_forecasts(app, ADMIN, [CALLS], activate=True, **FAST).runs[0]
    assert third.activated and svc.current_run(app, CALLS)["id"] == third.run_id
    with pytest.raises(ServiceError, match="administrator"):
        svc.train_forecasts(app, PLANNER, [CALLS], activate=True, **FAST)


def test_latest_forecast_adapter_shape(app):
    load_history(app)
    assert svc.latest_forecast(app, PLANNER, CALLS) is None
    svc.train_forecasts(app, PLANNER, [CALLS], **FAST)
    df = svc.latest_forecast(app, PLANNER, "calls")  # an unambiguous queue name works too
    assert list(df.columns) == ["queue", "ds", "yhat", "yhat_upper_80", "yhat_upper_95"]
    assert (df["queue"] == "calls").all() and len(df) == 168
    assert (df["yhat_upper_95"] >= df["yhat"]).all() and (df["yhat"] >= 0).all()
    assert svc.latest_forecast(app, PLANNER, CALLS).equals(df)


@pytest.mark.parametrize("kwargs, message", [
    (dict(horizon_days=0), "between 1 and"),
    (dict(horizon_days=7, folds=9), "folds"),
    (dict(horizon_days=7, model="magic"), "Unknown model"),
    (dict(horizon_days=7, history_end=date(2024, 1, 1)), "no stored history"),
])
def test_bad_inputs_give_clear_errors_and_store_nothing(sqlite_app, kwargs, message):
    load_history(sqlite_app)
    with pytest.raises(ServiceError, match=message):
        svc.train_forecasts(sqlite_app, PLANNER, [CALLS], **kwargs)
    with pytest.raises(ServiceError, match="No stored history"):
        svc.train_forecasts(sqlite_app, PLANNER, ["workload:nope"], horizon_days=7)
    with pytest.raises(ServiceError, match="at least one"):
        svc.train_forecasts(sqlite_app, PLANNER, [], horizon_days=7)
    assert fstore.list_runs(sqlite_app.engine) == []


def test_too_short_history_names_the_minimum(sqlite_app):
    load_history(sqlite_app, weeks=3)
    with pytest.raises(ServiceError, match=r"at least \d+ (days|1h intervals)"):
        svc.train_forecasts(sqlite_app, PLANNER, [UNIT], horizon_days=14, model="profile", folds=3)
    assert fstore.list_runs(sqlite_app.engine) == []


def test_short_series_is_found_before_any_series_is_trained(sqlite_app, monkeypatch):
    """One too-short series among several: refused up front, naming it — no model is fitted first."""
    load_history(sqlite_app)
    short = pd.DataFrame({"date": pd.date_range("2025-03-01", periods=10, freq="D"), "site": "Haus Test",
                          "unit": "Neu", "shifts": 4})
    ingest_frame(sqlite_app, SYSTEM, kind="unit_shifts", frame=short, name="test:new unit")
    import src.models.forecasting.engine as engine

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was trained before the check")

    monkeypatch.setattr(engine, "_forecast_one", no_fit)
    with pytest.raises(ServiceError, match=r"^Nothing was trained\. Haus Test / Neu has 10 days of history"):
        svc.train_forecasts(sqlite_app, PLANNER, [UNIT, "care:Haus Test/Neu"], horizon_days=7, model="profile")
    assert fstore.list_runs(sqlite_app.engine) == []


def test_failed_store_leaves_no_run_and_no_model_file(sqlite_app, monkeypatch):
    load_history(sqlite_app)
    real = fstore.insert_run
    calls = {"n": 0}

    def flaky(conn, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(conn, **kw)

    monkeypatch.setattr(fstore, "insert_run", flaky)
    with pytest.raises(RuntimeError):
        svc.train_forecasts(sqlite_app, PLANNER, [CALLS, UNIT], **FAST)
    assert fstore.list_runs(sqlite_app.engine) == [] and fstore.count_rows(sqlite_app.engine) == 0
    assert svc.list_versions(sqlite_app, PLANNER).empty
    assert store.audit_events(sqlite_app.engine, action="forecast.train").empty


def test_forecast_rows_unique_on_series_ds_version(sqlite_app):
    load_history(sqlite_app)
    run_id = svc.train_forecasts(sqlite_app, PLANNER, [UNIT], **FAST).runs[0].run_id
    run = fstore.get_run(sqlite_app.engine, run_id)
    rows = fstore.load_rows(sqlite_app.engine, run_id)
    with pytest.raises(IntegrityError), db.write_tx(sqlite_app.engine) as conn:
        conn.execute(fstore.forecast_rows.insert(), [{
            "run_id": run_id, "series_id": run["series_id"], "model_version_id": run["model_version_id"],
            "ds": rows["ds"].iloc[0].to_pydatetime(), "yhat": 1.0, "is_open": True}])


def test_version_admin_actions_are_admin_only_and_audited(sqlite_app):
    load_history(sqlite_app)
    first = svc.train_forecasts(sqlite_app, PLANNER, [CALLS], **FAST).runs[0]
    second = svc.train_forecasts(sqlite_app, PLANNER, [CALLS], **FAST).runs[0]
    for fn, arg in ((svc.activate_version, second.version_id), (svc.rollback_version, CALLS),
                    (svc.delete_version, first.version_id)):
        with pytest.raises(PermissionDenied):
            fn(sqlite_app, PLANNER, arg)
    assert "now the active model" in svc.activate_version(sqlite_app, ADMIN, second.version_id)
    assert svc.current_run(sqlite_app, CALLS)["id"] == second.run_id
    assert "Rolled back" in svc.rollback_version(sqlite_app, ADMIN, CALLS)
    assert svc.current_run(sqlite_app, CALLS)["id"] == first.run_id
    with pytest.raises(ServiceError, match="active model"):
        svc.delete_version(sqlite_app, ADMIN, first.version_id)
    svc.delete_version(sqlite_app, ADMIN, second.version_id)
    with pytest.raises(ServiceError, match="does not exist"):
        svc.activate_version(sqlite_app, ADMIN, second.version_id)
    actions = list(store.audit_events(sqlite_app.engine)["action"])
    assert actions.count("model.activate") == 1 and actions.count("model.rollback") == 1
    assert actions.count("model.delete") == 1


def test_accuracy_report_scores_back_dated_forecast(sqlite_app):
    load_history(sqlite_app)
    svc.train_forecasts(sqlite_app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST)
    rep = svc.accuracy_report(sqlite_app, PLANNER, "workload")
    row = rep.per_series.iloc[0]
    assert row["live_n"] == 50  # one week of open hours: 5 days × 10 h
    assert 0 < row["live_mape"] < 40 and 50 <= row["live_coverage_95"] <= 100
    assert not row["drift"] and set(rep.heatmap["column"]) == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert {"series", "ds", "yhat", "y", "outside_95"} <= set(rep.pairs.columns)
    care = svc.accuracy_report(sqlite_app, PLANNER, "unit_shifts")
    assert care.per_series.empty


def test_drift_rule():
    live = {"n": 50, "mae": 9.0, "coverage_95": 92.0}
    assert svc._drift(live, {"mae": 4.0})[0]
    assert "retrain recommended" in svc._drift(live, {"mae": 4.0})[1]
    assert not svc._drift(live, {"mae": 8.0})[0]
    assert svc._drift({**live, "mae": 5.0, "coverage_95": 60.0}, {"mae": 5.0})[0]


def test_exports_open_cleanly(sqlite_app):
    load_history(sqlite_app)
    run_id = svc.train_forecasts(sqlite_app, PLANNER, [CALLS], **FAST).runs[0].run_id
    view = svc.load_run(sqlite_app, PLANNER, run_id)
    csv = pd.read_csv(io.BytesIO(svc.export_forecast(sqlite_app, PLANNER, view, "csv")), encoding="utf-8-sig")
    assert list(csv.columns[:7]) == ["series", "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95",
                                     "yhat_upper_95"] and len(csv) == 168
    wb = openpyxl.load_workbook(io.BytesIO(svc.export_forecast(sqlite_app, PLANNER, view, "xlsx")))
    assert wb.sheetnames == ["Forecast", "Backtest", "About"] and wb["Forecast"].max_row == 169
    with pytest.raises(ServiceError):
        svc.export_forecast(sqlite_app, PLANNER, view, "pdf")


def test_chart_builders_draw_bands_gaps_and_highlights(sqlite_app):
    from src.ui import charts_forecast as C

    load_history(sqlite_app)
    run_id = svc.train_forecasts(sqlite_app, PLANNER, [CALLS], **FAST).runs[0].run_id
    view = svc.load_run(sqlite_app, PLANNER, run_id)
    view.forecast.loc[view.forecast["is_open"].idxmax(), "high_uncertainty"] = True
    fig = C.forecast_chart(view.history, view.forecast, "t")
    names = [t.name for t in fig.data]
    assert {"history", "95% interval", "80% interval", "forecast", C.UNCERTAIN_NAME} <= set(names)
    hist = fig.data[names.index("history")]
    assert np.isnan(np.asarray(hist.y, dtype=float)).any()  # the line breaks over closed hours
    assert len(C.backtest_chart(view.backtest, "profile").data[0].x) == 1
    heat = pd.DataFrame({"row": ["calls", "calls"], "column": ["Mon", "Tue"], "mape": [10.0, 20.0]})
    assert C.mape_heatmap(heat, "h", "weekday", "queue").data[0].z.shape == (1, 2)


def test_many_high_uncertainty_intervals_shade_days_instead_of_a_wall_of_markers():
    """A 60-day hourly forecast flagged ~500 intervals: one diamond each hid the forecast and its bands."""
    from src.ui import charts_forecast as C

    ds = pd.date_range("2026-11-02 08:00", periods=24 * 10, freq="h")
    fc = pd.DataFrame({"ds": ds, "yhat": 100.0, "yhat_lower_80": 70.0, "yhat_upper_80": 130.0,
                       "yhat_lower_95": 40.0, "yhat_upper_95": 160.0, "is_open": True, "high_uncertainty": True})
    hist = pd.DataFrame({"ds": ds - pd.Timedelta(days=10), "y": 100.0})
    many = C.forecast_chart(hist, fc, "t")
    names = [t.name for t in many.data]
    assert C.UNCERTAIN_NAME not in names and "day with " + C.UNCERTAIN_NAME in names
    assert len(many.layout.shapes) == 12  # 11 (partly) flagged calendar days shaded + the forecast-start line
    few = C.forecast_chart(hist, fc.assign(high_uncertainty=fc.index < C.MAX_UNCERTAINTY_MARKERS), "t")
    marks = next(t for t in few.data if t.name == C.UNCERTAIN_NAME)
    assert len(marks.x) == C.MAX_UNCERTAINTY_MARKERS and len(few.layout.shapes) == 1


def test_high_uncertainty_is_judged_on_the_80_percent_band():
    """The 95% band of a Poisson-like count is wider than half the forecast almost everywhere below ~60 contacts,
    so the highlight uses the 80% band: wide 95% alone is normal, a wide 80% band is flagged; closed slots never."""
    fc = pd.DataFrame({"yhat": [20.0, 20.0, 20.0, 0.0],
                       "yhat_lower_80": [16.0, 10.0, 16.0, 0.0], "yhat_upper_80": [24.0, 31.0, 24.0, 0.0],
                       "yhat_lower_95": [9.0, 5.0, 9.0, 0.0], "yhat_upper_95": [31.0, 40.0, 31.0, 0.0],
                       "is_open": [True, True, False, False]})
    assert svc._flag_uncertainty(fc)["high_uncertainty"].tolist() == [False, True, False, False]
    only95 = fc[["yhat", "yhat_lower_95", "yhat_upper_95", "is_open"]].copy()
    assert svc._flag_uncertainty(only95)["high_uncertainty"].tolist() == [True, True, False, False]


def test_reasons_name_models_in_words():
    text = ("lightgbm won: MASE 0.70 vs profile 0.72, prophet_default 0.80, lightgbm_recursive 0.81 "
            "(in a 3-fold backtest); not compared: prophet (screened out)")
    assert svc.readable_reason(text) == ("LightGBM won: MASE 0.70 vs Profile 0.72, Prophet (default) 0.80, LightGBM "
                                         "recursive 0.81 (in a 3-fold backtest); not compared: Prophet (screened out)")
