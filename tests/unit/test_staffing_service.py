"""Staffing service: volume sources, plans, what-if, shift plans, exports and saved plans (SQLite + PostgreSQL)."""

from __future__ import annotations

import io
import json
import types
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from src.data import plan_store, store
from src.models.capacity.staffing import WORKBOOK_HEADERS
from src.services import data as data_service
from src.services import staffing as svc
from src.services.context import PermissionDenied, ServiceError
from src.services.staffing import forecast as forecast_mod
from tests.conftest import ADMIN, PLANNER

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "sample"


def _workload(weeks: int = 5, start: str = "2026-09-28") -> pd.DataFrame:
    """Hourly calls 08–17 Mon–Fri with a known pattern: volume = 10 × (week index + 1) + hour."""
    rows = []
    t0 = pd.Timestamp(start)  # a Monday
    for d in range(weeks * 7):
        day = t0 + pd.Timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for h in range(8, 18):
            rows.append({"timestamp": day + pd.Timedelta(hours=h), "queue": "calls", "site": "A",
                         "volume": 10 * (d // 7 + 1) + h, "aht_seconds": 180.0})
    return pd.DataFrame(rows)


@pytest.fixture
def wl_app(app):
    frame = _workload()
    frame = frame[frame["timestamp"] != pd.Timestamp("2026-10-21 10:00")]  # one closed hour in week 4
    data_service.ingest_frame(app, ADMIN, kind="workload", frame=frame, name="test:workload")
    return app


def test_history_last_4_weeks_averages_and_counts_missing_as_zero(wl_app):
    v = svc.history_volume(wl_app, PLANNER, queues=["calls"], start=date(2026, 11, 2), days=7)
    assert v.source == "history" and v.interval_seconds == 3600
    mon9 = v.frame[v.frame["ds"] == pd.Timestamp("2026-11-02 09:00")]["yhat"].item()
    assert mon9 == pytest.approx((20 + 30 + 40 + 50) / 4 + 9)  # weeks 2..5 before the start
    wed10 = v.frame[v.frame["ds"] == pd.Timestamp("2026-11-04 10:00")]["yhat"].item()
    assert wed10 == pytest.approx((20 + 30 + 0 + 50 + 3 * 10) / 4)  # the closed hour counts as 0, not skipped
    assert set(v.frame["ds"].dt.weekday) == {0, 1, 2, 3, 4}
    assert v.frame["aht_seconds"].dropna().eq(180).all()


def test_history_errors_are_clear(wl_app):
    with pytest.raises(ServiceError, match="same week last year needs data"):
        svc.history_volume(wl_app, PLANNER, queues=["calls"], start=date(2026, 11, 2), method="same_week_last_year")
    with pytest.raises(ServiceError, match="No stored history for queue"):
        svc.history_volume(wl_app, PLANNER, queues=["nope"], start=date(2026, 11, 2))
    with pytest.raises(ServiceError, match="between 1 and"):
        svc.history_volume(wl_app, PLANNER, queues=["calls"], start=date(2026, 11, 2), days=0)
    with pytest.raises(ServiceError, match="No workload history"):
        svc.history_volume(wl_app, PLANNER, queues=["calls"], start=date(2025, 1, 6))
    with pytest.raises(PermissionDenied):
        svc.history_volume(wl_app, None, queues=["calls"], start=date(2026, 11, 2))  # type: ignore[arg-type]


def test_plan_from_history_textbook_and_what_if(wl_app):
    frame = pd.DataFrame({"queue": "calls", "ds": pd.date_range("2026-11-02 08:00", periods=4, freq="30min"),
                          "yhat": [100.0, 100.0, 0.0, 50.0]})
    volume = svc.VolumeInput(frame=frame, source="upload", detail="test", interval_seconds=1800)
    params = svc.params_from_table(svc.params_table({"calls": svc.default_params("calls", interval_seconds=1800,
                                                                                 aht_seconds=180)}),
                                   interval_seconds=1800)
    assert params["calls"].shrinkage == 0.3 and params["calls"].sl_target == 0.8
    plan = svc.build_plan(wl_app, PLANNER, volume, params)
    iv = plan.intervals
    assert iv["agents_raw"].tolist()[0] == 14 and iv["agents"].tolist()[0] == 20  # textbook: 14 → 20 at 30 %
    assert iv["service_level"].iloc[0] == pytest.approx(0.888, abs=1e-3)
    assert iv["agents"].iloc[2] == 0  # zero calls → zero agents
    more = svc.build_plan(wl_app, PLANNER, volume, params, scenario=svc.Scenario(volume_pct=20, aht_pct=10))
    assert (more.intervals["agents"] >= iv["agents"]).all() and more.intervals["agents"].sum() > iv["agents"].sum()
    looser = svc.build_plan(wl_app, PLANNER, volume, params, scenario=svc.Scenario(sl_target=0.6, shrinkage=0.0))
    assert looser.intervals["agents"].iloc[0] < 14
    with pytest.raises(ServiceError, match="between -90"):
        svc.Scenario(volume_pct=-95)
    with pytest.raises(ServiceError, match="upper 80"):
        svc.build_plan(wl_app, PLANNER, volume, params, basis="upper_80")


def test_params_and_patterns_tables_give_clear_errors():
    table = svc.params_table({"calls": svc.default_params("calls", interval_seconds=3600)})
    bad = table.assign(sl_target_pct=100.0)
    with pytest.raises(ServiceError, match="calls: Service-level target"):
        svc.params_from_table(bad, interval_seconds=3600)
    with pytest.raises(ServiceError, match="give a service-level target or an ASA target"):
        svc.params_from_table(table.assign(sl_target_pct=np.nan, asa_target_s=np.nan), interval_seconds=3600)
    asa_only = svc.params_from_table(table.assign(sl_target_pct=np.nan, asa_target_s=15.0), interval_seconds=3600)
    assert asa_only["calls"].sl_target is None and asa_only["calls"].asa_target_s == 15.0
    assert svc.default_params("emails", interval_seconds=3600).channel == "email"
    assert svc.default_params("outbound_OOK", interval_seconds=3600).channel == "outbound"

    pats = svc.patterns_from_table(svc.default_patterns_table())
    assert len(pats) == 11 and pats[0].breaks == ((210, 30),) and pats[0].paid_hours == 7.5
    custom = pd.DataFrame([{"name": "early", "start": "06:00", "hours": 6, "break_minutes": 15,
                            "break_after_minutes": 120, "days": "Mon-Fri"},
                           {"name": "", "start": "18:00", "hours": 4, "break_minutes": 0,
                            "break_after_minutes": None, "days": "Sat,Sun"}])
    p1, p2 = svc.patterns_from_table(custom)
    assert p1.weekdays == (0, 1, 2, 3, 4) and p1.breaks == ((120, 15),)
    assert p2.weekdays == (5, 6) and p2.name == "18:00 shift"
    for change, msg in (({"start": "25:00"}, "HH:MM"), ({"hours": 20}, "between 0.5 and 16"),
                        ({"days": "Funday"}, "weekday names"), ({"break_minutes": 600}, "does not fit")):
        with pytest.raises(ServiceError, match=msg):
            svc.patterns_from_table(custom.head(1).assign(**change))


def test_shift_plan_covers_requirement_and_reports_sl(wl_app):
    v = svc.history_volume(wl_app, PLANNER, queues=["calls"], start=date(2026, 11, 2), days=5)
    plan = svc.build_plan(wl_app, PLANNER, v, svc.default_params_for(v))
    sp = svc.build_shift_plan(wl_app, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table()))
    assert sp.optimal and sp.under_agent_intervals == 0
    assert (sp.intervals["planned"] >= sp.intervals["required"] - 1e-9).all()
    voice = sp.intervals[sp.intervals["volume"] > 0]
    assert (voice["service_level"] >= 0.8 - 1e-9).all()
    with pytest.raises(ServiceError, match="not in this plan"):
        svc.build_shift_plan(wl_app, PLANNER, plan, queue="emails", patterns=())


def test_volume_upload_with_fractional_forecast_and_row_errors(app):
    good = ("ds;queue;yhat;yhat_upper_80;site\n" + "".join(
        f"2026-11-02 {h:02d}:00;calls;{50 + h},5;{60 + h};{s}\n" for h in range(8, 12) for s in ("A", "B"))).encode()
    res = svc.validate_volume_upload(app, PLANNER, filename="fc.csv", content=good)
    assert res.report.ok and res.volume is not None, res.report.to_frame()
    f = res.volume.frame
    assert len(f) == 4 and f["yhat"].iloc[0] == pytest.approx(2 * 58.5)  # two sites summed
    assert res.volume.has_upper["upper_80"] and not res.volume.has_upper["upper_95"]
    assert not any(i.code == "future_date" for i in res.report.issues)

    bad = b"ds,queue,yhat\n2026-11-02 08:00,calls,12.5\n2026-11-02 09:00,calls,-3\n2026-11-02 10:00,,abc\n"
    res = svc.validate_volume_upload(app, PLANNER, filename="bad.csv", content=bad)
    assert res.volume is None and not res.report.ok
    where = {(i.row, i.column) for i in res.report.errors}
    assert (3, "yhat") in where and (4, "yhat") in where and (4, "queue") in where

    whole = b"timestamp,queue,volume,aht_seconds\n2026-11-02 08:00,calls,12,200\n2026-11-02 08:30,calls,15,210\n"
    res = svc.validate_volume_upload(app, PLANNER, filename="w.csv", content=whole)
    assert res.volume is not None and res.volume.interval_seconds == 1800
    assert res.volume.frame["yhat"].tolist() == [12.0, 15.0]
    assert res.volume.frame["aht_seconds"].tolist() == [200.0, 210.0]

    res = svc.validate_volume_upload(app, PLANNER, filename="x.csv", content=b"")
    assert res.volume is None and res.report.errors


def test_care_source_plans_staff_per_unit_and_day(app):
    out = data_service.ingest_upload(app, ADMIN, kind="unit_shifts", filename="unit_shifts_sample_de.csv",
                                     content=(SAMPLES / "unit_shifts_sample_de.csv").read_bytes())
    assert out.stored
    last = store.dataset_summary(app.engine).set_index("kind").loc["unit_shifts", "last"]
    v = svc.care_volume(app, PLANNER, start=(pd.Timestamp(last) + pd.Timedelta(days=1)).date(), days=7)
    params = svc.default_params_for(v)
    assert {p.channel for p in params.values()} == {"care"} and v.interval_seconds == 86400
    plan = svc.build_plan(app, PLANNER, v, params)
    assert (plan.intervals["agents"] == np.ceil(plan.intervals["volume"] - 1e-9)).all()
    with pytest.raises(ServiceError, match="no shift plan"):
        svc.build_shift_plan(app, PLANNER, plan, queue=v.queues[0], patterns=())


def test_erlang_calculator():
    c = svc.erlang_calculator(None, PLANNER, calls=100, aht_seconds=180, interval_seconds=1800, shrinkage=0.3)  # type: ignore[arg-type]
    assert c.model == "Erlang C" and c.row["agents_raw"] == 14 and c.row["agents"] == 20
    assert c.table.loc[c.table["agents"] == 14, "meets_target"].item()
    a = svc.erlang_calculator(None, PLANNER, calls=100, aht_seconds=180, patience_s=60)  # type: ignore[arg-type]
    assert a.model == "Erlang A" and a.row["agents_raw"] <= 14 and a.row["p_abandon"] > 0
    with pytest.raises(ServiceError, match="below 100%"):
        svc.erlang_calculator(None, PLANNER, calls=100, aht_seconds=180, sl_target=1.0)  # type: ignore[arg-type]
    with pytest.raises(ServiceError):
        svc.erlang_calculator(None, PLANNER, calls=-1, aht_seconds=180)  # type: ignore[arg-type]


def _small_plan(app, queue: str = "calls"):
    frame = pd.DataFrame({"queue": queue, "ds": pd.date_range("2026-11-02 08:00", periods=6, freq="h"),
                          "yhat": [120.0, 200.0, 220.0, 180.0, 90.0, 40.0]})
    v = svc.VolumeInput(frame=frame, source="upload", detail="Uploaded file =evil.csv", interval_seconds=3600)
    plan = svc.build_plan(app, PLANNER, v, {queue: svc.default_params(queue, interval_seconds=3600)})
    return v, plan


def test_export_xlsx_and_csv_are_saved_audited_and_safe(app):
    v, plan = _small_plan(app, queue="=HYPERLINK(\"x\")")
    sp = svc.build_shift_plan(app, PLANNER, plan, queue=v.queues[0],
                              patterns=svc.patterns_from_table(svc.default_patterns_table()))
    x = svc.export_plan(app, PLANNER, plan, fmt="xlsx", shift_plan=sp, info=svc.plan_info(v, None, PLANNER, sp))
    assert x.saved_path.exists() and x.saved_path.parent == app.settings.outputs_dir
    assert x.saved_path.name.startswith("staffing_plan_") and x.saved_path.read_bytes() == x.data
    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == ["Summary", "Intervals", "Daily", "Shift plan", "Shift starts", "Parameters", "Info"]
    iv = wb["Intervals"]
    head = [c.value for c in iv[1]]
    agents = head.index("Agents to schedule (after shrinkage)") + 1
    assert iv.cell(row=2, column=agents).value == int(plan.intervals["agents"].iloc[0])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} became a formula"
    assert iv.cell(row=2, column=1).value.startswith("'=")
    info = {r[0].value: r[1].value for r in wb["Info"].iter_rows(min_row=2)}
    assert info["Volume source detail"].startswith("Uploaded file") and info["What-if"] == "as planned"
    assert info["Interval length (minutes)"] == 60 and isinstance(info["Interval length (minutes)"], int)

    c = svc.export_plan(app, PLANNER, plan, fmt="csv", shift_plan=sp)
    text = c.data.decode("utf-8-sig")
    assert "planned" in text.splitlines()[0] and "\"'=HYPERLINK" in text
    events = store.audit_events(app.engine, action="staffing.export")
    assert len(events) == 2 and set(events["actor"]) == {"pat"}
    with pytest.raises(ServiceError, match="xlsx or csv"):
        svc.export_plan(app, PLANNER, plan, fmt="pdf")


def test_save_plan_round_trip_and_audit(app):
    v, plan = _small_plan(app)
    sp = svc.build_shift_plan(app, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table()))
    pid = svc.save_plan(app, PLANNER, plan, name="  Week 45\n", volume=v, scenario=svc.Scenario(volume_pct=10),
                        shift_plan=sp)
    listed = svc.list_saved_plans(app, PLANNER)
    assert listed["id"].tolist() == [pid] and listed["name"].iloc[0] == "Week 45"
    saved = svc.load_saved_plan(app, PLANNER, pid)
    assert saved["header"]["params"]["calls"]["sl_target"] == 0.8
    assert saved["header"]["scenario"]["volume_pct"] == 10
    assert saved["intervals"]["agents"].tolist() == plan.intervals["agents"].tolist()
    assert saved["intervals"]["planned"].notna().all()
    assert int(saved["shifts"]["people"].sum()) == int(sp.shifts["people"].sum())
    ev = store.audit_events(app.engine, action="staffing.plan_save")
    assert len(ev) == 1 and ev.iloc[0]["object_id"] == str(pid)
    with pytest.raises(ServiceError, match="name"):
        svc.save_plan(app, PLANNER, plan, name=" \t ", volume=v)
    with pytest.raises(ServiceError, match="no saved plan"):
        svc.load_saved_plan(app, PLANNER, 9999)


def test_save_plan_is_atomic_with_its_audit_event(app, monkeypatch):
    v, plan = _small_plan(app)

    def boom(*a, **k):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(store, "write_audit", boom)
    with pytest.raises(RuntimeError):
        svc.save_plan(app, PLANNER, plan, name="x", volume=v)
    assert plan_store.count_plans(app.engine) == 0
    with pytest.raises(RuntimeError):
        svc.export_plan(app, PLANNER, plan, fmt="csv")
    assert not list(Path(app.settings.outputs_dir).glob("*.csv")), "no unaudited export copy is left behind"


def _sheet(wb, name: str) -> pd.DataFrame:
    """A workbook sheet as a frame with the column codes (the workbook shows readable headers)."""
    rows = list(wb[name].iter_rows(values_only=True))
    codes = {label: code for code, label in WORKBOOK_HEADERS.get(name, {}).items()}
    return pd.DataFrame(rows[1:], columns=[codes.get(h, h) for h in rows[0]])


def test_saved_plan_export_matches_the_live_export_and_is_audited(app):
    v, plan = _small_plan(app)
    sp = svc.build_shift_plan(app, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table()))
    pid = svc.save_plan(app, PLANNER, plan, name="=cmd()", volume=v, scenario=svc.Scenario(volume_pct=10),
                        shift_plan=sp)
    live = load_workbook(io.BytesIO(svc.export_plan(app, PLANNER, plan, fmt="xlsx", shift_plan=sp,
                                                    info=svc.plan_info(v, None, PLANNER, sp)).data))
    x = svc.export_saved_plan(app, PLANNER, pid, fmt="xlsx")
    assert x.file_name == f"staffing_plan_{pid}_cmd.xlsx" and x.mime == svc.XLSX_MIME
    assert x.saved_path.parent == app.settings.outputs_dir and x.saved_path.read_bytes() == x.data
    assert "=" not in x.saved_path.name
    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == live.sheetnames == ["Summary", "Intervals", "Daily", "Shift plan", "Shift starts",
                                                "Parameters", "Info"]
    assert len(wb["Shift plan"]._charts) == 1, "the native required-vs-planned chart is there"

    # the numbers are the stored plan's, and the same as the live workbook's
    stored = svc.load_saved_plan(app, PLANNER, pid)["intervals"]
    iv = _sheet(wb, "Intervals")
    assert iv["agents"].tolist() == stored["agents"].tolist() == plan.intervals["agents"].tolist()
    assert iv["volume"].tolist() == pytest.approx(stored["volume"].tolist())
    assert iv["service_level"].tolist() == pytest.approx(plan.intervals["service_level"].tolist())
    # every quality column (P(wait) too) and the shift plan's achieved ASA/P(abandon) are stored: sheets are equal
    for name in ("Summary", "Intervals", "Daily", "Shift plan", "Shift starts", "Parameters"):
        pd.testing.assert_frame_equal(_sheet(wb, name), _sheet(live, name), check_exact=False, obj=name)
    shift = _sheet(wb, "Shift plan")
    assert shift["planned"].tolist() == pytest.approx(sp.intervals["planned"].tolist())
    assert shift["required"].tolist() == pytest.approx(sp.intervals["required"].tolist())
    assert shift["under"].sum() == pytest.approx(sp.under_agent_intervals)
    assert shift["service_level"].tolist() == pytest.approx(sp.intervals["service_level"].tolist())

    # stored facts on the Info sheet; the formula-like name is text, nothing anywhere is a formula
    info = {r[0]: r[1] for r in wb["Info"].iter_rows(min_row=2, values_only=True)}
    assert info["Saved plan ID"] == pid and info["Plan name"] == "'=cmd()"
    assert info["What-if"] == "volume +10 %" and info["Volume source"] == "upload" and info["Created by"] == "pat"
    assert info["Paid hours of the shift plan (hours)"] == pytest.approx(sp.paid_hours)
    assert info["Interval length (minutes)"] == 60
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} became a formula"

    c = svc.export_saved_plan(app, ADMIN, pid, fmt="csv")
    assert c.file_name == f"staffing_plan_{pid}_cmd.csv" and c.mime == "text/csv"
    csv = pd.read_csv(io.BytesIO(c.data), encoding="utf-8-sig")
    live_csv = pd.read_csv(io.BytesIO(svc.export_plan(app, PLANNER, plan, fmt="csv", shift_plan=sp).data),
                           encoding="utf-8-sig")
    assert list(csv.columns) == list(live_csv.columns)
    pd.testing.assert_frame_equal(csv, live_csv, check_exact=False)
    assert csv["agents"].tolist() == plan.intervals["agents"].tolist()
    assert csv["planned"].tolist() == pytest.approx(sp.intervals["planned"].tolist())

    events = store.audit_events(app.engine, action="staffing.export")
    saved_events = [json.loads(d) for d in events["detail_json"] if "saved_plan_id" in json.loads(d)]
    assert [(d["saved_plan_id"], d["format"]) for d in saved_events] == [(pid, "csv"), (pid, "xlsx")]
    assert set(events.loc[events["object_id"] == c.saved_path.name, "actor"]) == {"admin"}


def test_saved_plan_export_without_shift_plan_multi_queue(app):
    frame = pd.DataFrame({"queue": ["calls"] * 4 + ["emails"] * 4,
                          "ds": list(pd.date_range("2026-11-02 08:00", periods=4, freq="h")) * 2,
                          "yhat": [120.0, 200.0, 220.0, 180.0, 30.0, 50.0, 10.0, 0.0]})
    v = svc.VolumeInput(frame=frame, source="upload", detail="two queues", interval_seconds=3600)
    scenario = svc.Scenario(volume_pct=20, shrinkage=0.25)
    plan = svc.build_plan(app, PLANNER, v, svc.default_params_for(v), scenario=scenario)
    pid = svc.save_plan(app, PLANNER, plan, name="Woche 45 / März", volume=v, scenario=scenario)
    x = svc.export_saved_plan(app, PLANNER, pid, fmt="xlsx")
    assert x.file_name == f"staffing_plan_{pid}_Woche_45_M_rz.xlsx"
    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == ["Summary", "Intervals", "Daily", "Parameters", "Info"]
    assert len(wb["Intervals"]._charts) == 1
    summary = _sheet(wb, "Summary").set_index("queue")
    expected = plan.summary.set_index("queue")
    assert summary["agent_hours"].to_dict() == pytest.approx(expected["agent_hours"].to_dict())
    assert summary.loc["calls", "service_level"] == pytest.approx(expected.loc["calls", "service_level"])
    assert summary.loc["calls", "volume"] == pytest.approx(1.2 * 720)  # the what-if volume, as stored
    params = _sheet(wb, "Parameters").set_index("queue")
    assert params.loc["emails", "channel"] == "email" and params.loc["calls", "shrinkage"] == pytest.approx(0.25)
    info = {r[0]: r[1] for r in wb["Info"].iter_rows(min_row=2, values_only=True)}
    assert "Shift plan status" not in info and info["What-if"] == "volume +20 %, shrinkage 25%"


def test_saved_plan_export_errors_and_roles(app):
    v, plan = _small_plan(app)
    pid = svc.save_plan(app, PLANNER, plan, name="Week 45", volume=v)
    with pytest.raises(ServiceError, match="no saved plan 9999"):
        svc.export_saved_plan(app, PLANNER, 9999, fmt="xlsx")
    with pytest.raises(ServiceError, match="xlsx or csv"):
        svc.export_saved_plan(app, PLANNER, pid, fmt="pdf")
    viewer = types.SimpleNamespace(username="vic", role="viewer", display_name="Vic")
    with pytest.raises(PermissionDenied):
        svc.export_saved_plan(app, viewer, pid, fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        svc.export_saved_plan(app, None, pid, fmt="csv")  # type: ignore[arg-type]
    assert store.audit_events(app.engine, action="staffing.export").empty
    assert not list(Path(app.settings.outputs_dir).glob("*")), "nothing is written for a refused export"


def test_forecast_source_through_the_adapter(app, monkeypatch):
    ds = pd.date_range("2026-11-02 08:00", periods=48, freq="h")
    rows = {"workload:calls@A": pd.DataFrame({"queue": "calls", "ds": ds, "yhat": 50.0, "yhat_upper_80": 60.0,
                                              "yhat_upper_95": 70.0}),
            "workload:calls@B": pd.DataFrame({"queue": "calls", "ds": ds, "yhat": 10.0, "yhat_upper_80": 12.0,
                                              "yhat_upper_95": 14.0})}
    fake = types.SimpleNamespace(
        runs_for_series=lambda app_, actor, sid, limit=200: [{"series_id": s} for s in rows],
        latest_forecast=lambda app_, actor, sid: rows.get(sid))
    monkeypatch.setattr(forecast_mod, "forecasting_service", fake)  # looked up in the adapter module
    assert svc.forecast_series(app, PLANNER) == sorted(rows)
    assert svc.series_label("workload:calls@A") == "calls · A"
    v = svc.forecast_volume(app, PLANNER, series=list(rows), start=date(2026, 11, 3), days=1)
    assert len(v.frame) == 24 and v.frame["yhat"].eq(60.0).all() and v.interval_seconds == 3600
    params = svc.default_params_for(v)
    point = svc.build_plan(app, PLANNER, v, params)
    risk = svc.build_plan(app, PLANNER, v, params, basis="upper_95")
    assert (risk.intervals["agents"] >= point.intervals["agents"]).all()
    assert risk.intervals["volume"].eq(84.0).all()
    with pytest.raises(ServiceError, match="No stored forecast"):
        svc.forecast_volume(app, PLANNER, series=["workload:nope"])


def test_forecast_adapter_with_the_real_forecasting_service(sqlite_app):
    frame = _workload(weeks=8, start="2026-09-07")
    data_service.ingest_frame(sqlite_app, ADMIN, kind="workload", frame=frame, name="t")
    assert svc.latest_forecast(sqlite_app, PLANNER, "calls") is None  # no run yet → source skipped
    assert svc.forecast_series(sqlite_app, PLANNER) == []
    fc = pytest.importorskip("src.services.forecasting")
    fc.train_forecasts(sqlite_app, PLANNER, ["workload:calls@A"], horizon_days=7, model="seasonal_naive", folds=1)
    assert svc.forecast_series(sqlite_app, PLANNER) == ["workload:calls@A"]
    v = svc.forecast_volume(sqlite_app, PLANNER, series=["workload:calls@A"])
    assert v.source == "forecast" and v.queues == ["calls"] and v.frame["yhat"].sum() > 0
    plan = svc.build_plan(sqlite_app, PLANNER, v, svc.default_params_for(v), basis="upper_80")
    assert plan.intervals["agents"].max() > 0


def test_planning_options(wl_app):
    o = svc.planning_options(wl_app, PLANNER)
    assert o.queues == ["calls"] and o.interval_seconds == 3600 and o.default_start == date(2026, 11, 2)
    assert o.care_units == 0


def test_default_params_ignore_sub_second_aht():
    from src.services.staffing import default_params

    assert default_params("calls", interval_seconds=1800, aht_seconds=0.01).aht_seconds == 300.0
    assert default_params("calls", interval_seconds=1800, aht_seconds=245.44).aht_seconds == 245.4


def test_erlang_calculator_with_no_calls_has_no_service_level():
    for patience in (None, 60):
        c = svc.erlang_calculator(None, PLANNER, calls=0, aht_seconds=180, patience_s=patience)  # type: ignore[arg-type]
        assert c.row["agents"] == 0
        assert c.row["service_level"] is None and c.row["asa_seconds"] is None and c.row["occupancy"] is None
        assert c.table["service_level"].isna().all() and c.table["occupancy"].isna().all()
