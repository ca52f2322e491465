"""Saved staffing plans keep every quality column per interval (schema version 2), open without live inputs, and
plans saved before version 2 still open and export with those columns empty (SQLite + PostgreSQL)."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from src.data import db, plan_store
from src.models.capacity.staffing import WORKBOOK_HEADERS
from src.services import staffing as svc
from src.services.context import PermissionDenied, ServiceError
from tests.conftest import PLANNER

QUALITY = ("service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon", "backlog_hours")


def _mixed_plan(app):
    """An Erlang A voice queue (patience → P(abandon) > 0), an e-mail queue (backlog) and a shift plan for calls."""
    ds = pd.date_range("2026-11-02 08:00", periods=8, freq="h")
    frame = pd.DataFrame({"queue": ["calls"] * 8 + ["emails"] * 8, "ds": list(ds) * 2,
                          "yhat": [120.0, 200.0, 220.0, 180.0, 90.0, 40.0, 60.0, 30.0,
                                   40.0, 80.0, 60.0, 30.0, 20.0, 10.0, 0.0, 0.0]})
    v = svc.VolumeInput(frame=frame, source="upload", detail="Uploaded file mixed.csv", interval_seconds=3600)
    params = svc.default_params_for(v)
    params["calls"] = replace(params["calls"], patience_s=90.0)
    plan = svc.build_plan(app, PLANNER, v, params)
    sp = svc.build_shift_plan(app, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table()))
    return v, plan, sp


def _sheet(wb, name: str) -> pd.DataFrame:
    """A workbook sheet as a frame with the column codes (the workbook shows readable headers)."""
    rows = list(wb[name].iter_rows(values_only=True))
    codes = {label: code for code, label in WORKBOOK_HEADERS.get(name, {}).items()}
    return pd.DataFrame(rows[1:], columns=[codes.get(h, h) for h in rows[0]])


def _make_old_format(app) -> None:
    """Turn the database into what schema version 1 left behind: no v2 interval columns, version 1 recorded."""
    with db.write_tx(app.engine) as conn:
        for col in plan_store.V2_INTERVAL_COLUMNS:
            conn.exec_driver_sql(f"ALTER TABLE staffing_plan_intervals DROP COLUMN {col}")
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=1, applied_at=db.utcnow()))


def test_save_and_open_round_trip_keeps_every_quality_column(app):
    v, plan, sp = _mixed_plan(app)
    assert plan.intervals.loc[plan.intervals["queue"] == "calls", "p_abandon"].gt(0).any()
    assert plan.intervals.loc[plan.intervals["queue"] == "emails", "backlog_hours"].gt(0).any()
    pid = svc.save_plan(app, PLANNER, plan, name="Mixed week", volume=v, shift_plan=sp)

    stored = svc.load_saved_plan(app, PLANNER, pid)["intervals"]
    live = plan.intervals.sort_values(["queue", "ds"]).reset_index(drop=True)
    for col in QUALITY:  # NaN where a channel has no such number (no SL for e-mails), the same on both sides
        np.testing.assert_allclose(stored[col].to_numpy(float), live[col].to_numpy(float), rtol=1e-12,
                                   err_msg=col, equal_nan=True)
    calls = stored[stored["queue"] == "calls"].reset_index(drop=True)
    np.testing.assert_allclose(calls["planned_asa_seconds"], sp.intervals["asa_seconds"], rtol=1e-12)
    np.testing.assert_allclose(calls["planned_p_abandon"], sp.intervals["p_abandon"], rtol=1e-12)
    assert calls["planned_productive_agents"].tolist() == sp.intervals["productive_agents"].tolist()
    assert stored.loc[stored["queue"] == "emails", "planned_asa_seconds"].isna().all()

    saved = svc.open_saved_plan(app, PLANNER, pid)
    assert (saved.plan_id, saved.name, saved.queues) == (pid, "Mixed week", ["calls", "emails"])
    assert saved.stem == f"staffing_plan_{pid}_Mixed_week"
    assert "Uploaded file mixed.csv" in saved.describe() and "shift plan for calls" in saved.describe()
    # the page's table of an opened plan has the same columns and numbers as the live plan's table
    for queue in ("calls", "emails"):
        opened = svc.requirement_rows(saved.plan, queue, saved.shift_plan)
        shown = svc.requirement_rows(plan, queue, sp)
        pd.testing.assert_frame_equal(opened, shown, check_exact=False, check_dtype=False, obj=queue)
    voice = svc.requirement_rows(saved.plan, "calls", saved.shift_plan)
    assert {"service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon", "planned",
            "planned_service_level"} <= set(voice.columns) and "backlog_hours" not in voice
    email = svc.requirement_rows(saved.plan, "emails", saved.shift_plan)
    assert {"backlog_hours", "occupancy"} <= set(email.columns)
    assert not {"service_level", "p_wait", "p_abandon", "planned"} & set(email.columns)
    pd.testing.assert_frame_equal(saved.shift_plan.intervals, sp.intervals, check_exact=False)
    assert saved.not_recorded("calls") == saved.not_recorded("emails") == []


def test_saved_export_has_the_quality_columns_of_the_live_export(app):
    v, plan, sp = _mixed_plan(app)
    pid = svc.save_plan(app, PLANNER, plan, name="Mixed week", volume=v, shift_plan=sp)
    live = load_workbook(io.BytesIO(svc.export_plan(app, PLANNER, plan, fmt="xlsx", shift_plan=sp).data))
    wb = load_workbook(io.BytesIO(svc.export_saved_plan(app, PLANNER, pid, fmt="xlsx").data))
    for name in ("Summary", "Intervals", "Daily", "Shift plan", "Shift starts", "Parameters"):
        pd.testing.assert_frame_equal(_sheet(wb, name), _sheet(live, name), check_exact=False, obj=name)
    iv = _sheet(wb, "Intervals")
    assert set(QUALITY) <= set(iv.columns) and iv["backlog_hours"].notna().any() and iv["p_wait"].notna().any()
    head = [c.value for c in wb["Intervals"][1]]
    p_wait = head.index(WORKBOOK_HEADERS["Intervals"]["p_wait"]) + 1
    assert wb["Intervals"].cell(row=2, column=p_wait).number_format == "0.0%"

    csv = pd.read_csv(io.BytesIO(svc.export_saved_plan(app, PLANNER, pid, fmt="csv").data), encoding="utf-8-sig")
    live_csv = pd.read_csv(io.BytesIO(svc.export_plan(app, PLANNER, plan, fmt="csv", shift_plan=sp).data),
                           encoding="utf-8-sig")
    pd.testing.assert_frame_equal(csv, live_csv, check_exact=False)
    assert {"p_wait", "backlog_hours", "p_abandon", "planned_service_level"} <= set(csv.columns)


def test_plan_saved_before_schema_2_opens_and_exports_with_empty_quality_columns(app):
    v, plan, sp = _mixed_plan(app)
    pid = svc.save_plan(app, PLANNER, plan, name="Old plan", volume=v, shift_plan=sp)
    _make_old_format(app)

    assert db.SCHEMA_VERSION >= 2
    assert db.init_schema(app.engine) == db.SCHEMA_VERSION  # the upgrade adds the columns back, empty
    with app.engine.connect() as conn:
        assert conn.execute(select(func.max(db.schema_version.c.version))).scalar() == db.SCHEMA_VERSION
    db.init_schema(app.engine)  # idempotent once upgraded

    found = svc.load_saved_plan(app, PLANNER, pid)["intervals"]
    assert found[list(plan_store.V2_INTERVAL_COLUMNS)].isna().all().all()
    assert found["service_level"].notna().any(), "columns stored since version 1 are untouched"

    saved = svc.open_saved_plan(app, PLANNER, pid)
    voice = svc.requirement_rows(saved.plan, "calls", saved.shift_plan)
    assert "p_wait" in voice and voice["p_wait"].isna().all(), "not recorded: shown as an empty column"
    assert voice["service_level"].notna().all() and voice["planned"].notna().all()
    email = svc.requirement_rows(saved.plan, "emails", saved.shift_plan)
    assert "backlog_hours" in email and email["backlog_hours"].isna().all()
    assert saved.shift_plan.intervals[["asa_seconds", "p_abandon", "productive_agents"]].isna().all().all()
    assert (saved.not_recorded("calls"), saved.not_recorded("emails")) == (["P(wait)"], ["backlog (h)"])

    wb = load_workbook(io.BytesIO(svc.export_saved_plan(app, PLANNER, pid, fmt="xlsx").data))
    iv = _sheet(wb, "Intervals")
    assert iv["p_wait"].isna().all() and iv["backlog_hours"].isna().all() and iv["agents"].notna().all()
    assert _sheet(wb, "Shift plan")["asa_seconds"].isna().all()
    csv = pd.read_csv(io.BytesIO(svc.export_saved_plan(app, PLANNER, pid, fmt="csv").data), encoding="utf-8-sig")
    assert csv["p_wait"].isna().all() and csv["agents"].tolist() == plan.intervals["agents"].tolist()

    # a plan saved after the upgrade has them again
    pid2 = svc.save_plan(app, PLANNER, plan, name="New plan", volume=v, shift_plan=sp)
    assert svc.load_saved_plan(app, PLANNER, pid2)["intervals"]["p_wait"].notna().any()


def test_upgrade_from_version_1_is_idempotent_when_the_table_is_already_current(app):
    """A version-1 database whose plan tables were created by this code's create_all (the capability arrived later)
    must upgrade without trying to add columns twice."""
    with db.write_tx(app.engine) as conn:
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=1, applied_at=db.utcnow()))
    assert db.init_schema(app.engine) == db.SCHEMA_VERSION
    with db.write_tx(app.engine) as conn:
        assert db.add_missing_columns(conn, plan_store.staffing_plan_intervals, plan_store.V2_INTERVAL_COLUMNS) == []


def test_migration_registry_refuses_unknown_versions_and_not_null_columns(app):
    with pytest.raises(ValueError, match="versions run from 2"):
        db.register_migration(db.SCHEMA_VERSION + 1, "from the future", lambda conn: None)
    with pytest.raises(ValueError, match="NOT NULL"):
        with db.write_tx(app.engine) as conn:
            db.add_missing_columns(conn, plan_store.staffing_plan_intervals, ["agents"])


def test_open_saved_plan_checks_role_and_existence(app):
    v, plan, _ = _mixed_plan(app)
    pid = svc.save_plan(app, PLANNER, plan, name="x", volume=v)
    assert svc.open_saved_plan(app, PLANNER, pid).shift_plan is None
    with pytest.raises(PermissionDenied):
        svc.open_saved_plan(app, None, pid)  # type: ignore[arg-type]
    with pytest.raises(ServiceError, match="no saved plan"):
        svc.open_saved_plan(app, PLANNER, pid + 1)
    with pytest.raises(ServiceError, match="not in this plan"):
        svc.requirement_rows(plan, "nope")
