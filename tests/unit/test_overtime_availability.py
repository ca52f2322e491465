"""Availability inputs of the overtime ranking from the store (SQLite and, with TEST_DATABASE_URL, PostgreSQL):
recorded absences (validation, audit, exclusion with reason, delete), the schedule of overtime shifts taken on in
the app ("already working", minimum rest), and the optional LightGBM acceptance model (training, storage with
sha256, use only when it beat the historical rate, fallback on a corrupt file, role checks)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from src.data import overtime_store, store
from src.services import data as data_service
from src.services import overtime as ot
from src.services.context import PermissionDenied, ServiceError
from src.services.overtime import acceptance as ot_acceptance
from tests.conftest import ADMIN, PLANNER
from tests.unit.test_overtime import _weekend_world
from tests.unit.test_overtime_service import _seed


def _actions(app) -> list[str]:
    return list(store.audit_events(app.engine)["action"])[::-1]


def _excluded(result) -> dict[str, tuple[str, ...]]:
    return {e.staff_id: e.reasons for e in result.excluded}


# ------------------------------------------------------------------------------------------------ absences

def test_absence_excludes_person_with_reason_until_deleted_and_is_audited(app):
    today = _seed(app)
    day = today + timedelta(days=3)
    before = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="early")
    assert "S1" in {c.staff_id for c in before.candidates}

    a = ot.record_absence(app, PLANNER, staff_id="S1", date_from=day - timedelta(days=1), date_to=day + timedelta(1),
                          reason="sick", note="called in")
    assert (a.staff_id, a.name, a.days, a.reason) == ("S1", "Anna", 3, "sick")
    during = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="early")
    assert _excluded(during)["S1"] == (f"absent on {day:%Y-%m-%d} (sick)",)
    after_absence = ot.rank(app, PLANNER, site="Haus A", shift_date=day + timedelta(days=2), shift_type="early")
    assert "S1" in {c.staff_id for c in after_absence.candidates}

    listed = ot.list_absences(app, PLANNER, start=day, end=day)
    assert listed[["staff_id", "name", "days", "reason"]].values.tolist() == [["S1", "Anna", 3, "sick"]]
    assert ot.list_absences(app, PLANNER, start=day + timedelta(days=5)).empty

    ot.delete_absence(app, PLANNER, a.id)
    again = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="early")
    assert "S1" in {c.staff_id for c in again.candidates}
    assert _actions(app)[-2:] == ["overtime.absence.create", "overtime.absence.delete"]
    ev = store.audit_events(app.engine, actor="pat")
    detail = json.loads(ev.loc[ev["action"] == "overtime.absence.create", "detail_json"].iloc[0])
    assert detail["reason"] == "sick" and detail["has_note"] is True and "called in" not in json.dumps(detail)
    replacement = ot.record_absence(app, PLANNER, staff_id="S2", date_from=day + timedelta(days=30), reason="leave")
    assert replacement.id > a.id  # a freed id never names a newer absence (a retried DELETE must not hit it)


def test_night_shift_checks_the_absence_on_both_days(app):
    today = _seed(app)
    day = today + timedelta(days=4)
    ot.record_absence(app, ADMIN, staff_id="S2", date_from=day + timedelta(days=1), reason="leave")
    night = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="night", hours=8)
    assert _excluded(night)["S2"] == (f"absent on {day + timedelta(days=1):%Y-%m-%d} (leave)",)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"staff_id": ""}, "Choose the person"),
    ({"staff_id": "NOPE"}, "Unknown staff id 'NOPE'"),
    ({"reason": "holiday"}, "Reason must be one of sick, leave, training, other"),
    ({"date_from": "31.12.2026"}, "not a date in the form YYYY-MM-DD"),
    ({"date_to": "-1"}, "before it starts"),
    ({"date_to": "+400"}, "at most 366 days"),
    ({"date_from": "+800", "date_to": None}, "more than a year from today"),
    ({"note": "x" * 201}, "note is too long"),
])
def test_absence_validation_messages_and_nothing_stored(sqlite_app, kwargs, message):
    today = _seed(sqlite_app)

    def rel(v):
        return (today + timedelta(days=int(v))).isoformat() if isinstance(v, str) and v[:1] in ("+", "-") else v

    args = {"staff_id": "S1", "date_from": today.isoformat(), "date_to": None, "reason": "sick", "note": None}
    args.update({k: rel(v) for k, v in kwargs.items()})
    with pytest.raises(ServiceError, match=message):
        ot.record_absence(sqlite_app, PLANNER, **args)
    assert overtime_store.absences_frame(sqlite_app.engine).empty
    assert not any(a.startswith("overtime.absence") for a in _actions(sqlite_app))


def test_overlapping_absence_is_refused_and_delete_unknown_id(sqlite_app):
    today = _seed(sqlite_app)
    ot.record_absence(sqlite_app, PLANNER, staff_id="S1", date_from=today, date_to=today + timedelta(days=4),
                      reason="leave")
    with pytest.raises(ServiceError, match="already recorded as absent"):
        ot.record_absence(sqlite_app, PLANNER, staff_id="S1", date_from=today + timedelta(days=4),
                          reason="sick")
    ot.record_absence(sqlite_app, PLANNER, staff_id="S2", date_from=today, reason="training")  # other person: fine
    with pytest.raises(ServiceError, match="does not exist"):
        ot.delete_absence(sqlite_app, PLANNER, 999)
    with pytest.raises(ServiceError, match="not an absence id"):
        ot.delete_absence(sqlite_app, PLANNER, "abc")
    assert len(overtime_store.absences_frame(sqlite_app.engine)) == 2


# ------------------------------------------------------------------------------------------------ schedule

def _take_shift(app, day, shift_type: str, sid: str, hours: float = 8.0) -> str:
    view = ot.create_request(app, PLANNER, site="Haus A", shift_date=day, shift_type=shift_type, hours=hours)
    now = ot.local_now(app)
    ot.contact(app, PLANNER, view.code, [sid], contacted_at=now - timedelta(minutes=30))
    ot.record_response(app, PLANNER, view.code, sid, "accepted", responded_at=now - timedelta(minutes=20))
    return view.code


def test_accepted_overtime_shift_in_the_app_excludes_as_already_working_and_min_rest(app):
    today = _seed(app)
    day = today + timedelta(days=5)
    code = _take_shift(app, day, "early", "S2")  # 06:00-14:00, filled by S2 (20 h contract)

    start = pd.Timestamp(day) + pd.Timedelta(hours=8)
    schedule, absences = ot.availability_inputs(app, start, start + pd.Timedelta(hours=8))
    assert schedule[["staff_id", "label"]].values.tolist() == [["S2", f"overtime shift {code}"]]
    assert schedule["start"].iloc[0] == pd.Timestamp(day) + pd.Timedelta(hours=6) and absences.empty
    assert ot.availability_inputs(app, start, start + pd.Timedelta(hours=8), exclude_request=code)[0].empty

    overlap = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="day", hours=8)  # 08:00-16:00
    assert _excluded(overlap)["S2"] == (f"already working then (overtime shift {code} {day:%Y-%m-%d} 06:00–14:00)",)
    late = ot.rank(app, PLANNER, site="Haus A", shift_date=day, shift_type="late", hours=8)  # 14:00: no rest
    assert _excluded(late)["S2"] == (f"only 0.0 h rest after overtime shift {code} ending {day:%Y-%m-%d} 14:00 "
                                     "(min 11.0 h)",)
    later = ot.rank(app, PLANNER, site="Haus A", shift_date=day + timedelta(days=1), shift_type="late")
    assert "S2" in {c.staff_id for c in later.candidates}  # 24 h later: fine


def test_cancelled_requests_and_declines_do_not_block(sqlite_app):
    today = _seed(sqlite_app)
    day = today + timedelta(days=6)
    view = ot.create_request(sqlite_app, PLANNER, site="Haus A", shift_date=day, shift_type="early", hours=8)
    now = ot.local_now(sqlite_app)
    ot.contact(sqlite_app, PLANNER, view.code, ["S1", "S2"], contacted_at=now - timedelta(minutes=30))
    ot.record_response(sqlite_app, PLANNER, view.code, "S2", "declined", responded_at=now - timedelta(minutes=25))
    ot.record_response(sqlite_app, PLANNER, view.code, "S1", "accepted", responded_at=now - timedelta(minutes=20),
                       fill=False)
    start = pd.Timestamp(day) + pd.Timedelta(hours=6)
    assert ot.availability_inputs(sqlite_app, start, start + pd.Timedelta(hours=8))[0]["staff_id"].tolist() == ["S1"]
    ot.cancel_request(sqlite_app, PLANNER, view.code)
    assert ot.availability_inputs(sqlite_app, start, start + pd.Timedelta(hours=8))[0].empty


# ------------------------------------------------------------------------------------------------ acceptance model

@pytest.fixture
def weekend_app(sqlite_app):
    staff, hist = _weekend_world()
    staff = staff.assign(skills="care")
    data_service.ingest_frame(sqlite_app, ADMIN, kind="staff", frame=staff, name="staff")
    data_service.ingest_frame(sqlite_app, ADMIN, kind="overtime", frame=hist, name="ot")
    return sqlite_app


def test_acceptance_model_trained_stored_and_used_only_when_it_wins(weekend_app, monkeypatch):
    app = weekend_app
    day = ot.local_now(app).date() + timedelta(days=2)
    assert ot.rank(app, PLANNER, site="North", shift_date=day, shift_type="early").acceptance_source == \
        "historical rate"
    assert ot.acceptance_model_status(app, PLANNER) is None
    with pytest.raises(PermissionDenied):
        ot.train_acceptance_model(app, PLANNER)

    steps: list[tuple[float, str]] = []
    info = ot.train_acceptance_model(app, ADMIN, on_progress=lambda f, t: steps.append((f, t)))
    assert info.in_use and info.beats_rate
    assert info.report["logloss_model"] < info.report["logloss_rate"] and info.report["n_test"] == 80
    assert steps[0][0] < steps[-1][0] == 1.0 and [f for f, _ in steps] == sorted(f for f, _ in steps)
    vdir = app.settings.models_dir / "overtime" / info.version
    assert sorted(p.name for p in vdir.iterdir()) == ["manifest.json", "metadata.json", "model.txt"]
    manifest = json.loads((vdir / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.txt", "metadata.json"} and len(manifest["files"]["model.txt"]) == 64
    meta = json.loads((vdir / "metadata.json").read_text())
    assert meta["created_by"] == "admin" and meta["features"][0] == "hist_rate" and meta["history_rows"] == 320
    assert (vdir / "model.txt").read_text().startswith("tree")
    assert not list(vdir.rglob("*.pkl"))
    ev = store.audit_events(app.engine, actor="admin")
    assert ev.loc[ev["action"] == "overtime.acceptance_model.train", "object_id"].tolist() == [info.version]

    ranked = ot.rank(app, PLANNER, site="North", shift_date=day, shift_type="early")
    assert ranked.acceptance_source == "lightgbm"
    acc = ranked.candidates[0].factors[1]
    assert acc.name == "acceptance" and acc.label.startswith("lightgbm: ")
    status = ot.acceptance_model_status(app, PLANNER)
    assert status.version == info.version and status.in_use
    assert status.comparison()["predictor"].tolist() == ["LightGBM model", "Historical rate (smoothed)"]

    # a newer model that does not beat the rate: rankings go back to the rate
    from src.models.overtime import acceptance_model as am

    real = am.fit_acceptance_model

    def losing(*args, **kwargs):
        m = real(*args, **kwargs)
        return replace(m, report=replace(m.report, use_model=False))

    monkeypatch.setattr(am, "fit_acceptance_model", losing)
    lost = ot.train_acceptance_model(app, ADMIN)
    assert not lost.in_use and not lost.beats_rate
    assert ot.rank(app, PLANNER, site="North", shift_date=day, shift_type="early").acceptance_source == \
        "historical rate"
    assert ot.acceptance_model_status(app, PLANNER).version == lost.version


def test_corrupt_acceptance_model_falls_back_to_the_rate(weekend_app):
    app = weekend_app
    info = ot.train_acceptance_model(app, ADMIN)
    vdir = app.settings.models_dir / "overtime" / info.version
    ot_acceptance._acc_cache.clear()
    (vdir / "model.txt").write_text("tree\ngarbage\n")  # sha256 no longer matches
    model, text = ot.active_acceptance_model(app)
    assert model is None and "sha256" in text
    day = ot.local_now(app).date() + timedelta(days=2)
    assert ot.rank(app, PLANNER, site="North", shift_date=day, shift_type="early").acceptance_source == \
        "historical rate"
    # a garbage model whose manifest was "fixed" too: the subprocess safety load refuses it
    from src.services import model_files

    manifest = json.loads((vdir / "manifest.json").read_text())
    manifest["files"]["model.txt"] = model_files.sha256_bytes((vdir / "model.txt").read_bytes())
    (vdir / "manifest.json").write_text(json.dumps(manifest))
    model, text = ot.active_acceptance_model(app)
    assert model is None and "corrupt" in text


def test_training_needs_history(sqlite_app):
    _seed(sqlite_app)  # 4 offers only
    with pytest.raises(ServiceError, match="at least 40 offers"):
        ot.train_acceptance_model(sqlite_app, ADMIN)
    assert not (sqlite_app.settings.models_dir / "overtime").exists() or not any(
        p.is_dir() and not p.name.startswith(".") for p in (sqlite_app.settings.models_dir / "overtime").iterdir())
