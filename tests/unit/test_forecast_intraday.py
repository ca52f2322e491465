"""Intraday re-forecast service: stored or typed actuals so far → rest of the day rescaled; clear errors;
nothing stored. Also the REST-friendly calls (run_forecast, get_forecast) and the MODEL_SIGNING_KEY setting."""

from __future__ import annotations

import io
from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from src.data import forecast_store as fstore
from src.data import store
from src.services import forecasting as svc
from src.services.context import PermissionDenied, ServiceError
from tests.conftest import PLANNER
from tests.unit.test_forecast_service import CALLS, FAST, UNIT, load_history

DAY = date(2025, 3, 4)  # a Tuesday inside the back-dated forecast; its actuals are stored


@pytest.fixture
def trained(app):
    load_history(app)
    out = svc.train_forecasts(app, PLANNER, [CALLS], history_end=date(2025, 3, 2), **FAST)
    return app, out.runs[0].run_id


def _expected_factor(frame: pd.DataFrame, actual: float) -> float:
    seen = frame[frame["elapsed"] & frame["is_open"]]
    ratio = actual / seen["yhat"].sum()
    share = seen["yhat"].sum() / frame["yhat"].sum()
    return float(np.clip(1 + share * (ratio - 1), 0.5, 2.0))


def test_stored_actuals_rescale_only_the_rest_of_the_day_and_nothing_is_stored(trained):
    app, run_id = trained
    audit_before = len(store.audit_events(app.engine))
    rows_before = fstore.count_rows(app.engine)
    view = svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=time(12, 0))
    f = view.frame
    assert view.run_id == run_id and view.source == "stored" and len(f) == 24
    assert f.loc[f["elapsed"], "ds"].max() == pd.Timestamp("2025-03-04 11:00")
    assert view.actual_so_far == pytest.approx(f.loc[f["elapsed"] & f["is_open"], "actual"].sum())
    assert view.factor == pytest.approx(_expected_factor(f, view.actual_so_far))
    rest = f[~f["elapsed"]]
    assert np.allclose(rest["reforecast"], rest["yhat"] * view.factor)
    assert np.allclose(rest["reforecast_upper_95"], rest["yhat_upper_95"] * view.factor)
    assert np.allclose(f.loc[f["elapsed"], "reforecast"], f.loc[f["elapsed"], "yhat"])  # the past is not rewritten
    assert (f.loc[~f["is_open"], "reforecast"] == 0).all()  # closed hours stay 0
    assert view.rest_reforecast == pytest.approx(view.rest_original * view.factor)
    # a past day: the rest of the day is stored too, so the page can say whether the update helped
    assert view.rest_actual is not None and view.rest_mae_original is not None and "re-forecast was" in view.message
    assert len(store.audit_events(app.engine)) == audit_before and fstore.count_rows(app.engine) == rows_before


def test_typed_actuals_well_above_forecast_raise_the_rest_and_can_be_exported(trained):
    app, run_id = trained
    text = "time;volume\n08:00;60\n09:00;70,5\n10:00;80\n"  # header, German decimal comma
    view = svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=datetime(2025, 3, 4, 11, 0), actuals=text,
                                   run_id=run_id)
    assert view.source == "entered" and view.actual_so_far == pytest.approx(210.5)
    assert view.factor > 1.1 and view.factor == pytest.approx(_expected_factor(view.frame, 210.5))
    assert view.rest_actual is None  # typed actuals: no evaluation against stored data
    assert view.frame.loc[view.frame["ds"] == pd.Timestamp("2025-03-04 12:00"), "actual"].isna().all()
    csv = pd.read_csv(io.BytesIO(svc.export_intraday(app, PLANNER, view)), encoding="utf-8-sig")
    assert len(csv) == 24 and {"actual", "forecast", "reforecast", "reforecast_upper_95", "factor"} <= set(csv.columns)
    assert csv["actual"].notna().sum() == 3


def test_uploaded_bytes_and_a_frame_are_accepted(trained):
    app, _ = trained
    a = svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=time(10, 0),
                                actuals=b"\xef\xbb\xbf2025-03-04 08:00,40\r\n2025-03-04 09:00,44\r\n")
    b = svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=time(10, 0), actuals=pd.DataFrame(
        {"ds": ["2025-03-04 08:00", "2025-03-04 09:00"], "y": [40, 44]}))
    assert a.factor == pytest.approx(b.factor) and a.actual_so_far == 84


def test_missing_intervals_are_noted_not_fatal(trained):
    app, _ = trained
    view = svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=time(12, 0), actuals="10:00,30")
    assert any("have no actual" in n for n in view.notes)


@pytest.mark.parametrize("text, fragment", [
    ("08:00,abc", "line 1: volume 'abc' is not a number"),
    ("08:00,5\n8 Uhr,3", "line 2: time '8 Uhr'"),
    ("2025-03-05 09:00,4", "is not on 2025-03-04"),
    ("08:00,-1", "must be a number ≥ 0"),
    ("08:00,1\n08:00,2", "appears twice (also line 1)"),
    ("08:00,1,2", "expected two values"),
    ("", "Enter at least one interval"),
    ("08:30,5", "not on the forecast's 1h grid"),
    ("13:00,5", "at or after 'now' (12:00)"),
])
def test_bad_typed_input_names_the_problem(trained, text, fragment):
    app, _ = trained
    with pytest.raises(ServiceError, match=None) as err:
        svc.intraday_reforecast(app, PLANNER, CALLS, day=DAY, now=time(12, 0), actuals=text)
    assert fragment in str(err.value)


def test_bad_requests_give_clear_messages(trained):
    app, run_id = trained
    cases = [
        (dict(day=DAY, now=time(7, 0)), "Nothing has happened yet before 07:00"),
        (dict(day=DAY, now=time(19, 0)), "choose an earlier time"),
        (dict(day=date(2025, 3, 20), now=time(12, 0)), "No stored forecast"),
        (dict(day=date(2025, 3, 20), now=time(12, 0), run_id=run_id), "not 2025-03-20"),
        (dict(day=date(2025, 3, 1), now=time(12, 0)), "closed in the forecast"),
        (dict(day=DAY, now=datetime(2025, 3, 5, 12, 0)), "must be on the chosen day"),
        (dict(day=DAY, now=None), "Choose the time of day"),
    ]
    for kwargs, fragment in cases:
        with pytest.raises(ServiceError) as err:
            svc.intraday_reforecast(app, PLANNER, CALLS, **kwargs)
        assert fragment in str(err.value), (kwargs, str(err.value))
    with pytest.raises(ServiceError, match="daily series"):
        svc.intraday_reforecast(app, PLANNER, UNIT, day=DAY, now=time(12, 0))
    with pytest.raises(PermissionDenied):
        svc.intraday_reforecast(app, None, CALLS, day=DAY, now=time(12, 0))


def test_no_stored_actuals_for_a_future_day_asks_for_typed_ones(app):
    load_history(app)
    svc.train_forecasts(app, PLANNER, [CALLS], **FAST)  # forecast after the last stored day
    with pytest.raises(ServiceError, match="No stored actuals"):
        svc.intraday_reforecast(app, PLANNER, CALLS, day=date(2025, 3, 18), now=time(12, 0))
    view = svc.intraday_reforecast(app, PLANNER, CALLS, day=date(2025, 3, 18), now=time(12, 0),
                                   actuals="08:00,20\n09:00,22\n10:00,27\n11:00,27")
    assert 0.5 <= view.factor <= 2.0


def test_defaults_point_at_the_last_day_with_actuals(trained):
    app, run_id = trained
    d = svc.intraday_defaults(svc.load_run(app, PLANNER, run_id))
    assert d is not None and d.step_seconds == 3600 and d.first <= d.suggested <= d.last
    assert d.suggested == d.last  # every forecast day of the back-dated run already has actuals


# ------------------------------------------------------------------ REST-friendly calls and the signing key
def test_run_forecast_and_get_forecast_are_json_friendly(app):
    import json

    load_history(app)
    run_id = svc.run_forecast(app, PLANNER, "calls", 7, "profile", folds=2)  # unambiguous queue name accepted
    doc = svc.get_forecast(app, PLANNER, run_id)
    text = json.dumps(doc, allow_nan=False)  # strict JSON: no NaN, no timestamps objects
    assert doc["run"]["id"] == run_id and doc["run"]["series_id"] == CALLS and doc["run"]["active"] is True
    assert len(doc["rows"]) == 7 * 24 and {"ds", "yhat", "yhat_upper_95", "is_open"} <= set(doc["rows"][0])
    assert "coverage" in doc["run"] and len(text) > 1000
    with pytest.raises(ServiceError, match="No stored history"):
        svc.run_forecast(app, PLANNER, "nope", 7)
    with pytest.raises(ServiceError, match="whole number"):
        svc.get_forecast(app, PLANNER, "x")
    with pytest.raises(ServiceError, match="does not exist"):
        svc.get_forecast(app, PLANNER, 99999)
    with pytest.raises(PermissionDenied):
        svc.get_forecast(app, None, run_id)
    view = svc.intraday_reforecast(app, PLANNER, CALLS, day=date(2025, 3, 18), now=time(10, 0), actuals="08:00,20")
    assert json.dumps(view.to_dict(), allow_nan=False)


def test_signing_key_from_the_environment(app, monkeypatch):
    from src.models.registry import ModelRegistry

    load_history(app)
    monkeypatch.setenv("MODEL_SIGNING_KEY", "short")
    with pytest.raises(ServiceError, match="shorter than 16"):
        svc.run_forecast(app, PLANNER, CALLS, 7, "profile", folds=2)
    monkeypatch.setenv("MODEL_SIGNING_KEY", "a-long-random-signing-key-0123456789")
    run_id = svc.run_forecast(app, PLANNER, CALLS, 7, "profile", folds=2)
    version = svc.get_forecast(app, PLANNER, run_id)["run"]["model_version_id"]
    signed = ModelRegistry(app.settings.models_dir, signing_key=b"a-long-random-signing-key-0123456789")
    assert signed.load(version) is not None
    meta = next(app.settings.models_dir.rglob(f"{version}/meta.json"))
    assert "hmac" in meta.read_text()
    with pytest.raises(Exception, match="signature"):
        ModelRegistry(app.settings.models_dir, signing_key=b"another-key-of-sufficient-length").load(version)
    monkeypatch.delenv("MODEL_SIGNING_KEY")
    assert svc._signing_key() is None
